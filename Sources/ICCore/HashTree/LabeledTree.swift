/// A labeled tree of values — the logical content of a hash tree — that builds a
/// well-formed `HashTree`.
///
/// **Shape.** The children of each node are sorted by label (bytewise) and laid out as a
/// balanced binary tree of forks: `n` children split into the first `n / 2` (left) and the
/// remaining `n - n / 2` (right), recursively; one child is the Labeled node itself, zero is
/// `Empty`. Depth is `⌈log₂ n⌉` forks per level. This is not byte-for-byte the IC's
/// red-black-tree shape, so root hashes differ from the IC's for the same content; any
/// balanced well-formed shape verifies the same way.
///
/// ```swift
/// let tree = try LabeledTree(paths: [
///     (path: [Array("time".utf8)], value: LEB128.encode(now)),
///     (path: [Array("canister".utf8), id, Array("certified_data".utf8)], value: data),
/// ])
/// let hashTree = tree.hashTree        // balanced, well formed
/// let root = hashTree.reconstruct()
/// ```
public indirect enum LabeledTree: Sendable {
    /// A value.
    case leaf([UInt8])
    /// Labeled children (any order; labels should be unique — for a repeated label the last
    /// one wins).
    case subtree([(label: [UInt8], tree: LabeledTree)])

    /// An error building a tree from paths.
    public enum BuildError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The same path was given twice.
        case duplicatePath([[UInt8]])
        /// A path holds a value and is also the prefix of another path.
        case valueAndSubtree([[UInt8]])

        public var description: String {
            switch self {
            case .duplicatePath(let path): return "hash tree builder: duplicate path \(LabeledTree.render(path))"
            case .valueAndSubtree(let path):
                return "hash tree builder: \(LabeledTree.render(path)) has a value and is also the prefix of another path"
            }
        }
    }

    static func render(_ path: [[UInt8]]) -> String {
        if path.isEmpty { return "/" }
        var out = ""
        for label in path {
            let printable = label.allSatisfy { $0 >= 0x21 && $0 < 0x7f && $0 != UInt8(ascii: "/") }
            out += "/" + (printable ? String(decoding: label, as: UTF8.self) : "0x" + Hex.encode(label))
        }
        return out
    }

    /// Builds the tree of `entries` (in any order). An empty list gives an empty subtree; a
    /// single entry with the empty path gives a leaf.
    public init(paths entries: [(path: [[UInt8]], value: [UInt8])]) throws(LabeledTree.BuildError) {
        var sorted = entries
        var isSorted = true
        for index in sorted.indices.dropFirst() where !LabeledTree.pathPrecedes(sorted[index - 1].path, sorted[index].path) {
            isSorted = false
            break
        }
        if !isSorted {
            sorted.sort { LabeledTree.pathPrecedes($0.path, $1.path) }
        }
        if sorted.isEmpty {
            self = .subtree([])
            return
        }
        self = try LabeledTree.group(sorted, sorted.startIndex..<sorted.endIndex, depth: 0)
    }

    static func pathPrecedes(_ a: [[UInt8]], _ b: [[UInt8]]) -> Bool {
        a.lexicographicallyPrecedes(b) { labelPrecedes($0, $1) }
    }

    /// Entries in `range` share their first `depth` labels and are sorted.
    private static func group(
        _ entries: [(path: [[UInt8]], value: [UInt8])], _ range: Range<Int>, depth: Int
    ) throws(LabeledTree.BuildError) -> LabeledTree {
        let first = entries[range.lowerBound]
        if first.path.count == depth {
            if range.count > 1 {
                let next = entries[range.lowerBound + 1].path
                if next.count == depth { throw .duplicatePath(next) }
                throw .valueAndSubtree(first.path)
            }
            return .leaf(first.value)
        }
        var children = [(label: [UInt8], tree: LabeledTree)]()
        var start = range.lowerBound
        while start < range.upperBound {
            let label = entries[start].path[depth]
            var end = start + 1
            while end < range.upperBound && entries[end].path[depth] == label { end += 1 }
            children.append((label: label, tree: try group(entries, start..<end, depth: depth + 1)))
            start = end
        }
        return .subtree(children)
    }

    /// The well-formed, balanced hash tree of this content (see the type's shape notes).
    public var hashTree: HashTree {
        switch self {
        case .leaf(let value):
            return .leaf(value)
        case .subtree(let children):
            var nodes = [HashTree]()
            nodes.reserveCapacity(children.count)
            for child in LabeledTree.sortedUnique(children) {
                nodes.append(.labeled(child.label, child.tree.hashTree))
            }
            return HashTree.balancedForks(nodes, nodes.startIndex..<nodes.endIndex)
        }
    }

    /// Children sorted by label; for equal labels the last one given is kept.
    static func sortedUnique(_ children: [(label: [UInt8], tree: LabeledTree)]) -> [(label: [UInt8], tree: LabeledTree)] {
        var isStrictlySorted = true
        for index in children.indices.dropFirst() where !labelPrecedes(children[index - 1].label, children[index].label) {
            isStrictlySorted = false
            break
        }
        if isStrictlySorted { return children }
        // Stable order: sort indices by (label, index), then keep the last of each label.
        var order = Array(children.indices)
        order.sort { a, b in
            if children[a].label == children[b].label { return a < b }
            return labelPrecedes(children[a].label, children[b].label)
        }
        var result = [(label: [UInt8], tree: LabeledTree)]()
        result.reserveCapacity(children.count)
        for index in order {
            if let last = result.last, last.label == children[index].label {
                result[result.count - 1] = children[index]
            } else {
                result.append(children[index])
            }
        }
        return result
    }
}

extension HashTree {
    /// `nodes[range]` under a balanced binary tree of forks (left half `count / 2`).
    static func balancedForks(_ nodes: [HashTree], _ range: Range<Int>) -> HashTree {
        switch range.count {
        case 0: return .empty
        case 1: return nodes[range.lowerBound]
        default:
            let middle = range.lowerBound + range.count / 2
            return .fork(balancedForks(nodes, range.lowerBound..<middle), balancedForks(nodes, middle..<range.upperBound))
        }
    }

    /// Builds a well-formed balanced tree from path/value pairs (any order); see `LabeledTree`.
    public init(paths entries: [(path: [[UInt8]], value: [UInt8])]) throws(LabeledTree.BuildError) {
        self = try LabeledTree(paths: entries).hashTree
    }

    /// The well-formed balanced hash tree of `content`.
    public init(_ content: LabeledTree) {
        self = content.hashTree
    }
}
