import ICAgent
import ICCore
import ICWebSocketProtocol
import NIOConcurrencyHelpers

/// Optional check of each poll before relaying (clients verify too; this keeps a lying replica's
/// messages from ever reaching clients that do not): the certificate is valid for the canister,
/// the tree's root is the canister's certified data, and each message's leaf is SHA-256 of its
/// exact content (protocol §4.5, §5.2). Verified certificates are remembered, so the BLS check
/// runs once per certificate however many polls repeat it.
final class PollCertificateChecker: Sendable {
    private let agent: HTTPAgent
    private let capacity: Int
    private let verified = NIOLockedValueBox<(set: Set<[UInt8]>, order: [[UInt8]])>(([], []))

    init(agent: HTTPAgent, capacity: Int = 256) {
        self.agent = agent
        self.capacity = capacity
    }

    func check(_ batch: CanisterOutputCertifiedMessages, canister: Principal) async throws(CanisterPoller.PollError) {
        guard !batch.messages.isEmpty else { return }
        let certificate: Certificate
        let cacheKey = SHA256.hash(batch.cert) + SHA256.hash(batch.tree)
        if verified.withLockedValue({ $0.set.contains(cacheKey) }) {
            do { certificate = try Certificate(cborBytes: batch.cert) } catch {
                throw .transient("poll certificate unreadable: \(error)")
            }
        } else {
            do {
                certificate = try await agent.verify(batch.cert, scope: .canister(canister)).certificate
            } catch {
                throw .transient("poll certificate rejected: \(error)")
            }
        }
        let tree: HashTree
        do { tree = try HashTree(cborBytes: batch.tree) } catch { throw .transient("poll tree unreadable: \(error)") }
        let certifiedData = certificate.tree.lookup(path: [Array("canister".utf8), canister.bytes, Array("certified_data".utf8)]).value
        guard let certifiedData, certifiedData == tree.reconstruct() else {
            throw .transient("poll tree does not match the canister's certified data")
        }
        for message in batch.messages {
            guard tree.lookup(path: [MessageKey.certificationLabel, Array(message.key.utf8)]).value == SHA256.hash(message.content) else {
                throw .transient("message \(message.key) is not certified by the poll's tree")
            }
        }
        verified.withLockedValue { cache in
            guard cache.set.insert(cacheKey).inserted else { return }
            cache.order.append(cacheKey)
            if cache.order.count > capacity { cache.set.remove(cache.order.removeFirst()) }
        }
    }
}
