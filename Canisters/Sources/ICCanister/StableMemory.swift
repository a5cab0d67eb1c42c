import ICCore

/// Stable memory (64-bit API): survives upgrades, in pages of 64 KiB.
public enum StableMemory {
    public static let pageSize: UInt64 = 65_536

    /// Current size in pages.
    public static var pageCount: UInt64 { UInt64(bitPattern: ic0_stable64_size()) }

    /// Grows by `pages`; returns the previous size, or `nil` if the IC refused.
    @discardableResult
    public static func grow(by pages: UInt64) -> UInt64? {
        let old = ic0_stable64_grow(Int64(bitPattern: pages))
        return old < 0 ? nil : UInt64(old)
    }

    /// Makes sure at least `bytes` bytes exist, growing as needed (traps when it cannot).
    public static func ensureCapacity(_ bytes: UInt64) {
        let have = pageCount * pageSize
        if bytes <= have { return }
        let pages = (bytes - have + pageSize - 1) / pageSize
        if grow(by: pages) == nil { trap("stable memory: cannot grow by \(pages) pages") }
    }

    /// Writes bytes at `offset` (growing as needed).
    public static func write(_ bytes: [UInt8], at offset: UInt64) {
        if bytes.isEmpty { return }
        ensureCapacity(offset + UInt64(bytes.count))
        bytes.withUnsafeBytes { buffer in
            ic0_stable64_write(Int64(bitPattern: offset), Int64(Int(bitPattern: buffer.baseAddress)), Int64(buffer.count))
        }
    }

    /// Reads `count` bytes at `offset` (traps past the end, as the IC does).
    public static func read(at offset: UInt64, count: Int) -> [UInt8] {
        if count == 0 { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            ic0_stable64_read(Int64(Int(bitPattern: buffer.baseAddress)), Int64(bitPattern: offset), Int64(count))
            initialized = count
        }
    }

    /// Stores one length-prefixed blob at offset 0 (e.g. state saved in `pre_upgrade`).
    public static func save(_ bytes: [UInt8]) {
        var length = [UInt8](repeating: 0, count: 8)
        var n = UInt64(bytes.count)
        for i in 0..<8 { length[i] = UInt8(truncatingIfNeeded: n); n >>= 8 }
        write(length + bytes, at: 0)
    }

    /// The blob stored by `save`, or `nil` if stable memory is empty.
    public static func load() -> [UInt8]? {
        guard pageCount > 0 else { return nil }
        let header = read(at: 0, count: 8)
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(header[i]) }
        if n > pageCount * pageSize - 8 { return nil }
        return read(at: 8, count: Int(n))
    }
}
