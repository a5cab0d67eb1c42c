import Foundation
import ICAgent

/// The gateway's stable identity (§6.1): an Ed25519 key kept in a PEM file, created on first
/// start. Canister queues are keyed by the gateway principal, so the key must survive restarts.
public enum GatewayIdentity {
    /// Loads the key at `path`, or generates one and writes it there (mode 0600, parent
    /// directories created) when the file does not exist.
    public static func loadOrCreate(path: String) throws(GatewayError) -> (identity: any Identity, created: Bool) {
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: url.path) {
            do { return (try IdentityPEM.load(contentsOf: url), false) } catch {
                throw .identity("cannot load \(path): \(error)")
            }
        }
        let identity = Ed25519Identity()
        do {
            let pem = try IdentityPEM.pem(for: identity)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard
                FileManager.default.createFile(
                    atPath: url.path, contents: Data(pem.utf8),
                    attributes: [.posixPermissions: 0o600])
            else { throw GatewayError.identity("cannot create \(path)") }
        } catch let error as GatewayError {
            throw error
        } catch {
            throw .identity("cannot write a new key to \(path): \(error)")
        }
        return (identity, true)
    }
}
