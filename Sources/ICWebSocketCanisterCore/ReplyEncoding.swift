import ICCore
import ICWebSocketProtocol

/// The `ws_get_messages` reply written straight to Candid bytes.
///
/// The generic encoder builds a `CandidValue` tree of every message (its key, client key and
/// content) and walks it against the type table; at 50 messages a poll that was most of its
/// cost. The bytes here are exactly the generic encoder's (`Candid.encode(result)`; a host
/// test compares them, header included), written in field-id order:
///
/// - result: `Ok` (index 0, id 17724) before `Err` (3456837);
/// - batch: `messages`, `cert`, `tree`, `is_end_of_queue`;
/// - message: `key`, `content`, `client_key`; client key: `client_principal`, `client_nonce`.
public enum GetMessagesReply {
    /// `DIDL`, the type table and the argument type of `CanisterWsGetMessagesResult`, as
    /// `CandidEncoder` writes them.
    static let header: [UInt8] = [
        0x44, 0x49, 0x44, 0x4c, 0x06, 0x6c, 0x02, 0xfa, 0x80, 0xa2, 0x94, 0x05, 0x68, 0xbb, 0xd1, 0xea,
        0xcd, 0x0e, 0x78, 0x6d, 0x7b, 0x6c, 0x03, 0x9f, 0x93, 0xc6, 0x02, 0x71, 0xb9, 0x9a, 0xde, 0xcb,
        0x01, 0x01, 0xeb, 0xb4, 0x9c, 0xe9, 0x03, 0x00, 0x6d, 0x02, 0x6c, 0x04, 0xcc, 0xb1, 0xf7, 0xa7,
        0x03, 0x03, 0xe4, 0xcd, 0xf4, 0x8d, 0x04, 0x01, 0xde, 0xb2, 0x8e, 0xe8, 0x04, 0x01, 0x82, 0x9c,
        0x8d, 0xf4, 0x0d, 0x7e, 0x6b, 0x02, 0xbc, 0x8a, 0x01, 0x04, 0xc5, 0xfe, 0xd2, 0x01, 0x71, 0x01,
        0x05,
    ]

    /// `Ok` with no messages: the answer to unknown gateways and empty queues.
    public static let empty: [UInt8] = encode(PolledBatch(messages: [], keyPrefix: [], cert: [], tree: [], isEndOfQueue: true))

