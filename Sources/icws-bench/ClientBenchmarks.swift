import BLS12381
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketProtocol

/// Suite `client`: the client SDK's verification of canister messages. A poll batch of 50
/// messages shares one certificate (made with generated keys: a root key delegating to a
/// subnet key), which the client verifies once; the suite compares the per-message cost in
/// such a batch with one full verification (goal: at most 1/20) and derives how many messages
/// per second one client can verify.
enum ClientBenchmarks {
    static let batchSize = 50

    static func run(_ harness: BenchmarkHarness) {
        let subnet = DelegatedSubnet("bench client")
        let root = subnet.root
        let subnetKey = subnet.subnetKey
        let canister = Principal.canister(index: 150)
        let gateway = Principal.selfAuthenticating(derPublicKey: subnetKey.der + [1])
        let clientKey = ClientKey(clientPrincipal: Principal.selfAuthenticating(derPublicKey: subnetKey.der + [2]), clientNonce: 7)
        let now = DelegatedSubnet.now

        // 50 application messages of ~100 bytes, certified together as a canister would (§4.5).
        var entries = [(path: [[UInt8]], value: [UInt8])]()
        var messages = [(key: String, content: [UInt8])]()
        for index in 0..<batchSize {
            let key = MessageKey.format(gateway: gateway, nonce: UInt64(index))
            let content = WebsocketMessage(
                clientKey: clientKey, sequenceNum: UInt64(index + 1), timestamp: now,
                isServiceMessage: false, content: [UInt8](repeating: UInt8(index), count: 100)
            ).cborEncoded()
            entries.append(([MessageKey.certificationLabel, Array(key.utf8)], SHA256.hash(content)))
            messages.append((key, content))
        }
        guard let tree = try? HashTree(paths: entries) else { fatalError("fixed tree") }
        let certificate = subnet.certificate(certifiedData: tree.reconstruct(), of: canister)
        let treeBytes = tree.encoded(selfDescribe: true)
        let frames = messages.map { CanisterMessageFrame(key: $0.key, content: $0.content, cert: certificate, tree: treeBytes).encoded() }

        func verifier() -> CanisterMessageVerifier {
            CanisterMessageVerifier(canister: canister, rootKey: root.publicKey, clientKey: clientKey, gateway: gateway, clock: { now })
        }
        var check = verifier()
        for frame in frames {
            guard (try? check.verify(frame)) != nil else { fatalError("benchmark frames must verify") }
        }

        let iterations = max(10, harness.iterations / 2)
        let full = harness.measure("client.verify_one_message_full", iterations: iterations) { () -> Bool in
            var fresh = verifier()
            return (try? fresh.verify(frames[0])) != nil
        }
        let batch = harness.measure("client.verify_batch_of_\(batchSize)", iterations: iterations) { () -> Int in
            var fresh = verifier()
            var count = 0
            for frame in frames where (try? fresh.verify(frame)) != nil { count += 1 }
            return count
        }
        let perMessage = batch / Double(batchSize)
        let cachedPerMessage = max(0, batch - full) / Double(batchSize - 1)
        print(
            "{\"name\": \"client.verify_per_message_in_batch_of_\(batchSize)\", \"median_us\": \(rounded(perMessage)), "
                + "\"cached_message_us\": \(rounded(cachedPerMessage)), \"ratio_to_full\": \(rounded(perMessage / full, digits: 4)), "
                + "\"goal_ratio\": 0.05, \"meets_goal\": \(perMessage / full <= 0.05)}")
        print(
            "{\"name\": \"client.messages_verified_per_second\", \"batches_of_\(batchSize)\": \(Int((1e6 / perMessage).rounded())), "
                + "\"single_message_batches\": \(Int((1e6 / full).rounded()))}")
    }

    private static func rounded(_ value: Double, digits: Int = 1) -> Double {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}
