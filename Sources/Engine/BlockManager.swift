/// Bookkeeping for the paged KV cache: which sequence owns which fixed-size block, with
/// reference counts for sharing and a prefix cache of full blocks. Touches no tensors; the
/// caller moves K/V data when told to (``makeWritable(_:position:)``).
///
/// Follows nano-vllm's `BlockManager`: a full block is identified by a hash of its tokens
/// chained with its parent block's hash (``BlockHash``); a new sequence reuses every cached
/// block of its prompt's prefix, shared rather than copied. A block whose reference count
/// drops to zero goes to the free list but keeps its hash, so it can still be hit until its
/// memory is needed. Fresh blocks are taken from the free list's front: first blocks that
/// hold nothing reusable, then cached blocks, least recently freed first; taking a cached
/// block evicts it from the cache.
///
/// Every operation either succeeds or changes nothing; none traps on bad input (block ids
/// out of range are ignored). Costs are amortized *O(1)* per block touched plus *O(1)* per
/// token hashed. Not thread-safe: the engine loop owns it.
public final class BlockManager {
    /// Tokens per block.
    public let blockSize: Int
    /// Blocks in the pool; ids are `0..<blockCount`.
    public let blockCount: Int
    /// Whether full blocks are registered and reused across sequences.
    public let prefixCaching: Bool

    private var refCounts: [Int32]          // [blockCount] sequences holding each block
    private var freeList: BlockFreeList     // blocks with refCount 0, in the order they are taken
    // Prefix-cache metadata, valid while hashKnown[b]: the block is full and its contents are
    // those the hash describes. A block is *cached* when blockByHash maps its hash back to it.
    private var hashKnown: [Bool]           // [blockCount]
    private var blockHashes: [UInt64]       // [blockCount] chained hash of the block
    private var parentHashes: [UInt64]      // [blockCount] hash of the block before it (or BlockHash.root)
    private var storedTokens: [Int]         // [blockCount * blockSize] tokens of cached blocks, to verify hits
    private var blockByHash: [UInt64: Int32] = [:]

    /// Prompt tokens looked up in the prefix cache by successful ``allocate(promptTokens:)`` calls.
    public private(set) var prefixQueriedTokens = 0
    /// Of those, tokens whose K/V were found in the cache.
    public private(set) var prefixHitTokens = 0

    /// A pool of `blockCount` blocks of `blockSize` tokens, all free. Nonsensical sizes are
    /// clamped (at least 1 token per block, at least 0 blocks) rather than trapping.
    public init(blockCount: Int, blockSize: Int = 16, prefixCaching: Bool = true) {
        self.blockCount = max(0, min(blockCount, Int(Int32.max)))
        self.blockSize = max(1, blockSize)
        self.prefixCaching = prefixCaching
        let n = self.blockCount
        refCounts = Array(repeating: 0, count: n)
        freeList = BlockFreeList(capacity: n)
        for b in 0..<n { freeList.pushBack(Int32(b)) }
        hashKnown = Array(repeating: false, count: n)
        blockHashes = Array(repeating: 0, count: n)
        parentHashes = Array(repeating: 0, count: n)
        storedTokens = prefixCaching ? Array(repeating: 0, count: n * self.blockSize) : []
    }

    // MARK: - Counts

    /// Blocks needed to hold `tokens` positions.
    public func blocksNeeded(_ tokens: Int) -> Int {
        tokens <= 0 ? 0 : (tokens - 1) / blockSize + 1
    }

    /// Blocks no sequence holds (including cached ones that can still be hit or evicted).
    public var freeBlockCount: Int { freeList.count }
    /// Blocks held by at least one sequence.
    public var usedBlockCount: Int { blockCount - freeList.count }
    /// Fraction of the pool held by sequences, 0...1.
    public var usage: Double { blockCount == 0 ? 0 : Double(usedBlockCount) / Double(blockCount) }
    /// Blocks currently registered in the prefix cache, in use or free.
    public var cachedBlockCount: Int { blockByHash.count }
    /// ``prefixHitTokens`` / ``prefixQueriedTokens``, or 0 before any query.
    public var prefixHitRate: Double {
        prefixQueriedTokens == 0 ? 0 : Double(prefixHitTokens) / Double(prefixQueriedTokens)
    }

    // MARK: - Allocation

