import ICCore
import ICWebSocketProtocol

/// A client's signed call envelope ready to be submitted to the IC unchanged (protocol §6.4).
public struct ForwardedEnvelope: Sendable, Equatable {
    /// The HTTP body: the envelope item as received, prefixed with the self-describe tag.
    public let body: [UInt8]
    public let requestID: RequestID
    public let canister: Principal
    public let sender: Principal
    public let methodName: String
    public let ingressExpiry: UInt64
    /// The envelope's `content.arg`.
    public let arg: [UInt8]

    /// Why a client frame cannot be forwarded, with the close code it earns.
    public struct Rejection: Error, Equatable, Sendable, CustomStringConvertible {
        public let code: GatewayCloseCode
        public let reason: String
        public var description: String { "\(reason) (close \(code.rawValue))" }
    }

    /// Reads a C1 frame (§2.4) and checks it is a call envelope the IC could accept.
    public init(frame bytes: [UInt8], maxEnvelopeBytes: Int) throws(Rejection) {
        let frame: ClientRequestFrame
        do { frame = try ClientRequestFrame(decoding: bytes) } catch {
            throw Rejection(code: .invalidFrame, reason: "not a client request frame: \(error)")
        }
        guard frame.envelopeBytes.count <= maxEnvelopeBytes else {
            throw Rejection(
                code: .messageTooBig,
                reason: "envelope of \(frame.envelopeBytes.count) bytes exceeds the limit of \(maxEnvelopeBytes)")
        }
        guard let content = frame.content, content.mapEntries != nil else {
            throw Rejection(code: .invalidFrame, reason: "envelope has no content map")
        }
        guard frame.requestType == "call" else {
            throw Rejection(
                code: .policyViolation,
                reason: "envelope request_type is '\(frame.requestType ?? "missing")', expected 'call'")
        }
        guard let canister = frame.canisterID, let sender = frame.sender, let method = frame.methodName,
            let arg = frame.arg, let expiry = content["ingress_expiry"]?.uint64
        else {
            throw Rejection(code: .invalidFrame, reason: "call envelope lacks canister_id, sender, method_name, arg or ingress_expiry")
        }
        let requestID: RequestID
        do { requestID = try RequestID(content: content) } catch {
            throw Rejection(code: .invalidFrame, reason: "envelope content cannot be hashed: \(error)")
        }
        self.body = [0xd9, 0xd9, 0xf7] + frame.envelopeBytes
        self.requestID = requestID
        self.canister = canister
        self.sender = sender
        self.methodName = method
        self.ingressExpiry = expiry
        self.arg = arg
    }

    /// Whether this is icws's `ws_resume` (docs/SESSION-RESUMPTION.md) rather than `ws_open`.
    public var isResume: Bool { methodName == "ws_resume" }

    /// The `ws_resume` argument: the first value of `arg` read as `CanisterWsResumeArguments`.
    public func resumeArguments() throws(Rejection) -> CanisterWsResumeArguments {
        try firstArgument(CanisterWsResumeArguments.self, "ws_resume's arg is not CanisterWsResumeArguments")
    }

    /// The `ws_open` argument (§2.4): the first value of `arg` read as `CanisterWsOpenArguments`.
    public func openArguments() throws(Rejection) -> CanisterWsOpenArguments {
        try firstArgument(CanisterWsOpenArguments.self, "first envelope's arg is not CanisterWsOpenArguments")
    }

    /// The first value of `arg` as `T`, or a policy-violation rejection starting with `what`.
    private func firstArgument<T: CandidDecodable>(_ type: T.Type, _ what: String) throws(Rejection) -> T {
        let reject = { (why: String) in Rejection(code: .policyViolation, reason: "\(what): \(why)") }
        let values: [CandidValue]
        do { values = try Candid.decodeValues(from: arg) } catch { throw reject("\(error)") }
        guard let first = values.first else { throw reject("no argument") }
        do { return try T(candid: first) } catch { throw reject("\(error)") }
    }
}
