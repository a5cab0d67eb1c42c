/// A persistent balanced map from labels to certified subtrees whose hash-tree root is kept up
/// to date incrementally: an insert, update or removal re-hashes O(log n) nodes instead of the
/// whole subtree.
///
/// The replica keeps `/request_status` in one: at a thousand calls a second the subtree holds
/// hundreds of thousands of entries until their expiry, and rebuilding it (`CertifiedTree`) every
/// round would cost more than executing the calls.
///
/// ```swift
/// var statuses = MerkleLabelMap()
/// statuses.set(requestID, try CertifiedTree(paths: [([Array("status".utf8)], Array("replied".utf8))]))
/// let root = HashTree.labeledHash(Array("request_status".utf8), statuses.rootHash)
/// let witness = statuses.witness(for: [[requestID, Array("status".utf8)][...]])
/// ```
///
/// Each node stands for the hash-tree shape `fork(fork(left, labeled(key, value)), right)` with
/// absent children omitted, so the in-order sequence of labeled nodes is sorted — any fork shape
/// is valid in a labeled subtree (the IC's own is implementation-defined). Nodes are immutable,
/// so a copy of the map is a snapshot that other threads may read while the next round changes
/// the map.
public struct MerkleLabelMap: Sendable {
    /// One entry and its subtrees (immutable; shared between snapshots).
    public final class Node: Sendable {
        public let key: [UInt8]
        public let value: CertifiedTree
        public let left: Node?
        public let right: Node?
        public let height: Int
        public let count: Int
        /// Hash of `labeled(key, value)`.
        public let labeledHash: [UInt8]
        /// Hash of this node's whole fork structure.
        public let hash: [UInt8]

        init(key: [UInt8], value: CertifiedTree, left: Node?, right: Node?, labeledHash: [UInt8]? = nil) {
            self.key = key
            self.value = value
            self.left = left
            self.right = right
            height = 1 + max(left?.height ?? 0, right?.height ?? 0)
            count = 1 + (left?.count ?? 0) + (right?.count ?? 0)
            let labeled = labeledHash ?? HashTree.labeledHash(key, value.rootHash)
            self.labeledHash = labeled
            let withLeft = left.map { HashTree.forkHash($0.hash, labeled) } ?? labeled
            hash = right.map { HashTree.forkHash(withLeft, $0.hash) } ?? withLeft
        }

        /// The same key and value with other children (the labeled hash is reused).
        func with(left: Node?, right: Node?) -> Node {
            Node(key: key, value: value, left: left, right: right, labeledHash: labeledHash)
        }
    }

    /// The root node (`nil` when empty).
    public private(set) var root: Node?

    public init() {}

    /// The number of entries.
    public var count: Int { root?.count ?? 0 }

    /// The hash of the labeled subtree holding these entries (the empty tree's hash when empty).
    public var rootHash: [UInt8] { root?.hash ?? HashTree.emptyHash }

    /// The value of `key`, if present (O(log n)).
    public subscript(key: [UInt8]) -> CertifiedTree? {
        var node = root
        while let current = node {
            if key == current.key { return current.value }
            node = labelPrecedes(key, current.key) ? current.left : current.right
        }
        return nil
    }

    /// Inserts or replaces the value of `key`.
    public mutating func set(_ key: [UInt8], _ value: CertifiedTree) {
        root = Self.insert(key, value, into: root)
    }

    /// Removes `key` if present.
    public mutating func remove(_ key: [UInt8]) {
        root = Self.remove(key, from: root)
    }

    // MARK: Witnesses

    /// The witness of this labeled subtree for `requests` (paths relative to it): requested
    /// labels are revealed with their values' witnesses for the rest of each path; for a label
    /// that is not present, every label on its search path is revealed (its neighbours are among
    /// them), which proves the absence; everything else is pruned.
    public func witness(for requests: [ArraySlice<[UInt8]>]) -> HashTree {
        guard let root else { return .empty }
        if requests.contains(where: { $0.isEmpty }) { return fullTree(root) ?? .empty }
        var present = [(key: [UInt8], rest: ArraySlice<[UInt8]>)]()
        var absent = [[UInt8]]()
        for request in requests {
            let label = request[request.startIndex]
            if self[label] != nil { present.append((label, request.dropFirst())) } else { absent.append(label) }
        }
        return witness(root, present: present, absent: absent) ?? .empty
    }

