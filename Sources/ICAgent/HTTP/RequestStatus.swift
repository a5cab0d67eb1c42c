import ICCore

extension ReplicaStatus {
    /// Reads a status body; unknown fields are ignored.
    public init(cbor value: CBORValue) throws(AgentError) {
        let value = value.removingSelfDescribeTag
        guard value.mapEntries != nil else { throw .malformedResponse("status is not a CBOR map") }
        self.init(
            rootKey: value["root_key"]?.bytes, implementationVersion: value["impl_version"]?.text,
            healthStatus: value["replica_health_status"]?.text, certifiedHeight: value["certified_height"]?.uint64)
    }
}

/// The outcome of a call as certified under `/request_status/<id>`.
public enum RequestStatus: Sendable, Equatable {
    case unknown
    case received
    case processing
    case replied([UInt8])
    case rejected(RejectError)
    case done

    /// Reads the request status of `requestID` from a verified certificate.
    public init(certificate: VerifiedCertificate, requestID: RequestID) throws(AgentError) {
        let base = [Array("request_status".utf8), requestID.bytes]
        func lookup(_ label: String) -> LookupResult { certificate.lookup(base + [Array(label.utf8)]) }
        guard let statusBytes = lookup("status").value else {
            self = .unknown
            return
        }
        switch String(decoding: statusBytes, as: UTF8.self) {
        case "received": self = .received
        case "processing": self = .processing
        case "done": self = .done
        case "replied":
            guard let reply = lookup("reply").value else { throw .malformedResponse("status replied without /reply") }
            self = .replied(reply)
        case "rejected":
            guard let codeBytes = lookup("reject_code").value else { throw .malformedResponse("status rejected without /reject_code") }
            var offset = 0
            guard let code = try? LEB128.decodeUInt64(codeBytes, offset: &offset) else {
                throw .malformedResponse("reject_code is not a LEB128 number")
            }
            let message = lookup("reject_message").value.map { String(decoding: $0, as: UTF8.self) } ?? ""
            let errorCode = lookup("error_code").value.map { String(decoding: $0, as: UTF8.self) }
            self = .rejected(RejectError(code: .init(code), message: message, errorCode: errorCode))
        case let other:
            throw .malformedResponse("unknown request status '\(other)'")
        }
    }
}
