// fuzz-modules: ICCore
// Decodes arbitrary bytes as a hash tree; checks well-formedness, reconstructs the root hash,
// looks up a few paths, and checks that witnesses and re-encoding keep the root hash.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let tree = try? HashTree(cborBytes: bytes, limits: .init(maxDepth: 96, maxItems: 100_000)) else { return 0 }
    let root = tree.reconstruct()
    precondition(root.count == 32)
    let wellFormed = tree.isWellFormed

    // Re-encoding decodes to the same tree.
    precondition((try? HashTree(cborBytes: tree.encoded())) == tree, "re-encoding changed the tree")

    // Lookups of the labels present plus a few fixed paths must not trap.
    let fixed: [[[UInt8]]] = [[], [[0x61]], [[0x61], [0x78]], [Array("time".utf8)], [[]], [[0xff, 0xff]]]
    var paths = fixed
    for child in tree.children.prefix(4) {
        paths.append([child.label])
        paths.append([child.label + [0]])
        for grandchild in child.subtree.children.prefix(2) { paths.append([child.label, grandchild.label]) }
    }
    var results = [LookupResult]()
    for path in paths {
        results.append(tree.lookup(path: path))
        _ = tree.lookupSubtree(path: path)
        _ = tree.labels(at: path)
    }
    _ = tree.values(under: [])

    // A witness keeps the root hash; on well-formed trees it keeps Found/Absent answers.
    let witness = tree.witness(for: paths)
    precondition(witness.reconstruct() == root, "witness changed the root hash")
    if wellFormed {
        precondition(witness.isWellFormed, "witness of a well-formed tree is not well formed")
        for (index, path) in paths.enumerated() {
            switch results[index] {
            case .found, .absent, .error:
                precondition(witness.lookup(path: path) == results[index], "witness changed a lookup")
            case .unknown:
                break
            }
        }
    }
    // Pruning everything keeps the root hash.
    precondition(tree.witness(for: []).reconstruct() == root)

    // Well-formed trees without pruned nodes: rebuilding the content with the builder and with
    // CertifiedTree gives identical trees, lookups and witnesses.
    if wellFormed, let content = labeledContent(tree) {
        let rebuilt = HashTree(content)
        let certified = CertifiedTree(content)
        precondition(rebuilt.isWellFormed, "built tree is not well formed")
        precondition(certified.hashTree == rebuilt, "CertifiedTree shape differs")
        precondition(certified.rootHash == rebuilt.reconstruct(), "CertifiedTree root differs")
        for path in paths {
            precondition(certified.lookup(path: path) == rebuilt.lookup(path: path), "CertifiedTree lookup differs")
        }
        let pathsBelowRoot = paths.filter { !$0.isEmpty }
        precondition(certified.witness(for: pathsBelowRoot) == rebuilt.witness(for: pathsBelowRoot), "CertifiedTree witness differs")
        for path in pathsBelowRoot.prefix(4) {
            precondition(certified.witness(for: [path]) == rebuilt.witness(for: [path]), "CertifiedTree witness differs")
        }
    }
    return 0
}

/// The labeled content of a tree without pruned nodes (nil if one is found).
func labeledContent(_ tree: HashTree) -> LabeledTree? {
    if case .leaf(let value) = tree { return .leaf(value) }
    var children = [(label: [UInt8], tree: LabeledTree)]()
    for element in tree.forest {
        guard case .labeled(let label, let subtree) = element, let content = labeledContent(subtree) else { return nil }
        children.append((label: label, tree: content))
    }
    return .subtree(children)
}
