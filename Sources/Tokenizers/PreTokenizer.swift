/// Splits text into the words that BPE merges within, reproducing llama.cpp's pre-tokenizer for each
/// `tokenizer.ggml.pre` value. llama.cpp runs a list of regexes in sequence, each splitting the pieces the
/// previous one produced; here each regex is a hand-written matcher over code points with the character classes
/// of `ScalarClass`, following the exact semantics of llama.cpp's own matchers (including how a piece's end acts
/// as "no character" for look-aheads such as `\s+(?!\S)`).
enum PreTokenizer: Sendable, Equatable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// First every `\p{N}` alone, then `gpt2` on each piece (llama.cpp's STARCODER/REFACT/SMOLLM group).
    case digitsThenGPT2
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
    /// `maxDigits` is 3 for Llama 3 and 1 for Qwen2.
    case llama3(maxDigits: Int)
    /// llama.cpp's fallback for `default` or a missing name: punctuation runs `[\p{P}$+<=>^~|]+`, then `gpt2`,
    /// then number runs `\p{N}+`, then ASCII digit triples `[0-9]{3}`.
    case llamaDefault

    /// What a `tokenizer.ggml.pre` name selects, with the flags llama.cpp ties to the name.
    struct Configuration: Sendable {
        let preTokenizer: PreTokenizer
        /// A whole word that is itself a vocabulary token is emitted as is, without merging (llama.cpp `ignore_merges`).
        let ignoreMerges: Bool
        /// Default for `tokenizer.ggml.add_bos_token` when the file does not say.
        let addBOSByDefault: Bool
    }

    /// Names accepted in `tokenizer.ggml.pre`, grouped as llama.cpp groups them (only groups whose regexes are
    /// implemented here).
    static let configurations: [String: Configuration] = {
        var table: [String: Configuration] = [:]
        let llama3 = Configuration(preTokenizer: .llama3(maxDigits: 3), ignoreMerges: true, addBOSByDefault: true)
        for name in ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"] {
            table[name] = llama3
        }
        // Same regex as Llama 3 but without llama.cpp's ignore_merges/add_bos for these names.
        for name in ["dbrx", "smaug-bpe"] {
            table[name] = Configuration(preTokenizer: .llama3(maxDigits: 3), ignoreMerges: false, addBOSByDefault: false)
        }
        for name in ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open"] {
            table[name] = Configuration(preTokenizer: .llama3(maxDigits: 1), ignoreMerges: false, addBOSByDefault: false)
        }
        for name in ["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b", "mellum2"] {
            table[name] = Configuration(preTokenizer: .digitsThenGPT2, ignoreMerges: false, addBOSByDefault: false)
        }
        for name in ["gpt-2", "phi-2", "gigachat", "a.x-4.0", "mellum", "mpt", "olmo", "jais", "exaone4", "trillion",
                     "granite-docling"] {
            table[name] = Configuration(preTokenizer: .gpt2, ignoreMerges: false, addBOSByDefault: false)
        }
        table["default"] = Configuration(preTokenizer: .llamaDefault, ignoreMerges: false, addBOSByDefault: false)
        return table
    }()

    /// Appends to `ends` the end (code point index, exclusive) of each word of `text[0..<count]`; the words cover the
    /// text without gaps, so word `i` runs from `ends[i - 1]` (or 0) to `ends[i]`.
    func split(_ scalars: UnsafeBufferPointer<UInt32>, _ classes: UnsafeBufferPointer<UInt8>,
               count: Int, into ends: inout [Int32], scratch: inout [Int32]) {
        guard count > 0 else { return }
        let text = Pieces(scalars: scalars, classes: classes)
        switch self {
        case .gpt2:
            text.gpt2(0, count, &ends)
        case .llama3(let maxDigits):
            text.llama3(0, count, maxDigits: maxDigits, &ends)
        case .digitsThenGPT2:
            scratch.removeAll(keepingCapacity: true)
            text.eachNumberAlone(0, count, &scratch)
            text.refine(scratch, into: &ends) { text.gpt2($0, $1, &$2) }
        case .llamaDefault:
            scratch.removeAll(keepingCapacity: true)
            text.punctuationRuns(0, count, &scratch)
            var second: [Int32] = []
            text.refine(scratch, into: &second) { text.gpt2($0, $1, &$2) }
            scratch.removeAll(keepingCapacity: true)
            text.refine(second, into: &scratch) { text.numberRuns($0, $1, &$2) }
            text.refine(scratch, into: &ends) { text.asciiDigitTriples($0, $1, &$2) }
        }
    }
}

