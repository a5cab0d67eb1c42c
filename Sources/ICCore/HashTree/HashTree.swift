/// An IC hash tree (interface spec, "Certification"): the certified state tree of a
/// certificate, or a canister's certified data structure.
///
/// ```
/// HashTree = Empty | Fork(HashTree, HashTree) | Labeled(label, HashTree) | Leaf(value) | Pruned(digest)
/// ```
///
/// ```swift
/// let tree = try HashTree(cborBytes: bytes)          // [1, l, r] / [2, label, t] / …
/// let root = tree.reconstruct()                      // 32-byte root hash
/// switch tree.lookup(textPath: ["time"]) {
/// case .found(let value): …                          // LEB128 nanoseconds
/// case .absent, .unknown, .error: …
/// }
/// let witness = tree.witness(for: [[UTF8Text("time").utf8]])   // same root hash
/// ```
///
/// Recursive operations (hashing, lookup, encoding) recurse once per tree level; trees
/// decoded from CBOR are bounded by the decoder's depth limit and built trees are balanced.
public indirect enum HashTree: Hashable, Sendable {
    /// No data.
    case empty
    /// Two subtrees side by side.
    case fork(HashTree, HashTree)
    /// A subtree under a label (any bytes).
    case labeled([UInt8], HashTree)
    /// A value.
    case leaf([UInt8])
    /// A subtree replaced by its 32-byte root hash.
    case pruned([UInt8])
}

// MARK: - Root hash

extension HashTree {
    /// `ds("ic-hashtree-empty")`: the length-prefixed domain separators of `reconstruct`.
    static let emptyDomain: [UInt8] = [17] + UTF8Text("ic-hashtree-empty").utf8
    static let forkDomain: [UInt8] = [16] + UTF8Text("ic-hashtree-fork").utf8
    static let labeledDomain: [UInt8] = [19] + UTF8Text("ic-hashtree-labeled").utf8
    static let leafDomain: [UInt8] = [16] + UTF8Text("ic-hashtree-leaf").utf8

    /// The root hash of `Empty`: `4e3ed35c…d120`.
    public static let emptyHash: [UInt8] = SHA256.hash(emptyDomain)

    /// The root hash (`reconstruct` in the spec):
    /// `Empty → H(ds("ic-hashtree-empty"))`, `Fork(a, b) → H(ds("ic-hashtree-fork") · r(a) · r(b))`,
    /// `Labeled(l, t) → H(ds("ic-hashtree-labeled") · l · r(t))`, `Leaf(v) → H(ds("ic-hashtree-leaf") · v)`,
    /// `Pruned(d) → d`.
    public func reconstruct() -> [UInt8] {
        switch self {
        case .empty:
            return HashTree.emptyHash
        case .fork(let left, let right):
            var hasher = SHA256()
            hasher.update(HashTree.forkDomain)
            hasher.update(left.reconstruct())
            hasher.update(right.reconstruct())
            return hasher.finalize()
        case .labeled(let label, let subtree):
            var hasher = SHA256()
            hasher.update(HashTree.labeledDomain)
            hasher.update(label)
            hasher.update(subtree.reconstruct())
            return hasher.finalize()
        case .leaf(let value):
            var hasher = SHA256()
            hasher.update(HashTree.leafDomain)
            hasher.update(value)
            return hasher.finalize()
        case .pruned(let digest):
            return digest
        }
    }

    /// The hash of `fork(left, right)` given the hashes of its children.
    public static func forkHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(forkDomain)
        hasher.update(left)
        hasher.update(right)
        return hasher.finalize()
    }

    /// The hash of `labeled(label, subtree)` given the hash of `subtree`.
    public static func labeledHash(_ label: [UInt8], _ subtreeHash: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(labeledDomain)
        hasher.update(label)
        hasher.update(subtreeHash)
        return hasher.finalize()
    }

    /// The tree replaced by `Pruned(root hash)`; `Empty` and `Pruned` nodes, and forks that
    /// hold nothing but `Empty`, stay as they are (so absence proofs keep working).
    public func pruned() -> HashTree {
        switch self {
        case .empty, .pruned: return self
        case .fork:
            var hasContent = false
            _ = visitForest { _ in
                hasContent = true
                return false
            }
            return hasContent ? .pruned(reconstruct()) : self
        default:
            return .pruned(reconstruct())
        }
    }

    /// Calls `body` for each element of the flattened forest (forks expanded, `Empty`
    /// skipped) in order, until it returns `false`. Returns whether the walk completed.
    @discardableResult
    func visitForest(_ body: (HashTree) -> Bool) -> Bool {
        switch self {
        case .empty: return true
        case .fork(let left, let right): return left.visitForest(body) && right.visitForest(body)
        default: return body(self)
        }
    }

    /// `flatten_forks`: the elements of this tree's forest (forks expanded, `Empty` dropped).
    public var forest: [HashTree] {
        var elements = [HashTree]()
        visitForest { element in
            elements.append(element)
            return true
        }
        return elements
    }

    /// The labeled elements of this tree's forest, in order (pruned and leaf elements skipped).
    public var children: [(label: [UInt8], subtree: HashTree)] {
        var result = [(label: [UInt8], subtree: HashTree)]()
        visitForest { element in
            if case .labeled(let label, let subtree) = element { result.append((label: label, subtree: subtree)) }
            return true
        }
        return result
    }
}

/// Lexicographic byte order of labels (a proper prefix sorts first).
@inline(__always)
func labelPrecedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.lexicographicallyPrecedes(b)
}
