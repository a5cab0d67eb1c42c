import Crypto
import Foundation
import ICCore
import Secp256k1
import SwiftASN1

/// Verifies signatures made by the IC's user key types (essentials §4.5): Ed25519, ECDSA
/// P-256 and secp256k1 (64-byte `r ‖ s` over SHA-256), WebAuthn (P-256 or Ed25519 COSE
/// keys) and canister signatures (certified by a canister's `certified_data`).
///
/// The replica uses it for ingress (`sender_sig`, delegations); clients may use it to check
/// delegations they were given.
public struct SignatureVerifier: Sendable {
    /// Certificates inside canister signatures are checked with this verifier.
    public let certificates: CertificateVerifier?
    /// Whether a canister signature's delegating subnet must declare a `/subnet/<id>/type`
    /// other than `cloud_engine` (spec 0.60, 2026). Off for replaying older vectors.
    public var requiresSubnetType: Bool

    /// - Parameter certificates: needed only for canister signatures; without it they fail.
    public init(certificates: CertificateVerifier? = nil, requiresSubnetType: Bool = false) {
        self.certificates = certificates
        self.requiresSubnetType = requiresSubnetType
    }

    /// Checks `signature` over `message` by the DER public key `publicKeyDER`.
    public func verify(signature: [UInt8], message: [UInt8], publicKeyDER: [UInt8]) throws(SignatureError) {
        if publicKeyDER.starts(with: PublicKeyDER.ed25519Prefix) {
            try verifyEd25519(
                signature: signature, message: message, rawKey: Array(publicKeyDER.dropFirst(PublicKeyDER.ed25519Prefix.count)))
        } else if publicKeyDER.starts(with: PublicKeyDER.p256Prefix) {
            let key: P256.Signing.PublicKey
            do { key = try P256.Signing.PublicKey(x963Representation: publicKeyDER.dropFirst(PublicKeyDER.p256Prefix.count)) } catch {
                throw .invalidPublicKey("P-256 point does not decode")
            }
            guard signature.count == 64, let sig = try? P256.Signing.ECDSASignature(rawRepresentation: signature),
                key.isValidSignature(sig, for: message)
            else { throw .mismatch(scheme: "ECDSA P-256") }
        } else if publicKeyDER.starts(with: PublicKeyDER.secp256k1Prefix) {
            let key: Secp256k1.PublicKey
            do { key = try Secp256k1.PublicKey(der: publicKeyDER) } catch { throw .invalidPublicKey(error.description) }
            guard key.isValidSignature(signature, for: message) else { throw .mismatch(scheme: "ECDSA secp256k1") }
        } else if let cose = DERKey.payload(of: publicKeyDER, oid: DERKey.webAuthnOID) {
            try verifyWebAuthn(signature: signature, message: message, coseKey: cose)
        } else if let payload = DERKey.payload(of: publicKeyDER, oid: DERKey.canisterSignatureOID) {
            try verifyCanisterSignature(signature: signature, message: message, keyPayload: payload)
        } else {
            throw .unsupportedKeyType
        }
    }

