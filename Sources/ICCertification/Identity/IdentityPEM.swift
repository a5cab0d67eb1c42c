import Crypto
import Foundation
import ICCore
import Secp256k1
import SwiftASN1

/// Reads and writes identity key files the way dfx writes them
/// (`~/.config/dfx/identity/<name>/identity.pem`):
///
/// - Ed25519: `-----BEGIN PRIVATE KEY-----`, PKCS#8 (v1 is written; v2 with the public key,
///   in ring's or RFC 5958's tagging, is read);
/// - secp256k1 and P-256: `-----BEGIN EC PRIVATE KEY-----`, SEC1 `ECPrivateKey` with the curve
///   and public key (an `EC PARAMETERS` block before it is skipped). PKCS#8-wrapped EC keys
///   (`-----BEGIN PRIVATE KEY-----` with id-ecPublicKey) are read too.
///
/// ```swift
/// let identity = try IdentityPEM.load(pem: String(contentsOfFile: path, encoding: .utf8))
/// print(identity.principal)
/// ```
public enum IdentityPEM {
    static let ed25519OID: ASN1ObjectIdentifier = [1, 3, 101, 112]
    static let ecPublicKeyOID: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
    static let secp256k1OID: ASN1ObjectIdentifier = [1, 3, 132, 0, 10]
    static let p256OID: ASN1ObjectIdentifier = [1, 2, 840, 10045, 3, 1, 7]

    /// Loads an identity from PEM text.
    public static func load(pem: String) throws(IdentityError) -> any Identity {
        let documents = try pemDocuments(in: pem)
        for document in documents {
            switch document.discriminator {
            case "EC PARAMETERS":
                continue
            case "EC PRIVATE KEY":
                return try parseSEC1(document.derBytes, curveHint: nil)
            case "PRIVATE KEY":
                return try parsePKCS8(document.derBytes)
            default:
                throw .invalidPEM("unsupported PEM block '\(document.discriminator)'; expected PRIVATE KEY or EC PRIVATE KEY")
            }
        }
        throw .invalidPEM("no private key block found")
    }

