import XCTest
@testable import Engine

final class BlockManagerTests: XCTestCase {
    /// `count` distinct tokens starting at `start`.
    private func tokens(_ start: Int, _ count: Int) -> [Int] { Array(start..<(start + count)) }

    /// Allocates and marks the whole prompt computed, as after a prefill.
    private func prefill(_ manager: BlockManager, _ prompt: [Int], file: StaticString = #filePath, line: UInt = #line) -> BlockAllocation {
        guard let allocation = manager.allocate(promptTokens: prompt) else {
            XCTFail("allocation failed", file: file, line: line)
            return BlockAllocation()
        }
        manager.commit(allocation, tokens: prompt, computedTokens: prompt.count)
        return allocation
    }

    func testBlocksNeededAndCounts() {
        let manager = BlockManager(blockCount: 10)
        XCTAssertEqual(manager.blockSize, 16)
        XCTAssertEqual(manager.blocksNeeded(0), 0)
        XCTAssertEqual(manager.blocksNeeded(1), 1)
        XCTAssertEqual(manager.blocksNeeded(16), 1)
        XCTAssertEqual(manager.blocksNeeded(17), 2)
        XCTAssertEqual(manager.freeBlockCount, 10)
        XCTAssertEqual(manager.usedBlockCount, 0)
        var allocation = manager.allocate(promptTokens: tokens(0, 33))!
        XCTAssertEqual(allocation.blockTable.count, 3)
        XCTAssertEqual(Set(allocation.blockTable).count, 3)
        XCTAssertEqual(allocation.cachedTokens, 0)
        XCTAssertEqual(manager.usedBlockCount, 3)
        XCTAssertEqual(manager.usage, 0.3, accuracy: 1e-12)
        XCTAssertTrue(manager.reserve(&allocation, tokens: 48))
        XCTAssertEqual(allocation.blockTable.count, 3)
        XCTAssertTrue(manager.reserve(&allocation, tokens: 49))
        XCTAssertEqual(allocation.blockTable.count, 4)
        manager.free(&allocation)
        XCTAssertTrue(allocation.blockTable.isEmpty)
        XCTAssertEqual(manager.usedBlockCount, 0)
        XCTAssertTrue(manager.debugCheckInvariants())
    }

    func testPrefixReuseSharesFullBlocks() {
        let manager = BlockManager(blockCount: 20)
        let first = tokens(0, 50)
        var a = prefill(manager, first)
        XCTAssertEqual(manager.cachedBlockCount, 3)  // the 4th block holds only 2 tokens

        let second = Array(first[0..<48]) + tokens(1000, 20)
        var b = manager.allocate(promptTokens: second)!
        XCTAssertEqual(b.cachedTokens, 48)
        XCTAssertEqual(Array(b.blockTable[0..<3]), Array(a.blockTable[0..<3]))
        XCTAssertEqual(b.blockTable.count, 5)
        XCTAssertTrue(Set(b.blockTable[3...]).isDisjoint(with: a.blockTable))
        for block in a.blockTable[0..<3] { XCTAssertEqual(manager.refCount(of: block), 2) }
        XCTAssertEqual(manager.usedBlockCount, 4 + 2)

        // Shared blocks survive the first owner's free.
        manager.free(&a)
        for block in b.blockTable[0..<3] { XCTAssertEqual(manager.refCount(of: block), 1) }
        manager.free(&b)
        XCTAssertEqual(manager.usedBlockCount, 0)
        XCTAssertTrue(manager.debugCheckInvariants())
    }

    func testHashChainDistinguishesParents() {
        let manager = BlockManager(blockCount: 20, blockSize: 4)
        let x = [1, 2, 3, 4], y = [5, 6, 7, 8], w = [9, 9, 9, 9]
        _ = prefill(manager, x + y + [0])
        XCTAssertEqual(manager.cachedBlockCount, 2)
        // Same second block under a different first block: no reuse at all.
        XCTAssertEqual(manager.allocate(promptTokens: w + y + [0])!.cachedTokens, 0)
        // y alone as the first block is a different chain position too.
        XCTAssertEqual(manager.allocate(promptTokens: y + [0])!.cachedTokens, 0)
        // Matching first block, different second: reuse stops at the first miss.
        XCTAssertEqual(manager.allocate(promptTokens: x + w + y + [0])!.cachedTokens, 4)
        XCTAssertEqual(manager.allocate(promptTokens: x + y + [7])!.cachedTokens, 8)
        XCTAssertTrue(manager.debugCheckInvariants())
    }

