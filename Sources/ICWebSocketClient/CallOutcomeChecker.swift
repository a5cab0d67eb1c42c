import ICAgent
import ICCore
import ICWebSocketProtocol
import NIOConcurrencyHelpers

/// Reads the outcome of each sent `ws_message` call from the IC and reports it
/// (``CallOutcomeChecks``). Bounded: at most `maxOutstanding` polls at once, each ending at its
/// call's ingress expiry.
final class CallOutcomeChecker: Sendable {
    private let agent: HTTPAgent
    private let canister: Principal
    private let checks: CallOutcomeChecks
    private let continuation: AsyncStream<ICWebSocketCallOutcome>.Continuation
    /// The running check of each sequence number, with an id so that a replaced check (the
    /// message was sent again after a resume) neither reports nor removes its successor.
    private let tasks = NIOLockedValueBox<(outstanding: [UInt64: (id: Int, task: Task<Void, Never>)], nextID: Int, closed: Bool)>(
        ([:], 0, false))

    /// `agent` must sign with the client's own identity: the IC lets only a request's sender
    /// read its status.
    init(
        agent: HTTPAgent, canister: Principal, checks: CallOutcomeChecks,
        continuation: AsyncStream<ICWebSocketCallOutcome>.Continuation
    ) {
        self.agent = agent
        self.canister = canister
        self.checks = checks
        self.continuation = continuation
    }

    /// Starts checking one sent message, or reports it unknown when too many checks run. A
    /// message sent again (after a resume, in a new envelope) replaces the check of its first
    /// envelope, which may never have reached the IC.
    func check(_ sent: SentMessage) {
        let started: Bool = tasks.withLockedValue { state in
            guard !state.closed else { return false }
            let replaced = state.outstanding.removeValue(forKey: sent.sequenceNumber)
            replaced?.task.cancel()
            guard state.outstanding.count < checks.maxOutstanding else { return false }
            state.nextID += 1
            let id = state.nextID
            let task = Task { [self] in
                let outcome = await self.outcome(of: sent)
                let current = self.tasks.withLockedValue { state -> Bool in
                    guard state.outstanding[sent.sequenceNumber]?.id == id else { return false }
                    state.outstanding[sent.sequenceNumber] = nil
                    return true
                }
                guard current else { return }
                if case .accepted = outcome, !checks.reportsAccepted { return }
                continuation.yield(outcome)
            }
            state.outstanding[sent.sequenceNumber] = (id, task)
            return true
        }
        if !started {
            continuation.yield(
                .unknown(
                    sequenceNumber: sent.sequenceNumber,
                    reason: "not checked: \(checks.maxOutstanding) checks already outstanding"))
        }
    }

    /// Stops every check and finishes the outcome stream.
    func close() {
        let running = tasks.withLockedValue { state -> [Task<Void, Never>] in
            state.closed = true
            return state.outstanding.values.map(\.task)
        }
        for task in running { task.cancel() }
        continuation.finish()
    }

    private func outcome(of sent: SentMessage) async -> ICWebSocketCallOutcome {
        let number = sent.sequenceNumber
        let reply: [UInt8]
        do {
            reply = try await agent.pollForReply(requestID: sent.requestID, canister: canister, ingressExpiry: sent.ingressExpiry)
        } catch {
            switch error {
            case .rejected(let reject):
                return .rejected(sequenceNumber: number, reject: reject)
            case .timedOut:
                return .unknown(sequenceNumber: number, reason: "no outcome before the call's ingress expiry (was it submitted?)")
            default:
                return .unknown(sequenceNumber: number, reason: "reading the request status failed: \(error)")
            }
        }
        do {
            switch try Candid.decode(CanisterWsMessageResult.self, from: reply) {
            case .ok: return .accepted(sequenceNumber: number)
            case .err(let reason) where reason.hasPrefix(CanisterWsResumeArguments.duplicateRefusalPrefix.description):
                // The other copy (sent before a resume, or again after it) was executed.
                return .accepted(sequenceNumber: number)
            case .err(let reason): return .refused(sequenceNumber: number, reason: reason)
            }
        } catch {
            return .unknown(sequenceNumber: number, reason: "the reply is not a CanisterWsMessageResult: \(error)")
        }
    }
}
