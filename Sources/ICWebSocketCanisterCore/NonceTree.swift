import ICCore

/// The certified messages of one gateway as an incrementally hashed tree over their nonces.
///
/// The live nonces are one contiguous range `head ..< tail`: messages are appended at the tail
/// and expire at the head. The tree is built so that both ends change only a few hashes:
///
/// - A *block* is an aligned range `s ..< s + 2^j` (`s` a multiple of `2^j`) of live nonces; its
///   node is the perfect balanced fork tree over the messages'
///   `Labeled(key, Leaf(SHA-256(content)))` nodes. A block's hash never changes while it is
///   live, so it is computed once, when its last message is appended.
/// - `m` is the largest-aligned nonce in `head + 1 ... tail - 1` (the split of the smallest
///   aligned range holding every live nonce). The *left part* `head ..< m` is covered by
///   blocks growing towards `m` (the bits of `m - head`), the *right part* `m ..< tail` by
///   blocks shrinking away from `m` (the bits of `tail - m`).
/// - The left part's blocks `B_1 … B_k` (`B_1` at the head) are nested to the right,
///   `Fork(B_1, Fork(B_2, … Fork(B_{k-1}, B_k)))`, so that a change at the head re-hashes only
///   its own few outer forks; the right part's blocks `C_1 … C_k` (`C_1` at `m`) are nested to
///   the left, `Fork(Fork(Fork(C_1, C_2), …), C_k)`, so that an append does the same.
/// - The root is `Fork(left, right)`; with one live message it is that message's node.
///
/// Leaves stay in nonce order, and keys sort like nonces (20 padded digits), so labels
/// increase left to right as §4.5 requires; the shape itself is free. An append costs, amortised,
/// two fork hashes (one new block, one outer fork) plus the root's fork; so does an expiry at
/// the head. When the head passes `m`, or the tail passes the top of the aligned range, the
/// outer forks are rebuilt from the cached blocks: at most `2·log2(n)` forks, once per
/// doubling of the span. Everything is re-hashed lazily, once per `update()`.
struct NonceTree: Sendable {
    /// Complete block hashes of one size: `hashes[i]` is the block `base + i`.
    struct Level: Sendable {
        var base: UInt64
        var hashes: [[UInt8]]
    }

    /// One block of a part: size `2^level`, starting at `start`.
    struct Block: Equatable, Sendable {
        var level: Int
        var start: UInt64
    }

    private(set) var head: UInt64 = 0
    private(set) var tail: UInt64 = 0
    /// `levels[j]`: hashes of the complete live blocks of size `2^j` (level 0: the messages).
    private var levels: [Level] = []

    /// The split the parts below were built for.
    private var split: UInt64 = 0
    /// Left part, from `split` towards the head, with `leftFolds[i] = Fork(left[i], leftFolds[i-1])`.
    private var left: [Block] = []
    private var leftFolds: [[UInt8]] = []
    /// Right part, from `split` towards the tail, with `rightFolds[i] = Fork(rightFolds[i-1], right[i])`.
    private var right: [Block] = []
    private var rightFolds: [[UInt8]] = []
    private var root: [UInt8]?
    private var dirty = false

    init() {}

    var count: UInt64 { tail - head }
    var isEmpty: Bool { head == tail }

    // MARK: - Changes

    /// Appends the node hash of nonce `tail` (or of any nonce when the tree is empty).
    mutating func append(nonce: UInt64, labeledHash: [UInt8]) {
        if isEmpty { reset(at: nonce) }
        precondition(nonce == tail, "NonceTree: nonces must be appended in order")
        store(level: 0, block: nonce, labeledHash)
        tail = nonce + 1
        // Blocks that this message completes (their start must still be live).
        var level = 1
        while level < 64 {
            let size = UInt64(1) &<< UInt64(level)
            guard tail % size == 0, tail - size >= head else { break }
            let block = (tail - size) &>> UInt64(level)
            store(level: level, block: block, MessageCertification.fork(hash(level - 1, block &<< 1), hash(level - 1, block &<< 1 | 1)))
            level += 1
        }
        dirty = true
    }

    /// Removes the head nonce.
    mutating func removeFirst() {
        precondition(!isEmpty, "NonceTree: removeFirst on an empty tree")
        head += 1
        if isEmpty { reset(at: head) } else { dirty = true }
    }

