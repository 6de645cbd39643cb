/// What a sequence owns in the KV cache. The scheduler keeps one per running sequence.
///
/// A plain value: the ``BlockManager`` does the reference counting, so a copy made without
/// ``BlockManager/fork(_:)`` does not own anything and must not be freed twice.
public struct BlockAllocation: Sendable {
    /// Block ids in position order: position `p` lives in `blockTable[p / blockSize]` at
    /// offset `p % blockSize`.
    public var blockTable: [Int32] = []
    /// Tokens at the start of the sequence whose K/V were found in the prefix cache at
    /// allocation: the model computes from this position on. Always a multiple of the block
    /// size and less than the prompt length.
    public var cachedTokens = 0

    public init() {}
}

/// What ``BlockManager/makeWritable(_:position:)`` did to make a position's block private.
public enum CopyOnWriteResult: Equatable, Sendable {
    /// The block was already owned by this sequence alone; nothing changed.
    case unchanged
    /// The block was shared: `new` replaced `old` in the table. The caller copies the K/V
    /// contents of block `old` into block `new` before writing.
    case copied(old: Int32, new: Int32)
    /// The block was shared and no block is free; nothing changed.
    case outOfBlocks
    /// The position lies outside the table (reserve first); nothing changed.
    case notAllocated
}
