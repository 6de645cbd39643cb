/// The free KV blocks in eviction order: a doubly linked list threaded through two arrays
/// indexed by block id, so pushing at either end, popping the front and unlinking any block
/// are all *O(1)* without allocating.
///
/// The ``BlockManager`` pushes blocks that hold nothing reusable at the front and cached
/// blocks at the back, so the front is always taken first: empty blocks before cached ones,
/// and among cached ones the least recently freed (LRU).
struct BlockFreeList {
    private static let none: Int32 = -1

    private var prev: [Int32]    // [blockCount] previous block in the list, or none
    private var next: [Int32]    // [blockCount] next block in the list, or none
    private var linked: [Bool]   // [blockCount] whether the block is in the list
    /// The block taken first, or -1 when empty.
    private(set) var head: Int32 = none
    /// The most recently pushed-back block, or -1 when empty.
    private(set) var tail: Int32 = none
    private(set) var count = 0

    /// An empty list for block ids `0..<capacity`.
    init(capacity: Int) {
        prev = Array(repeating: Self.none, count: capacity)
        next = Array(repeating: Self.none, count: capacity)
        linked = Array(repeating: false, count: capacity)
    }

    func contains(_ block: Int32) -> Bool { linked[Int(block)] }

    /// Links `block` at the front (taken next). Ignored if it is already in the list.
    mutating func pushFront(_ block: Int32) {
        let b = Int(block)
        guard !linked[b] else { return }
        linked[b] = true
        prev[b] = Self.none
        next[b] = head
        if head != Self.none { prev[Int(head)] = block } else { tail = block }
        head = block
        count += 1
    }

    /// Links `block` at the back (taken last). Ignored if it is already in the list.
    mutating func pushBack(_ block: Int32) {
        let b = Int(block)
        guard !linked[b] else { return }
        linked[b] = true
        next[b] = Self.none
        prev[b] = tail
        if tail != Self.none { next[Int(tail)] = block } else { head = block }
        tail = block
        count += 1
    }

    /// Unlinks `block` wherever it is. Ignored if it is not in the list.
    mutating func remove(_ block: Int32) {
        let b = Int(block)
        guard linked[b] else { return }
        let p = prev[b], n = next[b]
        if p != Self.none { next[Int(p)] = n } else { head = n }
        if n != Self.none { prev[Int(n)] = p } else { tail = p }
        prev[b] = Self.none
        next[b] = Self.none
        linked[b] = false
        count -= 1
    }

    /// Unlinks and returns the front block, or nil when the list is empty.
    mutating func popFront() -> Int32? {
        guard head != Self.none else { return nil }
        let block = head
        remove(block)
        return block
    }

    /// The blocks front to back (for invariant checks and tests; *O(n)*).
    var elements: [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(count)
        var b = head
        while b != Self.none, result.count <= count {
            result.append(b)
            b = next[Int(b)]
        }
        return result
    }
}
