import ICAgent
import ICCore

/// The certified state tree (essentials §6) and the certificates cut from it.
extension Replica {
    private static func label(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Builds the state tree of the current state and signs its root hash (lock held).
    func certify() {
        var entries: [(path: [[UInt8]], value: [UInt8])] = []
        entries.reserveCapacity(8 + canisters.count * 4 + statuses.count * 3)
        let subnet = subnetID.bytes
        entries.append(([Self.label("time")], LEB128.encode(time)))
        entries.append(([Self.label("subnet"), subnet, Self.label("public_key")], rootKey.der))
        entries.append(([Self.label("subnet"), subnet, Self.label("type")], Self.label("system")))
        let ranges = CanisterRanges.encode([canisterRange])
        entries.append(([Self.label("subnet"), subnet, Self.label("canister_ranges")], ranges))
        entries.append(([Self.label("subnet"), subnet, Self.label("node"), nodeID.bytes, Self.label("public_key")],
                        nodeIdentity.publicKeyDER ?? []))
        entries.append(([Self.label("canister_ranges"), subnet, canisterRange.lowerBound.bytes], ranges))
        for canister in canisters.values {
            let base = [Self.label("canister"), canister.id.bytes]
            entries.append((base + [Self.label("certified_data")], canister.certifiedData))
            entries.append((base + [Self.label("controllers")],
                            CBOREncoder.encode(.array(canister.controllers.map { .bytes($0.bytes) }), selfDescribe: true)))
            entries.append((base + [Self.label("canister_creation_timestamp")], LEB128.encode(canister.creationTime)))
            if let hash = canister.moduleHash { entries.append((base + [Self.label("module_hash")], hash)) }
            if let installed = canister.lastInstallTime {
                entries.append((base + [Self.label("last_install_timestamp")], LEB128.encode(installed)))
            }
        }
        for (id, record) in statuses {
            let base = [Self.label("request_status"), id.bytes]
            switch record.status {
            case .received:
                entries.append((base + [Self.label("status")], Self.label("received")))
            case .replied(let reply):
                entries.append((base + [Self.label("status")], Self.label("replied")))
                entries.append((base + [Self.label("reply")], reply))
            case .rejected(let reject):
                entries.append((base + [Self.label("status")], Self.label("rejected")))
                entries.append((base + [Self.label("reject_code")], LEB128.encode(reject.code)))
                entries.append((base + [Self.label("reject_message")], Self.label(reject.message)))
                entries.append((base + [Self.label("error_code")], Self.label(reject.errorCode)))
            }
        }
        guard let tree = try? CertifiedTree(paths: entries) else {
            preconditionFailure("state tree paths are distinct by construction")
        }
        let signature = BLS.sign(message: DomainSeparator.stateRoot + tree.rootHash, secretKey: issuer.secretKey).compressed
        certified = CertifiedState(tree: tree, signature: signature, time: time)
    }

    /// A certificate revealing `paths` (and always `/time`) of the latest certified state.
    func certificate(revealing paths: [[[UInt8]]]) -> [UInt8] {
        let state = lock.withLock { certified }
        let witness = state.tree.witness(for: paths + [[Self.label("time")]])
        return CBOREncoder.encode(.map([
            (.text("tree"), witness.cbor),
            (.text("signature"), .bytes(state.signature)),
        ]), selfDescribe: true)
    }

    /// The certificate offered to a query through `ic0.data_certificate_copy` (lock held).
    func dataCertificate(for canister: Principal) -> [UInt8] {
        let witness = certified.tree.witness(for: [[Self.label("time")],
                                                   [Self.label("canister"), canister.bytes, Self.label("certified_data")]])
        return CBOREncoder.encode(.map([
            (.text("tree"), witness.cbor),
            (.text("signature"), .bytes(certified.signature)),
        ]), selfDescribe: true)
    }
}

import BLS12381
