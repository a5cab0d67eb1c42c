import ICCore
import Testing

@Suite("MerkleLabelMap: incrementally hashed labeled subtree")
struct MerkleLabelMapTests {
    private static func value(_ byte: UInt8) -> CertifiedTree {
        CertifiedTree(.subtree([(label: Array("status".utf8), tree: .leaf([byte]))]))
    }

    private static func key(_ n: UInt32) -> [UInt8] {
        SHA256.hash(withUnsafeBytes(of: n.littleEndian, Array.init))
    }

    /// Random inserts, updates and removals: every present key is found through a pruned witness
    /// whose root hash is the map's, and every absent key is proven absent.
    @Test func witnessesProveContentAfterRandomEdits() {
        var map = MerkleLabelMap()
        var model = [[UInt8]: UInt8]()
        var generator = SystemRandomNumberGenerator()
        for step in 0..<2_000 {
            let key = Self.key(UInt32.random(in: 0..<600, using: &generator))
            if step % 3 == 2 {
                map.remove(key)
                model[key] = nil
            } else {
                let byte = UInt8(truncatingIfNeeded: step)
                map.set(key, Self.value(byte))
                model[key] = byte
            }
        }
        #expect(map.count == model.count)
        let probes = (0..<700).map { Self.key(UInt32($0)) }
        for probe in probes {
            let witness = map.witness(for: [ArraySlice([probe, Array("status".utf8)])])
            #expect(witness.reconstruct() == map.rootHash)
            let result = witness.lookup(path: [probe, Array("status".utf8)])
            if let byte = model[probe] {
                #expect(result == .found([byte]))
            } else {
                #expect(result == .absent)
            }
        }
        // All of it revealed: the same content, the same root.
        let full = map.witness(for: [ArraySlice<[UInt8]>()])
        #expect(full.reconstruct() == map.rootHash)
        #expect(full.children.map(\.label) == model.keys.sorted { $0.lexicographicallyPrecedes($1) })
    }

    /// The tree stays balanced (O(log n) re-hashing per edit) under sorted inserts.
    @Test func sortedInsertsStayBalanced() {
        var map = MerkleLabelMap()
        for n in 0..<4_096 as Range<UInt32> {
            map.set(withUnsafeBytes(of: n.bigEndian, Array.init), Self.value(1))
        }
        #expect(map.count == 4_096)
        #expect((map.root?.height ?? 0) <= 14)
    }

    /// A copy is a snapshot: later edits do not change what it certifies.
    @Test func copiesAreSnapshots() {
        var map = MerkleLabelMap()
        for n in 0..<50 as Range<UInt32> { map.set(Self.key(n), Self.value(UInt8(n))) }
        let snapshot = map
        let hash = snapshot.rootHash
        map.remove(Self.key(3))
        map.set(Self.key(99), Self.value(9))
        #expect(snapshot.rootHash == hash)
        #expect(snapshot.witness(for: [ArraySlice([Self.key(3)])]).lookupSubtree(path: [Self.key(3)]) != .absent)
        #expect(map.rootHash != hash)
    }

    /// Multiple paths at once, present and absent, in one witness.
    @Test func severalPathsInOneWitness() {
        var map = MerkleLabelMap()
        for n in 0..<200 as Range<UInt32> where n % 2 == 0 { map.set(Self.key(n), Self.value(UInt8(n))) }
        let paths = [Self.key(4), Self.key(5), Self.key(100), Self.key(151)]
        let witness = map.witness(for: paths.map { ArraySlice([$0, Array("status".utf8)]) })
        #expect(witness.reconstruct() == map.rootHash)
        #expect(witness.lookup(path: [Self.key(4), Array("status".utf8)]) == .found([4]))
        #expect(witness.lookup(path: [Self.key(100), Array("status".utf8)]) == .found([100]))
        #expect(witness.lookup(path: [Self.key(5), Array("status".utf8)]) == .absent)
        #expect(witness.lookup(path: [Self.key(151), Array("status".utf8)]) == .absent)
    }
}