    private mutating func reset(at nonce: UInt64) {
        head = nonce
        tail = nonce
        levels = []
        split = 0
        left = []
        leftFolds = []
        right = []
        rightFolds = []
        root = nil
        dirty = false
    }

    private mutating func store(level: Int, block: UInt64, _ hash: [UInt8]) {
        while levels.count <= level { levels.append(Level(base: block, hashes: [])) }
        let expected = levels[level].base + UInt64(levels[level].hashes.count)
        if levels[level].hashes.isEmpty || block != expected {
            // First block, or a gap (the blocks in between started before the head): every
            // earlier block of this size is dead.
            levels[level].base = block
            levels[level].hashes = [hash]
            return
        }
        // Drop dead blocks once they are half of the level.
        let live = head &>> UInt64(level)
        if live > levels[level].base {
            let dead = Int(min(live - levels[level].base, UInt64(levels[level].hashes.count)))
            if dead >= 32 && dead * 2 >= levels[level].hashes.count {
                levels[level].hashes.removeFirst(dead)
                levels[level].base += UInt64(dead)
            }
        }
        levels[level].hashes.append(hash)
    }

    private func hash(_ level: Int, _ block: UInt64) -> [UInt8] {
        levels[level].hashes[Int(block - levels[level].base)]
    }

    private func hash(_ block: Block) -> [UInt8] { hash(block.level, block.start &>> UInt64(block.level)) }

    // MARK: - Shape

    /// The split for the live range: the multiple of the largest power of two in
    /// `head + 1 ... tail - 1` (only meaningful with two or more live nonces).
    static func split(head: UInt64, tail: UInt64) -> UInt64 {
        let last = tail - 1
        let bit = UInt64(63 - (head ^ last).leadingZeroBitCount)
        return (last &>> bit) &<< bit
    }

    /// The left part's blocks, from `split` towards `head` (the bits of `split - head`, largest first).
    static func leftBlocks(head: UInt64, split: UInt64) -> [Block] {
        var blocks = [Block]()
        var end = split
        var distance = split - head
        blocks.reserveCapacity(distance.nonzeroBitCount)
        // Only the set bits (a loop over all 64 levels cost more than the hashing it feeds).
        while distance != 0 {
            let level = 63 - distance.leadingZeroBitCount
            let size = UInt64(1) &<< UInt64(level)
            end -= size
            blocks.append(Block(level: level, start: end))
            distance ^= size
        }
        return blocks
    }

    /// The right part's blocks, from `split` towards `tail` (the bits of `tail - split`, largest first).
    static func rightBlocks(split: UInt64, tail: UInt64) -> [Block] {
        var blocks = [Block]()
        var start = split
        var distance = tail - split
        blocks.reserveCapacity(distance.nonzeroBitCount)
        while distance != 0 {
            let level = 63 - distance.leadingZeroBitCount
            let size = UInt64(1) &<< UInt64(level)
            blocks.append(Block(level: level, start: start))
            start += size
            distance ^= size
        }
        return blocks
    }

    // MARK: - Hashing

    /// Brings the outer forks and the root up to date.
    mutating func update() {
        guard dirty else { return }
        dirty = false
        if count == 1 {
            root = hash(0, head)
            split = 0
            left = []
            leftFolds = []
            right = []
            rightFolds = []
            return
        }
        let newSplit = NonceTree.split(head: head, tail: tail)
        if newSplit != split {
            split = newSplit
            left = []
            leftFolds = []
            right = []
            rightFolds = []
        }
        // Each part keeps the blocks it shares with its new decomposition (a common prefix
        // from the split) and their folds; only the rest is hashed.
        let newLeft = NonceTree.leftBlocks(head: head, split: split)
        var keep = 0
        while keep < left.count && keep < newLeft.count && left[keep] == newLeft[keep] { keep += 1 }
        left.removeLast(left.count - keep)
        leftFolds.removeLast(leftFolds.count - keep)
        for block in newLeft[keep...] {
            let blockHash = hash(block)
            leftFolds.append(leftFolds.last.map { MessageCertification.fork(blockHash, $0) } ?? blockHash)
            left.append(block)
        }
        let newRight = NonceTree.rightBlocks(split: split, tail: tail)
        keep = 0
        while keep < right.count && keep < newRight.count && right[keep] == newRight[keep] { keep += 1 }
        right.removeLast(right.count - keep)
        rightFolds.removeLast(rightFolds.count - keep)
        for block in newRight[keep...] {
            let blockHash = hash(block)
            rightFolds.append(rightFolds.last.map { MessageCertification.fork($0, blockHash) } ?? blockHash)
            right.append(block)
        }
        root = MessageCertification.fork(leftFolds.last!, rightFolds.last!)
    }

