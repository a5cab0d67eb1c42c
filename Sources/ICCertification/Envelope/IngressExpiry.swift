/// Computes `ingress_expiry` values the way the reference agents do (essentials §4.6).
public enum IngressExpiry {
    /// The default distance into the future: 3 minutes, as agent-rs.
    public static let defaultDelta: Duration = .seconds(180)

    /// `now + delta`, rounded down to a whole minute when `delta > 90 s` and to a whole
    /// second otherwise. Rounding makes identical requests within a minute share a request
    /// id, so retries are de-duplicated by the IC.
    ///
    /// - Parameters:
    ///   - nowNanoseconds: the current time in ns since 1970 (inject a clock in tests).
    ///   - delta: how far ahead; the IC accepts at most 5 minutes (+30 s of drift).
    public static func value(nowNanoseconds: UInt64, delta: Duration = defaultDelta) -> UInt64 {
        let deltaNanoseconds =
            UInt64(delta.components.seconds) * 1_000_000_000
            + UInt64(delta.components.attoseconds / 1_000_000_000)
        let expiry = nowNanoseconds + deltaNanoseconds
        let unit: UInt64 = delta > .seconds(90) ? 60_000_000_000 : 1_000_000_000
        return expiry / unit * unit
    }
}
