import ICCore

/// The certification key of one outgoing message (protocol §4.4):
/// `<gateway principal text>_<nonce as exactly 20 decimal digits>`.
///
/// Twenty digits hold any `UInt64`, so within one gateway byte order equals nonce order, which
/// the certified tree and `ws_get_messages` selection rely on.
public enum MessageKey {
    /// The number of digits the nonce is padded to.
    public static let nonceDigits = 20

    /// `format_key(gateway, nonce)`.
    public static func format(gateway: Principal, nonce: UInt64) -> String {
        var bytes = gateway.textBytes
        bytes.append(UInt8(ascii: "_"))
        bytes.append(contentsOf: paddedDigits(nonce))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The nonce as 20 ASCII digits.
    public static func paddedDigits(_ nonce: UInt64) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: nonceDigits) { buffer, count in
            writeDigits(nonce, to: buffer.baseAddress!)
            count = nonceDigits
        }
    }

    /// Writes the nonce's 20 ASCII digits at `destination` (keys written straight into a
    /// buffer: a poll's witness labels and its reply).
    public static func writeDigits(_ nonce: UInt64, to destination: UnsafeMutablePointer<UInt8>) {
        var value = nonce
        var index = nonceDigits - 1
        while index >= 0 {
            destination[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value % 10)
            value /= 10
            index -= 1
        }
    }

    /// The nonce of a key: the decimal digits after the last `_` (how the gateway reads it,
    /// §6.5). `nil` when that part is missing, empty, not all digits, or does not fit `UInt64`.
    public static func nonce(of key: String) -> UInt64? {
        let bytes = Array(key.utf8)
        guard let underscore = bytes.lastIndex(of: UInt8(ascii: "_")) else { return nil }
        let digits = bytes[(underscore + 1)...]
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    /// The label under which the canister certifies its messages (§4.2).
    public static let certificationLabel: [UInt8] = UTF8Text("websocket").utf8
}