    /// Loads an identity from a PEM file.
    public static func load(contentsOf url: URL) throws(IdentityError) -> any Identity {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw .invalidPEM("cannot read \(url.path): \(error.localizedDescription)")
        }
        return try load(pem: text)
    }

    /// The PEM text for a key identity (Ed25519, P-256 or secp256k1), as dfx writes it.
    public static func pem(for identity: any Identity) throws(IdentityError) -> String {
        do {
            switch identity {
            case let key as Ed25519Identity:
                return try ed25519PKCS8(seed: Array(key.privateKey.rawRepresentation))
            case let key as Secp256k1Identity:
                return try sec1(
                    secret: key.privateKey.rawRepresentation, curve: secp256k1OID,
                    publicKey: key.privateKey.publicKey.uncompressedRepresentation)
            case let key as P256Identity:
                return try sec1(
                    secret: Array(key.privateKey.rawRepresentation), curve: p256OID,
                    publicKey: Array(key.privateKey.publicKey.x963Representation))
            default:
                throw IdentityError.invalidPEM("only Ed25519, P-256 and secp256k1 key identities can be written as PEM")
            }
        } catch let error as IdentityError {
            throw error
        } catch {
            throw .invalidPEM("DER serialisation failed: \(error)")
        }
    }

    // MARK: Parsing

    /// Splits PEM text into its blocks. Line lengths are not enforced (files edited by hand
    /// or written by other tools wrap differently); the base64 body must decode.
    private static func pemDocuments(in text: String) throws(IdentityError) -> [PEMDocument] {
        var documents = [PEMDocument]()
        var remaining = Substring(text)
        while let begin = remaining.range(of: "-----BEGIN ") {
            guard let typeEnd = remaining.range(of: "-----", range: begin.upperBound..<remaining.endIndex) else {
                throw .invalidPEM("malformed BEGIN line")
            }
            let type = String(remaining[begin.upperBound..<typeEnd.lowerBound])
            let endMarker = "-----END \(type)-----"
            guard let end = remaining.range(of: endMarker, range: typeEnd.upperBound..<remaining.endIndex) else {
                throw .invalidPEM("block '\(type)' has no '\(endMarker)' line")
            }
            let body = remaining[typeEnd.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
            guard let der = Data(base64Encoded: String(body)) else {
                throw .invalidPEM("block '\(type)' is not valid base64")
            }
            documents.append(PEMDocument(type: type, derBytes: Array(der)))
            remaining = remaining[end.upperBound...]
        }
        guard !documents.isEmpty else { throw .invalidPEM("no '-----BEGIN' marker found") }
        return documents
    }

    private static func parsePKCS8(_ der: [UInt8]) throws(IdentityError) -> any Identity {
        do {
            let root = try DER.parse(der)
            return try DER.sequence(root, identifier: .sequence) { nodes throws -> any Identity in
                let version = try Int(derEncoded: &nodes)
                guard version == 0 || version == 1 else {
                    throw IdentityError.invalidPEM("PKCS#8 version \(version) is not supported")
                }
                let (algorithm, parameter) = try DER.sequence(of: ASN1Any.self, identifier: .sequence, nodes: &nodes)
                    .withAlgorithmIdentifier()
                let privateKey = try ASN1OctetString(derEncoded: &nodes)
                // v2 may append attributes and the public key; both are derivable or unused.
                while nodes.next() != nil {}
                if algorithm == ed25519OID {
                    // The PKCS#8 privateKey field wraps a second OCTET STRING holding the seed.
                    let inner = try ASN1OctetString(derEncoded: Array(privateKey.bytes))
                    return try Ed25519Identity(seed: Array(inner.bytes))
                }
                if algorithm == ecPublicKeyOID {
                    return try parseSEC1(Array(privateKey.bytes), curveHint: parameter)
                }
                throw IdentityError.invalidPEM("unsupported key algorithm \(algorithm)")
            }
        } catch let error as IdentityError {
            throw error
        } catch {
            throw .invalidPEM("malformed PKCS#8 key: \(error)")
        }
    }

    private static func parseSEC1(_ der: [UInt8], curveHint: ASN1ObjectIdentifier?) throws(IdentityError) -> any Identity {
        do {
            let root = try DER.parse(der)
            let (secret, curve) = try DER.sequence(root, identifier: .sequence) { nodes in
                let version = try Int(derEncoded: &nodes)
                guard version == 1 else { throw IdentityError.invalidPEM("EC private key version \(version) is not 1") }
                let secret = try ASN1OctetString(derEncoded: &nodes)
                let curve = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                    try ASN1ObjectIdentifier(derEncoded: $0)
                }
                // The optional [1] public key is recomputed from the secret, so it is skipped.
                while nodes.next() != nil {}
                return (Array(secret.bytes), curve)
            }
            switch curve ?? curveHint {
            case secp256k1OID:
                return Secp256k1Identity(privateKey: try Secp256k1.PrivateKey(rawRepresentation: secret))
            case p256OID:
                return P256Identity(privateKey: try P256.Signing.PrivateKey(rawRepresentation: secret))
            case let other?:
                throw IdentityError.invalidPEM("unsupported elliptic curve \(other); expected secp256k1 or P-256")
            case nil:
                throw IdentityError.invalidPEM("EC private key names no curve")
            }
        } catch let error as IdentityError {
            throw error
        } catch let error as Secp256k1Error {
            throw .invalidKey(error.description)
        } catch {
            throw .invalidPEM("malformed EC private key: \(error)")
        }
    }

    // MARK: Writing

    /// PKCS#8 v1 (48 bytes). ring's v2 form (`… a1 23 03 21 00 <public key>`, which older
    /// dfx wrote) is refused by OpenSSL 3, while v1 is read by OpenSSL, agent-rs and dfx.
    private static func ed25519PKCS8(seed: [UInt8]) throws -> String {
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(0)
            try coder.appendConstructedNode(identifier: .sequence) { coder in try coder.serialize(ed25519OID) }
            var inner = DER.Serializer()
            try inner.serialize(ASN1OctetString(contentBytes: seed[...]))
            try coder.serialize(ASN1OctetString(contentBytes: inner.serializedBytes[...]))
        }
        return PEMDocument(type: "PRIVATE KEY", derBytes: serializer.serializedBytes).pemString + "\n"
    }

    private static func sec1(secret: [UInt8], curve: ASN1ObjectIdentifier, publicKey: [UInt8]) throws -> String {
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(1)
            try coder.serialize(ASN1OctetString(contentBytes: secret[...]))
            try coder.serialize(curve, explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
            try coder.serialize(ASN1BitString(bytes: publicKey[...]), explicitlyTaggedWithTagNumber: 1, tagClass: .contextSpecific)
        }
        return PEMDocument(type: "EC PRIVATE KEY", derBytes: serializer.serializedBytes).pemString + "\n"
    }
}

private extension Array where Element == ASN1Any {
    /// Reads `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`,
    /// returning the OID and, when the parameter is itself an OID (a named curve), that too.
    func withAlgorithmIdentifier() throws -> (ASN1ObjectIdentifier, ASN1ObjectIdentifier?) {
        guard let first = self.first else { throw IdentityError.invalidPEM("empty AlgorithmIdentifier") }
        let algorithm = try ASN1ObjectIdentifier(asn1Any: first)
        let parameter = count > 1 ? try? ASN1ObjectIdentifier(asn1Any: self[1]) : nil
        return (algorithm, parameter)
    }
}
