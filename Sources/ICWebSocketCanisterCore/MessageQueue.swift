import ICCore
import ICWebSocketProtocol

/// One queued outgoing message with what the canister needs to prune and certify it.
///
/// Its key (`<gateway>_<nonce>`) is not stored: `send` only hashes the nonce's digits after the
/// gateway's cached prefix, and the key text is made when a poll returns the message (a query,
/// which costs the canister no cycles).
public struct QueuedMessage: Sendable {
    public var clientKey: ClientKey
    /// The CBOR bytes of the `WebsocketMessage` (§2.7), exactly as certified.
    public var content: [UInt8]
    /// The key's nonce (the queue is ordered by it).
    public var nonce: UInt64
    /// IC time when the message was queued (for cleanup, §4.7).
    public var timestamp: UInt64
    /// SHA-256 of `content`: the certified leaf.
    public var contentHash: [UInt8]

    public init(clientKey: ClientKey, content: [UInt8], nonce: UInt64, timestamp: UInt64, contentHash: [UInt8]) {
        self.clientKey = clientKey
        self.content = content
        self.nonce = nonce
        self.timestamp = timestamp
        self.contentHash = contentHash
    }

    /// Its certification key under the gateway whose key prefix (`<gateway text>_`) is given.
    /// One exactly sized array, the prefix copied with `memory.copy` (a poll makes one per
    /// returned message, for its witness).
    func keyBytes(prefix: [UInt8]) -> [UInt8] {
        let count = prefix.count + MessageKey.nonceDigits
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            prefix.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
            MessageKey.writeDigits(nonce, to: buffer.baseAddress! + prefix.count)
            initialized = count
        }
    }
}

/// The messages one `ws_get_messages` returns, with their certificate and witness, before the
/// keys are made text (`GetMessagesReply` writes them straight into the reply).
public struct PolledBatch: Sendable {
    public var messages: [QueuedMessage]
    /// `<gateway principal text>_`: each message's key is this and its nonce's 20 digits.
    public var keyPrefix: [UInt8]
    public var cert: [UInt8]
    public var tree: [UInt8]
    public var isEndOfQueue: Bool

    public init(messages: [QueuedMessage], keyPrefix: [UInt8], cert: [UInt8], tree: [UInt8], isEndOfQueue: Bool) {
        self.messages = messages
        self.keyPrefix = keyPrefix
        self.cert = cert
        self.tree = tree
        self.isEndOfQueue = isEndOfQueue
    }

    /// The protocol's value of the same batch.
    public var output: CanisterOutputCertifiedMessages {
        CanisterOutputCertifiedMessages(
            messages: messages.map {
                CanisterOutputMessage(
                    clientKey: $0.clientKey, key: String(decoding: $0.keyBytes(prefix: keyPrefix), as: UTF8.self), content: $0.content)
            },
            cert: cert, tree: tree, isEndOfQueue: isEndOfQueue)
    }
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