/// The matchers. Each splits `start..<end` and appends word ends; positions at or past `end` read as class
/// `outside`, exactly like llama.cpp's `_get_flags` outside the current piece.
private struct Pieces {
    let scalars: UnsafeBufferPointer<UInt32>
    let classes: UnsafeBufferPointer<UInt8>

    /// Applies `matcher` to every piece in `pieces` (given as ends, starting at 0).
    func refine(_ pieces: [Int32], into ends: inout [Int32],
                _ matcher: (Int, Int, inout [Int32]) -> Void) {
        var start = 0
        for end in pieces {
            matcher(start, Int(end), &ends)
            start = Int(end)
        }
    }

    @inline(__always)
    private func isContractionLetter(_ c: UInt32) -> Bool {
        c == 0x73 || c == 0x74 || c == 0x6D || c == 0x64  // s t m d
    }

    @inline(__always)
    private func isTwoLetterContraction(_ a: UInt32, _ b: UInt32) -> Bool {
        (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C)  // re ve ll
    }

    @inline(__always)
    private func lowerASCII(_ c: UInt32) -> UInt32 {
        (0x41...0x5A).contains(c) ? c + 0x20 : c
    }

    func gpt2(_ start: Int, _ end: Int, _ ends: inout [Int32]) {
        @inline(__always) func cls(_ p: Int) -> UInt8 { p < end ? classes[p] : ScalarClass.outside }
        var pos = start
        while pos < end {
            let c = scalars[pos]
            // 's|'t|'re|'ve|'m|'ll|'d
            if c == 0x27 && pos + 1 < end {
                let next = scalars[pos + 1]
                if isContractionLetter(next) {
                    pos += 2; ends.append(Int32(pos)); continue
                }
                if pos + 2 < end && isTwoLetterContraction(next, scalars[pos + 2]) {
                    pos += 3; ends.append(Int32(pos)); continue
                }
            }
            let isSpace = c == 0x20
            let lead = isSpace ? cls(pos + 1) : classes[pos]
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
            if lead == ScalarClass.letter || lead == ScalarClass.number || lead == ScalarClass.other {
                if isSpace { pos += 1 }
                while cls(pos) == lead { pos += 1 }
                ends.append(Int32(pos)); continue
            }
            // `\s+(?!\S)`, then `\s+`
            var n = 0
            while cls(pos + n) == ScalarClass.whitespace { n += 1 }
            if n > 1 && pos + n < end {
                pos += n - 1
            } else {
                pos += max(n, 1)
            }
            ends.append(Int32(pos))
        }
    }

