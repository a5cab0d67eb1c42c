import ICCertification
import ICCore

/// Checks a request before the replica accepts it (essentials §4, §5.6): the envelope decodes,
/// the sender is authenticated (signature, delegations), the expiry lies in the accepted window
/// and the effective canister id fits the request.
struct IngressValidator {
    /// The IC accepts `ingress_expiry` up to 5 minutes ahead, plus 30 s for clock drift.
    static let maxExpiryAhead: UInt64 = 330 * 1_000_000_000

    let authentication: RequestAuthentication

    /// - Parameter rootKey: the key canister signatures (e.g. Internet Identity delegations)
    ///   are certified under: the replica's own.
    init(rootKey: RootKey) {
        let certificates = CertificateVerifier(rootKey: rootKey, freshness: .disabled)
        authentication = RequestAuthentication(signatures: SignatureVerifier(certificates: certificates))
    }

    /// What a valid request established.
    struct Validated {
        var envelope: Envelope
        var requestID: RequestID
        var sender: Principal
    }

    /// Why a request is refused: HTTP status and a text body.
    struct Refusal: Error {
        var status: Int
        var message: String
    }

    func validate(_ body: [UInt8], now: UInt64, expectedType: String) throws(Refusal) -> Validated {
        let envelope: Envelope
        do { envelope = try Envelope(cborBytes: body, limits: .init(maxDepth: 32, maxItems: 100_000)) } catch {
            throw Refusal(status: 400, message: "Could not parse body as \(expectedType) message: \(error)")
        }
        guard envelope.content.kind.requestType == expectedType else {
            throw Refusal(
                status: 400, message: "Expected a '\(expectedType)' request, got request_type '\(envelope.content.kind.requestType)'")
        }
        let expiry = envelope.content.ingressExpiry
        guard expiry >= now else {
            throw Refusal(
                status: 400,
                message:
                    "Invalid request expiry: the request expired at \(expiry) ns, before the replica time \(now) ns (allowed window [\(now), \(now + Self.maxExpiryAhead)])"
            )
        }
        guard expiry <= now + Self.maxExpiryAhead else {
            throw Refusal(
                status: 400,
                message:
                    "Invalid request expiry: \(expiry) ns is more than 5 minutes and 30 seconds after the replica time \(now) ns (allowed window [\(now), \(now + Self.maxExpiryAhead)])"
            )
        }
        let result: RequestAuthentication.Result
        do { result = try authentication.authenticate(envelope, now: now) } catch {
            throw Refusal(status: 400, message: "Failed to authenticate request \(envelope.content.requestID.description): \(error)")
        }
        return Validated(envelope: envelope, requestID: result.requestID, sender: result.sender)
    }

    /// Checks the effective canister id of a call or query (essentials §5.6).
    static func checkEffectiveCanister(
        canister: Principal, method: String, argument: [UInt8], effective: Principal,
        range: ClosedRange<Principal>
    ) throws(Refusal) {
        guard range.contains(effective) else {
            throw Refusal(
                status: 400,
                message:
                    "Effective canister id \(effective) is not in this replica's canister range \(range.lowerBound)–\(range.upperBound)")
        }
        if canister == .managementCanister {
            if VirtualManagementCanister.creationMethods.contains(method) { return }
            guard let target = VirtualManagementCanister.targetCanister(method: method, argument: argument) else {
                throw Refusal(
                    status: 400,
                    message: "Management canister method '\(method)' needs a canister_id field in its argument to route the request")
            }
            guard target == effective else {
                throw Refusal(
                    status: 400,
                    message:
                        "Specified CanisterId \(effective) does not match effective canister id in URL (canister_id \(target) in the argument)"
                )
            }
        } else if canister != effective {
            throw Refusal(status: 400, message: "Specified CanisterId \(canister) does not match effective canister id in URL \(effective)")
        }
    }
}
