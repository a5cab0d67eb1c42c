import Foundation
import ICCore
import ICWebSocketTesting
import Testing

extension CanisterReplicaTests {
    /// `icws canister deploy` and `icws canister call`, the built binary against a loopback replica.
    @Suite("icws canister (CLI)", .serialized, .enabled(if: ICWSExecutable.url != nil, "needs .build/debug/icws (swift build)"))
    struct CanisterCommandTests {
        static let root = ICWSExecutable.root
        static let binary = ICWSExecutable.url

        struct Output {
            var status: Int32
            var stdout: String
            var stderr: String
        }

        /// Runs `icws` without blocking a cooperative thread (the replica's rounds need them).
        static func icws(_ arguments: [String]) async throws -> Output {
            let process = Process()
            process.executableURL = binary
            process.arguments = arguments
            process.currentDirectoryURL = root
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            let status: Int32 = try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do { try process.run() } catch { continuation.resume(throwing: error) }
            }
            return Output(
                status: status,
                stdout: String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }

        @Test("deploy by name with --arg-text, then call an update and a query with Candid text")
        func deployAndCall() async throws {
            _ = try CanisterModules.testCanister()  // built and cached before the CLI looks for it
            try await LocalReplica.run { local in
                let deployed = try await Self.icws([
                    "canister", "deploy", "TestCanister", "--arg-text", "(50 : nat64, 300_000 : nat64)",
                    "--replica", local.url,
                ])
                #expect(deployed.status == 0, "\(deployed.stderr)")
                let id = try Principal(text: deployed.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
                #expect(local.replica.canisterIDs.contains(id))

                let poll = try await Self.icws([
                    "canister", "call", id.description, "ws_get_messages", "(record { nonce = 0 : nat64 })",
                    "--query", "--replica", local.url,
                ])
                #expect(poll.status == 0, "\(poll.stderr)")
                #expect(poll.stdout.hasPrefix("(variant { Ok = record { "))
                #expect(poll.stdout.contains("messages = vec {};"))
                #expect(poll.stdout.contains("is_end_of_queue = true;"))

                let nobody = Principal.canister(index: 77)
                let send = try await Self.icws([
                    "canister", "call", id.description, "send", "(principal \"\(nobody)\", vec { blob \"\\00\" })",
                    "--replica", local.url,
                ])
                #expect(send.status == 0, "\(send.stderr)")
                #expect(
                    send.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                        == "(variant { Err = \"Client with principal \(nobody) doesn't have an open connection\" })")

                let raw = try await Self.icws([
                    "canister", "call", id.description, "wipe", "(50 : nat64, 300_000 : nat64)", "--raw",
                    "--replica", local.url,
                ])
                #expect(raw.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "4449444c0000")
            }
        }

        @Test("deploy refuses an init argument it cannot encode, and init traps are reported")
        func deployErrors() async throws {
            try await LocalReplica.run { local in
                let bad = try await Self.icws(["canister", "deploy", "TestCanister", "--arg-text", "(10 : nat64,", "--replica", local.url])
                #expect(bad.status != 0)
                #expect(bad.stderr.contains("cannot encode the Candid text"))
                let trap = try await Self.icws([
                    "canister", "deploy", "TestCanister", "--arg-text", "(10 : nat64, 60_000 : nat64)",
                    "--replica", local.url,
                ])
                #expect(trap.status != 0)
                #expect(trap.stderr.contains("send_ack_interval_ms must be greater than CLIENT_KEEP_ALIVE_TIMEOUT_MS"))
            }
        }
    }
}
