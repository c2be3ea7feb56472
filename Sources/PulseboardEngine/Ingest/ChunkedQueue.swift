import DequeModule

/// A first-in first-out queue kept in fixed-size chunks, so its elements never move: appending
/// to a queue of millions costs what appending to an empty one does. (A `Deque` doubles by
/// copying every element: 64 MB in one call for the dedup set's 4 M ids, behind the ingest lock.)
struct ChunkedQueue<Element: Sendable>: Sendable {
    /// Elements per chunk (64 KiB of 16-byte elements).
    static var chunkCapacity: Int { 4096 }

    private var chunks: Deque<[Element]> = []
    /// Index of the first element in `chunks.first`.
    private var head = 0
    private(set) var count = 0

    init() {}

    var isEmpty: Bool { count == 0 }
    var first: Element? { count == 0 ? nil : chunks[0][head] }
    var last: Element? { count == 0 ? nil : chunks[chunks.count - 1].last }

    mutating func append(_ element: Element) {
        if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkCapacity {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkCapacity)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        count += 1
    }

    @discardableResult
    mutating func removeFirst() -> Element {
        precondition(count > 0, "removeFirst on an empty queue")
        let element = chunks[0][head]
        head += 1
        count -= 1
        if head == chunks[0].count {
            chunks.removeFirst()
            head = 0
        }
        return element
    }

    @discardableResult
    mutating func removeLast() -> Element {
        precondition(count > 0, "removeLast on an empty queue")
        let element = chunks[chunks.count - 1].removeLast()
        count -= 1
        let live = chunks.count == 1 ? chunks[0].count - head : chunks[chunks.count - 1].count
        if live == 0 {
            chunks.removeLast()
            if chunks.isEmpty { head = 0 }
        }
        return element
    }

    /// Calls `body` on every element, oldest first.
    func forEach(_ body: (Element) throws -> Void) rethrows {
        for (n, chunk) in chunks.enumerated() {
            for element in chunk[(n == 0 ? head : 0)...] { try body(element) }
        }
    }
}
