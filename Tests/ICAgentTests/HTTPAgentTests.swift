import Foundation
import ICAgent
import ICCore
import ICTestSupport
import ICWebSocketTesting
import Testing

@Suite("HTTP agent against a scripted endpoint")
struct HTTPAgentTests {
    let canister = Principal.canister(index: 42)

    private func agent(_ url: String, _ replica: FakeIC, timeout: Duration = .seconds(10), maxBytes: Int = 4 << 20) -> HTTPAgent {
        HTTPAgent(
            configuration: .init(url: url, rootKey: .fetchFromReplica, requestTimeout: timeout, maxResponseBytes: maxBytes),
            identity: Ed25519Identity())
    }

    @Test("status and the fetched root key")
    func status() async throws {
        let replica = try FakeIC()
        try await replica.run { url in
            let agent = agent(url, replica)
            let status = try await agent.status()
            #expect(status.healthStatus == "healthy")
            #expect(try await agent.certificateVerifier().rootKey == replica.rootKey)
        }
    }

    @Test("a v4 synchronous call returns the certified reply")
    func syncCall() async throws {
        let replica = try FakeIC()
        try await replica.run { url in
            let reply = try await agent(url, replica).call(canister: canister, method: "greet", arg: [])
            #expect(try Candid.decode(String.self, from: reply) == "greet")
            #expect(replica.log.contains("v4/call"))
        }
    }

    @Test("without v4/v3 the agent falls back to v2 and polls read_state")
    func fallbackToV2() async throws {
        let replica = try FakeIC()
        replica.behaviour = .onlyV2
        try await replica.run { url in
            let agent = agent(url, replica)
            let reply = try await agent.call(canister: canister, method: "echo", arg: [])
            #expect(try Candid.decode(String.self, from: reply) == "echo")
            #expect(replica.log.prefix(4) == ["v4/call", "v3/call", "v2/call", "v3/read_state"])
            // The fallback is remembered: the next call goes straight to v2.
            _ = try await agent.call(canister: canister, method: "again", arg: [])
            #expect(replica.log.filter { $0 == "v4/call" }.count == 1)
        }
    }

    @Test("typed calls decode Candid replies and report mismatched types")
    func typedCalls() async throws {
        let replica = try FakeIC()
        try await replica.run { url in
            let agent = agent(url, replica)
            #expect(try await agent.call(canister, "hello", 42 as UInt64, returning: String.self) == "hello")
            #expect(try await agent.callValues(canister, "hi") == [.text("hi")])
            do {
                _ = try await agent.call(canister, "hello", arguments: Candid.encode(), returning: UInt64.self)
                Issue.record("a text reply must not decode as nat64")
            } catch let error as AgentError {
                guard case .replyDecoding = error else { Issue.record("got \(error)"); return }
            }
            #expect(try await agent.queryValues(canister, "q").isEmpty)
        }
    }

    @Test("rejects become typed errors")
    func rejects() async throws {
        let replica = try FakeIC()
        try await replica.run { url in
            let agent = agent(url, replica)
            replica.behaviour = .certifiedReject
            do {
                _ = try await agent.call(canister: canister, method: "m", arg: [])
                Issue.record("expected a reject")
            } catch let error as AgentError {
                guard case .rejected(let reject) = error else { Issue.record("got \(error)"); return }
                #expect(reject.code == .canisterReject && reject.message == "no thanks")
            }
            replica.behaviour = .nonReplicatedReject
            do {
                _ = try await agent.call(canister: canister, method: "m", arg: [])
                Issue.record("expected a reject")
            } catch let error as AgentError {
                guard case .rejected(let reject) = error else { Issue.record("got \(error)"); return }
                #expect(reject.code == .destinationInvalid && reject.errorCode == "IC0301")
            }
        }
    }

    @Test("forged certificates, garbage, oversized and slow responses are refused")
    func badResponses() async throws {
        let replica = try FakeIC()
        try await replica.run { url in
            let agent = agent(url, replica, timeout: .seconds(20), maxBytes: 64 * 1024)
            _ = try await agent.certificateVerifier()
            // Only the slow-response case uses a short deadline, so a loaded CI machine cannot trip the others.
            let impatient = self.agent(url, replica, timeout: .milliseconds(500))
            _ = try await impatient.certificateVerifier()

            replica.behaviour = .forgedCertificates
            await #expect { _ = try await agent.call(canister: canister, method: "m", arg: []) } throws: { error in
                guard case AgentError.certificate(.invalidSignature) = error else { return false }
                return true
            }
            replica.behaviour = .garbage
            await #expect { _ = try await agent.query(canister: canister, method: "m", arg: []) } throws: { error in
                guard case AgentError.malformedResponse = error else { return false }
                return true
            }
            replica.behaviour = .oversized(200 * 1024)
            await #expect { _ = try await agent.query(canister: canister, method: "m", arg: []) } throws: { error in
                guard case AgentError.responseTooLarge(limit: 65536) = error else { return false }
                return true
            }
            replica.behaviour = .slow(.seconds(3))
            await #expect { _ = try await impatient.query(canister: canister, method: "m", arg: []) } throws: { error in
                guard case AgentError.transport = error else { return false }
                return true
            }
        }
    }

    @Test("a dead endpoint is a transport error that says so")
    func deadEndpoint() async throws {
        let agent = HTTPAgent(configuration: .init(url: "http://127.0.0.1:1", rootKey: .mainnet, requestTimeout: .seconds(2)))
        await #expect { _ = try await agent.status() } throws: { error in
            guard let error = error as? AgentError, case .transport = error else { return false }
            return error.isTransient
        }
    }

    @Test("recorded mainnet read_state bytes: request status replied", .enabled(if: TestVectors.isAvailable))
    func recordedReadState() async throws {
        let vectors = try #require(CertificateVerificationVectors.loaded)
        let raw = try TestVectors.json("certificates/certificates.json") as? [String: Any]
        let entries = try #require(raw?["certificates"] as? [[String: Any]])
        let entry = try #require(entries.first { $0["id"] as? String == "mainnet_ii_request_status_replied" })
        let response = bytes(hex: try #require(entry["read_state_response_cbor_hex"] as? String))
        // The request id is the one the recorded certificate reveals under /request_status.
        let certificate = try Certificate(
            cborBytes: bytes(
                hex: try #require(vectors.certificates.first { $0.id == "mainnet_ii_request_status_replied" }).certificate_cbor_hex))
        let requestIDBytes = try #require(certificate.tree.labels(at: [Array("request_status".utf8)])?.first)
        let replica = try FakeIC()
        replica.behaviour = .recordedReadState(response)
        try await replica.run { url in
            let agent = HTTPAgent(configuration: .init(url: url, rootKey: .mainnet, freshness: .disabled))
            let status = try await agent.requestStatus(
                of: try RequestID(bytes: requestIDBytes),
                canister: try Principal(text: "rdmx6-jaaaa-aaaaa-aaadq-cai"))
            guard case .replied(let reply) = status else { Issue.record("expected replied, got \(status)"); return }
            #expect(reply.starts(with: Array("DIDL".utf8)))
            // The same bytes do not verify for a canister outside the subnet's ranges.
            await #expect(throws: AgentError.self) {
                _ = try await agent.requestStatus(of: try RequestID(bytes: requestIDBytes), canister: Principal.canister(index: 2))
            }
        }
    }
}
