import ICCore

/// The `content` map of a request (essentials §4.1). Its representation-independent hash is
/// the request id, which is what the sender signs.
public struct RequestContent: Sendable, Equatable {
    /// What the request asks for.
    public enum Kind: Sendable, Equatable {
        /// An update call (`request_type = "call"`).
        case call(canisterID: Principal, methodName: String, arg: [UInt8])
        /// A query (`request_type = "query"`).
        case query(canisterID: Principal, methodName: String, arg: [UInt8])
        /// A state read (`request_type = "read_state"`); each path is a list of labels.
        case readState(paths: [[[UInt8]]])

        /// The `request_type` text.
        public var requestType: String {
            switch self {
            case .call: return "call"
            case .query: return "query"
            case .readState: return "read_state"
            }
        }
    }

    public var kind: Kind
    /// The `sender` principal.
    public var sender: Principal
    /// `ingress_expiry` in nanoseconds since 1970.
    public var ingressExpiry: UInt64
    /// Optional `nonce` (at most 32 bytes) making otherwise identical requests distinct.
    public var nonce: [UInt8]?

    public init(kind: Kind, sender: Principal, ingressExpiry: UInt64, nonce: [UInt8]? = nil) {
        self.kind = kind
        self.sender = sender
        self.ingressExpiry = ingressExpiry
        self.nonce = nonce
    }

    /// The content as a CBOR map (field order is irrelevant to the request id).
    public var cbor: CBORValue {
        var entries: [(key: CBORValue, value: CBORValue)] = [
            (.text("request_type"), .text(kind.requestType)),
            (.text("sender"), .bytes(sender.bytes)),
            (.text("ingress_expiry"), .unsigned(ingressExpiry)),
        ]
        if let nonce { entries.append((.text("nonce"), .bytes(nonce))) }
        switch kind {
        case .call(let canister, let method, let arg), .query(let canister, let method, let arg):
            entries.append((.text("canister_id"), .bytes(canister.bytes)))
            entries.append((.text("method_name"), .text(method)))
            entries.append((.text("arg"), .bytes(arg)))
        case .readState(let paths):
            entries.append((.text("paths"), .array(paths.map { path in .array(path.map { .bytes($0) }) })))
        }
        return .map(entries)
    }

    /// The request id: `hash_of_map(content)`.
    public var requestID: RequestID {
        // Every field is a blob, text, nat or array of blobs, all hashable: cannot fail.
        guard let id = try? RequestID(content: cbor) else { preconditionFailure("request content is always hashable") }
        return id
    }

    /// The canister the request addresses, if any (the effective canister id of calls and queries).
    public var canisterID: Principal? {
        switch kind {
        case .call(let canister, _, _), .query(let canister, _, _): return canister
        case .readState: return nil
        }
    }

    /// Parses a `content` map, as a replica receives it.
    public init(cbor value: CBORValue) throws(EnvelopeError) {
        let value = value.removingSelfDescribeTag
        guard value.mapEntries != nil else { throw .malformed("content is not a map") }
        func blob(_ key: String) throws(EnvelopeError) -> [UInt8] {
            guard let bytes = value[key]?.bytes else { throw .malformed("content.\(key) must be a byte string") }
            return bytes
        }
        func text(_ key: String) throws(EnvelopeError) -> String {
            guard let text = value[key]?.text else { throw .malformed("content.\(key) must be a text string") }
            return text
        }
        func principal(_ key: String) throws(EnvelopeError) -> Principal {
            let bytes = try blob(key)
            do { return try Principal(bytes: bytes) } catch {
                throw .malformed("content.\(key) is not a principal: \(error)")
            }
        }
        let requestType = try text("request_type")
        sender = try principal("sender")
        guard let expiry = value["ingress_expiry"]?.uint64 else {
            throw .malformed("content.ingress_expiry must be an unsigned integer")
        }
        ingressExpiry = expiry
        if value["nonce"] != nil {
            let bytes = try blob("nonce")
            guard bytes.count <= 32 else { throw .malformed("content.nonce is \(bytes.count) bytes; at most 32 are allowed") }
            nonce = bytes
        } else {
            nonce = nil
        }
        switch requestType {
        case "call":
            kind = .call(canisterID: try principal("canister_id"), methodName: try text("method_name"), arg: try blob("arg"))
        case "query":
            kind = .query(canisterID: try principal("canister_id"), methodName: try text("method_name"), arg: try blob("arg"))
        case "read_state":
            guard let paths = value["paths"]?.arrayItems else { throw .malformed("content.paths must be an array") }
            var parsed = [[[UInt8]]]()
            for path in paths {
                guard let labels = path.arrayItems else { throw .malformed("each read_state path must be an array") }
                var parsedPath = [[UInt8]]()
                for label in labels {
                    guard let bytes = label.bytes else { throw .malformed("read_state path labels must be byte strings") }
                    parsedPath.append(bytes)
                }
                parsed.append(parsedPath)
            }
            kind = .readState(paths: parsed)
        default:
            throw .malformed("unknown request_type '\(requestType)'")
        }
    }
}
