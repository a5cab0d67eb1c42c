import ICCertification
import Testing

@Suite("BoundedCache")
struct BoundedCacheTests {
    @Test("holds at most its capacity and forgets the oldest insertion first")
    func evictsOldestFirst() {
        var cache = BoundedCache<Int, String>(capacity: 3)
        for key in 1...5 { cache[key] = "\(key)" }
        #expect(cache.count == 3)
        #expect(cache[1] == nil && cache[2] == nil)
        #expect(cache[3] == "3" && cache[4] == "4" && cache[5] == "5")
    }

    @Test("replacing a value keeps its place; a removed then re-added key counts as new")
    func replaceAndReinsert() {
        var cache = BoundedCache<Int, Int>(capacity: 2)
        cache[1] = 10
        cache[2] = 20
        cache[1] = 11  // still the oldest
        cache[3] = 30  // evicts 1
        #expect(cache[1] == nil && cache[2] == 20 && cache[3] == 30)
        cache[2] = nil
        cache[2] = 21  // newest now: 3 is the oldest
        cache[4] = 40  // evicts 3, not the re-added 2
        #expect(cache[2] == 21 && cache[3] == nil && cache[4] == 40)
        #expect(cache.count == 2)
    }

    @Test("many removals and insertions stay bounded and consistent")
    func churn() {
        var cache = BoundedCache<Int, Int>(capacity: 8)
        var reference: [Int] = []  // keys in insertion order, as the cache should hold them
        for step in 0..<5_000 {
            let key = (step * 7919) % 37
            if step % 3 == 0 {
                cache[key] = nil
                reference.removeAll { $0 == key }
            } else if cache[key] == nil {
                cache[key] = step
                reference.append(key)
                if reference.count > 8 { reference.removeFirst() }
            }
            #expect(cache.count == reference.count)
        }
        for key in reference { #expect(cache[key] != nil) }
    }
}