    func testBlockHashIsOrderSensitiveAndChained() {
        let a = BlockHash.hash(parent: BlockHash.root, tokens: [1, 2, 3, 4][...])
        XCTAssertNotEqual(a, BlockHash.hash(parent: BlockHash.root, tokens: [2, 1, 3, 4][...]))
        XCTAssertNotEqual(a, BlockHash.hash(parent: a, tokens: [1, 2, 3, 4][...]))
        XCTAssertEqual(a, BlockHash.hash(parent: BlockHash.root, tokens: [0, 1, 2, 3, 4][1...]))
    }

    func testLRUEvictionOrderAndEvictedHashesStopHitting() {
        let manager = BlockManager(blockCount: 4, blockSize: 4)
        let a = [1, 1, 1, 1], b = [2, 2, 2, 2], c = [3, 3, 3, 3]
        var sa = prefill(manager, a), sb = prefill(manager, b), sc = prefill(manager, c)
        let (blockA, blockB, blockC) = (sa.blockTable[0], sb.blockTable[0], sc.blockTable[0])
        manager.free(&sa); manager.free(&sb); manager.free(&sc)
        XCTAssertEqual(manager.freeBlockCount, 4)
        XCTAssertEqual(manager.cachedBlockCount, 3)
        // The never-used block is taken first, then cached ones least recently freed first.
        XCTAssertEqual(Array(manager.freeOrder[1...]), [blockA, blockB, blockC])

        // A hit takes B out of the free list; freeing it again makes it the most recent.
        var hitB = manager.allocate(promptTokens: b + [0])!
        XCTAssertEqual(hitB.cachedTokens, 4)
        XCTAssertEqual(hitB.blockTable[0], blockB)
        manager.free(&hitB)
        XCTAssertEqual(Array(manager.freeOrder[1...]), [blockA, blockC, blockB])

        // Two fresh blocks: the empty one, then A is evicted.
        var d = manager.allocate(promptTokens: tokens(100, 8))!
        XCTAssertEqual(d.cachedTokens, 0)
        XCTAssertTrue(d.blockTable.contains(blockA))
        XCTAssertEqual(manager.cachedBlockCount, 2)
        XCTAssertFalse(manager.isCached(block: blockA))
        XCTAssertTrue(manager.debugCheckInvariants())
        manager.free(&d)  // its blocks hold nothing cached: they go to the front

        XCTAssertEqual(manager.allocate(promptTokens: a + [0])!.cachedTokens, 0)
        XCTAssertEqual(manager.cachedBlockCount, 2)
        // C is next in line for eviction; B, freed more recently, still hits.
        XCTAssertEqual(manager.allocate(promptTokens: b + [0])!.cachedTokens, 4)
        XCTAssertFalse(manager.isCached(block: blockC))
        XCTAssertTrue(manager.debugCheckInvariants())
    }

    func testOutOfBlocksChangesNothing() {
        let manager = BlockManager(blockCount: 3)
        var a = manager.allocate(promptTokens: tokens(0, 33))!
        let before = (manager.freeOrder, manager.usedBlockCount, a.blockTable.map { manager.refCount(of: $0) })
        XCTAssertFalse(manager.canAllocate(promptTokens: tokens(100, 1)))
        XCTAssertNil(manager.allocate(promptTokens: tokens(100, 1)))
        XCTAssertFalse(manager.reserve(&a, tokens: 49))
        XCTAssertEqual(a.blockTable.count, 3)
        XCTAssertTrue(manager.reserve(&a, tokens: 48))
        XCTAssertEqual(manager.freeOrder, before.0)
        XCTAssertEqual(manager.usedBlockCount, before.1)
        XCTAssertEqual(a.blockTable.map { manager.refCount(of: $0) }, before.2)
        XCTAssertEqual(manager.prefixQueriedTokens, 33)  // failed allocations are not counted
        manager.free(&a)
        XCTAssertTrue(manager.debugCheckInvariants())
    }

