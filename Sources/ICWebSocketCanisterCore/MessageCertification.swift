import ICCore
import ICWebSocketProtocol

/// Hashing for the certified tree of queued messages (protocol §4.5).
///
/// Shape (the protocol fixes the hashing rules and label order, not the shape):
/// `Labeled("websocket", T)`, where `T` is a balanced fork tree over the gateways that have
/// messages (in byte order of `<gateway text>_`, so keys stay sorted: a gateway's keys are
/// contiguous because principal text never contains `_`), each gateway a `NonceTree` over its
/// messages' `Labeled(key, Leaf(SHA-256(content)))` nodes, shaped so that an append or an
/// expiry re-hashes about two forks (amortised) however long the queue is.
enum MessageCertification {
    static let forkDomain: [UInt8] = [16] + UTF8Text("ic-hashtree-fork").utf8
    static let labeledDomain: [UInt8] = [19] + UTF8Text("ic-hashtree-labeled").utf8
    static let leafDomain: [UInt8] = [16] + UTF8Text("ic-hashtree-leaf").utf8

    /// `h(Leaf(contentHash))`.
    static func leafHash(_ contentHash: [UInt8]) -> [UInt8] {
        var leaf = SHA256()
        leaf.update(leafDomain)
        leaf.update(contentHash)
        return leaf.finalize()
    }

    /// `h(Labeled(key, Leaf(contentHash)))`.
    static func labeledHash(key: [UInt8], contentHash: [UInt8]) -> [UInt8] {
        var labeled = SHA256()
        labeled.update(labeledDomain)
        labeled.update(key)
        labeled.update(leafHash(contentHash))
        return labeled.finalize()
    }

    static func fork(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(forkDomain)
        hasher.update(left)
        hasher.update(right)
        return hasher.finalize()
    }

    /// The hash of the balanced fork tree over `count` items (`HashTree.balancedForks` split:
    /// the first `count / 2` on the left).
    static func forkDigest(_ range: Range<Int>, _ digest: (Int) -> [UInt8]) -> [UInt8] {
        switch range.count {
        case 0: return HashTree.emptyHash
        case 1: return digest(range.lowerBound)
        default:
            let middle = range.lowerBound + range.count / 2
            return fork(forkDigest(range.lowerBound..<middle, digest), forkDigest(middle..<range.upperBound, digest))
        }
    }

    /// The same balanced tree with the items in `requested` (sorted) revealed by `reveal` and
    /// every other subtree pruned.
    static func forkWitness(
        _ range: Range<Int>, requested: ArraySlice<Int>, digest: (Int) -> [UInt8], reveal: (Int, ArraySlice<Int>) -> HashTree
    ) -> HashTree {
        if range.isEmpty { return .empty }
        if requested.isEmpty { return .pruned(forkDigest(range, digest)) }
        if range.count == 1 { return reveal(range.lowerBound, requested) }
        let middle = range.lowerBound + range.count / 2
        var split = requested.startIndex
        while split < requested.endIndex && requested[split] < middle { split += 1 }
        return .fork(
            forkWitness(range.lowerBound..<middle, requested: requested[..<split], digest: digest, reveal: reveal),
            forkWitness(middle..<range.upperBound, requested: requested[split...], digest: digest, reveal: reveal))
    }

    /// The sort key of a gateway's range of message keys.
    static func gatewayOrderKey(_ gateway: Principal) -> [UInt8] {
        gateway.textBytes + [UInt8(ascii: "_")]
    }
}
