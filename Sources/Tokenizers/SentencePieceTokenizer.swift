/// SentencePiece-style tokenizer (`tokenizer.ggml.model = "llama"`: Llama 1/2, Mistral, Gemma 1-3), matching
/// llama.cpp's SPM tokenizer: special tokens are split out first (user-defined ones always, so Gemma's runs of
/// spaces, tabs and newlines become their own tokens, longest first); in each remaining piece spaces become `▁`
/// (U+2581), a `▁` is put in front when `add_space_prefix` is set and the piece starts the text or follows a
/// special token, and the piece's characters are merged by token score (`tokenizer.ggml.scores`); characters
/// missing from the vocabulary become `<0xXX>` byte tokens.
public struct SentencePieceTokenizer: Tokenizer {
    let vocabulary: Vocabulary
    let merger: SentencePieceMerger
    /// `tokenizer.ggml.add_space_prefix` (llama.cpp's default for this model is true; Gemma sets it false).
    public let addSpacePrefix: Bool

    enum Key {
        static let scores = "tokenizer.ggml.scores"
        static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
    }

    /// The UTF-8 bytes of `▁`.
    static let spaceMarker: [UInt8] = [0xE2, 0x96, 0x81]

    init(_ metadata: MetadataReader) throws {
        let vocabulary = try Vocabulary(Self.withDefaultSpecialTokens(metadata), addBOSByDefault: true)
        let count = vocabulary.count

        var scores = [Float](repeating: 0, count: count)  // llama.cpp scores a vocabulary without scores as 0
        if let stored = try metadata.floatArray(Key.scores) {
            guard stored.count >= count else {
                throw TokenizerError.arrayTooShort(key: Key.scores, count: stored.count, expected: count)
            }
            scores = Array(stored[0..<count])
        }

        // llama.cpp's byte_to_token: `<0xXX>`, else the byte as a one-character token; llama.cpp aborts when
        // neither exists, we fall back to the unknown token (or drop the byte if there is none).
        let hex = Array("0123456789ABCDEF".utf8)
        var byteTokens = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            let name: [UInt8] = [UInt8(ascii: "<"), UInt8(ascii: "0"), UInt8(ascii: "x"), hex[byte >> 4], hex[byte & 15],
                                 UInt8(ascii: ">")]
            if let id = vocabulary.table.find(name) ?? vocabulary.table.find([UInt8(byte)]) ?? vocabulary.unknownID {
                byteTokens[byte] = Int32(id)
            }
        }

        self.vocabulary = vocabulary
        self.merger = SentencePieceMerger(table: vocabulary.table, scores: scores, byteTokens: byteTokens)
        self.addSpacePrefix = try metadata.bool(Key.addSpacePrefix) ?? true
    }

    /// llama.cpp's defaults for this model when the file names no id: BOS 1, EOS 2, unknown 0 (each only if in range).
    private static func withDefaultSpecialTokens(_ metadata: MetadataReader) -> MetadataReader {
        let count = metadata.metadata[Vocabulary.Key.tokens]?.array?.count ?? 0
        var values = metadata.metadata
        for (key, id) in [(Vocabulary.Key.bos, 1), (Vocabulary.Key.eos, 2), (Vocabulary.Key.unknown, 0)]
        where values[key] == nil && id < count {
            values[key] = .uint32(UInt32(id))
        }
        return MetadataReader(metadata: values)
    }

    public var vocabularySize: Int { vocabulary.count }
    public var bosTokenID: TokenID? { vocabulary.bosID }
    public var eosTokenID: TokenID? { vocabulary.eosID }
    public var addBOS: Bool { vocabulary.addBOS }
    public var addEOS: Bool { vocabulary.addEOS }
    public var endOfGenerationTokenIDs: Set<TokenID> { vocabulary.endOfGeneration }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [TokenID] {
        var output: [TokenID] = []
        output.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecial && addBOS, let bos = bosTokenID { output.append(bos) }
        var text = text
        text.withUTF8 { bytes in
            var scratch = SentencePieceMerger.Scratch()
            var escaped: [UInt8] = []
            // As in llama.cpp, the text start counts as following a special token.
            var afterSpecial = true
            for fragment in vocabulary.specials.split(bytes, parseSpecial: parseSpecial) {
                switch fragment {
                case .token(let id):
                    output.append(id)
                    afterSpecial = true
                case .text(let range):
                    escaped.removeAll(keepingCapacity: true)
                    if addSpacePrefix && afterSpecial { escaped.append(contentsOf: Self.spaceMarker) }
                    for byte in bytes[range] {
                        if byte == UInt8(ascii: " ") {
                            escaped.append(contentsOf: Self.spaceMarker)
                        } else {
                            escaped.append(byte)
                        }
                    }
                    escaped.withUnsafeBufferPointer { merger.tokenize($0, into: &output, scratch: &scratch) }
                    afterSpecial = false
                }
            }
        }
        if addSpecial && addEOS, let eos = eosTokenID { output.append(eos) }
        return output
    }

    /// Concatenates the tokens' bytes as llama.cpp's `detokenize` does: with `add_space_prefix`, one leading space
    /// of the first token is dropped (it is the prefix `encode` added), unless that token is a BOS skipped as
    /// special. (`IncrementalDetokenizer` sees tokens one at a time and keeps that space.)
    public func decode(_ ids: [TokenID], skipSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for (position, id) in ids.enumerated() where id >= 0 && id < vocabulary.count {
            if skipSpecial && vocabulary.isSkippedAsSpecial(id) { continue }
            let start = bytes.count
            appendPiece(id, to: &bytes)
            if position == 0 && addSpacePrefix && bytes.count > start && bytes[start] == UInt8(ascii: " ") {
                bytes.remove(at: start)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes a token decodes to, as llama.cpp's `token_to_piece` renders them with specials shown: normal tokens
    /// with `▁` turned back into spaces, byte tokens as their byte, special tokens as their text.
    private func appendPiece(_ id: TokenID, to bytes: inout [UInt8]) {
        let text = vocabulary.table.key(id)
        switch vocabulary.types[id] {
        case .normal:
            var i = text.startIndex
            while i < text.endIndex {
                if text[i] == 0xE2 && i + 2 < text.endIndex && text[i + 1] == 0x96 && text[i + 2] == 0x81 {
                    bytes.append(UInt8(ascii: " "))
                    i += 3
                } else {
                    bytes.append(text[i])
                    i += 1
                }
            }
        case .control, .userDefined, .unknown:
            bytes.append(contentsOf: text)
        case .byte:
            // `<0xXX>`
            if text.count == 6, let value = UInt8(String(decoding: text.dropFirst(3).prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
            }
        case .unused, .undefined:
            break
        }
    }

    public func tokenBytes(_ id: TokenID) -> [UInt8] {
        guard id >= 0 && id < vocabulary.count else { return [] }
        var bytes: [UInt8] = []
        appendPiece(id, to: &bytes)
        return bytes
    }

    public func tokenType(_ id: TokenID) -> TokenType { vocabulary.type(id) }

    public func tokenText(_ id: TokenID) -> String { vocabulary.text(id) }

    public func tokenID(for text: String) -> TokenID? { vocabulary.id(for: text) }

    /// The token's score (`tokenizer.ggml.scores`); higher merges first. 0 for ids outside the vocabulary.
    public func score(_ id: TokenID) -> Float {
        id >= 0 && id < vocabulary.count ? merger.scores[id] : 0
    }
}
