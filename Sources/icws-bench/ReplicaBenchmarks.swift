import Foundation
import ICAgent
import ICCore
import ICReplica
import ICWebSocketTesting
import Logging
import WAT

/// Suite `replica`: the local replica over loopback HTTP with our agent (Ed25519 sender):
/// trivial update calls/s and queries/s with concurrent clients, module instantiation, and a
/// 1 KiB SHA-256 query (Wasm, checked against the native digest).
enum ReplicaBenchmarks {
    static let counterWAT = """
        (module
          (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
          (import "ic0" "msg_reply" (func $reply))
          (memory (export "memory") 1)
          (global $counter (mut i64) (i64.const 0))
          (func (export "canister_update inc")
            (global.set $counter (i64.add (global.get $counter) (i64.const 1)))
            (i64.store (i32.const 0) (global.get $counter))
            (call $append (i32.const 0) (i32.const 8))
            (call $reply))
          (func (export "canister_query get")
            (i64.store (i32.const 0) (global.get $counter))
            (call $append (i32.const 0) (i32.const 8))
            (call $reply)))
        """

    /// SHA-256 of the argument, in hand-written WAT (K at 0, initial H at 288, state at 256,
    /// W at 512, the padded message at 4096).
    static let sha256WAT = """
        (module
          (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
          (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
          (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
          (import "ic0" "msg_reply" (func $reply))
          (memory (export "memory") 2)
          (data (i32.const 0) "\\98\\2f\\8a\\42\\91\\44\\37\\71\\cf\\fb\\c0\\b5\\a5\\db\\b5\\e9\\5b\\c2\\56\\39\\f1\\11\\f1\\59\\a4\\82\\3f\\92\\d5\\5e\\1c\\ab\\98\\aa\\07\\d8\\01\\5b\\83\\12\\be\\85\\31\\24\\c3\\7d\\0c\\55\\74\\5d\\be\\72\\fe\\b1\\de\\80\\a7\\06\\dc\\9b\\74\\f1\\9b\\c1\\c1\\69\\9b\\e4\\86\\47\\be\\ef\\c6\\9d\\c1\\0f\\cc\\a1\\0c\\24\\6f\\2c\\e9\\2d\\aa\\84\\74\\4a\\dc\\a9\\b0\\5c\\da\\88\\f9\\76\\52\\51\\3e\\98\\6d\\c6\\31\\a8\\c8\\27\\03\\b0\\c7\\7f\\59\\bf\\f3\\0b\\e0\\c6\\47\\91\\a7\\d5\\51\\63\\ca\\06\\67\\29\\29\\14\\85\\0a\\b7\\27\\38\\21\\1b\\2e\\fc\\6d\\2c\\4d\\13\\0d\\38\\53\\54\\73\\0a\\65\\bb\\0a\\6a\\76\\2e\\c9\\c2\\81\\85\\2c\\72\\92\\a1\\e8\\bf\\a2\\4b\\66\\1a\\a8\\70\\8b\\4b\\c2\\a3\\51\\6c\\c7\\19\\e8\\92\\d1\\24\\06\\99\\d6\\85\\35\\0e\\f4\\70\\a0\\6a\\10\\16\\c1\\a4\\19\\08\\6c\\37\\1e\\4c\\77\\48\\27\\b5\\bc\\b0\\34\\b3\\0c\\1c\\39\\4a\\aa\\d8\\4e\\4f\\ca\\9c\\5b\\f3\\6f\\2e\\68\\ee\\82\\8f\\74\\6f\\63\\a5\\78\\14\\78\\c8\\84\\08\\02\\c7\\8c\\fa\\ff\\be\\90\\eb\\6c\\50\\a4\\f7\\a3\\f9\\be\\f2\\78\\71\\c6")
          (data (i32.const 288) "\\67\\e6\\09\\6a\\85\\ae\\67\\bb\\72\\f3\\6e\\3c\\3a\\f5\\4f\\a5\\7f\\52\\0e\\51\\8c\\68\\05\\9b\\ab\\d9\\83\\1f\\19\\cd\\e0\\5b")
          (func $bswap (param $x i32) (result i32)
            (i32.or
              (i32.or (i32.shl (local.get $x) (i32.const 24)) (i32.and (i32.shl (local.get $x) (i32.const 8)) (i32.const 0xFF0000)))
              (i32.or (i32.and (i32.shr_u (local.get $x) (i32.const 8)) (i32.const 0xFF00)) (i32.shr_u (local.get $x) (i32.const 24)))))
          (func (export "canister_query sha256")
            (local $len i32) (local $total i32) (local $i i32) (local $block i32) (local $t i32) (local $bits i64)
            (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $e i32) (local $f i32) (local $g i32) (local $h i32)
            (local $t1 i32) (local $t2 i32) (local $w2 i32) (local $w15 i32)
            (local.set $len (call $arg_size))
            (if (i32.gt_u (local.get $len) (i32.const 60000)) (then unreachable))
            (call $arg_copy (i32.const 4096) (i32.const 0) (local.get $len))
            (local.set $total (i32.and (i32.add (local.get $len) (i32.const 72)) (i32.const -64)))
            (memory.fill (i32.add (i32.const 4096) (local.get $len)) (i32.const 0) (i32.sub (local.get $total) (local.get $len)))
            (i32.store8 (i32.add (i32.const 4096) (local.get $len)) (i32.const 0x80))
            (local.set $bits (i64.shl (i64.extend_i32_u (local.get $len)) (i64.const 3)))
            (local.set $i (i32.const 0))
            (loop $len_bytes
              (i32.store8 (i32.sub (i32.add (i32.const 4095) (local.get $total)) (local.get $i))
                          (i32.wrap_i64 (i64.shr_u (local.get $bits) (i64.extend_i32_u (i32.shl (local.get $i) (i32.const 3))))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $len_bytes (i32.lt_u (local.get $i) (i32.const 8))))
            (memory.copy (i32.const 256) (i32.const 288) (i32.const 32))
            (local.set $block (i32.const 4096))
            (loop $blocks
              (local.set $t (i32.const 0))
              (loop $load
                (i32.store (i32.add (i32.const 512) (i32.shl (local.get $t) (i32.const 2)))
                           (call $bswap (i32.load (i32.add (local.get $block) (i32.shl (local.get $t) (i32.const 2))))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br_if $load (i32.lt_u (local.get $t) (i32.const 16))))
              (loop $expand
                (local.set $w2 (i32.load (i32.add (i32.const 504) (i32.shl (local.get $t) (i32.const 2)))))
                (local.set $w15 (i32.load (i32.add (i32.const 452) (i32.shl (local.get $t) (i32.const 2)))))
                (i32.store (i32.add (i32.const 512) (i32.shl (local.get $t) (i32.const 2)))
                  (i32.add
                    (i32.add
                      (i32.xor (i32.xor (i32.rotr (local.get $w2) (i32.const 17)) (i32.rotr (local.get $w2) (i32.const 19)))
                               (i32.shr_u (local.get $w2) (i32.const 10)))
                      (i32.load (i32.add (i32.const 484) (i32.shl (local.get $t) (i32.const 2)))))
                    (i32.add
                      (i32.xor (i32.xor (i32.rotr (local.get $w15) (i32.const 7)) (i32.rotr (local.get $w15) (i32.const 18)))
                               (i32.shr_u (local.get $w15) (i32.const 3)))
                      (i32.load (i32.add (i32.const 448) (i32.shl (local.get $t) (i32.const 2)))))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br_if $expand (i32.lt_u (local.get $t) (i32.const 64))))
              (local.set $a (i32.load (i32.const 256))) (local.set $b (i32.load (i32.const 260)))
              (local.set $c (i32.load (i32.const 264))) (local.set $d (i32.load (i32.const 268)))
              (local.set $e (i32.load (i32.const 272))) (local.set $f (i32.load (i32.const 276)))
              (local.set $g (i32.load (i32.const 280))) (local.set $h (i32.load (i32.const 284)))
              (local.set $t (i32.const 0))
              (loop $rounds
                (local.set $t1
                  (i32.add (i32.add (i32.add (local.get $h)
                    (i32.xor (i32.xor (i32.rotr (local.get $e) (i32.const 6)) (i32.rotr (local.get $e) (i32.const 11))) (i32.rotr (local.get $e) (i32.const 25))))
                    (i32.xor (i32.and (local.get $e) (local.get $f)) (i32.and (i32.xor (local.get $e) (i32.const -1)) (local.get $g))))
                    (i32.add (i32.load (i32.shl (local.get $t) (i32.const 2)))
                             (i32.load (i32.add (i32.const 512) (i32.shl (local.get $t) (i32.const 2)))))))
                (local.set $t2
                  (i32.add
                    (i32.xor (i32.xor (i32.rotr (local.get $a) (i32.const 2)) (i32.rotr (local.get $a) (i32.const 13))) (i32.rotr (local.get $a) (i32.const 22)))
                    (i32.xor (i32.xor (i32.and (local.get $a) (local.get $b)) (i32.and (local.get $a) (local.get $c))) (i32.and (local.get $b) (local.get $c)))))
                (local.set $h (local.get $g)) (local.set $g (local.get $f)) (local.set $f (local.get $e))
                (local.set $e (i32.add (local.get $d) (local.get $t1)))
                (local.set $d (local.get $c)) (local.set $c (local.get $b)) (local.set $b (local.get $a))
                (local.set $a (i32.add (local.get $t1) (local.get $t2)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br_if $rounds (i32.lt_u (local.get $t) (i32.const 64))))
              (i32.store (i32.const 256) (i32.add (i32.load (i32.const 256)) (local.get $a)))
              (i32.store (i32.const 260) (i32.add (i32.load (i32.const 260)) (local.get $b)))
              (i32.store (i32.const 264) (i32.add (i32.load (i32.const 264)) (local.get $c)))
              (i32.store (i32.const 268) (i32.add (i32.load (i32.const 268)) (local.get $d)))
              (i32.store (i32.const 272) (i32.add (i32.load (i32.const 272)) (local.get $e)))
              (i32.store (i32.const 276) (i32.add (i32.load (i32.const 276)) (local.get $f)))
              (i32.store (i32.const 280) (i32.add (i32.load (i32.const 280)) (local.get $g)))
              (i32.store (i32.const 284) (i32.add (i32.load (i32.const 284)) (local.get $h)))
              (local.set $block (i32.add (local.get $block) (i32.const 64)))
              (br_if $blocks (i32.lt_u (local.get $block) (i32.add (i32.const 4096) (local.get $total)))))
            (local.set $i (i32.const 0))
            (loop $out
              (i32.store (i32.add (i32.const 320) (local.get $i)) (call $bswap (i32.load (i32.add (i32.const 256) (local.get $i)))))
              (local.set $i (i32.add (local.get $i) (i32.const 4)))
              (br_if $out (i32.lt_u (local.get $i) (i32.const 32))))
            (call $append (i32.const 320) (i32.const 32))
            (call $reply)))
        """

