/// The SentencePiece merge step, as llama.cpp's `llm_tokenizer_spm_session` does it: the text (spaces already
/// replaced by `▁`) starts as one symbol per UTF-8 character; every adjacent pair whose concatenation is a vocabulary
/// entry is a candidate, and the candidate whose token has the highest score merges first (ties: leftmost first),
/// until no adjacent pair forms a token. Each final symbol is its token, or, if it is a single character missing
/// from the vocabulary, one byte-fallback token per UTF-8 byte.
///
/// Candidates are kept in a binary heap and checked lazily when popped: a candidate is stale once either symbol
/// has merged into something else, which shows as a length mismatch. *O(n log n)* in the number of characters.
///
/// llama.cpp also keeps a reverse-merge map to split a final symbol that is not a token; a merged symbol is
/// always a token (it was only merged because it is), so that path never runs and is left out.
struct SentencePieceMerger {
    let table: ByteStringTable
    /// Score of every token, by id.
    let scores: [Float]
    /// Token for each byte value: `<0xXX>`, else the one-byte string, else the unknown token, else -1 (dropped).
    let byteTokens: [Int32]

    /// A merge candidate: symbols `left` and `right` (adjacent when pushed) whose bytes form a token.
    struct Bigram {
        var score: Float
        var left: Int32
        var right: Int32
        /// Byte length of the merged text when pushed; a different current length means the candidate is stale.
        var size: Int32

        /// Pops first: higher score, then lower left index (llama.cpp's `llm_bigram_spm::comparator`).
        @inline(__always)
        func precedes(_ other: Bigram) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    /// Buffers reused across the fragments of one `encode` call.
    struct Scratch {
        /// Symbol `i` is `text[start[i] ..< start[i] + length[i]]`; a length of 0 marks a symbol merged away.
        var start: [Int32] = []
        var length: [Int32] = []
        var previous: [Int32] = []
        var next: [Int32] = []
        var heap: [Bigram] = []
    }

    /// Byte length of a UTF-8 sequence by the high nibble of its first byte; stray continuation bytes count as one
    /// (llama.cpp's `unicode_len_utf8`).
    private static let sequenceLength: [Int32] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4]

    /// Appends the tokens of `text` (already whitespace-escaped) to `output`.
    func tokenize(_ text: UnsafeBufferPointer<UInt8>, into output: inout [TokenID], scratch s: inout Scratch) {
        guard !text.isEmpty else { return }
        s.start.removeAll(keepingCapacity: true)
        s.length.removeAll(keepingCapacity: true)
        s.previous.removeAll(keepingCapacity: true)
        s.next.removeAll(keepingCapacity: true)
        s.heap.removeAll(keepingCapacity: true)

        var offset = 0
        while offset < text.count {
            let length = min(Int(Self.sequenceLength[Int(text[offset] >> 4)]), text.count - offset)
            let index = Int32(s.start.count)
            s.start.append(Int32(offset))
            s.length.append(Int32(length))
            s.previous.append(index - 1)
            offset += length
            s.next.append(offset == text.count ? -1 : index + 1)
        }

        for right in 1..<Int32(s.start.count) { addBigram(right - 1, right, text, &s) }

        while let bigram = popBest(&s.heap) {
            let left = Int(bigram.left), right = Int(bigram.right)
            let leftLength = s.length[left], rightLength = s.length[right]
            if leftLength == 0 || rightLength == 0 || leftLength + rightLength != bigram.size { continue }
            // Merge the right symbol into the left one and unlink it.
            s.length[left] = leftLength + rightLength
            s.length[right] = 0
            let after = s.next[right]
            s.next[left] = after
            if after >= 0 { s.previous[Int(after)] = bigram.left }
            addBigram(s.previous[left], bigram.left, text, &s)
            addBigram(bigram.left, after, text, &s)
        }

        var index: Int32 = 0
        while index != -1 {
            let i = Int(index)
            let symbol = UnsafeBufferPointer(rebasing: text[Int(s.start[i]) ..< Int(s.start[i] + s.length[i])])
            if let id = table.find(symbol) {
                output.append(id)
            } else {
                for byte in symbol where byteTokens[Int(byte)] >= 0 { output.append(Int(byteTokens[Int(byte)])) }
            }
            index = s.next[i]
        }
    }

    /// Pushes the pair if the two symbols together spell a token.
    @inline(__always)
    private func addBigram(_ left: Int32, _ right: Int32, _ text: UnsafeBufferPointer<UInt8>, _ s: inout Scratch) {
        guard left >= 0 && right >= 0 else { return }
        let start = Int(s.start[Int(left)])
        let size = s.length[Int(left)] + s.length[Int(right)]
        guard let id = table.find(UnsafeBufferPointer(rebasing: text[start ..< start + Int(size)])) else { return }
        push(Bigram(score: scores[id], left: left, right: right, size: size), &s.heap)
    }

    // Binary heap, best candidate at index 0.

    private func push(_ bigram: Bigram, _ heap: inout [Bigram]) {
        heap.append(bigram)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func popBest(_ heap: inout [Bigram]) -> Bigram? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let best = heap[0]
        heap[0] = last
        var parent = 0
        let count = heap.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            var child = left
            if left + 1 < count && heap[left + 1].precedes(heap[left]) { child = left + 1 }
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            parent = child
        }
        return best
    }
}
