import Crypto
import Foundation
import ICCertification
import ICCore
import ICTestSupport
import Secp256k1
import Testing

/// Keys generated for these tests with OpenSSL 3 (`openssl genpkey -algorithm ed25519`,
/// `openssl ecparam -name secp256k1 -genkey`, `openssl ecparam -name prime256v1 -genkey -noout`,
/// `openssl pkcs8 -topk8 -nocrypt`); the expected DER public keys are OpenSSL's
/// `openssl pkey -pubout -outform DER` of the same files.
enum OpenSSLKeys {
    static let ed25519 = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEINhedp7kKKF7uh2GXCkWebxEBlYukxRqSBRLHAP5uZLC
        -----END PRIVATE KEY-----
        """
    static let ed25519DER = "302a300506032b6570032100e06e4e5633098e66b294c2602ff6d70569c642720328e9239b52c8b9fed3091f"

    static let secp256k1 = """
        -----BEGIN EC PARAMETERS-----
        BgUrgQQACg==
        -----END EC PARAMETERS-----
        -----BEGIN EC PRIVATE KEY-----
        MHQCAQEEIPT5xbqz1CgzHq2ypTKcClg8KOi0vGIDn2P5Kf1ZIrxFoAcGBSuBBAAK
        oUQDQgAEoXaj4g0UepnVuLWa/uDMk74XfTLFRi7uwDqCGNEjpwX/DiUGif+mbBGx
        isw/eiSGD1yhqRv3wg1xWeDlxryhVQ==
        -----END EC PRIVATE KEY-----
        """
    static let secp256k1PKCS8 = """
        -----BEGIN PRIVATE KEY-----
        MIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQg9PnFurPUKDMerbKlMpwK
        WDwo6LS8YgOfY/kp/VkivEWhRANCAAShdqPiDRR6mdW4tZr+4MyTvhd9MsVGLu7A
        OoIY0SOnBf8OJQaJ/6ZsEbGKzD96JIYPXKGpG/fCDXFZ4OXGvKFV
        -----END PRIVATE KEY-----
        """
    static let secp256k1DER =
        "3056301006072a8648ce3d020106052b8104000a03420004a176a3e20d147a99d5b8b59afee0cc93be177d32c5462eeec03a8218d123a705ff0e250689ffa66c11b18acc3f7a24860f5ca1a91bf7c20d7159e0e5c6bca155"

    static let p256 = """
        -----BEGIN EC PRIVATE KEY-----
        MHcCAQEEILH6KzmH0dphl/c+7WAJfH+K3Fmin3Pr9gQxavEmoTxdoAoGCCqGSM49
        AwEHoUQDQgAEAmafj+CIz5O78AmgUe2d6ENjyoWI1Ro7o35YTUG2S7tpdZNs0wxY
        cBVaKJSp2ikUIiu98t+mAdU53TDH92EAsQ==
        -----END EC PRIVATE KEY-----
        """
    static let p256DER =
        "3059301306072a8648ce3d020106082a8648ce3d0301070342000402669f8fe088cf93bbf009a051ed9de84363ca8588d51a3ba37e584d41b64bbb6975936cd30c5870155a2894a9da2914222bbdf2dfa601d539dd30c7f76100b1"
}

@Suite("Identities and PEM files")
struct IdentityTests {
    @Test(
        "PEM files written by OpenSSL load with the right public key",
        arguments: [
            (OpenSSLKeys.ed25519, OpenSSLKeys.ed25519DER),
            (OpenSSLKeys.secp256k1, OpenSSLKeys.secp256k1DER),
            (OpenSSLKeys.secp256k1PKCS8, OpenSSLKeys.secp256k1DER),
            (OpenSSLKeys.p256, OpenSSLKeys.p256DER),
        ])
    func loadsOpenSSLKeys(pem: String, expectedDER: String) throws {
        let identity = try IdentityPEM.load(pem: pem)
        #expect(hexString(try #require(identity.publicKeyDER)) == expectedDER)
        #expect(identity.principal == Principal.selfAuthenticating(derPublicKey: bytes(hex: expectedDER)))
    }

    @Test("PEM round trips for each key type keep the key")
    func roundTrips() throws {
        let identities: [any Identity] = [Ed25519Identity(), Secp256k1Identity(), P256Identity()]
        for identity in identities {
            let pem = try IdentityPEM.pem(for: identity)
            let loaded = try IdentityPEM.load(pem: pem)
            #expect(loaded.publicKeyDER == identity.publicKeyDER)
            #expect(type(of: loaded) == type(of: identity))
        }
        // The written files have the headers dfx uses.
        #expect(try IdentityPEM.pem(for: Ed25519Identity()).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try IdentityPEM.pem(for: Secp256k1Identity()).hasPrefix("-----BEGIN EC PRIVATE KEY-----"))
    }

    @Test("re-written OpenSSL keys parse back in OpenSSL's own reader (swift-crypto)")
    func writtenP256ParsesInSwiftCrypto() throws {
        let identity = try #require(try IdentityPEM.load(pem: OpenSSLKeys.p256) as? P256Identity)
        let rewritten = try IdentityPEM.pem(for: identity)
        let parsed = try P256.Signing.PrivateKey(pemRepresentation: rewritten)
        #expect(parsed.publicKey.x963Representation == identity.privateKey.publicKey.x963Representation)
    }

    @Test("DER public keys have the §4.5 sizes and prefixes")
    func derShapes() throws {
        let ed = try #require(Ed25519Identity().publicKeyDER)
        #expect(ed.count == 44 && Array(ed.prefix(12)) == PublicKeyDER.ed25519Prefix)
        let p256 = try #require(P256Identity().publicKeyDER)
        #expect(p256.count == 91 && Array(p256.prefix(26)) == PublicKeyDER.p256Prefix)
        let k1 = try #require(Secp256k1Identity().publicKeyDER)
        #expect(k1.count == 88 && Array(k1.prefix(23)) == PublicKeyDER.secp256k1Prefix)
    }

    @Test("signatures verify under the matching public key")
    func signaturesVerify() throws {
        let message = Array("ic-request payload".utf8)
        let ed = Ed25519Identity()
        let edSignature = try ed.sign(message)
        #expect(ed.privateKey.publicKey.isValidSignature(edSignature, for: message))

        let p256 = P256Identity()
        for _ in 0..<8 {
            let signature = try p256.sign(message)
            #expect(try p256.privateKey.publicKey.isValidSignature(P256.Signing.ECDSASignature(rawRepresentation: signature), for: message))
            // Low S: s ≤ n/2.
            let s = Array(signature[32...])
            #expect(
                s.lexicographicallyPrecedes(bytes(hex: "7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a9"))
                    || s == bytes(hex: "7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a9"))
        }

        let k1 = Secp256k1Identity()
        let k1Signature = try k1.sign(message)
        #expect(k1.privateKey.publicKey.isValidSignature(k1Signature, for: message))
    }

    @Test("the anonymous identity has no key and refuses to sign")
    func anonymous() {
        let anonymous = AnonymousIdentity()
        #expect(anonymous.principal == .anonymous)
        #expect(anonymous.publicKeyDER == nil)
        #expect(throws: IdentityError.anonymousCannotSign) { try anonymous.sign([1]) }
    }

    @Test("malformed PEM files give errors that say what is wrong")
    func malformed() {
        #expect(throws: IdentityError.self) { try IdentityPEM.load(pem: "") }
        #expect(throws: IdentityError.self) { try IdentityPEM.load(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----") }
        #expect(throws: IdentityError.self) { try IdentityPEM.load(pem: "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----") }
        #expect(throws: IdentityError.self) { try IdentityPEM.load(pem: "-----BEGIN EC PRIVATE KEY-----\nMAA=") }
        do {
            _ = try IdentityPEM.load(pem: "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----")
        } catch {
            #expect(error.description.contains("CERTIFICATE"))
        }
    }
}

@Suite("Identity PEM compatibility")
struct IdentityPEMCompatibilityTests {
    /// ring's PKCS#8 v2 layout for Ed25519 (what older dfx versions wrote), built here from
    /// a seed of our own: `3053020101300506032b657004220420 ‖ seed ‖ a123032100 ‖ public key`.
    @Test("ring-style PKCS#8 v2 Ed25519 files load")
    func ringV2() throws {
        let identity = try Ed25519Identity(seed: (0..<32).map { UInt8($0) })
        let publicKey = Array(identity.privateKey.publicKey.rawRepresentation)
        let der = bytes(hex: "3053020101300506032b657004220420") + (0..<32).map { UInt8($0) } + bytes(hex: "a123032100") + publicKey
        let pem = "-----BEGIN PRIVATE KEY-----\n" + Data(der).base64EncodedString() + "\n-----END PRIVATE KEY-----\n"
        #expect(try IdentityPEM.load(pem: pem).publicKeyDER == identity.publicKeyDER)
    }

    @Test("Ed25519 files are written as 48-byte PKCS#8 v1, which OpenSSL reads")
    func writesV1() throws {
        let pem = try IdentityPEM.pem(for: try IdentityPEM.load(pem: OpenSSLKeys.ed25519))
        #expect(pem.trimmingCharacters(in: .whitespacesAndNewlines) == OpenSSLKeys.ed25519)
    }
}

@Suite("Portable SHA-256 against swift-crypto")
struct SHA256CrossCheckTests {
    @Test("ICCore's SHA-256 and SHA-224 agree with swift-crypto for lengths 0…300 and 64 KiB")
    func agree() {
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        func nextByte() -> UInt8 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        for length in Array(0...300) + [65_536] {
            let input = (0..<length).map { _ in nextByte() }
            #expect(ICCore.SHA256.hash(input) == Array(Crypto.SHA256.hash(data: input)), "length \(length)")
        }
        // SHA-224 is not in swift-crypto's public API; check it against a FIPS 180-4 value instead.
        #expect(Hex.encode(SHA224.hash(Array("abc".utf8))) == "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7")
    }
}
