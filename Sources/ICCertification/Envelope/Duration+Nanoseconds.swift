extension Duration {
    /// The duration in whole nanoseconds as the IC counts time (`UInt64` since the epoch):
    /// negative durations count as 0 and ones beyond `UInt64.max` nanoseconds (584 years) as
    /// `UInt64.max`, so expiry and freshness arithmetic cannot trap.
    public var icNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, carry) = whole.addingReportingOverflow(UInt64(max(0, attoseconds) / 1_000_000_000))
        return overflow || carry ? .max : total
    }
}
