extension HashTree {
    /// A pruned copy of the tree that still proves the lookups of `paths`, with the same
    /// root hash.
    ///
    /// * A path that exists keeps its labels and the value (or, if it ends at an inner node,
    ///   that entire subtree — so `values(under:)` / `labels(at:)` work on the witness).
    /// * A path that does not exist keeps the labels of its neighbours at the level where it
    ///   leaves the tree (the greatest smaller and the smallest greater label, their subtrees
    ///   pruned), so `lookup` returns `.absent` for it — not `.unknown`. A path running into a
    ///   leaf or `Empty` keeps that node.
    /// * Everything else is replaced by `Pruned(digest)`; `Empty` nodes are kept as they are.
    ///
    /// Cost is linear in the size of the tree: each node is visited at most once and each
    /// pruned subtree hashed once. Meant for well-formed trees (unsorted levels are scanned
    /// linearly rather than binary-searched).
    ///
    /// ```swift
    /// let witness = tree.witness(for: [[Array("canister".utf8), id, Array("certified_data".utf8)]])
    /// witness.reconstruct() == tree.reconstruct()   // true
    /// ```
    public func witness(for paths: [[[UInt8]]]) -> HashTree {
        witness(requests: paths.map { ArraySlice($0) })
    }

    private func witness(requests: [ArraySlice<[UInt8]>]) -> HashTree {
        if requests.isEmpty { return pruned() }
        for request in requests where request.isEmpty { return self }
        switch self {
        case .empty, .leaf, .pruned:
            return self
        case .labeled, .fork:
            return witnessForest(requests: requests)
        }
    }

    private enum ElementAction {
        case prune
        case reveal([ArraySlice<[UInt8]>])
    }

    private enum Partial {
        /// A rebuilt subtree that must stay.
        case keep(HashTree)
        /// An original subtree with nothing to reveal.
        case prunable(HashTree)
        /// An original subtree with no forest elements (only forks and `Empty`).
        case neutral(HashTree)

        var materialized: HashTree {
            switch self {
            case .keep(let tree), .neutral(let tree): return tree
            case .prunable(let tree): return tree.pruned()
            }
        }
    }

    private func witnessForest(requests: [ArraySlice<[UInt8]>]) -> HashTree {
        let elements = forest
        if elements.count == 1, case .leaf = elements[0] { return self }

        // Labeled elements in forest order, and whether their labels strictly increase.
        var labeledIndices = [Int]()
        var sorted = true
        for (index, element) in elements.enumerated() {
            guard case .labeled(let label, _) = element else { continue }
            if let previous = labeledIndices.last, !labelPrecedes(elements[previous].label!, label) { sorted = false }
            labeledIndices.append(index)
        }

        var actions = [ElementAction](repeating: .prune, count: elements.count)
        func reveal(_ index: Int, rest: ArraySlice<[UInt8]>?) {
            var rests: [ArraySlice<[UInt8]>]
            if case .reveal(let existing) = actions[index] { rests = existing } else { rests = [] }
            if let rest { rests.append(rest) }
            actions[index] = .reveal(rests)
        }

        for request in requests {
            let label = request[request.startIndex]
            let rest = request.dropFirst()
            // Position of the first labeled element whose label is ≥ `label`.
            var position: Int
            if sorted {
                var low = 0
                var high = labeledIndices.count
                while low < high {
                    let middle = (low + high) / 2
                    if labelPrecedes(elements[labeledIndices[middle]].label!, label) { low = middle + 1 } else { high = middle }
                }
                position = low
            } else {
                position = labeledIndices.count
                for (k, index) in labeledIndices.enumerated() where elements[index].label! == label {
                    position = k
                    break
                }
            }
            if position < labeledIndices.count, elements[labeledIndices[position]].label! == label {
                reveal(labeledIndices[position], rest: rest)
            } else if sorted {
                // Absent: keep both neighbours visible.
                if position > 0 { reveal(labeledIndices[position - 1], rest: nil) }
                if position < labeledIndices.count { reveal(labeledIndices[position], rest: nil) }
            }
        }

        var counter = 0
        return rebuild(elements: elements, actions: actions, counter: &counter).materialized
    }

    private func rebuild(elements: [HashTree], actions: [ElementAction], counter: inout Int) -> Partial {
        switch self {
        case .empty:
            return .neutral(self)
        case .fork(let left, let right):
            let a = left.rebuild(elements: elements, actions: actions, counter: &counter)
            let b = right.rebuild(elements: elements, actions: actions, counter: &counter)
            switch (a, b) {
            case (.neutral, .neutral):
                return .neutral(self)
            case (.prunable, .prunable), (.prunable, .neutral), (.neutral, .prunable):
                return .prunable(self)
            default:
                return .keep(.fork(a.materialized, b.materialized))
            }
        default:
            let index = counter
            counter += 1
            switch actions[index] {
            case .prune:
                return .prunable(self)
            case .reveal(let rests):
                if case .labeled(let label, let subtree) = self {
                    return .keep(.labeled(label, subtree.witness(requests: rests)))
                }
                return .keep(self)
            }
        }
    }

    /// The label of a Labeled node, else `nil`.
    var label: [UInt8]? {
        if case .labeled(let label, _) = self { return label }
        return nil
    }
}