    static func run(_ harness: BenchmarkHarness, seconds: Double = 3) async {
        await exitOnFailure("replica") { try await runThrowing(harness, seconds: seconds) }
    }

    private static func runThrowing(_ harness: BenchmarkHarness, seconds: Double) async throws {
        let counter = try wat2wasm(counterWAT)
        let sha = try wat2wasm(sha256WAT)
        try await LocalReplica.run(configure: { $0.roundInterval = .milliseconds(50) }) { local in
            try await measure(harness, seconds: seconds, counter: counter, sha: sha, on: local)
        }
    }

    private static func measure(
        _ harness: BenchmarkHarness, seconds: Double, counter: [UInt8], sha: [UInt8], on local: LocalReplica
    ) async throws {
        let replica = local.replica
        harness.measure("replica.instantiate_counter_lazy", iterations: harness.iterations) {
            (try? replica.checkModule(counter, compileAllCode: false)) != nil
        }
        harness.measure("replica.instantiate_sha256_eager", iterations: harness.iterations) {
            (try? replica.checkModule(sha, compileAllCode: true)) != nil
        }

        do {
            let agent = HTTPAgent(configuration: .init(url: local.url, rootKey: .fetchFromReplica), identity: Ed25519Identity())
            let counterID = try await deploy(agent, replica: replica, module: counter)
            let shaID = try await deploy(agent, replica: replica, module: sha)

            let input = [UInt8]((0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            let digest = try await agent.query(canister: shaID, method: "sha256", arg: input)
            guard digest == SHA256.hash(input) else { throw BenchFailure("the Wasm SHA-256 disagrees with the native one") }

            for concurrency in [1, 16] {
                let updates = try await throughput(concurrency: concurrency, seconds: seconds) {
                    _ = try await agent.call(canister: counterID, method: "inc", arg: [])
                }
                print("{\"name\": \"replica.http_update_per_s_c\(concurrency)\", \"ops_per_s\": \(Int(updates))}")
                let queries = try await throughput(concurrency: concurrency, seconds: seconds) {
                    _ = try await agent.query(canister: counterID, method: "get", arg: [])
                }
                print("{\"name\": \"replica.http_query_per_s_c\(concurrency)\", \"ops_per_s\": \(Int(queries))}")
            }
            let shaRate = try await throughput(concurrency: 2, seconds: seconds) {
                _ = try await agent.query(canister: shaID, method: "sha256", arg: input)
            }
            print("{\"name\": \"replica.http_sha256_1kib_query_per_s_c2\", \"ops_per_s\": \(Int(shaRate))}")
        }
    }

    private static func deploy(_ agent: HTTPAgent, replica: Replica, module: [UInt8]) async throws -> Principal {
        try await ManagementCanister(agent: agent).deploy(module: module, effectiveCanisterID: replica.canisterRange.lowerBound)
    }

    /// Operations per second with `concurrency` clients looping for `seconds`.
    private static func throughput(
        concurrency: Int, seconds: Double, _ operation: @escaping @Sendable () async throws -> Void
    ) async throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(Int(seconds * 1000)))
        let count = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var done = 0
                    while clock.now < deadline {
                        try await operation()
                        done += 1
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = clock.now - start
        return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
