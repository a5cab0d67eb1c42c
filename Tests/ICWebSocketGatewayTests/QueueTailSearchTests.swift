import Foundation
import ICWebSocketGateway
import Testing

/// The tail search against simulated queues that answer `ws_get_messages` as the CDKs do:
/// the messages from the probed nonce on, at most 50, and whether that reaches the end.
struct QueueTailSearchTests {
    /// A queue holding nonces `first...last` (empty when `last < first`).
    struct SimulatedQueue {
        let first: UInt64
        let last: UInt64
        var pageSize: UInt64 = 50

        func page(from nonce: UInt64) -> QueueTailSearch.Page {
            let start = max(nonce, first)
            guard last >= first, start <= last else { return .init(firstNonce: nil, lastNonce: nil, isEndOfQueue: true) }
            let end = min(last, start + pageSize - 1)
            return .init(firstNonce: start, lastNonce: end, isEndOfQueue: end == last)
        }
    }

    /// Runs the search to its end; returns the start and the number of probes.
    static func search(_ queue: SimulatedQueue) -> (start: UInt64?, probes: Int) {
        var search = QueueTailSearch()
        while case .probe(let nonce) = search.next { search.record(probe: nonce, page: queue.page(from: nonce)) }
        guard case .done(let start) = search.next else { return (nil, search.probes) }
        return (start, search.probes)
    }

    @Test(arguments: [
        (UInt64(0), UInt64(0)), (0, 49), (0, 50), (0, 51), (0, 999), (1_000, 1_049), (1_000, 5_000),
        (7, 100_000), (0, 1_000_000), (123_456, 9_876_543),
    ])
    func startsOnTheLastPageOfAnyQueue(first: UInt64, last: UInt64) {
        let queue = SimulatedQueue(first: first, last: last)
        let (start, probes) = Self.search(queue)
        let fitsInOnePage = last - first < 50
        if fitsInOnePage {
            #expect(start == nil, "a queue that fits in one page is read from the start")
            #expect(probes == 1)
        } else {
            let start = try! #require(start)
            // Nothing after `start` is skipped, and its page reaches the end.
            #expect(start >= first && start <= last)
            #expect(queue.page(from: start).isEndOfQueue)
            #expect(last - start < 50)
            // About 2 log2(n / 50) queries.
            let pages = Double(last - first + 1) / 50
            #expect(Double(probes) <= 2 * log2(max(pages, 2)) + 4, "\(probes) probes")
        }
    }

    @Test func anEmptyQueueNeedsOneProbe() {
        let (start, probes) = Self.search(SimulatedQueue(first: 1, last: 0))
        #expect(start == nil)
        #expect(probes == 1)
    }

    @Test func theProbeBudgetEndsOnAnExistingNonce() {
        let queue = SimulatedQueue(first: 0, last: 1_000_000_000)
        var search = QueueTailSearch(maxProbes: 5)
        while case .probe(let nonce) = search.next { search.record(probe: nonce, page: queue.page(from: nonce)) }
        guard case .done(let start?) = search.next else {
            Issue.record("expected a start nonce, got \(search.next)")
            return
        }
        #expect(search.probes == 5)
        #expect(start <= queue.last, "the start exists, so the poller's first batch begins there")
        #expect(queue.page(from: start).firstNonce == start)
    }
}
