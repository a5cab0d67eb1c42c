extension BenchmarkHarness {
    /// Times `body`, which processes `bytes` bytes per call, and prints
    /// `{"name": …, "median_ns": …, "mb_per_s": …}` (MB = 10^6 bytes).
    @discardableResult
    func measureThroughput<T>(_ name: String, bytes: Int, iterations: Int? = nil, _ body: () -> T) -> Double {
        let n = iterations ?? self.iterations
        for _ in 0..<warmup { blackHole(body()) }
        let clock = ContinuousClock()
        // Batch calls so each sample is long enough to time (≥ ~20 µs).
        var batch = 1
        while true {
            let start = clock.now
            for _ in 0..<batch { blackHole(body()) }
            let elapsed = clock.now - start
            if elapsed > .microseconds(20) || batch >= 1 << 16 { break }
            batch *= 2
        }
        var samples = [Double]()
        samples.reserveCapacity(n)
        for _ in 0..<n {
            let start = clock.now
            for _ in 0..<batch { blackHole(body()) }
            let (seconds, attoseconds) = (clock.now - start).components
            samples.append((Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(batch))
        }
        samples.sort()
        let median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2
        let megabytesPerSecond = Double(bytes) / median * 1e9 / 1e6
        print("{\"name\": \"\(name)\", \"median_ns\": \(Int(median.rounded())), \"mb_per_s\": \((megabytesPerSecond * 10).rounded() / 10)}")
        return median
    }
}
