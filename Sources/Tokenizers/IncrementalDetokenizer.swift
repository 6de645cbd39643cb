/// Turns a stream of token ids into text pieces that are always complete UTF-8: bytes of a multi-byte character
/// split across tokens are held back until the character is complete (and flushed with replacement characters at
/// the end if it never completes).
///
/// Concatenating every piece returned by `append` and then `flush` gives exactly
/// `tokenizer.decode(ids, skipSpecial: skipSpecial)`, so streamed and non-streamed responses agree. (One exception:
/// a SentencePiece vocabulary with `add_space_prefix` drops the first token's leading space in `decode`; a stream
/// continues a prompt, so it keeps it.)
public struct IncrementalDetokenizer: Sendable {
    private let tokenizer: any Tokenizer
    private let skipSpecial: Bool
    /// Bytes not yet returned: at most the start of one incomplete character.
    private var pending: [UInt8] = []

    /// - Parameter skipSpecial: leave out control and unknown tokens, as `decode(_:skipSpecial:)` does.
    public init(tokenizer: any Tokenizer, skipSpecial: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// Adds one token and returns the text that became complete (possibly empty).
    public mutating func append(_ id: TokenID) -> String {
        if skipSpecial {
            let type = tokenizer.tokenType(id)
            if type == .control || type == .unknown { return "" }
        }
        pending.append(contentsOf: tokenizer.tokenBytes(id))
        let held = Self.incompleteSuffixLength(pending)
        if held == pending.count { return "" }
        let text = String(decoding: pending[..<(pending.count - held)], as: UTF8.self)
        pending.removeFirst(pending.count - held)
        return text
    }

    /// Returns whatever is held back (an incomplete character becomes U+FFFD) and resets the stream.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the trailing bytes that begin a UTF-8 character and could still be completed by later bytes.
    /// Cutting just before a lead byte never changes how the bytes before it decode, so holding this suffix back
    /// keeps the pieces identical to decoding everything at once.
    static func incompleteSuffixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var start = n - 1
        // A character is at most 4 bytes, so its lead byte is among the last 3 if it is incomplete.
        while start >= 0 && start >= n - 3 {
            let byte = bytes[start]
            if byte & 0xC0 != 0x80 {
                let needed: Int
                switch byte {
                case 0xC2...0xDF: needed = 2
                case 0xE0...0xEF: needed = 3
                case 0xF0...0xF4: needed = 4
                default: return 0  // ASCII or a byte that never starts a character
                }
                let available = n - start
                guard available < needed else { return 0 }
                // The second byte has a narrower range after some lead bytes; if it is out of range the
                // sequence can never complete and the decoder replaces it now.
                if available >= 2 {
                    let second = bytes[start + 1]
                    let range: ClosedRange<UInt8>
                    switch byte {
                    case 0xE0: range = 0xA0...0xBF
                    case 0xED: range = 0x80...0x9F
                    case 0xF0: range = 0x90...0xBF
                    case 0xF4: range = 0x80...0x8F
                    default: range = 0x80...0xBF
                    }
                    if !range.contains(second) { return 0 }
                }
                return available
            }
            start -= 1
        }
        return 0
    }
}
