import ICCore
import ICWebSocketProtocol

/// One queued outgoing message with what the canister needs to prune and certify it.
public struct QueuedMessage: Sendable {
    public var output: CanisterOutputMessage
    /// The key's nonce (the queue is ordered by it).
    public var nonce: UInt64
    /// IC time when the message was queued (for cleanup, §4.7).
    public var timestamp: UInt64
    /// SHA-256 of `output.content`: the certified leaf.
    public var contentHash: [UInt8]
}

/// A FIFO with O(1) amortised append and pop-front (an array and a head index, compacted when
/// half of it is dead), indexable from the head.
public struct MessageQueue: Sendable {
    private var storage: [QueuedMessage] = []
    private var head = 0

    public init() {}

    public var count: Int { storage.count - head }
    public var isEmpty: Bool { count == 0 }

    public subscript(index: Int) -> QueuedMessage { storage[head + index] }

    public var first: QueuedMessage? { isEmpty ? nil : storage[head] }

    public mutating func append(_ message: QueuedMessage) { storage.append(message) }

    @discardableResult
    public mutating func removeFirst() -> QueuedMessage {
        let message = storage[head]
        head += 1
        if head >= 32 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return message
    }

    /// The index of the first message whose nonce is ≥ `nonce` (binary search; nonces increase).
    public func firstIndex(nonceAtLeast nonce: UInt64) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle].nonce < nonce { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// All messages, oldest first.
    public var all: ArraySlice<QueuedMessage> { storage[head...] }
}
