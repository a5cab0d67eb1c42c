/// Why a benchmark could not run; printed, and the bench exits 1.
struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
