import ICCore

/// A frame or `content` document that is not what the protocol specifies.
public struct ICWebSocketProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }

    init(_ error: CBORError) { description = error.description }
}

/// Strips any tags (the self-describe tag 55799 and any tag a decoder does not understand,
/// protocol §2.2).
@inline(__always)
func untagged(_ value: CBORValue) -> CBORValue {
    var value = value
    while case .tagged(_, let inner) = value { value = inner }
    return value
}

/// Reads the entries of a CBOR map with text keys, ignoring unknown keys (§2.2).
struct CBORMapReader {
    let entries: [(key: CBORValue, value: CBORValue)]
    let what: String

    init(_ value: CBORValue, what: String) throws(ICWebSocketProtocolError) {
        guard case .map(let entries) = untagged(value) else {
            throw ICWebSocketProtocolError("\(what): expected a CBOR map")
        }
        self.entries = entries
        self.what = what
    }

    func value(_ key: String) throws(ICWebSocketProtocolError) -> CBORValue {
        // Keys compare by their UTF-8 bytes, as CBOR does: `String ==` (canonical equivalence)
        // linked Unicode normalization and its tables into the browser's Wasm module.
        for entry in entries {
            if case .textString(let text) = untagged(entry.key), text.utf8.elementsEqual(key.utf8) {
                return untagged(entry.value)
            }
        }
        throw ICWebSocketProtocolError("\(what): missing field \(key)")
    }

    func bytes(_ key: String) throws(ICWebSocketProtocolError) -> [UInt8] {
        guard case .byteString(let bytes) = try value(key) else {
            throw ICWebSocketProtocolError("\(what): field \(key) is not a byte string")
        }
        return bytes
    }

    func text(_ key: String) throws(ICWebSocketProtocolError) -> String {
        guard case .textString(let text) = try value(key) else {
            throw ICWebSocketProtocolError("\(what): field \(key) is not a text string")
        }
        return text
    }

    func unsigned(_ key: String) throws(ICWebSocketProtocolError) -> UInt64 {
        guard case .unsigned(let number) = try value(key) else {
            throw ICWebSocketProtocolError("\(what): field \(key) is not an unsigned integer")
        }
        return number
    }

    func bool(_ key: String) throws(ICWebSocketProtocolError) -> Bool {
        guard case .bool(let flag) = try value(key) else {
            throw ICWebSocketProtocolError("\(what): field \(key) is not a boolean")
        }
        return flag
    }

    func principal(_ key: String) throws(ICWebSocketProtocolError) -> Principal {
        let raw = try bytes(key)
        do {
            return try Principal(bytes: raw)
        } catch {
            throw ICWebSocketProtocolError("\(what): field \(key) is not a principal: \(error)")
        }
    }
}

func decodeCBOR(_ bytes: [UInt8]) throws(ICWebSocketProtocolError) -> CBORValue {
    do {
        return try CBORDecoder.decode(bytes)
    } catch {
        throw ICWebSocketProtocolError(error)
    }
}

// MARK: - WebsocketMessage content (§2.7)

extension WebsocketMessage {
    /// The CBOR `content` document the canister certifies and clients receive (§2.7): the
    /// self-describe tag, then a five-entry map in the reference field order. These are the bytes
    /// the Rust CDK writes (checked against the SDK fixtures).
    public func cborEncoded(selfDescribe: Bool = true) -> [UInt8] {
        var encoder = CBOREncoder()
        if selfDescribe { encoder.writeSelfDescribeTag() }
        encoder.writeMapHeader(count: 5)
        encoder.writeText("client_key")
        encoder.writeMapHeader(count: 2)
        encoder.writeText("client_principal")
        encoder.writeBytes(clientKey.clientPrincipal.bytes)
        encoder.writeText("client_nonce")
        encoder.writeUnsigned(clientKey.clientNonce)
        encoder.writeText("sequence_num")
        encoder.writeUnsigned(sequenceNum)
        encoder.writeText("timestamp")
        encoder.writeUnsigned(timestamp)
        encoder.writeText("is_service_message")
        encoder.encode(.bool(isServiceMessage))
        encoder.writeText("content")
        encoder.writeBytes(content)
        return encoder.bytes
    }

