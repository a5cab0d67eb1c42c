/// A tiny dictionary that forgets its oldest insertion when full: bounds the verification
/// caches, which are fed by the network.
struct SmallCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private var storage: [Key: Value] = [:]
    private var order: [Key] = []
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    subscript(key: Key) -> Value? {
        get { storage[key] }
        set {
            guard let newValue else {
                if storage.removeValue(forKey: key) != nil { order.removeAll { $0 == key } }
                return
            }
            if storage.updateValue(newValue, forKey: key) == nil {
                order.append(key)
                if order.count > capacity { storage[order.removeFirst()] = nil }
            }
        }
    }

    var count: Int { storage.count }
}
