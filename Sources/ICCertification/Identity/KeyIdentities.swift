import Crypto
import Foundation
import ICCore
import Secp256k1

/// DER `SubjectPublicKeyInfo` prefixes of the IC's user key types (essentials §4.5).
public enum PublicKeyDER {
    /// Ed25519 (RFC 8410): prefix then the 32-byte key.
    public static let ed25519Prefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]
    /// ECDSA P-256: prefix then the 65-byte uncompressed point.
    public static let p256Prefix: [UInt8] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
        0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ]
    /// ECDSA secp256k1: prefix then the 65-byte uncompressed point.
    public static let secp256k1Prefix: [UInt8] = Secp256k1.derPrefix
}

/// An Ed25519 key (RFC 8032 signatures, 64 bytes), as `dfx identity new --key-type ed25519`.
public struct Ed25519Identity: Identity {
    /// The signing key.
    public let privateKey: Curve25519.Signing.PrivateKey

    /// Generates a fresh key.
    public init() { privateKey = Curve25519.Signing.PrivateKey() }

    /// Wraps an existing key.
    public init(privateKey: Curve25519.Signing.PrivateKey) { self.privateKey = privateKey }

    /// Creates the key from its 32-byte seed.
    public init(seed: [UInt8]) throws(IdentityError) {
        do { privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: seed) } catch {
            throw .invalidKey("Ed25519 seed must be 32 bytes, got \(seed.count)")
        }
    }

    public var publicKeyDER: [UInt8]? { PublicKeyDER.ed25519Prefix + Array(privateKey.publicKey.rawRepresentation) }
    public var principal: Principal { Principal.selfAuthenticating(derPublicKey: publicKeyDER!) }

    public func sign(_ message: [UInt8]) throws(IdentityError) -> [UInt8] {
        do { return Array(try privateKey.signature(for: message)) } catch {
            throw .signingFailed("Ed25519: \(error)")
        }
    }
}

/// An ECDSA P-256 key; signatures are 64 bytes `r ‖ s` over SHA-256, normalised to low S.
public struct P256Identity: Identity {
    /// The signing key.
    public let privateKey: P256.Signing.PrivateKey

    /// Generates a fresh key.
    public init() { privateKey = P256.Signing.PrivateKey() }

    /// Wraps an existing key.
    public init(privateKey: P256.Signing.PrivateKey) { self.privateKey = privateKey }

    public var publicKeyDER: [UInt8]? { PublicKeyDER.p256Prefix + Array(privateKey.publicKey.x963Representation) }
    public var principal: Principal { Principal.selfAuthenticating(derPublicKey: publicKeyDER!) }

    public func sign(_ message: [UInt8]) throws(IdentityError) -> [UInt8] {
        do {
            let raw = Array(try privateKey.signature(for: message).rawRepresentation)
            return Array(raw[..<32]) + LowS.normalize(Array(raw[32...]), order: LowS.p256Order)
        } catch {
            throw .signingFailed("P-256: \(error)")
        }
    }
}

/// An ECDSA secp256k1 key (dfx's default identity type); deterministic RFC 6979 signatures,
/// 64 bytes `r ‖ s` over SHA-256, low S.
public struct Secp256k1Identity: Identity {
    /// The signing key.
    public let privateKey: Secp256k1.PrivateKey

    /// Generates a fresh key from the system's random number generator.
    public init() {
        var generator = SystemRandomNumberGenerator()
        privateKey = Secp256k1.PrivateKey(entropy: (0..<48).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// Wraps an existing key.
    public init(privateKey: Secp256k1.PrivateKey) { self.privateKey = privateKey }

    public var publicKeyDER: [UInt8]? { privateKey.publicKey.derRepresentation }
    public var principal: Principal { Principal.selfAuthenticating(derPublicKey: publicKeyDER!) }

    public func sign(_ message: [UInt8]) throws(IdentityError) -> [UInt8] {
        privateKey.signature(for: message)
    }
}

/// Low-S normalisation of ECDSA signatures: the IC's verifiers may refuse `s > n/2`.
enum LowS {
    static let p256Order: [UInt8] = Array(Hex.decodeKnown("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"))

    /// Returns `min(s, n − s)` for 32-byte big-endian `s`.
    static func normalize(_ s: [UInt8], order n: [UInt8]) -> [UInt8] {
        // s > n/2  ⇔  2s > n
        var doubled = [UInt8](repeating: 0, count: 33)
        var carry = 0
        for index in stride(from: 31, through: 0, by: -1) {
            let value = Int(s[index]) * 2 + carry
            doubled[index + 1] = UInt8(value & 0xff)
            carry = value >> 8
        }
        doubled[0] = UInt8(carry)
        let isHigh = ([0] + n).lexicographicallyPrecedes(doubled)
        guard isHigh else { return s }
        var result = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for index in stride(from: 31, through: 0, by: -1) {
            var value = Int(n[index]) - Int(s[index]) - borrow
            borrow = value < 0 ? 1 : 0
            if value < 0 { value += 256 }
            result[index] = UInt8(value)
        }
        return result
    }
}

extension Hex {
    /// Decodes a hex literal known to be valid (for constants).
    static func decodeKnown(_ text: String) -> [UInt8] {
        guard let bytes = try? decode(text) else { preconditionFailure("invalid hex constant \(text)") }
        return bytes
    }
}
