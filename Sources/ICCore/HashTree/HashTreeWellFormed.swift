extension HashTree {
    /// Whether the tree is well formed (interface spec): in every flattened forest the labels
    /// of Labeled nodes are strictly increasing, the forest contains no Leaf, and every
    /// Labeled subtree is well formed. A Leaf is allowed only as a whole (sub)tree: the
    /// entire tree or the direct child of a Labeled node. The IC only produces well-formed
    /// trees; verifiers of canister signatures must check it.
    public var isWellFormed: Bool {
        if case .leaf = self { return true }
        var previousLabel: [UInt8]? = nil
        var wellFormed = true
        visitForest { element in
            switch element {
            case .leaf:
                wellFormed = false
            case .labeled(let label, let subtree):
                if let previous = previousLabel, !labelPrecedes(previous, label) {
                    wellFormed = false
                } else if !subtree.isWellFormed {
                    wellFormed = false
                }
                previousLabel = label
            default:
                break
            }
            return wellFormed
        }
        return wellFormed
    }
}
