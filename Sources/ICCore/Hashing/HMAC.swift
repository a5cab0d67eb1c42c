/// HMAC-SHA256 (RFC 2104), used for RFC 6979 deterministic ECDSA nonces.
public struct HMACSHA256: Sendable {
    private var inner: SHA256
    private var outer: SHA256

    /// Creates an authenticator keyed with `key` (hashed first if longer than a block).
    public init(key: [UInt8]) {
        var block = key.count > 64 ? SHA256.hash(key) : key
        block.append(contentsOf: [UInt8](repeating: 0, count: 64 - block.count))
        inner = SHA256()
        outer = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        outer.update(block.map { $0 ^ 0x5c })
    }

    /// Feeds message bytes.
    public mutating func update(_ bytes: [UInt8]) {
        inner.update(bytes)
    }

    /// The 32-byte tag.
    public mutating func finalize() -> [UInt8] {
        outer.update(inner.finalize())
        return outer.finalize()
    }

    /// The HMAC-SHA256 tag of `message` under `key`.
    public static func authenticationCode(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        var hmac = HMACSHA256(key: key)
        hmac.update(message)
        return hmac.finalize()
    }
}