    /// The root hash (`nil` when empty). Call `update()` first.
    var rootHash: [UInt8]? { root }

    // MARK: - Witnesses

    /// The tree with the nodes of `requested` (sorted live nonces) revealed by `reveal` and
    /// every other subtree pruned. Call `update()` first.
    func witness(requested: ArraySlice<UInt64>, reveal: (UInt64) -> HashTree) -> HashTree {
        if requested.isEmpty { return .pruned(root!) }
        if count == 1 { return reveal(head) }
        var split = requested.startIndex
        while split < requested.endIndex && requested[split] < self.split { split += 1 }
        return .fork(
            leftWitness(left.count - 1, requested[..<split], reveal),
            rightWitness(right.count - 1, requested[split...], reveal))
    }

    /// The left fold `leftFolds[index]`: `Fork(left[index], fold(index - 1))`.
    private func leftWitness(_ index: Int, _ requested: ArraySlice<UInt64>, _ reveal: (UInt64) -> HashTree) -> HashTree {
        if requested.isEmpty { return .pruned(leftFolds[index]) }
        if index == 0 { return blockWitness(left[0], requested, reveal) }
        let block = left[index]
        let end = block.start + (UInt64(1) &<< UInt64(block.level))
        var split = requested.startIndex
        while split < requested.endIndex && requested[split] < end { split += 1 }
        return .fork(blockWitness(block, requested[..<split], reveal), leftWitness(index - 1, requested[split...], reveal))
    }

    /// The right fold `rightFolds[index]`: `Fork(fold(index - 1), right[index])`.
    private func rightWitness(_ index: Int, _ requested: ArraySlice<UInt64>, _ reveal: (UInt64) -> HashTree) -> HashTree {
        if requested.isEmpty { return .pruned(rightFolds[index]) }
        if index == 0 { return blockWitness(right[0], requested, reveal) }
        let block = right[index]
        var split = requested.startIndex
        while split < requested.endIndex && requested[split] < block.start { split += 1 }
        return .fork(rightWitness(index - 1, requested[..<split], reveal), blockWitness(block, requested[split...], reveal))
    }

    private func blockWitness(_ block: Block, _ requested: ArraySlice<UInt64>, _ reveal: (UInt64) -> HashTree) -> HashTree {
        if requested.isEmpty { return .pruned(hash(block)) }
        if block.level == 0 { return reveal(block.start) }
        let half = Block(level: block.level - 1, start: block.start)
        let other = Block(level: block.level - 1, start: block.start + (UInt64(1) &<< UInt64(block.level - 1)))
        var split = requested.startIndex
        while split < requested.endIndex && requested[split] < other.start { split += 1 }
        return .fork(blockWitness(half, requested[..<split], reveal), blockWitness(other, requested[split...], reveal))
    }

    // MARK: - From scratch (tests)

    /// The whole tree for the live range `head ..< tail`, built from `leaf` alone without any
    /// cache, by the definition above (for tests of the caches).
    static func treeFromScratch(head: UInt64, tail: UInt64, leaf: (UInt64) -> HashTree) -> HashTree? {
        if head == tail { return nil }
        if tail - head == 1 { return leaf(head) }
        func block(_ start: UInt64, _ level: Int) -> HashTree {
            if level == 0 { return leaf(start) }
            let half = UInt64(1) &<< UInt64(level - 1)
            return .fork(block(start, level - 1), block(start + half, level - 1))
        }
        let split = NonceTree.split(head: head, tail: tail)
        // Left: Fork(B_1, Fork(B_2, … B_k)) with B_1 at the head; the list runs from the split.
        var leftTree: HashTree?
        for piece in leftBlocks(head: head, split: split) {
            let node = block(piece.start, piece.level)
            leftTree = leftTree.map { .fork(node, $0) } ?? node
        }
        var rightTree: HashTree?
        for piece in rightBlocks(split: split, tail: tail) {
            let node = block(piece.start, piece.level)
            rightTree = rightTree.map { .fork($0, node) } ?? node
        }
        return .fork(leftTree!, rightTree!)
    }
}
