/// Byte-level BPE merges, with every string involved interned to an integer symbol so that merging a word
/// compares integers, not strings.
///
/// Symbol ids below `vocabularySize` are token ids. Strings that appear in merges or in the byte alphabet but are
/// not tokens themselves get ids from `vocabularySize` up; a word left with such a symbol after merging falls back
/// to single-byte tokens, as llama.cpp does.
struct BPEMergeTable: Sendable {
    let vocabularySize: Int
    /// Vocabulary strings (ids `0..<vocabularySize`) followed by the extra strings.
    let symbols: ByteStringTable
    /// (left, right) -> rank << 32 | merged symbol. The rank is the line in `tokenizer.ggml.merges`; lower merges first.
    let pairs: PairTable
    /// Starting symbol of each byte: its character in the GPT-2 byte alphabet.
    let symbolForByte: [Int32]

    static let mergesKey = "tokenizer.ggml.merges"

    init(vocabulary: ByteStringTable, merges: [String]) throws {
        vocabularySize = vocabulary.count
        var symbols = vocabulary
        var pairs = PairTable(minimumCapacity: merges.count)
        var joined: [UInt8] = []

        for (rank, line) in merges.enumerated() {
            var line = line
            let ok = line.withUTF8 { bytes -> Bool in
                // Split at the first space after the first byte, like llama.cpp (`find(' ', 1)`).
                guard bytes.count >= 3, let space = bytes[1...].firstIndex(of: 0x20) else { return false }
                let left = UnsafeBufferPointer(rebasing: bytes[..<space])
                let right = UnsafeBufferPointer(rebasing: bytes[(space + 1)...])
                guard !right.isEmpty else { return false }
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: left)
                joined.append(contentsOf: right)
                let leftSymbol = symbols.insert(left).index
                let rightSymbol = symbols.insert(right).index
                let merged = symbols.insert(joined).index
                pairs.insertIfAbsent(Int32(leftSymbol), Int32(rightSymbol),
                                     value: UInt64(rank) << 32 | UInt64(merged))
                return true
            }
            if !ok { throw TokenizerError.malformedMerge(index: rank, text: merges[rank]) }
        }

        symbolForByte = ByteLevelAlphabet.utf8ForByte.map { Int32(symbols.insert($0).index) }
        self.symbols = symbols
        self.pairs = pairs
    }
}

/// Reusable buffers for merging words, so encoding a long text allocates once.
struct BPEScratch {
    var symbol: [Int32] = []
    var length: [Int32] = []
    var previous: [Int32] = []
    var next: [Int32] = []
    var heap: [Candidate] = []
    /// A word's bytes in the byte alphabet, for `ignoreMerges` lookups.
    var mapped: [UInt8] = []

    /// A mergeable adjacent pair. `order` is rank << 32 | left, so the lowest rank wins and ties go to the
    /// leftmost pair, as in llama.cpp's queue.
    struct Candidate {
        var order: UInt64
        var right: Int32
        var leftSymbol: Int32
        var rightSymbol: Int32
    }
}

extension BPEMergeTable {
    /// Merges one word (its raw bytes) and appends the resulting token ids.
    ///
    /// Standard BPE with a priority queue over a linked list of symbols: repeatedly merge the adjacent pair with
    /// the lowest rank (leftmost on ties), skipping queue entries whose symbols changed since they were queued.
    func merge(_ word: UnsafeBufferPointer<UInt8>, into output: inout [TokenID], scratch s: inout BPEScratch) {
        let n = word.count
        if n == 0 { return }
        if n == 1 {
            emit(symbolForByte[Int(word[0])], into: &output)
            return
        }
        s.symbol.removeAll(keepingCapacity: true)
        s.length.removeAll(keepingCapacity: true)
        s.previous.removeAll(keepingCapacity: true)
        s.next.removeAll(keepingCapacity: true)
        s.heap.removeAll(keepingCapacity: true)
        for i in 0..<n {
            s.symbol.append(symbolForByte[Int(word[i])])
            s.length.append(1)
            s.previous.append(Int32(i - 1))
            s.next.append(i + 1 < n ? Int32(i + 1) : -1)
        }
        for i in 1..<n { push(Int32(i - 1), Int32(i), &s) }

        while !s.heap.isEmpty {
            let top = popMin(&s.heap)
            let left = Int(top.order & 0xFFFF_FFFF)
            let right = Int(top.right)
            // Stale: one side was merged away, or grew into a different symbol.
            if s.length[left] == 0 || s.length[right] == 0 { continue }
            if s.symbol[left] != top.leftSymbol || s.symbol[right] != top.rightSymbol { continue }

            let merged = pairs.find(top.leftSymbol, top.rightSymbol)!
            s.symbol[left] = Int32(truncatingIfNeeded: merged & 0xFFFF_FFFF)
            s.length[left] += s.length[right]
            s.length[right] = 0
            let after = s.next[right]
            s.next[left] = after
            if after >= 0 { s.previous[Int(after)] = Int32(left) }

            if s.previous[left] >= 0 { push(s.previous[left], Int32(left), &s) }
            if after >= 0 { push(Int32(left), after, &s) }
        }

        var i: Int32 = 0
        while i >= 0 {
            emit(s.symbol[Int(i)], into: &output)
            i = s.next[Int(i)]
        }
    }

    /// Appends a symbol's token, or for a symbol that is not a token, the tokens of its single ASCII bytes
    /// (llama.cpp looks up each byte of the string alone; only ASCII bytes can be tokens on their own).
    @inline(__always)
    func emit(_ symbol: Int32, into output: inout [TokenID]) {
        if Int(symbol) < vocabularySize {
            output.append(Int(symbol))
            return
        }
        for byte in symbols.key(Int(symbol)) where byte < 0x80 {
            if let id = symbols.find([byte]), id < vocabularySize { output.append(id) }
        }
    }

    @inline(__always)
    private func push(_ left: Int32, _ right: Int32, _ s: inout BPEScratch) {
        let leftSymbol = s.symbol[Int(left)], rightSymbol = s.symbol[Int(right)]
        guard let value = pairs.find(leftSymbol, rightSymbol) else { return }
        let candidate = BPEScratch.Candidate(
            order: (value >> 32) << 32 | UInt64(UInt32(left)),
            right: right, leftSymbol: leftSymbol, rightSymbol: rightSymbol)
        // Sift up.
        s.heap.append(candidate)
        var child = s.heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if s.heap[parent].order <= candidate.order { break }
            s.heap[child] = s.heap[parent]
            child = parent
        }
        s.heap[child] = candidate
    }

    @inline(__always)
    private func popMin(_ heap: inout [BPEScratch.Candidate]) -> BPEScratch.Candidate {
        let top = heap[0]
        let last = heap.removeLast()
        if heap.isEmpty { return top }
        var parent = 0
        let count = heap.count
        while true {
            var child = 2 * parent + 1
            if child >= count { break }
            if child + 1 < count && heap[child + 1].order < heap[child].order { child += 1 }
            if last.order <= heap[child].order { break }
            heap[parent] = heap[child]
            parent = child
        }
        heap[parent] = last
        return top
    }
}