    func testRevivedHitsCountAgainstFreeBlocksAndAreNotEvictedByTheirOwnAllocation() {
        let manager = BlockManager(blockCount: 3, blockSize: 16)
        let prompt = tokens(0, 32)
        var a = prefill(manager, prompt)
        let firstBlock = a.blockTable[0]
        manager.free(&a)
        XCTAssertEqual(manager.cachedBlockCount, 2)

        // 4 blocks needed, 1 a hit: 1 revived + 3 fresh > 3 free.
        let tooLong = Array(prompt[0..<16]) + tokens(500, 40)
        XCTAssertFalse(manager.canAllocate(promptTokens: tooLong))
        XCTAssertNil(manager.allocate(promptTokens: tooLong))
        XCTAssertEqual(manager.cachedBlockCount, 2)
        XCTAssertEqual(manager.freeBlockCount, 3)

        // 3 blocks, 1 a hit: fits exactly; the fresh blocks must not evict the hit.
        let fits = Array(prompt[0..<16]) + tokens(500, 17)
        XCTAssertTrue(manager.canAllocate(promptTokens: fits))
        var b = manager.allocate(promptTokens: fits)!
        XCTAssertEqual(b.cachedTokens, 16)
        XCTAssertEqual(b.blockTable[0], firstBlock)
        XCTAssertTrue(manager.isCached(block: firstBlock))
        XCTAssertEqual(manager.cachedBlockCount, 1)
        XCTAssertEqual(manager.freeBlockCount, 0)
        manager.free(&b)
        XCTAssertTrue(manager.debugCheckInvariants())
    }

    func testForkAndCopyOnWrite() {
        let manager = BlockManager(blockCount: 4, blockSize: 16)
        let prompt = tokens(0, 20)
        var parent = prefill(manager, prompt)
        var child = manager.fork(parent)
        XCTAssertEqual(child.blockTable, parent.blockTable)
        for block in parent.blockTable { XCTAssertEqual(manager.refCount(of: block), 2) }
        XCTAssertEqual(manager.usedBlockCount, 2)

        // Both decode position 20, inside the shared partial block.
        XCTAssertTrue(manager.reserve(&child, tokens: 21))
        XCTAssertEqual(child.blockTable.count, 2)
        let shared = child.blockTable[1]
        guard case .copied(let old, let new) = manager.makeWritable(&child, position: 20) else {
            return XCTFail("expected a copy")
        }
        XCTAssertEqual(old, shared)
        XCTAssertEqual(child.blockTable[1], new)
        XCTAssertEqual(child.blockTable[0], parent.blockTable[0])  // the full block stays shared
        XCTAssertEqual(manager.refCount(of: shared), 1)
        XCTAssertEqual(manager.refCount(of: new), 1)
        XCTAssertEqual(manager.makeWritable(&parent, position: 20), .unchanged)
        XCTAssertEqual(manager.makeWritable(&child, position: 20), .unchanged)
        XCTAssertEqual(manager.makeWritable(&child, position: 32), .notAllocated)
        XCTAssertEqual(manager.makeWritable(&child, position: -1), .notAllocated)

        // A third sample when only one block is free: the copy cannot be made.
        var third = manager.fork(parent)
        var fourth = manager.fork(parent)
        guard case .copied = manager.makeWritable(&third, position: 20) else { return XCTFail("expected a copy") }
        XCTAssertEqual(manager.freeBlockCount, 0)
        let table = fourth.blockTable
        XCTAssertEqual(manager.makeWritable(&fourth, position: 20), .outOfBlocks)
        XCTAssertEqual(fourth.blockTable, table)
        XCTAssertTrue(manager.debugCheckInvariants())

        for i in [0, 1, 2, 3] {
            switch i {
            case 0: manager.free(&parent)
            case 1: manager.free(&child)
            case 2: manager.free(&third)
            default: manager.free(&fourth)
            }
            XCTAssertTrue(manager.debugCheckInvariants())
        }
        XCTAssertEqual(manager.usedBlockCount, 0)
    }

