/// Byte-level BPE (`tokenizer.ggml.model = "gpt2"`), matching llama.cpp's `llm_tokenizer_bpe_session`:
/// special tokens are split out first, each remaining piece is split into words by the pre-tokenizer named in
/// `tokenizer.ggml.pre`, and each word's UTF-8 bytes are merged by rank.
public struct BPETokenizer: Tokenizer {
    let vocabulary: Vocabulary
    let merges: BPEMergeTable
    let preTokenizer: PreTokenizer
    let ignoreMerges: Bool
    /// Decoded bytes of every token back to back; token `i` is `pieceBytes[pieceOffsets[i]..<pieceOffsets[i + 1]]`.
    let pieceBytes: [UInt8]
    let pieceOffsets: [Int32]

    /// Pre-tokenizer names this tokenizer accepts in `tokenizer.ggml.pre`.
    public static var supportedPreTokenizers: [String] { PreTokenizer.configurations.keys.sorted() }

    static let preKey = "tokenizer.ggml.pre"

    init(_ metadata: MetadataReader) throws {
        // llama.cpp falls back to "default" (with a loud warning) when the name is missing.
        let preName = try metadata.string(Self.preKey) ?? "default"
        guard let configuration = PreTokenizer.configurations[preName] else {
            throw TokenizerError.unsupportedPreTokenizer(preName, supported: Self.supportedPreTokenizers)
        }
        guard let mergeLines = try metadata.stringArray(BPEMergeTable.mergesKey) else {
            throw TokenizerError.missingKey(BPEMergeTable.mergesKey)
        }
        let vocabulary = try Vocabulary(metadata, addBOSByDefault: configuration.addBOSByDefault)
        self.vocabulary = vocabulary
        self.merges = try BPEMergeTable(vocabulary: vocabulary.table, merges: mergeLines)
        self.preTokenizer = configuration.preTokenizer
        self.ignoreMerges = configuration.ignoreMerges

        var bytes: [UInt8] = []
        bytes.reserveCapacity(vocabulary.count * 6)
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(vocabulary.count + 1)
        let alphabet = ByteLevelAlphabet.byteForScalar
        for id in 0..<vocabulary.count {
            Self.appendPiece(text: vocabulary.texts[id], type: vocabulary.types[id], alphabet: alphabet, to: &bytes)
            offsets.append(Int32(bytes.count))
        }
        pieceBytes = bytes
        pieceOffsets = offsets
    }

    /// The bytes a token decodes to, as llama.cpp's `token_to_piece` renders them with specials shown.
    private static func appendPiece(text: String, type: TokenType, alphabet: [Int16], to bytes: inout [UInt8]) {
        switch type {
        case .normal:
            ByteLevelAlphabet.decode(text, into: &bytes, table: alphabet)
        case .control, .userDefined, .unknown:
            bytes.append(contentsOf: text.utf8)
        case .byte:
            // `<0xXX>`
            let utf8 = Array(text.utf8)
            if utf8.count == 6, let value = UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16) {
                bytes.append(value)
            }
        case .unused, .undefined:
            break
        }
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
            var scratch = EncodeScratch()
            for fragment in vocabulary.specials.split(bytes, parseSpecial: parseSpecial) {
                switch fragment {
                case .token(let id):
                    output.append(id)
                case .text(let range):
                    encodePlain(UnsafeBufferPointer(rebasing: bytes[range]), into: &output, scratch: &scratch)
                }
            }
        }
        if addSpecial && addEOS, let eos = eosTokenID { output.append(eos) }
        return output
    }

    /// Buffers reused across the fragments and words of one `encode` call.
    struct EncodeScratch {
        var scalars: [UInt32] = []
        var classes: [UInt8] = []
        /// Byte offset of each scalar, plus the total at the end.
        var byteOffsets: [Int32] = []
        var wordEnds: [Int32] = []
        var splitScratch: [Int32] = []
        var bpe = BPEScratch()
    }

    /// Tokenizes text containing no special tokens.
    private func encodePlain(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [TokenID],
                             scratch s: inout EncodeScratch) {
        decodeScalars(bytes, &s)
        s.wordEnds.removeAll(keepingCapacity: true)
        let count = s.scalars.count
        s.scalars.withUnsafeBufferPointer { scalars in
            s.classes.withUnsafeBufferPointer { classes in
                preTokenizer.split(scalars, classes, count: count, into: &s.wordEnds, scratch: &s.splitScratch)
            }
        }
        var start = 0
        for end in s.wordEnds {
            let byteStart = Int(s.byteOffsets[start]), byteEnd = Int(s.byteOffsets[Int(end)])
            let word = UnsafeBufferPointer(rebasing: bytes[byteStart..<byteEnd])
            start = Int(end)
            if ignoreMerges, let id = wholeWordToken(word, &s.bpe.mapped) {
                output.append(id)
                continue
            }
            merges.merge(word, into: &output, scratch: &s.bpe)
        }
    }

    /// The token whose text is the whole word in the byte alphabet, if there is one.
    private func wholeWordToken(_ word: UnsafeBufferPointer<UInt8>, _ mapped: inout [UInt8]) -> TokenID? {
        mapped.removeAll(keepingCapacity: true)
        for byte in word { mapped.append(contentsOf: ByteLevelAlphabet.utf8ForByte[Int(byte)]) }
        return vocabulary.table.find(mapped)
    }

    /// Fills scalars, their classes and byte offsets. The bytes come from a Swift `String`, so they are valid UTF-8.
    private func decodeScalars(_ bytes: UnsafeBufferPointer<UInt8>, _ s: inout EncodeScratch) {
        s.scalars.removeAll(keepingCapacity: true)
        s.classes.removeAll(keepingCapacity: true)
        s.byteOffsets.removeAll(keepingCapacity: true)
        var i = 0
        let n = bytes.count
        while i < n {
            let lead = UInt32(bytes[i])
            var value: UInt32
            var length: Int
            if lead < 0x80 {
                value = lead; length = 1
            } else if lead < 0xE0 {
                value = lead & 0x1F; length = 2
            } else if lead < 0xF0 {
                value = lead & 0x0F; length = 3
            } else {
                value = lead & 0x07; length = 4
            }
            for k in 1..<max(length, 1) where i + k < n {
                value = value << 6 | UInt32(bytes[i + k] & 0x3F)
            }
            s.scalars.append(value)
            s.classes.append(ScalarClass.of(value))
            s.byteOffsets.append(Int32(i))
            i += length
        }
        s.byteOffsets.append(Int32(n))
    }

    public func decode(_ ids: [TokenID], skipSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where id >= 0 && id < vocabulary.count {
            if skipSpecial && vocabulary.isSkippedAsSpecial(id) { continue }
            bytes.append(contentsOf: pieceBytes[Int(pieceOffsets[id])..<Int(pieceOffsets[id + 1])])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func tokenBytes(_ id: TokenID) -> [UInt8] {
        guard id >= 0 && id < vocabulary.count else { return [] }
        return Array(pieceBytes[Int(pieceOffsets[id])..<Int(pieceOffsets[id + 1])])
    }

    public func tokenType(_ id: TokenID) -> TokenType { vocabulary.type(id) }

    public func tokenText(_ id: TokenID) -> String { vocabulary.text(id) }

    public func tokenID(for text: String) -> TokenID? { vocabulary.id(for: text) }
}
