/// An immutable labeled tree with the hash of every node computed once: what a canister keeps
/// to certify its data and answer queries with witnesses.
///
/// It has the same balanced shape as `LabeledTree.hashTree` (and the same root hash), but
/// `rootHash` is O(1), `lookup` is a binary search per level, and `witness(for:)` costs
/// O(k · log n) per level for k paths — it never re-hashes pruned subtrees. The witness is
/// identical to `hashTree.witness(for:)`.
///
/// ```swift
/// let certified = CertifiedTree(content)              // or try CertifiedTree(paths: ...)
/// ic0.certified_data_set(certified.rootHash)
/// // in a query:
/// let witness = certified.witness(for: [[Array("http_assets".utf8), Array("/index.html".utf8)]])
/// let bytes = witness.encoded()                      // send with the certificate
/// ```
///
/// To change the content, build a new tree (O(n) hashing).
public struct CertifiedTree: Sendable {
    enum Node: Sendable {
        case empty
        case fork(Int, Int)
        case labeled([UInt8], Int)
        case leaf([UInt8])
    }

    /// What a labeled child holds.
    enum Content: Sendable {
        case leaf(node: Int)
        case subtree(level: Int)
    }

    /// The sorted children of one `LabeledTree.subtree` and the root of their fork structure.
    struct Level: Sendable {
        var labels: [[UInt8]] = []
        var contents: [Content] = []
        var root: Int = 0
    }

    private var nodes: [Node] = []
    /// 32 bytes per node.
    private var digests: [UInt8] = []
    private var levels: [Level] = []
    private var top: Content = .subtree(level: 0)

    /// Builds the tree and hashes every node once.
    public init(_ content: LabeledTree) {
        top = add(content)
    }

    /// Builds the tree of path/value pairs (any order); see `LabeledTree.init(paths:)`.
    public init(paths entries: [(path: [[UInt8]], value: [UInt8])]) throws(LabeledTree.BuildError) {
        self.init(try LabeledTree(paths: entries))
    }

    /// The root hash (equal to `hashTree.reconstruct()`).
    public var rootHash: [UInt8] {
        Array(digests[digestRange(rootNode)])
    }

    /// The full hash tree.
    public var hashTree: HashTree {
        materialize(rootNode)
    }

    private var rootNode: Int {
        switch top {
        case .leaf(let node): return node
        case .subtree(let level): return levels[level].root
        }
    }

    private func digestRange(_ node: Int) -> Range<Int> {
        node * 32..<node * 32 + 32
    }

    // MARK: Building

    private mutating func addNode(_ node: Node, digest: [UInt8]) -> Int {
        nodes.append(node)
        digests.append(contentsOf: digest)
        return nodes.count - 1
    }

    private mutating func add(_ content: LabeledTree) -> Content {
        switch content {
        case .leaf(let value):
            return .leaf(node: addNode(.leaf(value), digest: HashTree.leaf(value).reconstruct()))
        case .subtree(let children):
            let levelIndex = levels.count
            levels.append(Level())
            var level = Level()
            var labeledNodes = [Int]()
            let sorted = LabeledTree.sortedUnique(children)
            level.labels.reserveCapacity(sorted.count)
            level.contents.reserveCapacity(sorted.count)
            labeledNodes.reserveCapacity(sorted.count)
            for child in sorted {
                let childContent = add(child.tree)
                let childNode: Int
                switch childContent {
                case .leaf(let node): childNode = node
                case .subtree(let sublevel): childNode = levels[sublevel].root
                }
                var hasher = SHA256()
                hasher.update(HashTree.labeledDomain)
                hasher.update(child.label)
                hasher.update(digests[digestRange(childNode)])
                labeledNodes.append(addNode(.labeled(child.label, childNode), digest: hasher.finalize()))
                level.labels.append(child.label)
                level.contents.append(childContent)
            }
            level.root = addForks(labeledNodes, 0..<labeledNodes.count)
            levels[levelIndex] = level
            return .subtree(level: levelIndex)
        }
    }

    /// Same split as `HashTree.balancedForks`.
    private mutating func addForks(_ labeled: [Int], _ range: Range<Int>) -> Int {
        switch range.count {
        case 0:
            return addNode(.empty, digest: HashTree.emptyHash)
        case 1:
            return labeled[range.lowerBound]
        default:
            let middle = range.lowerBound + range.count / 2
            let left = addForks(labeled, range.lowerBound..<middle)
            let right = addForks(labeled, middle..<range.upperBound)
            var hasher = SHA256()
            hasher.update(HashTree.forkDomain)
            hasher.update(digests[digestRange(left)])
            hasher.update(digests[digestRange(right)])
            return addNode(.fork(left, right), digest: hasher.finalize())
        }
    }