    func testCachedLastBlockRule() {
        let manager = BlockManager(blockCount: 20, blockSize: 16)
        let prompt = tokens(0, 32)
        _ = prefill(manager, prompt)
        XCTAssertEqual(manager.cachedBlockCount, 2)
        // The whole prompt is cached, but its last block holds the last token: recomputed
        // into a fresh block.
        let again = manager.allocate(promptTokens: prompt)!
        XCTAssertEqual(again.cachedTokens, 16)
        XCTAssertEqual(again.blockTable.count, 2)
        XCTAssertEqual(manager.refCount(of: again.blockTable[1]), 1)
        // One more token and both blocks are reusable.
        XCTAssertEqual(manager.allocate(promptTokens: prompt + [7])!.cachedTokens, 32)
        XCTAssertEqual(manager.allocate(promptTokens: Array(prompt[0..<17]))!.cachedTokens, 16)
        XCTAssertEqual(manager.allocate(promptTokens: Array(prompt[0..<16]))!.cachedTokens, 0)
        XCTAssertEqual(manager.allocate(promptTokens: [0])!.cachedTokens, 0)
        XCTAssertEqual(manager.allocate(promptTokens: [])!.blockTable, [])
        // The recomputed copy does not replace the cached block.
        manager.commit(again, tokens: prompt, computedTokens: 32)
        XCTAssertFalse(manager.isCached(block: again.blockTable[1]))
        XCTAssertEqual(manager.cachedBlockCount, 2)
        XCTAssertTrue(manager.debugCheckInvariants())
    }

    func testHitRateAccounting() {
        let manager = BlockManager(blockCount: 20, blockSize: 16)
        XCTAssertEqual(manager.prefixHitRate, 0)
        _ = prefill(manager, tokens(0, 40))           // 40 queried, 0 hit
        _ = manager.allocate(promptTokens: tokens(0, 40))  // 40 queried, 32 hit
        _ = manager.allocate(promptTokens: tokens(0, 20))  // 20 queried, 16 hit
        XCTAssertTrue(manager.canAllocate(promptTokens: tokens(0, 40)))  // not counted
        XCTAssertEqual(manager.prefixQueriedTokens, 100)
        XCTAssertEqual(manager.prefixHitTokens, 48)
        XCTAssertEqual(manager.prefixHitRate, 0.48, accuracy: 1e-12)

        let off = BlockManager(blockCount: 20, blockSize: 16, prefixCaching: false)
        _ = prefill(off, tokens(0, 40))
        XCTAssertEqual(off.allocate(promptTokens: tokens(0, 40))!.cachedTokens, 0)
        XCTAssertEqual(off.cachedBlockCount, 0)
        XCTAssertEqual(off.prefixQueriedTokens, 0)
        XCTAssertEqual(off.prefixHitRate, 0)
        XCTAssertTrue(off.debugCheckInvariants())
    }

    func testCommitIsIncrementalOverChunksAndDecode() {
        let manager = BlockManager(blockCount: 20, blockSize: 4)
        var sequence = tokens(0, 10)
        var a = manager.allocate(promptTokens: sequence)!
        manager.commit(a, tokens: sequence, computedTokens: 3)   // chunk 1: no full block
        XCTAssertEqual(manager.cachedBlockCount, 0)
        manager.commit(a, tokens: sequence, computedTokens: 6)   // chunk 2: block 0
        XCTAssertEqual(manager.cachedBlockCount, 1)
        manager.commit(a, tokens: sequence, computedTokens: 10)  // chunk 3: block 1
        XCTAssertEqual(manager.cachedBlockCount, 2)
        for token in 100..<107 {  // decode: positions 10...16
            sequence.append(token)
            XCTAssertTrue(manager.reserve(&a, tokens: sequence.count))
            manager.commit(a, tokens: sequence, computedTokens: sequence.count)
        }
        XCTAssertEqual(manager.cachedBlockCount, 4)
        // A later request with the generated text as its prompt reuses all four blocks.
        let b = manager.allocate(promptTokens: sequence + [1])!
        XCTAssertEqual(b.cachedTokens, 16)
        XCTAssertEqual(Array(b.blockTable[0..<4]), Array(a.blockTable[0..<4]))
        XCTAssertTrue(manager.debugCheckInvariants())
    }