    /// Decodes a `content` document (with or without the self-describe tag, any field order,
    /// unknown fields ignored).
    public init(cbor bytes: [UInt8]) throws(ICWebSocketProtocolError) {
        try self.init(cbor: decodeCBOR(bytes))
    }

    public init(cbor value: CBORValue) throws(ICWebSocketProtocolError) {
        let map = try CBORMapReader(value, what: "WebsocketMessage")
        let keyMap = try CBORMapReader(map.value("client_key"), what: "ClientKey")
        clientKey = ClientKey(
            clientPrincipal: try keyMap.principal("client_principal"), clientNonce: try keyMap.unsigned("client_nonce"))
        sequenceNum = try map.unsigned("sequence_num")
        timestamp = try map.unsigned("timestamp")
        isServiceMessage = try map.bool("is_service_message")
        content = try map.bytes("content")
    }
}

// MARK: - Frames between client and gateway (§2.3, §2.4, §2.6)

/// Frame G1: the gateway's first frame, `55799({"gateway_principal": h'…'})`.
public struct GatewayHandshakeFrame: Hashable, Sendable {
    public var gatewayPrincipal: Principal

    public init(gatewayPrincipal: Principal) { self.gatewayPrincipal = gatewayPrincipal }

    /// The exact bytes the reference gateway writes.
    public func encoded() -> [UInt8] {
        var encoder = CBOREncoder()
        encoder.writeSelfDescribeTag()
        encoder.writeMapHeader(count: 1)
        encoder.writeText("gateway_principal")
        encoder.writeBytes(gatewayPrincipal.bytes)
        return encoder.bytes
    }

    /// Decodes G1; the principal must be a byte string (a text principal is rejected, as the JS
    /// client does).
    public init(decoding bytes: [UInt8]) throws(ICWebSocketProtocolError) {
        gatewayPrincipal = try CBORMapReader(decodeCBOR(bytes), what: "handshake").principal("gateway_principal")
    }
}

/// Frame G2: one canister message relayed to the client, `{key, content, cert, tree}`.
public struct CanisterMessageFrame: Hashable, Sendable {
    public var key: String
    /// The `WebsocketMessage` CBOR bytes, exactly as certified.
    public var content: [UInt8]
    public var cert: [UInt8]
    public var tree: [UInt8]

    public init(key: String, content: [UInt8], cert: [UInt8], tree: [UInt8]) {
        self.key = key
        self.content = content
        self.cert = cert
        self.tree = tree
    }

    /// The frame for one message of a `ws_get_messages` batch.
    public init(message: CanisterOutputMessage, of batch: CanisterOutputCertifiedMessages) {
        self.init(key: message.key, content: message.content, cert: batch.cert, tree: batch.tree)
    }

    /// The map without the self-describe tag, fields in the reference order.
    public func encoded() -> [UInt8] {
        var encoder = CBOREncoder()
        encoder.writeMapHeader(count: 4)
        encoder.writeText("key")
        encoder.writeText(key)
        encoder.writeText("content")
        encoder.writeBytes(content)
        encoder.writeText("cert")
        encoder.writeBytes(cert)
        encoder.writeText("tree")
        encoder.writeBytes(tree)
        return encoder.bytes
    }

    /// Decodes G2 (tag optional): `key` must be text and the others byte strings (§5.1).
    public init(decoding bytes: [UInt8]) throws(ICWebSocketProtocolError) {
        let map = try CBORMapReader(decodeCBOR(bytes), what: "canister message frame")
        key = try map.text("key")
        content = try map.bytes("content")
        cert = try map.bytes("cert")
        tree = try map.bytes("tree")
    }
}

/// Frame C1: a client request, `55799({"envelope": <IC call envelope>})`.
///
/// The gateway forwards `envelopeBytes` (the envelope item exactly as received) rather than a
/// re-encoding, so that no field the signature covers can be lost (§6.4).
public struct ClientRequestFrame: Sendable {
    /// The decoded envelope map.
    public var envelope: CBORValue
    /// The CBOR bytes of the envelope item as it appeared in the frame (without any tag of its own).
    public var envelopeBytes: [UInt8]

