import ICCore
import ICTestSupport
import Testing

struct TreeLookupVector: Decodable, Sendable {
    let path: [String]
    let path_display: String
    let result: String
    let value_hex: String?

    func check(in tree: HashTree, context: String) {
        let labels = path.map { bytes(hex: $0) }
        let actual = tree.lookup(path: labels)
        let expected: LookupResult
        switch result {
        case "Found": expected = .found(bytes(hex: value_hex ?? ""))
        case "Absent": expected = .absent
        case "Unknown": expected = .unknown
        default: expected = .error
        }
        #expect(actual == expected, "\(context) \(path_display)")
    }
}

struct HashTreeVectors: Decodable {
    struct Tree: Decodable, Sendable, CustomTestStringConvertible {
        let id: String
        let tree_cbor_hex: String
        let root_hash_hex: String
        let well_formed: Bool
        let lookups: [TreeLookupVector]?
        var testDescription: String { id }
    }
    let trees: [Tree]

    static let loaded: HashTreeVectors? =
        TestVectors.isAvailable
        ? try? TestVectors.decode(HashTreeVectors.self, from: "hash_tree/hash_trees.json") : nil
}

struct CertificateTreeVectors: Decodable {
    struct Certificate: Decodable, Sendable, CustomTestStringConvertible {
        struct Delegation: Decodable, Sendable {
            let subnet_id_hex: String
            let certificate_root_hash_hex: String
            let subnet_public_key_lookup: String
            let subnet_public_key_der_hex: String?
            let lookups: [TreeLookupVector]
        }
        struct Expected: Decodable, Sendable {
            let root_hash_hex: String
            let signature_hex: String
            let well_formed: Bool
            let lookups: [TreeLookupVector]
            let delegation: Delegation?
        }
        let id: String
        let certificate_cbor_hex: String
        let read_state_response_cbor_hex: String?
        let expected: Expected
        var testDescription: String { id }
    }
    let certificates: [Certificate]

    static let loaded: CertificateTreeVectors? =
        TestVectors.isAvailable
        ? try? TestVectors.decode(CertificateTreeVectors.self, from: "certificates/certificates.json") : nil
}

@Suite("Hash tree vectors", .enabled(if: TestVectors.isAvailable))
struct HashTreeVectorTests {
    @Test("all 11 trees present")
    func count() throws {
        #expect(try #require(HashTreeVectors.loaded).trees.count == 11)
    }

    @Test("root hash, well-formedness, lookups, re-encoding", arguments: HashTreeVectors.loaded?.trees ?? [])
    func tree(_ vector: HashTreeVectors.Tree) throws {
        let raw = bytes(hex: vector.tree_cbor_hex)
        let tree = try HashTree(cborBytes: raw)
        #expect(hexString(tree.reconstruct()) == vector.root_hash_hex)
        #expect(tree.isWellFormed == vector.well_formed)
        for lookup in vector.lookups ?? [] { lookup.check(in: tree, context: vector.id) }
        #expect(tree.encoded() == raw)
        #expect(try HashTree(cbor: tree.cbor) == tree)
        // A witness for every looked-up path keeps the root hash and the answers
        // (Found/Absent stay; Unknown stays Unknown; Error paths keep their subtree).
        let paths = (vector.lookups ?? []).map { $0.path.map { bytes(hex: $0) } }
        let witness = tree.witness(for: paths)
        #expect(witness.reconstruct() == tree.reconstruct())
        if vector.well_formed {
            #expect(witness.isWellFormed)
            for lookup in vector.lookups ?? [] { lookup.check(in: witness, context: "witness of \(vector.id)") }
        }
    }

    @Test("the empty-tree constant")
    func emptyHash() {
        #expect(hexString(HashTree.emptyHash) == "4e3ed35c4e2d1ee89996483fb6260a64cffb6c47dbab216e7930e82f8190d120")
        #expect(HashTree.empty.reconstruct() == HashTree.emptyHash)
    }
}

@Suite("Certificate trees", .enabled(if: TestVectors.isAvailable))
struct HashTreeCertificateTests {
    @Test("all 15 certificates present")
    func count() throws {
        #expect(try #require(CertificateTreeVectors.loaded).certificates.count == 15)
    }

