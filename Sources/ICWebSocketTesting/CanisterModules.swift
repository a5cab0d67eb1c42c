import CanisterToolchain
import Foundation
import ICCore

/// The repository's Embedded Swift canisters as Wasm bytes, built on first use.
///
/// `swift test` on a fresh clone builds them itself (about a minute, once; later runs reuse
/// `Canisters/.build/wasm/*.wasm` unless a canister source changed). Concurrent test processes
/// are serialised by the builder's lock file.
public enum CanisterModules {
    /// The repository root, from this file's location.
    public static let builder = CanisterBuilder(
        repositoryRoot: URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent())

    /// `TestCanister`: the reference test canister's interface (`init(nat64, nat64)`, `send`, `close`, `wipe`).
    public static func testCanister() throws -> [UInt8] { try module("TestCanister") }
    /// The test canister's `init` argument `(max_returned, ack_interval_ms, opt record {
    /// session_resumption })`: with `false`, resumable sessions are off (the reference behaviour).
    public static func testCanisterArgument(
        maxReturned: UInt64 = 50, ackIntervalMs: UInt64 = 300_000, sessionResumption: Bool
    ) throws -> [UInt8] {
        let options: CandidType = .opt(.record([.field("session_resumption", Bool?.self)]))
        return try CandidEncoder.encode(
            [.nat64(maxReturned), .nat64(ackIntervalMs), .opt(.record([.field("session_resumption", Bool?.some(sessionResumption))]))],
            types: [UInt64.candidType, UInt64.candidType, options])
    }
    /// `ChatCanister`: fan-out chat with join/leave notices.
    public static func chatCanister() throws -> [UInt8] { try module("ChatCanister") }
    /// `PingPongCanister`: answers each ping with a pong.
    public static func pingPongCanister() throws -> [UInt8] { try module("PingPongCanister") }
    /// `MinimalCanister`: exercises the canister kit (counter, echo, timers, stable memory).
    public static func minimalCanister() throws -> [UInt8] { try module("MinimalCanister") }

    /// Any canister by product name; builds once per process when stale (all canisters at once,
    /// since one `swift build` of the package costs about as much as one of its products).
    public static func module(_ name: String) throws -> [UInt8] {
        try buildOnce.get()
        return try builder.module(name)
    }

    private static let buildOnce: Result<Void, CanisterBuildError> = Result(catching: { () throws(CanisterBuildError) in
        try builder.build()
    })
}
