/// The result of looking up a value in a hash tree (interface spec `lookup_path`).
public enum LookupResult: Hashable, Sendable {
    /// The path leads to a leaf with this value.
    case found([UInt8])
    /// The tree proves that the path does not exist.
    case absent
    /// The path may exist but is hidden by a pruned subtree.
    case unknown
    /// The path ends at an inner node (fork or labeled), which is not a value.
    case error

    /// The found value, else `nil`.
    public var value: [UInt8]? {
        if case .found(let value) = self { return value }
        return nil
    }
}

/// The result of looking up a subtree in a hash tree.
public enum SubtreeLookupResult: Hashable, Sendable {
    /// The subtree at the path (for the empty path, the whole tree).
    case found(HashTree)
    /// The tree proves that the path does not exist.
    case absent
    /// The path may exist but is hidden by a pruned subtree.
    case unknown
}

extension HashTree {
    enum LabelSearch {
        case found(HashTree)
        case absent
        case unknown
    }

    /// `find_label(label, flatten_forks(self))` of the spec.
    func findLabel(_ label: [UInt8]) -> LabelSearch {
        // Summary of forest elements: the label of a Labeled node, or nil for Leaf/Pruned.
        var count = 0
        var firstLabel: [UInt8]?? = .none  // .none: no element yet
        var firstIsLeaf = false
        var previousLabel: [UInt8]? = nil  // label of the previous element if Labeled
        var provenAbsent = false
        var found: HashTree? = nil
        visitForest { element in
            count += 1
            var currentLabel: [UInt8]? = nil
            switch element {
            case .labeled(let elementLabel, let subtree):
                if elementLabel == label {
                    found = subtree
                    return false
                }
                currentLabel = elementLabel
                // l1 < l < l2 for ADJACENT Labeled nodes.
                if let previous = previousLabel, labelPrecedes(previous, label), labelPrecedes(label, elementLabel) {
                    provenAbsent = true
                }
            case .leaf:
                if count == 1 { firstIsLeaf = true }
            default:
                break
            }
            if count == 1 { firstLabel = .some(currentLabel) }
            previousLabel = currentLabel
            return true
        }
        if let found { return .found(found) }
        if provenAbsent || count == 0 || (count == 1 && firstIsLeaf) { return .absent }
        // Before the first element, which must be Labeled.
        if case .some(.some(let first)) = firstLabel, labelPrecedes(label, first) { return .absent }
        // After the last element, which must be Labeled.
        if let last = previousLabel, labelPrecedes(last, label) { return .absent }
        return .unknown
    }

    /// Looks up the value at `path` (labels as bytes), exactly per the spec's `lookup_path`.
    /// Scans each forest on the way (linear in its size, as the spec's `find_label` must on
    /// arbitrary trees); `CertifiedTree.lookup` binary-searches trees you built yourself.
    ///
    /// ```swift
    /// tree.lookup(path: [Array("request_status".utf8), requestId.bytes, Array("status".utf8)])
    /// ```
    public func lookup(path: [[UInt8]]) -> LookupResult {
        let tree: HashTree
        switch lookupSubtree(path: path) {
        case .found(let subtree): tree = subtree
        case .absent: return .absent
        case .unknown: return .unknown
        }
        switch tree {
        case .empty: return .absent
        case .leaf(let value): return .found(value)
        case .pruned: return .unknown
        case .labeled, .fork: return .error
        }
    }

    /// Looks up the value at a path of UTF-8 labels, e.g. `["time"]`.
    public func lookup(textPath: [String]) -> LookupResult {
        lookup(path: textPath.map { Array($0.utf8) })
    }

    /// Looks up the subtree at `path` (the whole tree for the empty path).
    public func lookupSubtree(path: [[UInt8]]) -> SubtreeLookupResult {
        var tree = self
        for label in path {
            switch tree.findLabel(label) {
            case .found(let subtree): tree = subtree
            case .absent: return .absent
            case .unknown: return .unknown
            }
        }
        return .found(tree)
    }

    /// The labels directly under `path`, in tree order; `nil` unless the subtree is found.
    /// Labels hidden by pruned nodes are of course not listed.
    ///
    /// Used e.g. for the sharded `/canister_ranges/<subnet>` subtree: list the shard labels
    /// and pick the largest one not above the canister id.
    public func labels(at path: [[UInt8]]) -> [[UInt8]]? {
        guard case .found(let subtree) = lookupSubtree(path: path) else { return nil }
        return subtree.children.map { $0.label }
    }

    /// `lookup*(prefix)`: every value found at or below `prefix`, with its full path, in tree
    /// order. Values hidden by pruned nodes are not listed.
    public func values(under prefix: [[UInt8]]) -> [(path: [[UInt8]], value: [UInt8])] {
        guard case .found(let subtree) = lookupSubtree(path: prefix) else { return [] }
        var result = [(path: [[UInt8]], value: [UInt8])]()
        var path = prefix
        subtree.collectValues(path: &path, into: &result)
        return result
    }

    private func collectValues(path: inout [[UInt8]], into result: inout [(path: [[UInt8]], value: [UInt8])]) {
        if case .leaf(let value) = self {
            result.append((path: path, value: value))
            return
        }
        visitForest { element in
            if case .labeled(let label, let subtree) = element {
                path.append(label)
                subtree.collectValues(path: &path, into: &result)
                path.removeLast()
            }
            return true
        }
    }
}