    func testBadInputDoesNotTrap() {
        let empty = BlockManager(blockCount: 0, blockSize: 0)
        XCTAssertEqual(empty.blockSize, 1)
        XCTAssertEqual(empty.usage, 0)
        XCTAssertNil(empty.allocate(promptTokens: [1]))
        XCTAssertNotNil(empty.allocate(promptTokens: []))
        XCTAssertTrue(empty.debugCheckInvariants())

        let manager = BlockManager(blockCount: 4, blockSize: 4)
        var a = manager.allocate(promptTokens: tokens(0, 6))!
        var copy = a  // not a fork: freeing both must not drive counts negative
        manager.free(&a)
        manager.free(&copy)
        XCTAssertEqual(manager.usedBlockCount, 0)
        var bogus = BlockAllocation()
        bogus.blockTable = [-1, 99]
        manager.commit(bogus, tokens: tokens(0, 8), computedTokens: 8)
        XCTAssertEqual(manager.makeWritable(&bogus, position: 0), .unchanged)
        _ = manager.fork(bogus)
        manager.free(&bogus)
        manager.commit(a, tokens: [], computedTokens: -5)
        XCTAssertFalse(manager.reserve(&a, tokens: 100))
        XCTAssertTrue(manager.reserve(&a, tokens: -3))
        XCTAssertEqual(manager.usedBlockCount, 0)
        XCTAssertTrue(manager.debugCheckInvariants())
    }

    /// Thousands of random allocate/prefill/decode/fork/free operations against a reference
    /// model: reference counts recounted from the live tables, and simulated K/V contents
    /// (the token each slot holds) that every computed position and every cache hit must match.
    func testRandomizedAgainstReferenceModel() {
        for seed: UInt64 in [1, 2, 3, 4] {
            runRandomized(seed: seed, blockCount: 48, blockSize: 4, prefixCaching: true, steps: 4000)
        }
        runRandomized(seed: 9, blockCount: 40, blockSize: 3, prefixCaching: false, steps: 2000)
    }

    private struct SimSequence {
        var allocation: BlockAllocation
        var tokens: [Int]
        var computed: Int
    }

