#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a benchmark could not run; printed, and the bench exits 1.
struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a suite that can fail: on an error, prints which suite failed and why, and exits 1.
func exitOnFailure(_ suite: String, _ body: () async throws -> Void) async {
    do { try await body() } catch {
        print("\(suite) benchmark failed: \(error)")
        exit(1)
    }
}
