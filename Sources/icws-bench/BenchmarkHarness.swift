// A tiny benchmark harness: warm up, time N iterations individually, report the median
// as one JSON line per operation: {"name": "...", "median_us": ...}.

/// Keeps a value alive so the optimizer cannot drop the measured work.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

struct BenchmarkHarness {
    /// Iterations per operation (after warm-up).
    var iterations: Int
    /// Warm-up iterations (not timed).
    var warmup: Int

    init(iterations: Int = 50, warmup: Int = 5) {
        self.iterations = iterations
        self.warmup = warmup
    }

    /// Times `body` and prints one JSON line; returns the median in microseconds.
    @discardableResult
    func measure<T>(_ name: String, iterations: Int? = nil, _ body: () -> T) -> Double {
        let n = iterations ?? self.iterations
        for _ in 0..<warmup { blackHole(body()) }
        let clock = ContinuousClock()
        var samples = [Double]()
        samples.reserveCapacity(n)
        for _ in 0..<n {
            let start = clock.now
            let result = body()
            let elapsed = clock.now - start
            blackHole(result)
            let (seconds, attoseconds) = elapsed.components
            samples.append(Double(seconds) * 1e6 + Double(attoseconds) / 1e12)
        }
        samples.sort()
        let median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2
        print("{\"name\": \"\(name)\", \"median_us\": \(format(median)), \"iterations\": \(n)}")
        return median
    }

    private func format(_ value: Double) -> String {
        let scaled = (value * 10).rounded() / 10
        return "\(scaled)"
    }
}