    private func witness(_ node: Node?, present: [(key: [UInt8], rest: ArraySlice<[UInt8]>)], absent: [[UInt8]]) -> HashTree? {
        guard let node else { return nil }
        if present.isEmpty && absent.isEmpty { return .pruned(node.hash) }
        let key = node.key
        let presentHere = present.filter { $0.key == key }
        let labeled: HashTree
        if !presentHere.isEmpty {
            labeled = .labeled(key, node.value.witness(for: presentHere.map { Array($0.rest) }))
        } else if !absent.isEmpty {
            labeled = .labeled(key, .pruned(node.value.rootHash))
        } else {
            labeled = .pruned(node.labeledHash)
        }
        let left = witness(
            node.left, present: present.filter { labelPrecedes($0.key, key) },
            absent: absent.filter { labelPrecedes($0, key) })
        let right = witness(
            node.right, present: present.filter { labelPrecedes(key, $0.key) },
            absent: absent.filter { labelPrecedes(key, $0) })
        let withLeft = left.map { Self.fork($0, labeled) } ?? labeled
        return right.map { Self.fork(withLeft, $0) } ?? withLeft
    }

    /// A fork, collapsed to one pruned node when both sides are pruned.
    private static func fork(_ left: HashTree, _ right: HashTree) -> HashTree {
        if case .pruned(let a) = left, case .pruned(let b) = right { return .pruned(HashTree.forkHash(a, b)) }
        return .fork(left, right)
    }

    private func fullTree(_ node: Node?) -> HashTree? {
        guard let node else { return nil }
        let labeled = HashTree.labeled(node.key, node.value.hashTree)
        let withLeft = fullTree(node.left).map { HashTree.fork($0, labeled) } ?? labeled
        return fullTree(node.right).map { HashTree.fork(withLeft, $0) } ?? withLeft
    }

    // MARK: AVL

    private static func insert(_ key: [UInt8], _ value: CertifiedTree, into node: Node?) -> Node {
        guard let node else { return Node(key: key, value: value, left: nil, right: nil) }
        if key == node.key { return Node(key: key, value: value, left: node.left, right: node.right) }
        if labelPrecedes(key, node.key) {
            return balance(node.with(left: insert(key, value, into: node.left), right: node.right))
        }
        return balance(node.with(left: node.left, right: insert(key, value, into: node.right)))
    }

    private static func remove(_ key: [UInt8], from node: Node?) -> Node? {
        guard let node else { return nil }
        if key == node.key {
            guard let left = node.left else { return node.right }
            guard let right = node.right else { return left }
            let (minimum, rest) = removeMinimum(right)
            return balance(minimum.with(left: left, right: rest))
        }
        if labelPrecedes(key, node.key) {
            return balance(node.with(left: remove(key, from: node.left), right: node.right))
        }
        return balance(node.with(left: node.left, right: remove(key, from: node.right)))
    }

    private static func removeMinimum(_ node: Node) -> (minimum: Node, rest: Node?) {
        guard let left = node.left else { return (node, node.right) }
        let (minimum, rest) = removeMinimum(left)
        return (minimum, balance(node.with(left: rest, right: node.right)))
    }

    private static func balance(_ node: Node) -> Node {
        let factor = (node.left?.height ?? 0) - (node.right?.height ?? 0)
        if factor > 1, let left = node.left {
            let pivot = (left.left?.height ?? 0) >= (left.right?.height ?? 0) ? left : rotateLeft(left)
            return rotateRight(node.with(left: pivot, right: node.right))
        }
        if factor < -1, let right = node.right {
            let pivot = (right.right?.height ?? 0) >= (right.left?.height ?? 0) ? right : rotateRight(right)
            return rotateLeft(node.with(left: node.left, right: pivot))
        }
        return node
    }

    private static func rotateRight(_ node: Node) -> Node {
        guard let left = node.left else { return node }
        return left.with(left: left.left, right: node.with(left: left.right, right: node.right))
    }

    private static func rotateLeft(_ node: Node) -> Node {
        guard let right = node.right else { return node }
        return right.with(left: node.with(left: node.left, right: right.left), right: right.right)
    }
}