    private func verifyEd25519(signature: [UInt8], message: [UInt8], rawKey: [UInt8]) throws(SignatureError) {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawKey) else {
            throw .invalidPublicKey("Ed25519 key must be 32 bytes")
        }
        guard key.isValidSignature(signature, for: message) else { throw .mismatch(scheme: "Ed25519") }
    }

    // MARK: WebAuthn

    private func verifyWebAuthn(signature: [UInt8], message: [UInt8], coseKey: [UInt8]) throws(SignatureError) {
        guard let envelope = try? CBORDecoder().decode(signature).removingSelfDescribeTag,
            let authenticatorData = envelope["authenticator_data"]?.bytes,
            let clientDataJSON = envelope["client_data_json"]?.text,
            let innerSignature = envelope["signature"]?.bytes
        else { throw .malformed("WebAuthn signature must be a CBOR map with authenticator_data, client_data_json and signature") }
        // The signed payload travels as the base64url challenge inside client_data_json.
        guard let json = try? JSONSerialization.jsonObject(with: Data(clientDataJSON.utf8)) as? [String: Any],
            let challenge = json["challenge"] as? String
        else { throw .malformed("WebAuthn client_data_json has no challenge") }
        guard challenge == Base64URL.encode(message) else { throw .mismatch(scheme: "WebAuthn (challenge)") }
        let signedBytes = authenticatorData + Array(SHA256.hash(Array(clientDataJSON.utf8)))
        guard let key = try? CBORDecoder().decode(coseKey) else { throw .invalidPublicKey("COSE key is not CBOR") }
        switch (key[key: .unsigned(1)]?.uint64, key[key: .negative(0)]?.uint64) {
        case (2, 1):  // kty EC2, crv P-256
            guard let x = key[key: .negative(1)]?.bytes, let y = key[key: .negative(2)]?.bytes,
                let publicKey = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
            else { throw .invalidPublicKey("COSE EC2 key lacks a valid P-256 point") }
            guard let sig = try? P256.Signing.ECDSASignature(derRepresentation: innerSignature),
                publicKey.isValidSignature(sig, for: signedBytes)
            else { throw .mismatch(scheme: "WebAuthn ECDSA P-256") }
        case (1, 6):  // kty OKP, crv Ed25519
            guard let x = key[key: .negative(1)]?.bytes else { throw .invalidPublicKey("COSE OKP key lacks x") }
            try verifyEd25519(signature: innerSignature, message: signedBytes, rawKey: x)
        default:
            throw .invalidPublicKey("unsupported COSE key (only P-256 and Ed25519 WebAuthn keys are supported)")
        }
    }

    // MARK: Canister signatures

    private func verifyCanisterSignature(signature: [UInt8], message: [UInt8], keyPayload: [UInt8]) throws(SignatureError) {
        guard let certificates else { throw .unsupportedKeyType }
        guard let length = keyPayload.first, keyPayload.count > Int(length),
            let canister = try? Principal(bytes: Array(keyPayload[1...Int(length)]))
        else { throw .invalidPublicKey("canister signature key must be len(canister id) · canister id · seed") }
        let seed = Array(keyPayload[(Int(length) + 1)...])
        guard let envelope = try? CBORDecoder().decode(signature).removingSelfDescribeTag,
            let certificateBytes = envelope["certificate"]?.bytes, let treeValue = envelope["tree"],
            let tree = try? HashTree(cbor: treeValue)
        else { throw .malformed("canister signature must be a CBOR map with certificate and tree") }
        let verified: VerifiedCertificate
        do { verified = try certificates.verify(certificateBytes, for: .canister(canister)) } catch {
            throw .certificate(error)
        }
        if requiresSubnetType, let delegation = verified.certificate.delegation {
            let type = delegation.certificate.tree.lookup(path: [Array("subnet".utf8), delegation.subnetID.bytes, Array("type".utf8)])
            guard let value = type.value, value != Array("cloud_engine".utf8) else {
                throw .mismatch(scheme: "canister signature (subnet type missing or cloud_engine)")
            }
        }
        guard verified.certifiedData(of: canister).value == tree.reconstruct() else {
            throw .mismatch(scheme: "canister signature (certified_data is not the signature tree's root)")
        }
        guard tree.isWellFormed else { throw .malformed("canister signature tree is not well formed") }
        let path = [Array("sig".utf8), SHA256.hash(seed), SHA256.hash(message)]
        guard tree.lookup(path: path) == .found([]) else { throw .mismatch(scheme: "canister signature (no sig leaf)") }
    }
}

/// Why a signature was refused.
public enum SignatureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The DER key is none of the supported types.
    case unsupportedKeyType
    /// The key bytes do not decode.
    case invalidPublicKey(String)
    /// The signature container does not decode.
    case malformed(String)
    /// Everything decoded but the signature does not match.
    case mismatch(scheme: String)
    /// The certificate of a canister signature failed.
    case certificate(CertificateError)

    public var description: String {
        switch self {
        case .unsupportedKeyType: return "unsupported public key type"
        case .invalidPublicKey(let why): return "invalid public key: \(why)"
        case .malformed(let why): return "malformed signature: \(why)"
        case .mismatch(let scheme): return "\(scheme) signature does not verify"
        case .certificate(let error): return "canister signature certificate: \(error)"
        }
    }
}

/// DER `SubjectPublicKeyInfo` wrappers with an algorithm OID and no parameters.
enum DERKey {
    /// 1.3.6.1.4.1.56387.1.1 (WebAuthn / COSE).
    static let webAuthnOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 56387, 1, 1]
    /// 1.3.6.1.4.1.56387.1.2 (canister signature).
    static let canisterSignatureOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 56387, 1, 2]

    /// The BIT STRING payload of `SEQUENCE { SEQUENCE { oid }, BIT STRING }`, if `der` has that shape.
    static func payload(of der: [UInt8], oid: ASN1ObjectIdentifier) -> [UInt8]? {
        guard let root = try? DER.parse(der), root.identifier == .sequence,
            case .constructed(let nodes) = root.content
        else { return nil }
        var fields = nodes.makeIterator()
        guard let algorithm = fields.next(), let key = fields.next(), fields.next() == nil,
            algorithm.identifier == .sequence, case .constructed(let algorithmNodes) = algorithm.content
        else { return nil }
        var algorithmFields = algorithmNodes.makeIterator()
        guard let oidNode = algorithmFields.next(), algorithmFields.next() == nil,
            (try? ASN1ObjectIdentifier(derEncoded: oidNode)) == oid,
            let bits = try? ASN1BitString(derEncoded: key), bits.paddingBits == 0
        else { return nil }
        return Array(bits.bytes)
    }
}

/// base64url without padding (RFC 4648 §5), as WebAuthn challenges use.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
