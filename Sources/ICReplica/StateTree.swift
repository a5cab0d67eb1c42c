import BLS12381
import ICCertification
import ICCore

/// The certified state tree (essentials §6): its top-level subtrees kept apart so a round
/// re-hashes only what changed — `/request_status` (the large one) incrementally, the others
/// (time, subnet, canister ranges, canisters: small) rebuilt.
struct StateTree: Sendable {
    enum Part: Sendable {
        case tree(CertifiedTree)
        case labelMap(MerkleLabelMap)

        var rootHash: [UInt8] {
            switch self {
            case .tree(let tree): return tree.rootHash
            case .labelMap(let map): return map.rootHash
            }
        }

        func witness(for requests: [ArraySlice<[UInt8]>]) -> HashTree {
            switch self {
            case .tree(let tree): return tree.witness(for: requests.map(Array.init))
            case .labelMap(let map): return map.witness(for: requests)
            }
        }
    }

    /// Top-level labels in order, with their subtrees and `labeled(label, subtree)` hashes.
    private let parts: [(label: [UInt8], part: Part, labeledHash: [UInt8])]
    /// Fork hashes of the balanced structure over `parts`, by range.
    private let forkHashes: [Range<Int>: [UInt8]]
    let rootHash: [UInt8]

    /// `parts` need not be sorted; labels must be distinct.
    init(_ unsorted: [(label: [UInt8], part: Part)]) {
        let sorted = unsorted.sorted { $0.label.lexicographicallyPrecedes($1.label) }
        parts = sorted.map { ($0.label, $0.part, HashTree.labeledHash($0.label, $0.part.rootHash)) }
        var forks = [Range<Int>: [UInt8]]()
        rootHash = Self.hash(parts.map(\.labeledHash), 0..<parts.count, into: &forks)
        forkHashes = forks
    }

    /// Same split as `HashTree.balancedForks`.
    private static func hash(_ hashes: [[UInt8]], _ range: Range<Int>, into forks: inout [Range<Int>: [UInt8]]) -> [UInt8] {
        switch range.count {
        case 0: return HashTree.emptyHash
        case 1: return hashes[range.lowerBound]
        default:
            let middle = range.lowerBound + range.count / 2
            let digest = HashTree.forkHash(
                hash(hashes, range.lowerBound..<middle, into: &forks),
                hash(hashes, middle..<range.upperBound, into: &forks))
            forks[range] = digest
            return digest
        }
    }

    /// The witness revealing `paths` (a path may end inside a subtree to reveal all of it, or
    /// name labels that are absent, which the witness then proves absent).
    func witness(for paths: [[[UInt8]]]) -> HashTree {
        if paths.contains(where: \.isEmpty) { return witness(reveal: Array(repeating: [[]], count: parts.count)) }
        var requests = Array(repeating: [ArraySlice<[UInt8]>](), count: parts.count)
        var absentTopLabel = false
        for path in paths {
            guard let index = parts.firstIndex(where: { $0.label == path[0] }) else {
                absentTopLabel = true
                continue
            }
            requests[index].append(path.dropFirst())
        }
        return witness(reveal: requests, labelsOnly: absentTopLabel)
    }

    private func witness(reveal requests: [[ArraySlice<[UInt8]>]], labelsOnly: Bool = false) -> HashTree {
        let nodes: [HashTree] = parts.indices.map { index in
            let (label, part, labeledHash) = parts[index]
            if !requests[index].isEmpty { return .labeled(label, part.witness(for: requests[index])) }
            // Revealing every top-level label proves a requested one absent.
            return labelsOnly ? .labeled(label, .pruned(part.rootHash)) : .pruned(labeledHash)
        }
        return forks(nodes, 0..<nodes.count)
    }

    private func forks(_ nodes: [HashTree], _ range: Range<Int>) -> HashTree {
        switch range.count {
        case 0: return .empty
        case 1: return nodes[range.lowerBound]
        default:
            let middle = range.lowerBound + range.count / 2
            let left = forks(nodes, range.lowerBound..<middle)
            let right = forks(nodes, middle..<range.upperBound)
            if case .pruned = left, case .pruned = right, let digest = forkHashes[range] { return .pruned(digest) }
            return .fork(left, right)
        }
    }
}