    /// Allocates blocks for a new sequence whose first `promptTokens.count` tokens are known.
    ///
    /// Reuses the longest run of cached full blocks at the start of the prompt (shared, with
    /// their reference counts raised) and takes fresh blocks for the rest, so the table covers
    /// `promptTokens.count` positions; `cachedTokens` says where computing starts.
    ///
    /// Last-token rule: the block holding the last prompt token is never reused, even when
    /// cached, because the model must compute that token to get the logits that sample the
    /// next one. It gets a fresh block and is recomputed whole (at most `blockSize` tokens),
    /// which keeps shared blocks read-only: computing always starts at a block boundary in a
    /// block this sequence owns alone. So `cachedTokens <= promptTokens.count - 1`.
    ///
    /// Returns nil, changing nothing, if there are not enough free blocks.
    public func allocate(promptTokens: [Int]) -> BlockAllocation? {
        let hits = cachedPrefix(of: promptTokens)
        guard fits(promptCount: promptTokens.count, hits: hits) else { return nil }
        var allocation = BlockAllocation()
        allocation.blockTable.reserveCapacity(blocksNeeded(promptTokens.count))
        for block in hits {
            retain(block)
            allocation.blockTable.append(block)
        }
        appendFreshBlocks(blocksNeeded(promptTokens.count) - hits.count, to: &allocation.blockTable)
        allocation.cachedTokens = hits.count * blockSize
        if prefixCaching {
            prefixQueriedTokens += promptTokens.count
            prefixHitTokens += allocation.cachedTokens
        }
        return allocation
    }

    /// Whether ``allocate(promptTokens:)`` would succeed now (changes nothing).
    public func canAllocate(promptTokens: [Int]) -> Bool {
        fits(promptCount: promptTokens.count, hits: cachedPrefix(of: promptTokens))
    }

    /// Grows `allocation` so it covers `tokens` positions (decode appends and chunked
    /// prefill). Returns false, changing nothing, if there are not enough free blocks.
    public func reserve(_ allocation: inout BlockAllocation, tokens: Int) -> Bool {
        let needed = blocksNeeded(tokens) - allocation.blockTable.count
        guard needed > 0 else { return true }
        guard needed <= freeList.count else { return false }
        appendFreshBlocks(needed, to: &allocation.blockTable)
        return true
    }

    /// Shares all blocks of `allocation` with a new sequence (n > 1 samples of one prompt):
    /// each block's reference count goes up by one. The copy has the same table; whichever
    /// sequence writes into a shared block first calls ``makeWritable(_:position:)``.
    public func fork(_ allocation: BlockAllocation) -> BlockAllocation {
        for block in allocation.blockTable { retain(block) }
        return allocation
    }

    /// Makes the block holding `position` private to this sequence before it is written.
    ///
    /// If another sequence shares it, a fresh block replaces it in the table and the result
    /// names both, so the caller copies the K/V contents from `old` to `new`. Only positions
    /// the sequence has not computed yet should be written: full cached blocks are read-only.
    public func makeWritable(_ allocation: inout BlockAllocation, position: Int) -> CopyOnWriteResult {
        guard position >= 0, position / blockSize < allocation.blockTable.count else { return .notAllocated }
        let index = position / blockSize
        let old = allocation.blockTable[index]
        guard isValid(old), refCounts[Int(old)] > 1 else { return .unchanged }
        guard let new = takeFreshBlock() else { return .outOfBlocks }
        refCounts[Int(old)] -= 1  // still > 0: stays out of the free list
        allocation.blockTable[index] = new
        return .copied(old: old, new: new)
    }

    /// Releases a sequence's blocks and empties `allocation`. Blocks nobody holds any more
    /// go to the free list: cached ones at the back (evicted least recently freed first),
    /// others at the front. The table is walked backwards so that a sequence's later blocks
    /// are evicted before its earlier ones, which more prompts share.
    public func free(_ allocation: inout BlockAllocation) {
        for block in allocation.blockTable.reversed() { release(block) }
        allocation = BlockAllocation()
    }

    // MARK: - Prefix cache

    /// Registers every block of the sequence that is now full and computed, so later
    /// requests can reuse it. Call after the model has written K/V for
    /// `tokens[0..<computedTokens]`; `tokens` is the sequence's full token list so far.
    ///
    /// Blocks are hashed in order; a block's hash needs its parent's, so the walk starts
    /// after the last block whose hash is already known (amortized *O(1)* per new block).
    /// When another block already holds the same hash, that one stays the cached copy.
    public func commit(_ allocation: BlockAllocation, tokens: [Int], computedTokens: Int) {
        guard prefixCaching else { return }
        let table = allocation.blockTable
        let full = max(0, min(computedTokens, tokens.count, table.count * blockSize)) / blockSize
        var start = full
        while start > 0, isValid(table[start - 1]), !hashKnown[Int(table[start - 1])] { start -= 1 }
        guard start < full else { return }
        if start > 0, !isValid(table[start - 1]) { return }
        var parent = start == 0 ? BlockHash.root : blockHashes[Int(table[start - 1])]
        for i in start..<full {
            let block = table[i]
            // A block nobody holds (a stale allocation) may already be reused: leave it.
            guard isValid(block), refCounts[Int(block)] > 0 else { return }
            let b = Int(block)
            let range = (i * blockSize)..<((i + 1) * blockSize)
            let hash = BlockHash.hash(parent: parent, tokens: tokens[range])
            hashKnown[b] = true
            blockHashes[b] = hash
            parentHashes[b] = parent
            if blockByHash[hash] == nil {
                blockByHash[hash] = block
                storedTokens.replaceSubrange((b * blockSize)..<((b + 1) * blockSize), with: tokens[range])
            }
            parent = hash
        }
    }

