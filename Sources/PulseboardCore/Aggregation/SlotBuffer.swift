#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fixed-size storage for a hash table's slots, zeroed by `calloc` and copied on write.
///
/// `Array(repeating:count:)` writes every byte before it returns, so doubling a table of
/// millions of ids (256 MB when the dedup set passes 4 M ids) stalled every batch behind the lock
/// for hundreds of milliseconds. A large `calloc` gets fresh pages that the kernel maps on first
/// use, so allocating costs nothing up front and the page faults spread over the operations
/// that fill the table.
struct SlotBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    // @unchecked: the storage is only written through a uniquely referenced buffer (copy on
    // write, as an array), so a shared one is read-only.
    final class Storage {
        let base: UnsafeMutablePointer<Element>

        /// `count` elements whose bytes are all zero.
        init(zeroed count: Int) {
            guard let raw = calloc(max(count, 1), MemoryLayout<Element>.stride) else {
                fatalError("out of memory: \(count) slots of \(MemoryLayout<Element>.stride) bytes")
            }
            base = raw.bindMemory(to: Element.self, capacity: max(count, 1))
        }

        init(copying source: UnsafeBufferPointer<Element>) {
            let count = source.count
            guard let raw = malloc(max(count, 1) * MemoryLayout<Element>.stride) else {
                fatalError("out of memory: \(count) slots of \(MemoryLayout<Element>.stride) bytes")
            }
            base = raw.bindMemory(to: Element.self, capacity: max(count, 1))
            if let from = source.baseAddress { base.initialize(from: from, count: count) }
        }

        deinit { free(base) }
    }

    private var storage: Storage?
    /// `storage`'s elements, kept here so that a read is one load, not two.
    private var base: UnsafeMutablePointer<Element>?
    private(set) var count = 0

    /// No slots.
    init() {}

    /// `count` slots, every byte zero.
    init(zeroed count: Int) {
        guard count > 0 else { return }
        let storage = Storage(zeroed: count)
        self.storage = storage
        self.base = storage.base
        self.count = count
    }

    /// The slots of an array (a checkpoint being read).
    init(_ elements: [Element]) {
        guard !elements.isEmpty else { return }
        let storage = elements.withUnsafeBufferPointer { Storage(copying: $0) }
        self.storage = storage
        self.base = storage.base
        self.count = elements.count
    }

    @inline(__always) var isEmpty: Bool { count == 0 }

    @inline(__always)
    subscript(i: Int) -> Element {
        get {
            precondition(UInt(bitPattern: i) < UInt(bitPattern: count), "slot index out of range")
            return base.unsafelyUnwrapped[i]
        }
        set {
            precondition(UInt(bitPattern: i) < UInt(bitPattern: count), "slot index out of range")
            makeUnique()
            base.unsafelyUnwrapped[i] = newValue
        }
    }

    @inline(__always)
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    /// The slots for writing, made unique once for the whole of `body`.
    @inline(__always)
    mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Element>) throws -> R) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: base, count: count))
    }

    /// Writes a zero byte at slot `i`, so its page is mapped now. Only for a buffer whose bytes
    /// are all still zero (`init(zeroed:)`, nothing stored yet), which it leaves so.
    @inline(__always)
    mutating func touchPage(at i: Int) {
        precondition(UInt(bitPattern: i) < UInt(bitPattern: count), "slot index out of range")
        makeUnique()
        UnsafeMutableRawPointer(base.unsafelyUnwrapped + i).storeBytes(of: 0, as: UInt8.self)
    }

    /// Gives the pages that lie wholly inside `slots` back to the kernel, which maps them
    /// afresh, zeroed, if they are used again. Only for slots that are all zero already (a
    /// table's migrated part), so nothing changes but the memory held; a shared buffer is left
    /// as it is. Freeing a 128 MB table in one go took 31 ms behind the ingest lock; in 1 MiB
    /// pieces as its slots are emptied, no piece takes more than a fraction of a millisecond.
    mutating func releasePages(_ slots: Range<Int>) {
        precondition(slots.lowerBound >= 0 && slots.upperBound <= count, "slot range out of bounds")
        guard isKnownUniquelyReferenced(&storage), let base else { return }
        assert(UnsafeBufferPointer(rebasing: UnsafeBufferPointer(start: base, count: count)[slots]).allSatisfy {
            withUnsafeBytes(of: $0) { $0.allSatisfy { $0 == 0 } }
        }, "released slots must be empty")
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base + slots.lowerBound) + page - 1) / page * page
        let end = Int(bitPattern: base + slots.upperBound) / page * page
        guard end > start, let address = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(address, end - start, MADV_DONTNEED)
    }

    @inline(__always)
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage), let shared = storage {
            let copy = Storage(copying: UnsafeBufferPointer(start: shared.base, count: count))
            storage = copy
            base = copy.base
        }
    }
}