    func llama3(_ start: Int, _ end: Int, maxDigits: Int, _ ends: inout [Int32]) {
        @inline(__always) func cls(_ p: Int) -> UInt8 { p < end ? classes[p] : ScalarClass.outside }
        var pos = start
        var emitted = start
        @inline(__always) func emit(_ p: Int) {
            if p > emitted { ends.append(Int32(p)); emitted = p }
        }
        while pos < end {
            let c = scalars[pos]
            let cl = classes[pos]
            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if c == 0x27 && pos + 1 < end {
                let next = lowerASCII(scalars[pos + 1])
                if isContractionLetter(next) {
                    pos += 2; emit(pos); continue
                }
                if pos + 2 < end && isTwoLetterContraction(next, lowerASCII(scalars[pos + 2])) {
                    pos += 3; emit(pos); continue
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !(c == 0x0D || c == 0x0A || cl == ScalarClass.number) {
                if cl == ScalarClass.letter || cls(pos + 1) == ScalarClass.letter {
                    pos += 1
                    while cls(pos) == ScalarClass.letter { pos += 1 }
                    emit(pos); continue
                }
            }
            // \p{N}{1,maxDigits}
            if cl == ScalarClass.number {
                var groupStart = pos
                while cls(pos) == ScalarClass.number {
                    pos += 1
                    if pos - groupStart >= maxDigits { emit(pos); groupStart = pos }
                }
                emit(pos); continue
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            let lead = c == 0x20 ? cls(pos + 1) : cl
            if lead == ScalarClass.other || lead == ScalarClass.outside {
                if c == 0x20 { pos += 1 }
                while cls(pos) == ScalarClass.other { pos += 1 }
                while pos < end && (scalars[pos] == 0x0D || scalars[pos] == 0x0A) { pos += 1 }
                emit(pos); continue
            }
            // \s*[\r\n]+, then \s+(?!\S), then \s+
            var n = 0
            var afterLastNewline = -1
            while cls(pos + n) == ScalarClass.whitespace {
                let w = scalars[pos + n]
                if w == 0x0D || w == 0x0A { afterLastNewline = pos + n + 1 }
                n += 1
            }
            if afterLastNewline >= 0 {
                pos = afterLastNewline
            } else if n > 1 && pos + n < end {
                pos += n - 1
            } else {
                pos += max(n, 1)
            }
            emit(pos)
        }
    }

    /// `\p{N}`: each number code point alone; the runs between them stay whole.
    func eachNumberAlone(_ start: Int, _ end: Int, _ ends: inout [Int32]) {
        var pos = start
        while pos < end {
            if classes[pos] == ScalarClass.number {
                pos += 1
            } else {
                while pos < end && classes[pos] != ScalarClass.number { pos += 1 }
            }
            ends.append(Int32(pos))
        }
    }

    /// `\p{N}+`: runs of numbers and the runs between them.
    func numberRuns(_ start: Int, _ end: Int, _ ends: inout [Int32]) {
        var pos = start
        while pos < end {
            let isNumber = classes[pos] == ScalarClass.number
            while pos < end && (classes[pos] == ScalarClass.number) == isNumber { pos += 1 }
            ends.append(Int32(pos))
        }
    }

    /// `[\p{P}\$\+<=>\^~\|]+` as llama.cpp evaluates it: ASCII punctuation and symbols except the backtick,
    /// plus non-ASCII punctuation (non-ASCII symbols are not included).
    func punctuationRuns(_ start: Int, _ end: Int, _ ends: inout [Int32]) {
        @inline(__always) func inSet(_ p: Int) -> Bool {
            let c = scalars[p]
            if c < 128 {
                return classes[p] == ScalarClass.other && c > 0x20 && c != 0x60 && c != 0x7F
            }
            return classes[p] == ScalarClass.other && ScalarClass.isPunctuation(c)
        }
        var pos = start
        while pos < end {
            let matching = inSet(pos)
            while pos < end && inSet(pos) == matching { pos += 1 }
            ends.append(Int32(pos))
        }
    }

    /// `[0-9][0-9][0-9]`: leftmost triples of ASCII digits; everything between them stays whole.
    func asciiDigitTriples(_ start: Int, _ end: Int, _ ends: inout [Int32]) {
        @inline(__always) func isDigit(_ p: Int) -> Bool { (0x30...0x39).contains(scalars[p]) }
        var pos = start
        var emitted = start
        while pos + 3 <= end {
            if isDigit(pos) && isDigit(pos + 1) && isDigit(pos + 2) {
                if pos > emitted { ends.append(Int32(pos)) }
                pos += 3
                ends.append(Int32(pos))
                emitted = pos
            } else {
                pos += 1
            }
        }
        if end > emitted { ends.append(Int32(end)) }
    }
}

extension PreTokenizer {
    /// The words of `text`, for tests and debugging.
    func words(_ text: String) -> [String] {
        let scalars = text.unicodeScalars.map(\.value)
        let classes = scalars.map(ScalarClass.of)
        var ends: [Int32] = []
        var scratch: [Int32] = []
        scalars.withUnsafeBufferPointer { s in
            classes.withUnsafeBufferPointer { c in
                split(s, c, count: scalars.count, into: &ends, scratch: &scratch)
            }
        }
        var words: [String] = []
        var start = 0
        for end in ends {
            var word = String.UnicodeScalarView()
            for value in scalars[start..<Int(end)] { word.append(Unicode.Scalar(value)!) }
            words.append(String(word))
            start = Int(end)
        }
        return words
    }
}