    // MARK: Reading

    private func materialize(_ node: Int) -> HashTree {
        switch nodes[node] {
        case .empty: return .empty
        case .fork(let left, let right): return .fork(materialize(left), materialize(right))
        case .labeled(let label, let child): return .labeled(label, materialize(child))
        case .leaf(let value): return .leaf(value)
        }
    }

    private func pruned(_ node: Int) -> HashTree {
        if case .empty = nodes[node] { return .empty }
        return .pruned(Array(digests[digestRange(node)]))
    }

    /// Index of the first label ≥ `label` in a level.
    private func position(of label: [UInt8], in level: Level) -> Int {
        var low = 0
        var high = level.labels.count
        while low < high {
            let middle = (low + high) / 2
            if labelPrecedes(level.labels[middle], label) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Looks up a value; same results as `hashTree.lookup(path:)` (never `.unknown`: nothing
    /// is pruned), in O(log n) label comparisons per level.
    public func lookup(path: [[UInt8]]) -> LookupResult {
        var content = top
        for label in path {
            switch content {
            case .leaf:
                return .absent
            case .subtree(let levelIndex):
                let level = levels[levelIndex]
                let index = position(of: label, in: level)
                guard index < level.labels.count, level.labels[index] == label else { return .absent }
                content = level.contents[index]
            }
        }
        switch content {
        case .leaf(let node):
            if case .leaf(let value) = nodes[node] { return .found(value) }
            return .error
        case .subtree(let levelIndex):
            return levels[levelIndex].labels.isEmpty ? .absent : .error
        }
    }

    /// The witness for `paths`, identical to `hashTree.witness(for: paths)` (see there for
    /// what is kept), computed without re-hashing.
    public func witness(for paths: [[[UInt8]]]) -> HashTree {
        witness(top, requests: paths.map { ArraySlice($0) })
    }

    private func witness(_ content: Content, requests: [ArraySlice<[UInt8]>]) -> HashTree {
        let levelIndex: Int
        switch content {
        case .leaf(let node):
            return requests.isEmpty ? pruned(node) : materialize(node)
        case .subtree(let index):
            levelIndex = index
        }
        let level = levels[levelIndex]
        if requests.isEmpty { return pruned(level.root) }
        for request in requests where request.isEmpty { return materialize(level.root) }

        // Positions to reveal, with the remaining paths below them.
        var reveals = [(position: Int, rests: [ArraySlice<[UInt8]>])]()
        func reveal(_ position: Int, _ rest: ArraySlice<[UInt8]>?) {
            reveals.append((position: position, rests: rest.map { [$0] } ?? []))
        }
        for request in requests {
            let label = request[request.startIndex]
            let index = position(of: label, in: level)
            if index < level.labels.count, level.labels[index] == label {
                reveal(index, request.dropFirst())
            } else {
                if index > 0 { reveal(index - 1, nil) }
                if index < level.labels.count { reveal(index, nil) }
            }
        }
        reveals.sort { $0.position < $1.position }
        var merged = [(position: Int, rests: [ArraySlice<[UInt8]>])]()
        for item in reveals {
            if let last = merged.last, last.position == item.position {
                merged[merged.count - 1].rests.append(contentsOf: item.rests)
            } else {
                merged.append(item)
            }
        }
        return build(level.root, range: 0..<level.labels.count, reveals: merged[...], level: level)
    }

    private func build(
        _ node: Int, range: Range<Int>,
        reveals: ArraySlice<(position: Int, rests: [ArraySlice<[UInt8]>])>, level: Level
    ) -> HashTree {
        if reveals.isEmpty { return pruned(node) }
        switch nodes[node] {
        case .fork(let left, let right):
            let middle = range.lowerBound + range.count / 2
            var split = reveals.startIndex
            while split < reveals.endIndex && reveals[split].position < middle { split += 1 }
            return .fork(
                build(left, range: range.lowerBound..<middle, reveals: reveals[..<split], level: level),
                build(right, range: middle..<range.upperBound, reveals: reveals[split...], level: level))
        case .labeled(let label, _):
            let item = reveals[reveals.startIndex]
            return .labeled(label, witness(level.contents[item.position], requests: item.rests))
        case .empty, .leaf:
            return materialize(node)
        }
    }
}
