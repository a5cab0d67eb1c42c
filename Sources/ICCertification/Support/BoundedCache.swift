/// A dictionary with a fixed capacity that forgets its oldest insertion first: bounds the
/// verification caches, which are fed by the network. Amortised O(1) per operation.
public struct BoundedCache<Key: Hashable, Value> {
    /// Each entry remembers which insertion made it, so that the insertion order can keep
    /// entries that were removed or replaced since (they are skipped when their turn comes).
    private var storage: [Key: (value: Value, insertion: UInt64)] = [:]
    private var order: [(key: Key, insertion: UInt64)] = []
    private var head = 0
    private var insertions: UInt64 = 0
    public let capacity: Int

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    public subscript(key: Key) -> Value? {
        get { storage[key]?.value }
        set {
            guard let newValue else {
                storage[key] = nil
                return
            }
            if let existing = storage[key] {
                storage[key] = (newValue, existing.insertion)
                return
            }
            insertions += 1
            storage[key] = (newValue, insertions)
            order.append((key, insertions))
            while storage.count > capacity { evictOldest() }
            // Removals leave stale entries in `order`; compact once they are most of it.
            if order.count - head > 2 * capacity + 16 { compact() }
        }
    }

    public var count: Int { storage.count }

    private mutating func evictOldest() {
        while head < order.count {
            let (key, insertion) = order[head]
            head += 1
            if storage[key]?.insertion == insertion {
                storage[key] = nil
                break
            }
        }
        if head > capacity {
            order.removeFirst(head)
            head = 0
        }
    }

    private mutating func compact() {
        order = order[head...].filter { storage[$0.key]?.insertion == $0.insertion }
        head = 0
    }
}

extension BoundedCache: Sendable where Key: Sendable, Value: Sendable {}
