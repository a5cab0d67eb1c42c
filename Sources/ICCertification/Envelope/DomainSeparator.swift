/// Domain separators prefixed to signed payloads (essentials §4.3). The first byte of each
/// is its own length, so no payload of one kind can be read as another.
public enum DomainSeparator {
    /// `\x0Aic-request`: `sender_sig` over a request id.
    public static let request = separator("ic-request")
    /// `\x1Aic-request-auth-delegation`: a delegation signature.
    public static let delegation = separator("ic-request-auth-delegation")
    /// `\x0Dic-state-root`: a certificate's BLS signature over its root hash.
    public static let stateRoot = separator("ic-state-root")
    /// `\x0Bic-response`: a node signature over a query response.
    public static let response = separator("ic-response")

    private static func separator(_ text: String) -> [UInt8] {
        [UInt8(text.utf8.count)] + Array(text.utf8)
    }
}