    private func runRandomized(seed: UInt64, blockCount: Int, blockSize bs: Int, prefixCaching: Bool, steps: Int) {
        var rng = Xoshiro256StarStar(seed: seed)
        let manager = BlockManager(blockCount: blockCount, blockSize: bs, prefixCaching: prefixCaching)
        var kv = Array(repeating: Array(repeating: -1, count: bs), count: blockCount)  // [block][slot] token held
        var live: [SimSequence] = []
        let stems = (0..<4).map { s in (0..<30).map { _ in s * 1000 + Int.random(in: 0..<3, using: &rng) } }
        var copies = 0, outOfBlocks = 0, failedAllocations = 0

        /// Writes `sequence`'s position `p` after making its block private.
        func write(_ sequence: inout SimSequence, _ p: Int) -> Bool {
            switch manager.makeWritable(&sequence.allocation, position: p) {
            case .unchanged: break
            case .copied(let old, let new):
                copies += 1
                kv[Int(new)] = kv[Int(old)]
            case .outOfBlocks:
                outOfBlocks += 1
                return false
            case .notAllocated:
                XCTFail("position \(p) not allocated (seed \(seed))")
                return false
            }
            let block = sequence.allocation.blockTable[p / bs]
            XCTAssertEqual(manager.refCount(of: block), 1, "writing a shared block (seed \(seed))")
            kv[Int(block)][p % bs] = sequence.tokens[p]
            return true
        }

        for step in 0..<steps {
            let op = Int.random(in: 0..<100, using: &rng)
            if op < 25 || live.isEmpty {
                // New request: a random length of a stem plus a random tail.
                let stem = stems[Int.random(in: 0..<stems.count, using: &rng)]
                var prompt = Array(stem[0..<Int.random(in: 0...stem.count, using: &rng)])
                prompt += (0..<Int.random(in: 0...6, using: &rng)).map { _ in Int.random(in: 0..<3, using: &rng) }
                if prompt.isEmpty { prompt = [5] }
                let order = manager.freeOrder, can = manager.canAllocate(promptTokens: prompt)
                if let allocation = manager.allocate(promptTokens: prompt) {
                    XCTAssertTrue(can)
                    XCTAssertEqual(allocation.blockTable.count, manager.blocksNeeded(prompt.count))
                    XCTAssertEqual(allocation.cachedTokens % bs, 0)
                    XCTAssertLessThan(allocation.cachedTokens, prompt.count)
                    if !prefixCaching { XCTAssertEqual(allocation.cachedTokens, 0) }
                    for p in 0..<allocation.cachedTokens {
                        XCTAssertEqual(kv[Int(allocation.blockTable[p / bs])][p % bs], prompt[p], "stale cache hit (seed \(seed), step \(step))")
                    }
                    live.append(SimSequence(allocation: allocation, tokens: prompt, computed: allocation.cachedTokens))
                } else {
                    failedAllocations += 1
                    XCTAssertFalse(can)
                    XCTAssertEqual(manager.freeOrder, order, "failed allocation changed the free list")
                }
            } else if op < 70 {
                // One step of a random sequence: a prefill chunk, or a decode token.
                let i = Int.random(in: 0..<live.count, using: &rng)
                var s = live[i]
                if s.computed < s.tokens.count {
                    let end = min(s.tokens.count, s.computed + Int.random(in: 1...9, using: &rng))
                    while s.computed < end, write(&s, s.computed) { s.computed += 1 }
                } else if s.tokens.count < 60 {
                    s.tokens.append(Int.random(in: 0..<3, using: &rng))
                    if manager.reserve(&s.allocation, tokens: s.tokens.count), write(&s, s.computed) {
                        s.computed += 1
                    } else {
                        s.tokens.removeLast()
                    }
                }
                manager.commit(s.allocation, tokens: s.tokens, computedTokens: s.computed)
                live[i] = s
            } else if op < 80 {
                let parent = live[Int.random(in: 0..<live.count, using: &rng)]
                var child = parent
                child.allocation = manager.fork(parent.allocation)
                live.append(child)
            } else {
                var s = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
                manager.free(&s.allocation)
            }

            // Reference model: reference counts are the occurrences in live tables.
            var expected = Array(repeating: 0, count: blockCount)
            for s in live { for block in s.allocation.blockTable { expected[Int(block)] += 1 } }
            for b in 0..<blockCount where manager.refCount(of: Int32(b)) != expected[b] {
                return XCTFail("block \(b) refcount \(manager.refCount(of: Int32(b))) != \(expected[b]) (seed \(seed), step \(step))")
            }
            XCTAssertEqual(manager.freeBlockCount, expected.filter { $0 == 0 }.count)
            XCTAssertEqual(manager.freeBlockCount + manager.usedBlockCount, blockCount)
            guard manager.debugCheckInvariants() else { return XCTFail("invariants broken (seed \(seed), step \(step))") }
            for s in live {
                for p in 0..<s.computed where kv[Int(s.allocation.blockTable[p / bs])][p % bs] != s.tokens[p] {
                    return XCTFail("position \(p) holds the wrong K/V (seed \(seed), step \(step))")
                }
            }
        }
        for var s in live { manager.free(&s.allocation) }
        XCTAssertEqual(manager.usedBlockCount, 0)
        XCTAssertTrue(manager.debugCheckInvariants())
        // The run exercised what it is meant to.
        XCTAssertGreaterThan(copies, 0)
        XCTAssertGreaterThan(outOfBlocks + failedAllocations, 0)
        if prefixCaching {
            XCTAssertGreaterThan(manager.prefixHitTokens, 0)
        }
    }
}