    @Test("decode, root hash and lookups of the outer tree", arguments: CertificateTreeVectors.loaded?.certificates ?? [])
    func certificate(_ vector: CertificateTreeVectors.Certificate) throws {
        let raw = bytes(hex: vector.certificate_cbor_hex)
        let certificate = try CBORDecoder.decode(raw)
        #expect(certificate["signature"]?.bytes.map { hexString($0) } == vector.expected.signature_hex)
        let tree = try HashTree(cbor: try #require(certificate["tree"]))
        #expect(hexString(tree.reconstruct()) == vector.expected.root_hash_hex)
        #expect(tree.isWellFormed == vector.expected.well_formed)
        for lookup in vector.expected.lookups { lookup.check(in: tree, context: vector.id) }
        // The delegation certificate is itself complete CBOR with a tree.
        #expect((certificate["delegation"] != nil) == (vector.expected.delegation != nil))
        if let delegation = certificate["delegation"], let expected = vector.expected.delegation {
            let inner = try CBORDecoder.decode(try #require(delegation["certificate"]?.bytes))
            #expect(inner["delegation"] == nil)
            let innerTree = try HashTree(cbor: try #require(inner["tree"]))
            #expect(innerTree.isWellFormed)
            #expect(hexString(innerTree.reconstruct()) == expected.certificate_root_hash_hex)
            let subnet = try #require(delegation["subnet_id"]?.bytes)
            #expect(hexString(subnet) == expected.subnet_id_hex)
            let key = innerTree.lookup(path: [Array("subnet".utf8), subnet, Array("public_key".utf8)])
            switch expected.subnet_public_key_lookup {
            case "Found": #expect(key == .found(bytes(hex: expected.subnet_public_key_der_hex ?? "")))
            case "Unknown": #expect(key == .unknown)
            default: #expect(key == .absent)
            }
            for lookup in expected.lookups { lookup.check(in: innerTree, context: "delegation of \(vector.id)") }
        }
        if let responseHex = vector.read_state_response_cbor_hex {
            let response = try CBORDecoder.decode(bytes(hex: responseHex))
            #expect(response["certificate"]?.bytes == raw)
        }
        // The tree re-encodes to a prefix-free encoding that decodes to the same tree, and
        // a witness for the listed lookups proves the same answers with the same root.
        #expect(try HashTree(cborBytes: tree.encoded()) == tree)
        let witness = tree.witness(for: vector.expected.lookups.map { $0.path.map { bytes(hex: $0) } })
        #expect(witness.reconstruct() == tree.reconstruct())
        for lookup in vector.expected.lookups where lookup.result != "Unknown" {
            lookup.check(in: witness, context: "witness of \(vector.id)")
        }
    }
}

@Suite("Hash trees")
struct HashTreeTests {
    static let a = Array("a".utf8), b = Array("b".utf8), c = Array("c".utf8), d = Array("d".utf8)
    static let x = Array("x".utf8), y = Array("y".utf8)

    /// The spec example built from paths: a/x=hello, a/y=world, b=good, d=morning.
    static func specContent() throws -> LabeledTree {
        try LabeledTree(paths: [
            (path: [d], value: Array("morning".utf8)),
            (path: [a, x], value: Array("hello".utf8)),
            (path: [b], value: Array("good".utf8)),
            (path: [a, y], value: Array("world".utf8)),
        ])
    }

    @Test("spec example: lookups on a built tree, spec witness for /a/y, /ax, /d")
    func specExample() throws {
        let tree = HashTree(try Self.specContent())
        #expect(tree.isWellFormed)
        #expect(tree.lookup(path: [Self.a, Self.x]) == .found(Array("hello".utf8)))
        #expect(tree.lookup(path: [Self.a]) == .error)
        #expect(tree.lookup(path: [Self.c]) == .absent)
        #expect(tree.lookup(textPath: ["e"]) == .absent)
        #expect(tree.lookup(textPath: ["a", "z"]) == .absent)
        #expect(tree.labels(at: []) == [Self.a, Self.b, Self.d])
        #expect(tree.labels(at: [Self.a]) == [Self.x, Self.y])
        #expect(tree.labels(at: [Self.c]) == nil)
        let all = tree.values(under: [Self.a])
        #expect(all.map { $0.path } == [[Self.a, Self.x], [Self.a, Self.y]])
        #expect(all.map { $0.value } == [Array("hello".utf8), Array("world".utf8)])
        #expect(tree.values(under: []).count == 4)

        let witness = tree.witness(for: [[Self.a, Self.y], [Array("ax".utf8)], [Self.d]])
        #expect(witness.reconstruct() == tree.reconstruct())
        #expect(witness.isWellFormed)
        #expect(witness.lookup(path: [Self.a, Self.y]) == .found(Array("world".utf8)))
        #expect(witness.lookup(textPath: ["ax"]) == .absent)
        #expect(witness.lookup(textPath: ["d"]) == .found(Array("morning".utf8)))
        #expect(witness.lookup(path: [Self.a, Self.x]) == .unknown)
        #expect(witness.lookup(textPath: ["b"]) == .unknown)  // b's label is kept, its leaf pruned
        #expect(witness.lookup(textPath: ["e"]) == .absent)  // after the last label, d
        // A prefix path keeps its whole subtree.
        let prefixWitness = tree.witness(for: [[Self.a]])
        #expect(prefixWitness.values(under: [Self.a]).count == 2)
        #expect(prefixWitness.lookup(textPath: ["d"]) == .unknown)
        // Nothing requested: the whole tree is pruned to its digest.
        #expect(tree.witness(for: []) == .pruned(tree.reconstruct()))
    }

    @Test("balanced shape and builder errors")
    func builder() throws {
        let leaves = (0..<5).map { HashTree.labeled([UInt8($0)], .leaf([])) }
        let tree = try HashTree(paths: (0..<5).reversed().map { (path: [[UInt8($0)]], value: []) })
        // 5 children: left 2 (0,1), right 3 (2 | 3,4).
        #expect(tree == .fork(.fork(leaves[0], leaves[1]), .fork(leaves[2], .fork(leaves[3], leaves[4]))))
        #expect(try HashTree(paths: []) == .empty)
        #expect(try HashTree(paths: [(path: [], value: [7])]) == .leaf([7]))
        #expect(throws: LabeledTree.BuildError.duplicatePath([Self.a])) {
            try HashTree(paths: [(path: [Self.a], value: []), (path: [Self.a], value: [1])])
        }
        #expect(throws: LabeledTree.BuildError.valueAndSubtree([Self.a])) {
            try HashTree(paths: [(path: [Self.a, Self.b], value: []), (path: [Self.a], value: [1])])
        }
        // Unsorted LabeledTree children with a duplicate: sorted, the last duplicate wins.
        let content = LabeledTree.subtree([
            (label: Self.b, tree: .leaf([1])), (label: Self.a, tree: .leaf([2])), (label: Self.b, tree: .leaf([3])),
        ])
        let built = content.hashTree
        #expect(built.isWellFormed)
        #expect(built == .fork(.labeled(Self.a, .leaf([2])), .labeled(Self.b, .leaf([3]))))
    }

    @Test("decoding errors name the node")
    func decodingErrors() {
        #expect(throws: HashTree.DecodingError(.unknownNodeTag(5), location: "/1")) {
            try HashTree(cborBytes: [0x83, 0x01, 0x81, 0x05, 0x81, 0x00])
        }
        #expect(throws: HashTree.DecodingError(.wrongDigestLength(1), location: "/")) {
            try HashTree(cborBytes: [0x82, 0x04, 0x41, 0x00])
        }
        #expect(throws: HashTree.DecodingError(.wrongElementCount(nodeTag: 2, expected: 3, found: 2), location: "/2")) {
            try HashTree(cborBytes: [0x83, 0x01, 0x81, 0x00, 0x82, 0x02, 0x41, 0x61])
        }
        #expect(throws: HashTree.DecodingError(.expectedByteString(nodeTag: 3), location: "/")) {
            try HashTree(cborBytes: [0x82, 0x03, 0x61, 0x61])
        }
        #expect(throws: HashTree.DecodingError(.notAnArray, location: "/")) { try HashTree(cborBytes: [0x00]) }
        #expect(throws: HashTree.DecodingError(.missingNodeTag, location: "/")) { try HashTree(cborBytes: [0x80]) }
        #expect(
            throws: HashTree.DecodingError(.cbor(CBORError(.unexpectedEnd(context: .array(count: 2), remaining: 1), at: 0)), location: "")
        ) {
            try HashTree(cborBytes: [0x82, 0x03])
        }
    }

    @Test("not well formed")
    func notWellFormed() {
        #expect(!HashTree.fork(.leaf([]), .empty).isWellFormed)
        #expect(HashTree.labeled(Self.a, .leaf([])).isWellFormed)
        #expect(!HashTree.labeled(Self.a, .fork(.labeled(Self.b, .empty), .labeled(Self.b, .empty))).isWellFormed)
        #expect(HashTree.fork(.pruned([UInt8](repeating: 0, count: 32)), .labeled(Self.a, .empty)).isWellFormed)
    }
}