    /// The cached blocks that hold the start of `tokens`, in order, within the last-token
    /// rule of ``allocate(promptTokens:)``. Changes nothing.
    private func cachedPrefix(of tokens: [Int]) -> [Int32] {
        guard prefixCaching, tokens.count > 1 else { return [] }
        let reusable = (tokens.count - 1) / blockSize  // full blocks before the last token's
        var hits: [Int32] = []
        var parent = BlockHash.root
        for i in 0..<reusable {
            let range = (i * blockSize)..<((i + 1) * blockSize)
            let hash = BlockHash.hash(parent: parent, tokens: tokens[range])
            // A hash match alone could be a collision: the parent and tokens must match too.
            guard let block = blockByHash[hash],
                  parentHashes[Int(block)] == parent,
                  storedTokens[(Int(block) * blockSize)..<((Int(block) + 1) * blockSize)].elementsEqual(tokens[range])
            else { break }
            hits.append(block)
            parent = hash
        }
        return hits
    }

    /// Whether a prompt of `promptCount` tokens fits given its cache hits: the fresh blocks
    /// plus the hit blocks that must leave the free list.
    private func fits(promptCount: Int, hits: [Int32]) -> Bool {
        let fresh = blocksNeeded(promptCount) - hits.count
        let revived = hits.reduce(0) { $0 + (refCounts[Int($1)] == 0 ? 1 : 0) }
        return fresh + revived <= freeList.count
    }

    // MARK: - Reference counts

    private func isValid(_ block: Int32) -> Bool { block >= 0 && Int(block) < blockCount }

    /// The block is cached when the hash table points back at it.
    private func isCached(_ b: Int) -> Bool {
        hashKnown[b] && blockByHash[blockHashes[b]] == Int32(b)
    }

    private func retain(_ block: Int32) {
        guard isValid(block) else { return }
        if refCounts[Int(block)] == 0 { freeList.remove(block) }
        refCounts[Int(block)] += 1
    }

    private func release(_ block: Int32) {
        guard isValid(block), refCounts[Int(block)] > 0 else { return }  // already free: freed twice
        let b = Int(block)
        refCounts[b] -= 1
        guard refCounts[b] == 0 else { return }
        if isCached(b) {
            freeList.pushBack(block)
        } else {
            hashKnown[b] = false  // its contents will not be looked up again
            freeList.pushFront(block)
        }
    }

    /// Takes the front free block for new contents, evicting it from the cache if needed.
    private func takeFreshBlock() -> Int32? {
        guard let block = freeList.popFront() else { return nil }
        let b = Int(block)
        if isCached(b) { blockByHash[blockHashes[b]] = nil }
        hashKnown[b] = false
        refCounts[b] = 1
        return block
    }

    /// Appends `count` fresh blocks; callers have checked that enough are free.
    private func appendFreshBlocks(_ count: Int, to table: inout [Int32]) {
        for _ in 0..<max(0, count) {
            guard let block = takeFreshBlock() else { return }
            table.append(block)
        }
    }

    // MARK: - Checks

    /// Checks the bookkeeping is consistent: the free list holds exactly the blocks with
    /// reference count 0, uncached ones ahead of cached ones; every cache entry points at a
    /// block with that hash; free blocks with a known hash are cached. Engine tests use it
    /// with ``usedBlockCount`` `== 0` to assert every block came back. *O(blockCount)*.
    public func debugCheckInvariants() -> Bool {
        var unreferenced = 0
        for b in 0..<blockCount {
            if refCounts[b] < 0 { return false }
            if refCounts[b] == 0 {
                unreferenced += 1
                if !freeList.contains(Int32(b)) { return false }
                if hashKnown[b], !isCached(b) { return false }
            } else if freeList.contains(Int32(b)) {
                return false
            }
        }
        let order = freeList.elements
        guard unreferenced == freeList.count, order.count == freeList.count else { return false }
        var seenCached = false
        for block in order {
            let cached = isCached(Int(block))
            if seenCached, !cached { return false }
            seenCached = seenCached || cached
        }
        for (hash, block) in blockByHash {
            guard isValid(block), hashKnown[Int(block)], blockHashes[Int(block)] == hash else { return false }
        }
        return freeBlockCount + usedBlockCount == blockCount
    }

    /// Reference count of `block` (tests).
    func refCount(of block: Int32) -> Int { isValid(block) ? Int(refCounts[Int(block)]) : 0 }

    /// Whether `block` is registered in the prefix cache (tests).
    func isCached(block: Int32) -> Bool { isValid(block) && isCached(Int(block)) }

    /// Free blocks in the order fresh blocks are taken (tests).
    var freeOrder: [Int32] { freeList.elements }
}