    /// The Candid encoding of `.ok(batch.output)`. The size is computed first and every field
    /// copied with `memory.copy` (appending to an array byte by byte costs ~17 instructions a
    /// byte); keys are written from the gateway's prefix and the nonce's digits (making each
    /// one a `String` first cost ~4 k instructions a message).
    public static func encode(_ batch: PolledBatch) -> [UInt8] {
        let keySize = batch.keyPrefix.count + MessageKey.nonceDigits
        var size = header.count + 1 + lebSize(batch.messages.count)
        for message in batch.messages {
            size +=
                blobSize(keySize) + blobSize(message.content.count)
                + 1 + blobSize(message.clientKey.clientPrincipal.bytes.count) + 8
        }
        size += blobSize(batch.cert.count) + blobSize(batch.tree.count) + 1
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var writer = Writer(next: buffer.baseAddress!)
            writer.bytes(header)
            writer.byte(0)  // Ok
            writer.leb(batch.messages.count)
            for message in batch.messages {
                writer.leb(keySize)
                writer.bytes(batch.keyPrefix)
                writer.digits(message.nonce)
                writer.blob(message.content)
                writer.byte(1)
                writer.blob(message.clientKey.clientPrincipal.bytes)
                var nonce = message.clientKey.clientNonce.littleEndian
                withUnsafeBytes(of: &nonce) { writer.raw($0) }
            }
            writer.blob(batch.cert)
            writer.blob(batch.tree)
            writer.byte(batch.isEndOfQueue ? 1 : 0)
            initialized = writer.next - buffer.baseAddress!
            precondition(initialized == size, "GetMessagesReply: size mismatch")
        }
    }

    private static func lebSize(_ value: Int) -> Int {
        var size = 1
        var rest = UInt64(value) >> 7
        while rest > 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    private static func blobSize(_ count: Int) -> Int { lebSize(count) + count }

    private struct Writer {
        var next: UnsafeMutablePointer<UInt8>

        mutating func byte(_ value: UInt8) {
            next.pointee = value
            next += 1
        }

        mutating func leb(_ value: Int) {
            var rest = UInt64(value)
            while rest >= 0x80 {
                byte(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            byte(UInt8(rest))
        }

        mutating func raw(_ bytes: UnsafeRawBufferPointer) {
            if bytes.isEmpty { return }
            UnsafeMutableRawPointer(next).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            next += bytes.count
        }

        mutating func bytes(_ array: [UInt8]) { array.withUnsafeBytes { raw($0) } }

        /// `value` as `MessageKey.nonceDigits` zero-padded decimal digits.
        mutating func digits(_ value: UInt64) {
            MessageKey.writeDigits(value, to: next)
            next += MessageKey.nonceDigits
        }

        mutating func blob(_ array: [UInt8]) {
            leb(array.count)
            bytes(array)
        }
    }
}

/// The CBOR `content` document of a queued message (§2.7), byte for byte
/// `WebsocketMessage.cborEncoded()` (a host test compares them), written into an exactly sized
/// array with `memory.copy` instead of appending byte by byte.
public enum MessageContentEncoding {
    private static let clientKeyHead: [UInt8] =
        [0xd9, 0xd9, 0xf7, 0xa5] + text("client_key") + [0xa2] + text("client_principal")
    private static let clientNonceKey: [UInt8] = text("client_nonce")
    private static let sequenceNumKey: [UInt8] = text("sequence_num")
    private static let timestampKey: [UInt8] = text("timestamp")
    private static let isServiceMessageKey: [UInt8] = text("is_service_message")
    private static let contentKey: [UInt8] = text("content")

    /// A short text string (< 24 bytes): header and UTF-8.
    private static func text(_ string: UTF8Text) -> [UInt8] { [0x60 | UInt8(string.utf8.count)] + string.utf8 }

    static func headSize(_ argument: UInt64) -> Int {
        switch argument {
        case 0..<24: return 1
        case 24..<0x100: return 2
        case 0x100..<0x1_0000: return 3
        case 0x1_0000..<0x1_0000_0000: return 5
        default: return 9
        }
    }

    /// The length of the part of a client's messages that depends only on its key: the CBOR
    /// up to and including `client_nonce`'s value.
    static func clientKeyPartSize(_ clientKey: ClientKey) -> Int {
        let principalCount = clientKey.clientPrincipal.bytes.count
        return clientKeyHead.count + headSize(UInt64(principalCount)) + principalCount + clientNonceKey.count
            + headSize(clientKey.clientNonce)
    }

    public static func encode(
        clientKey: ClientKey, sequenceNum: UInt64, timestamp: UInt64, isServiceMessage: Bool, content: [UInt8]
    ) -> [UInt8] {
        let principal = clientKey.clientPrincipal.bytes
        let size =
            clientKeyHead.count + headSize(UInt64(principal.count)) + principal.count
            + clientNonceKey.count + headSize(clientKey.clientNonce) + sequenceNumKey.count + headSize(sequenceNum)
            + timestampKey.count + headSize(timestamp) + isServiceMessageKey.count + 1
            + contentKey.count + headSize(UInt64(content.count)) + content.count
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var next = buffer.baseAddress!
            func raw(_ bytes: [UInt8]) {
                bytes.withUnsafeBytes { source in
                    if source.isEmpty { return }
                    UnsafeMutableRawPointer(next).copyMemory(from: source.baseAddress!, byteCount: source.count)
                    next += source.count
                }
            }
            func head(_ major: UInt8, _ argument: UInt64) {
                let count = headSize(argument)
                switch count {
                case 1: next.pointee = major | UInt8(argument)
                case 2: next.pointee = major | 24
                case 3: next.pointee = major | 25
                case 5: next.pointee = major | 26
                default: next.pointee = major | 27
                }
                for index in 1..<count {
                    next[index] = UInt8(truncatingIfNeeded: argument >> UInt64(8 * (count - 1 - index)))
                }
                next += count
            }
            raw(clientKeyHead)
            head(0x40, UInt64(principal.count))
            raw(principal)
            raw(clientNonceKey)
            head(0x00, clientKey.clientNonce)
            raw(sequenceNumKey)
            head(0x00, sequenceNum)
            raw(timestampKey)
            head(0x00, timestamp)
            raw(isServiceMessageKey)
            next.pointee = isServiceMessage ? 0xf5 : 0xf4
            next += 1
            raw(contentKey)
            head(0x40, UInt64(content.count))
            raw(content)
            initialized = next - buffer.baseAddress!
            precondition(initialized == size, "MessageContentEncoding: size mismatch")
        }
    }
}

/// A client's messages all begin with the same CBOR (`client_key`, 64 bytes for a 29-byte
/// principal): the SHA-256 state after its whole blocks is kept per client, so every
/// message's content hash compresses one block less (~6 k instructions of a ~60 k send).
public struct ContentHashPrefix: Sendable {
    private var hasher = SHA256()
    /// How many leading bytes of every message of this client `hasher` has absorbed.
    private let absorbed: Int

    public init(_ clientKey: ClientKey) {
        // The prefix comes from the encoder itself, so the two cannot disagree.
        let keyPart = MessageContentEncoding.encode(
            clientKey: clientKey, sequenceNum: 0, timestamp: 0, isServiceMessage: false, content: []
        )[..<MessageContentEncoding.clientKeyPartSize(clientKey)]
        absorbed = keyPart.count / 64 * 64
        hasher.update(keyPart.prefix(absorbed))
    }

    /// SHA-256 of `content`, one of this client's messages (`MessageContentEncoding.encode`).
    public func hash(_ content: [UInt8]) -> [UInt8] {
        var copy = hasher
        copy.update(content[absorbed...])
        return copy.finalize()
    }
}

/// A witness's CBOR (with the self-describe tag), byte for byte `HashTree.encoded(selfDescribe:
/// true)`, written into an exactly sized array with `memory.copy` (labels and hashes are most
/// of its bytes).
public enum WitnessEncoding {
    public static func encode(_ tree: HashTree) -> [UInt8] {
        let size = 3 + self.size(tree)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var next = buffer.baseAddress!
            next[0] = 0xd9
            next[1] = 0xd9
            next[2] = 0xf7
            next += 3
            write(tree, &next)
            initialized = next - buffer.baseAddress!
            precondition(initialized == size, "WitnessEncoding: size mismatch")
        }
    }

    private static func bytesSize(_ bytes: [UInt8]) -> Int {
        MessageContentEncoding.headSize(UInt64(bytes.count)) + bytes.count
    }

    private static func size(_ tree: HashTree) -> Int {
        switch tree {
        case .empty: return 2
        case .fork(let left, let right): return 2 + size(left) + size(right)
        case .labeled(let label, let subtree): return 2 + bytesSize(label) + size(subtree)
        case .leaf(let value): return 2 + bytesSize(value)
        case .pruned(let digest): return 2 + bytesSize(digest)
        }
    }

    private static func write(_ tree: HashTree, _ next: inout UnsafeMutablePointer<UInt8>) {
        func header(_ count: UInt8, _ tag: UInt8) {
            next[0] = 0x80 | count
            next[1] = tag
            next += 2
        }
        func bytes(_ value: [UInt8]) {
            let count = MessageContentEncoding.headSize(UInt64(value.count))
            let length = UInt64(value.count)
            switch count {
            case 1: next[0] = 0x40 | UInt8(length)
            case 2: next[0] = 0x58
            case 3: next[0] = 0x59
            case 5: next[0] = 0x5a
            default: next[0] = 0x5b
            }
            for index in 1..<count { next[index] = UInt8(truncatingIfNeeded: length >> UInt64(8 * (count - 1 - index))) }
            next += count
            value.withUnsafeBytes { source in
                if source.isEmpty { return }
                UnsafeMutableRawPointer(next).copyMemory(from: source.baseAddress!, byteCount: source.count)
            }
            next += value.count
        }
        switch tree {
        case .empty:
            next[0] = 0x81
            next[1] = 0
            next += 2
        case .fork(let left, let right):
            header(3, 1)
            write(left, &next)
            write(right, &next)
        case .labeled(let label, let subtree):
            header(3, 2)
            bytes(label)
            write(subtree, &next)
        case .leaf(let value):
            header(2, 3)
            bytes(value)
        case .pruned(let digest):
            header(2, 4)
            bytes(digest)
        }
    }
}