/// Deterministic xorshift64* generator for reproducible random trees.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9e37_79b9_7f4a_7c15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 0x2545_f491_4f6c_dd1d
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

@Suite("Hash tree builder and witnesses")
struct HashTreeWitnessTests {
    /// Random two-level content: /<group>/<key> = value, with labels of 0–6 random bytes.
    static func randomEntries(seed: UInt64, count: Int) -> [(path: [[UInt8]], value: [UInt8])] {
        var random = TestRandom(seed: seed)
        var seen = Set<[[UInt8]]>()
        var entries = [(path: [[UInt8]], value: [UInt8])]()
        let groups = (0..<4).map { [UInt8(ascii: "g"), UInt8($0 * 2)] }  // g\0, g\2, g\4, g\6
        while entries.count < count {
            let group = groups[random.below(groups.count)]
            // Leave room for absent labels: use even first bytes only.
            var key = random.bytes(random.below(6) + 1)
            key[0] &= 0xfe
            let path = [group, key]
            if seen.insert(path).inserted { entries.append((path: path, value: random.bytes(random.below(8)))) }
        }
        return entries
    }

    @Test("random trees: lookups, well-formedness, witnesses", arguments: [(1 as UInt64, 1), (2, 2), (3, 7), (4, 64), (5, 300), (6, 2000)])
    func random(seed: UInt64, count: Int) throws {
        let entries = Self.randomEntries(seed: seed, count: count)
        let tree = try HashTree(paths: entries)
        #expect(tree.isWellFormed)
        #expect(try HashTree(cborBytes: tree.encoded()) == tree)
        let root = tree.reconstruct()
        // Every inserted path is found (check a sample for the big tree to keep it quick).
        var random = TestRandom(seed: seed &+ 100)
        let sample = count <= 300 ? entries : (0..<300).map { _ in entries[random.below(entries.count)] }
        for entry in sample { #expect(tree.lookup(path: entry.path) == .found(entry.value)) }
        // Odd first bytes are never used: such labels are absent, as is an unused group.
        var absentPaths = [[[UInt8]]]()
        for entry in sample.prefix(20) {
            var key = entry.path[1]
            key[0] |= 1
            absentPaths.append([entry.path[0], key])
            absentPaths.append([entry.path[0], entry.path[1] + [0]])
        }
        absentPaths.append([[UInt8(ascii: "g"), 1], [0]])
        absentPaths.append([[UInt8(ascii: "h")]])
        absentPaths.append([[]])
        for path in absentPaths where !entries.contains(where: { $0.path == path }) {
            #expect(tree.lookup(path: path) == .absent)
        }
        // Witness for some present and some absent paths.
        let requested = Array(sample.prefix(12))
        let requestedAbsent = absentPaths.filter { path in !entries.contains { $0.path == path } }
        let witness = tree.witness(for: requested.map { $0.path } + requestedAbsent)
        #expect(witness.reconstruct() == root)
        #expect(witness.isWellFormed)
        for entry in requested { #expect(witness.lookup(path: entry.path) == .found(entry.value)) }
        for path in requestedAbsent { #expect(witness.lookup(path: path) == .absent, "absent \(path)") }
        // Paths not requested are not revealed.
        let requestedSet = Set(requested.map { $0.path })
        for entry in sample.prefix(50) where !requestedSet.contains(entry.path) {
            #expect(witness.lookup(path: entry.path) != .found(entry.value))
        }
        // The witness is small compared to the tree for big trees.
        if count >= 2000 { #expect(witness.encoded().count * 2 < tree.encoded().count) }
        // Witnessing a witness for the same paths changes nothing.
        #expect(witness.witness(for: requested.map { $0.path } + requestedAbsent).reconstruct() == root)
    }

    @Test("witness of every single path keeps the root")
    func everyPath() throws {
        let entries = Self.randomEntries(seed: 9, count: 40)
        let tree = try HashTree(paths: entries)
        let root = tree.reconstruct()
        for entry in entries {
            let witness = tree.witness(for: [entry.path])
            #expect(witness.reconstruct() == root)
            #expect(witness.lookup(path: entry.path) == .found(entry.value))
            #expect(witness.values(under: []).count == 1)
        }
    }

    @Test("builder and witness scale to many keys")
    func scale() throws {
        var random = TestRandom(seed: 77)
        let entries = (0..<5_000).map { index -> (path: [[UInt8]], value: [UInt8]) in
            let key: [UInt8] = [UInt8(index >> 16 & 0xff), UInt8(index >> 8 & 0xff), UInt8(index & 0xff)]
            return (path: [Array("k".utf8), key], value: random.bytes(4))
        }.shuffled(using: &random)
        let tree = try HashTree(paths: entries)
        let witness = tree.witness(for: [entries[0].path, entries[1].path])
        #expect(witness.reconstruct() == tree.reconstruct())
        #expect(witness.lookup(path: entries[0].path) == .found(entries[0].value))
    }
}

extension TestRandom: RandomNumberGenerator {}

@Suite("Certified tree (cached hashes)")
struct HashTreeCertifiedTreeTests {
    @Test("same root, lookups and witnesses as HashTree", arguments: [(11 as UInt64, 0), (12, 1), (13, 5), (14, 100), (15, 400)])
    func equivalence(seed: UInt64, count: Int) throws {
        let entries = HashTreeWitnessTests.randomEntries(seed: seed, count: count)
        let content = try LabeledTree(paths: entries)
        let certified = CertifiedTree(content)
        let tree = HashTree(content)
        #expect(certified.hashTree == tree)
        #expect(certified.rootHash == tree.reconstruct())
        var random = TestRandom(seed: seed)
        var paths = [[[UInt8]]]()
        for _ in 0..<30 where !entries.isEmpty {
            let entry = entries[random.below(entries.count)]
            paths.append(entry.path)
            paths.append([entry.path[0]])
            paths.append([entry.path[0], entry.path[1] + [1]])
            paths.append([entry.path[0], entry.path[1], [2]])
        }
        paths += [[], [[]], [[UInt8(ascii: "g")]], [[UInt8(ascii: "g"), 1], [0]], [[0xff]]]
        for path in paths { #expect(certified.lookup(path: path) == tree.lookup(path: path), "\(path)") }
        // Single paths, small batches and everything at once.
        for path in paths.prefix(12) {
            #expect(certified.witness(for: [path]) == tree.witness(for: [path]))
        }
        for start in stride(from: 0, to: paths.count, by: 7) {
            let batch = Array(paths[start..<min(start + 7, paths.count)].filter { !$0.isEmpty })
            let witness = certified.witness(for: batch)
            #expect(witness == tree.witness(for: batch))
            #expect(witness.reconstruct() == certified.rootHash)
        }
        #expect(certified.witness(for: []) == tree.witness(for: []))
    }

    @Test("leaf and empty content")
    func degenerate() throws {
        let leaf = CertifiedTree(.leaf([1, 2]))
        #expect(leaf.hashTree == .leaf([1, 2]))
        #expect(leaf.lookup(path: []) == .found([1, 2]))
        #expect(leaf.lookup(path: [[1]]) == .absent)
        #expect(leaf.witness(for: [[[1]]]) == .leaf([1, 2]))
        #expect(leaf.witness(for: []) == .pruned(HashTree.leaf([1, 2]).reconstruct()))
        let empty = try CertifiedTree(paths: [])
        #expect(empty.hashTree == .empty)
        #expect(empty.rootHash == HashTree.emptyHash)
        #expect(empty.lookup(path: []) == .absent)
        #expect(empty.witness(for: [[[1]]]) == .empty)
    }
}
