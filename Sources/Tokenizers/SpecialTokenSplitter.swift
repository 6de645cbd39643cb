/// A piece of the input after special tokens are split out: plain text still to tokenize, or a token id.
enum TextFragment: Equatable {
    case text(Range<Int>)  // byte range in the UTF-8 input
    case token(TokenID)
}

/// Splits special tokens (control, user-defined and unknown types) out of the text before pre-tokenization,
/// with llama.cpp's `tokenizer_st_partition` semantics: special tokens are tried longest text first, and each one
/// claims its leftmost non-overlapping occurrences within the text not yet claimed. (That is not the same as
/// "longest match at each position": a longer token claims its occurrences anywhere before a shorter one is tried.)
/// Control and unknown tokens take part only when `parseSpecial` is set; user-defined ones always do.
///
/// Instead of one substring search per special token (slow for vocabularies with thousands of added tokens),
/// one pass with a byte trie finds every occurrence of every special token; they are then claimed in the same
/// priority order, which gives the same result.
struct SpecialTokenSplitter: Sendable {
    private struct Entry: Sendable {
        let id: TokenID
        let length: Int
        let alwaysMatched: Bool  // user-defined
    }
    /// Special tokens by priority: longer text first, ties by lower id (llama.cpp's sort is unstable there).
    private let entries: [Entry]
    /// Trie over the entries' bytes: edge (node << 8 | byte) -> child node. Node 0 is the root.
    private let edges: [UInt64: Int32]
    /// Entry index ending at each node, -1 if none.
    private let terminal: [Int32]
    /// Bytes that start some special token.
    private let firstBytes: [Bool]

    init(texts: [[UInt8]], ids: [TokenID], types: [TokenType]) {
        var order = Array(ids.indices)
        order.sort { texts[$0].count != texts[$1].count ? texts[$0].count > texts[$1].count : ids[$0] < ids[$1] }
        entries = order.map { Entry(id: ids[$0], length: texts[$0].count, alwaysMatched: types[$0] == .userDefined) }

        var edges: [UInt64: Int32] = [:]
        var terminal: [Int32] = [-1]
        var firstBytes = [Bool](repeating: false, count: 256)
        for (priority, index) in order.enumerated() {
            let bytes = texts[index]
            guard let first = bytes.first else { continue }
            firstBytes[Int(first)] = true
            var node: Int32 = 0
            for byte in bytes {
                let key = UInt64(node) << 8 | UInt64(byte)
                if let child = edges[key] {
                    node = child
                } else {
                    let child = Int32(terminal.count)
                    terminal.append(-1)
                    edges[key] = child
                    node = child
                }
            }
            // Two entries with the same bytes cannot exist (duplicate tokens are rejected), keep the first anyway.
            if terminal[Int(node)] < 0 { terminal[Int(node)] = Int32(priority) }
        }
        self.edges = edges
        self.terminal = terminal
        self.firstBytes = firstBytes
    }

    var isEmpty: Bool { entries.isEmpty }

    func split(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [TextFragment] {
        guard !bytes.isEmpty else { return [] }
        guard !entries.isEmpty else { return [.text(0..<bytes.count)] }

        // Every occurrence of every eligible special token, as (priority, start).
        var occurrences: [(priority: Int32, start: Int32)] = []
        for start in 0..<bytes.count where firstBytes[Int(bytes[start])] {
            var node: Int32 = 0
            var position = start
            while position < bytes.count, let child = edges[UInt64(node) << 8 | UInt64(bytes[position])] {
                node = child
                position += 1
                let priority = terminal[Int(node)]
                if priority >= 0 && (parseSpecial || entries[Int(priority)].alwaysMatched) {
                    occurrences.append((priority, Int32(start)))
                }
            }
        }
        guard !occurrences.isEmpty else { return [.text(0..<bytes.count)] }
        occurrences.sort { $0.priority != $1.priority ? $0.priority < $1.priority : $0.start < $1.start }

        // Claim in priority order; an occurrence must lie entirely in text no other token has claimed.
        var claimedBy = [Int32](repeating: -1, count: bytes.count)
        var claims: [(start: Int, priority: Int32)] = []
        for occurrence in occurrences {
            let start = Int(occurrence.start)
            let end = start + entries[Int(occurrence.priority)].length
            var free = true
            for i in start..<end where claimedBy[i] >= 0 { free = false; break }
            guard free else { continue }
            for i in start..<end { claimedBy[i] = occurrence.priority }
            claims.append((start, occurrence.priority))
        }
        claims.sort { $0.start < $1.start }

        var fragments: [TextFragment] = []
        var cursor = 0
        for claim in claims {
            if claim.start > cursor { fragments.append(.text(cursor..<claim.start)) }
            let entry = entries[Int(claim.priority)]
            fragments.append(.token(entry.id))
            cursor = claim.start + entry.length
        }
        if cursor < bytes.count { fragments.append(.text(cursor..<bytes.count)) }
        return fragments
    }
}
