import ICCore

/// Certified data (System API §10): up to 32 bytes the IC signs as
/// `/canister/<id>/certified_data`; and the certificate, readable in non-replicated queries.
public enum CertifiedData {
    /// Sets the certified data (updates, init, timers; traps in queries).
    public static func set(_ bytes: [UInt8]) {
        if bytes.count > 32 { trap("certified data is longer than 32 bytes") }
        bytes.withUnsafeBytes { ic0_certified_data_set($0.baseAddress, Int32($0.count)) }
    }

    /// The data certificate, present only in a non-replicated query.
    public static func certificate() -> [UInt8]? {
        guard ic0_data_certificate_present() == 1 else { return nil }
        let size = Int(ic0_data_certificate_size())
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            ic0_data_certificate_copy(buffer.baseAddress, 0, Int32(size))
            count = size
        }
    }
}