    /// Wraps an encoded envelope.
    public init(envelopeBytes: [UInt8]) throws(ICWebSocketProtocolError) {
        self.envelope = untagged(try decodeCBOR(envelopeBytes))
        self.envelopeBytes = envelopeBytes
    }

    /// `55799({"envelope": …})` with the envelope bytes spliced in unchanged.
    public func encoded() -> [UInt8] {
        var encoder = CBOREncoder()
        encoder.writeSelfDescribeTag()
        encoder.writeMapHeader(count: 1)
        encoder.writeText("envelope")
        encoder.writeRaw(envelopeBytes)
        return encoder.bytes
    }

    /// Decodes C1, keeping the envelope's original bytes.
    public init(decoding bytes: [UInt8]) throws(ICWebSocketProtocolError) {
        // Walk the top level by hand to find the byte range of the "envelope" value.
        let result = bytes.withUnsafeBytes { buffer -> Result<Range<Int>?, CBORError> in
            do throws(CBORError) {
                return .success(try ClientRequestFrame.envelopeRange(in: buffer))
            } catch {
                return .failure(error)
            }
        }
        let located: Range<Int>?
        switch result {
        case .success(let range): located = range
        case .failure(let error): throw ICWebSocketProtocolError(error)
        }
        guard let located else {
            throw ICWebSocketProtocolError("client request frame: expected a map with an envelope")
        }
        try self.init(envelopeBytes: Array(bytes[located]))
    }

    /// Skips the heads of any tags at `offset`.
    private static func skipTags(_ buffer: UnsafeRawBufferPointer, from offset: Int) -> Int {
        var offset = offset
        while offset < buffer.count, buffer[offset] >> 5 == 6 {
            let info = buffer[offset] & 0x1f
            offset += 1 + (info < 24 ? 0 : info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : 8)
        }
        return offset
    }

    private static func envelopeRange(in buffer: UnsafeRawBufferPointer) throws(CBORError) -> Range<Int>? {
        let decoder = CBORDecoder(allowsTrailingBytes: true)
        var offset = skipTags(buffer, from: 0)
        guard offset < buffer.count, buffer[offset] >> 5 == 5 else { return nil }
        let info = buffer[offset] & 0x1f
        var count: UInt64
        var indefinite = false
        offset += 1
        switch info {
        case 0..<24:
            count = UInt64(info)
        case 24...27:
            let width = 1 << Int(info - 24)
            guard offset + width <= buffer.count else { return nil }
            count = 0
            for i in 0..<width { count = count << 8 | UInt64(buffer[offset + i]) }
            offset += width
        case 31:
            indefinite = true
            count = .max
        default:
            return nil
        }
        var index: UInt64 = 0
        while index < count {
            guard offset < buffer.count else { return nil }
            if indefinite, buffer[offset] == 0xff { break }
            let key = try decoder.decodePrefix(UnsafeRawBufferPointer(rebasing: buffer[offset...]))
            offset += key.byteCount
            guard offset < buffer.count else { return nil }
            let value = try decoder.decodePrefix(UnsafeRawBufferPointer(rebasing: buffer[offset...]))
            if case .textString("envelope") = untagged(key.value) {
                // Drop tags of the envelope item itself; encoded() adds none.
                return skipTags(buffer, from: offset)..<(offset + value.byteCount)
            }
            offset += value.byteCount
            index += 1
        }
        return nil
    }

    /// The envelope's `content` map.
    public var content: CBORValue? { envelope["content"].map(untagged) }

    /// `content.method_name`.
    public var methodName: String? { content?["method_name"]?.text }

    /// `content.request_type`.
    public var requestType: String? { content?["request_type"]?.text }

    /// `content.canister_id` as a principal.
    public var canisterID: Principal? {
        guard let bytes = content?["canister_id"]?.bytes else { return nil }
        return try? Principal(bytes: bytes)
    }

    /// `content.sender` as a principal.
    public var sender: Principal? {
        guard let bytes = content?["sender"]?.bytes else { return nil }
        return try? Principal(bytes: bytes)
    }

    /// `content.arg`.
    public var arg: [UInt8]? { content?["arg"]?.bytes }
}