extension Replica {
    private static func label(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Builds the state tree of `state` and signs its root hash.
    func certify(_ state: inout ReplicaState) {
        let subnet = subnetID.bytes
        let ranges = CanisterRanges.encode([canisterRange])
        var subnetEntries: [(path: [[UInt8]], value: [UInt8])] = [
            ([subnet, Self.label("public_key")], rootKey.der),
            ([subnet, Self.label("type")], Self.label("system")),
            ([subnet, Self.label("canister_ranges")], ranges),
        ]
        subnetEntries.append(([subnet, Self.label("node"), nodeID.bytes, Self.label("public_key")], nodeIdentity.publicKeyDER ?? []))
        var canisterEntries: [(path: [[UInt8]], value: [UInt8])] = []
        canisterEntries.reserveCapacity(state.canisters.count * 5)
        for canister in state.canisters.values {
            let base = [canister.id.bytes]
            canisterEntries.append((base + [Self.label("certified_data")], canister.certifiedData))
            canisterEntries.append(
                (
                    base + [Self.label("controllers")],
                    CBOREncoder.encode(.array(canister.controllers.map { .bytes($0.bytes) }), selfDescribe: true)
                ))
            canisterEntries.append((base + [Self.label("canister_creation_timestamp")], LEB128.encode(canister.creationTime)))
            if let hash = canister.moduleHash { canisterEntries.append((base + [Self.label("module_hash")], hash)) }
            for (name, section) in canister.metadata {
                canisterEntries.append((base + [Self.label("metadata"), Self.label(name)], section.contents))
            }
            if let installed = canister.lastInstallTime {
                canisterEntries.append((base + [Self.label("last_install_timestamp")], LEB128.encode(installed)))
            }
        }
        var parts: [(label: [UInt8], part: StateTree.Part)] = [
            (Self.label("time"), .tree(CertifiedTree(.leaf(LEB128.encode(state.time)))))
        ]
        do {
            parts.append((Self.label("subnet"), .tree(try CertifiedTree(paths: subnetEntries))))
            parts.append(
                (Self.label("canister_ranges"), .tree(try CertifiedTree(paths: [([subnet, canisterRange.lowerBound.bytes], ranges)]))))
            if !canisterEntries.isEmpty { parts.append((Self.label("canister"), .tree(try CertifiedTree(paths: canisterEntries)))) }
        } catch {
            preconditionFailure("state tree paths are distinct by construction: \(error)")
        }
        if state.requests.count > 0 { parts.append((Self.label("request_status"), .labelMap(state.requests.tree))) }
        let tree = StateTree(parts)
        let signature = BLS.sign(message: DomainSeparator.stateRoot + tree.rootHash, secretKey: issuer.secretKey).compressed
        state.certified = ReplicaState.CertifiedState(tree: tree, signature: signature, time: state.time)
    }

    /// A certificate revealing `paths` (and always `/time`) of the latest certified state.
    func certificate(revealing paths: [[[UInt8]]]) -> [UInt8] {
        let certified = withState { $0.certified }
        return Self.encodeCertificate(certified.tree.witness(for: paths + [[Self.label("time")]]), signature: certified.signature)
    }

    /// The certificate offered to a query through `ic0.data_certificate_copy`.
    func dataCertificate(for canister: Principal, in state: ReplicaState) -> [UInt8] {
        let certified = state.certified
        let witness = certified.tree.witness(for: [
            [Self.label("time")],
            [Self.label("canister"), canister.bytes, Self.label("certified_data")],
        ])
        return Self.encodeCertificate(witness, signature: certified.signature)
    }

    private static func encodeCertificate(_ witness: HashTree, signature: [UInt8]) -> [UInt8] {
        CBOREncoder.encode(
            .map([
                (.text("tree"), witness.cbor),
                (.text("signature"), .bytes(signature)),
            ]), selfDescribe: true)
    }
}
