/// The part of a GGUF vocabulary every tokenizer model shares: token strings and types, special token ids,
/// BOS/EOS flags, end-of-generation tokens and the special-token splitter. Built as llama.cpp's
/// `llama_vocab::load` builds it, so BPE and SentencePiece tokenizers agree with llama.cpp on these.
struct Vocabulary: Sendable {
    enum Key {
        static let tokens = "tokenizer.ggml.tokens"
        static let tokenTypes = "tokenizer.ggml.token_type"
        static let bos = "tokenizer.ggml.bos_token_id"
        static let eos = "tokenizer.ggml.eos_token_id"
        static let eot = "tokenizer.ggml.eot_token_id"
        static let eom = "tokenizer.ggml.eom_token_id"
        static let unknown = "tokenizer.ggml.unknown_token_id"
        static let padding = "tokenizer.ggml.padding_token_id"
        static let fimPrefix = ["tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id"]
        static let fimSuffix = ["tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id"]
        static let fimMiddle = ["tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id"]
        static let fimPad = "tokenizer.ggml.fim_pad_token_id"
        static let fimRepository = "tokenizer.ggml.fim_rep_token_id"
        static let fimSeparator = "tokenizer.ggml.fim_sep_token_id"
        static let addBOS = "tokenizer.ggml.add_bos_token"
        static let addEOS = "tokenizer.ggml.add_eos_token"
    }

    /// Token strings as stored (an empty entry becomes `[EMPTY_<id>]`, as in llama.cpp).
    let texts: [String]
    /// Token types after llama.cpp's corrections (tokens it recognises as end-of-turn etc. become control).
    let types: [TokenType]
    /// Token string bytes -> id; key index == token id.
    let table: ByteStringTable
    let bosID: TokenID?
    let eosID: TokenID?
    let unknownID: TokenID?
    let paddingID: TokenID?
    let addBOS: Bool
    let addEOS: Bool
    let endOfGeneration: Set<TokenID>
    let specials: SpecialTokenSplitter

    var count: Int { texts.count }

    init(_ metadata: MetadataReader, addBOSByDefault: Bool) throws {
        guard var texts = try metadata.stringArray(Key.tokens) else { throw TokenizerError.missingKey(Key.tokens) }
        guard !texts.isEmpty else { throw TokenizerError.emptyVocabulary }
        let count = texts.count

        var table = ByteStringTable(minimumCapacity: count + 1024)
        for id in 0..<count {
            if texts[id].isEmpty { texts[id] = "[EMPTY_\(id)]" }
            var text = texts[id]
            let (index, inserted) = text.withUTF8 { table.insert($0) }
            if !inserted { throw TokenizerError.duplicateToken(text: texts[id], firstID: index, secondID: id) }
        }

        var types = [TokenType](repeating: .normal, count: count)
        if let raw = try metadata.intArray(Key.tokenTypes) {
            guard raw.count >= count else {
                throw TokenizerError.arrayTooShort(key: Key.tokenTypes, count: raw.count, expected: count)
            }
            for id in 0..<count { types[id] = TokenType(rawValue: raw[id]) ?? .undefined }
        }

        /// An id the file gives; out of range throws for ids that change tokenization or stopping, and is ignored
        /// (as llama.cpp ignores it) for the rest.
        func id(_ key: String, required: Bool) throws -> TokenID? {
            guard let id = try metadata.int(key) else { return nil }
            guard id >= 0 && id < count else {
                if required { throw TokenizerError.tokenIDOutOfRange(key: key, id: id, vocabularySize: count) }
                return nil
            }
            return id
        }
        func firstID(_ keys: [String]) throws -> TokenID? {
            for key in keys { if let found = try id(key, required: false) { return found } }
            return nil
        }
        /// Lowest id whose text is in `names`; the token becomes a control token.
        func detect(_ names: Set<String>) -> TokenID? {
            guard let found = names.compactMap({ table.find($0) }).min() else { return nil }
            if types[found] != .control { types[found] = .control }
            return found
        }

        let bos = try id(Key.bos, required: true)
        let eos = try id(Key.eos, required: true)
        let eot = try id(Key.eot, required: true) ?? detect(SpecialTokenNames.endOfTurn)
        let eom = try id(Key.eom, required: true) ?? detect(SpecialTokenNames.endOfMessage)
        _ = try firstID(Key.fimPrefix) ?? detect(SpecialTokenNames.fillInMiddlePrefix)
        _ = try firstID(Key.fimSuffix) ?? detect(SpecialTokenNames.fillInMiddleSuffix)
        _ = try firstID(Key.fimMiddle) ?? detect(SpecialTokenNames.fillInMiddleMiddle)
        let fimPad = try id(Key.fimPad, required: false) ?? detect(SpecialTokenNames.fillInMiddlePad)
        let fimRepository = try id(Key.fimRepository, required: false)
            ?? detect(SpecialTokenNames.fillInMiddleRepository)
        let fimSeparator = try id(Key.fimSeparator, required: false) ?? detect(SpecialTokenNames.fillInMiddleSeparator)

        // End of generation, as llama.cpp decides it: the fill-in-the-middle pad/repository/separator tokens,
        // every token named like an end-of-turn marker, EOS, EOT and EOM.
        var endOfGeneration = Set([fimPad, fimRepository, fimSeparator].compactMap { $0 })
        for case let id? in SpecialTokenNames.endOfGeneration.map({ table.find($0) }) {
            endOfGeneration.insert(id)
            if types[id] != .control { types[id] = .control }
        }
        for case let id? in [eos, eot, eom] { endOfGeneration.insert(id) }
        Self.applyEndOfGenerationExceptions(&endOfGeneration, &types, texts)

        let addBOS = try metadata.bool(Key.addBOS) ?? addBOSByDefault
        let addEOS = try metadata.bool(Key.addEOS) ?? false
        if addBOS && bos == nil { throw TokenizerError.missingSpecialToken(flagKey: Key.addBOS, idKey: Key.bos) }
        if addEOS && eos == nil { throw TokenizerError.missingSpecialToken(flagKey: Key.addEOS, idKey: Key.eos) }

        let specialIDs = (0..<count).filter { types[$0] == .control || types[$0] == .userDefined || types[$0] == .unknown }
        specials = SpecialTokenSplitter(
            texts: specialIDs.map { Array(table.key($0)) },
            ids: specialIDs,
            types: specialIDs.map { types[$0] })

        self.texts = texts
        self.types = types
        self.table = table
        self.bosID = bos
        self.eosID = eos
        self.unknownID = try id(Key.unknown, required: false)
        self.paddingID = try id(Key.padding, required: false)
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.endOfGeneration = endOfGeneration
    }

    /// llama.cpp's two workarounds: in gpt-oss (harmony) and solar-open vocabularies `<|end|>` ends a message,
    /// not generation; in Gemma 4 style vocabularies with `<|tool_response>`, `</s>` is an ordinary token.
    private static func applyEndOfGenerationExceptions(_ set: inout Set<TokenID>, _ types: inout [TokenType],
                                                       _ texts: [String]) {
        func member(_ text: String) -> TokenID? { set.first { texts[$0] == text } }
        let hasCall = member("<|call|>") != nil || member("<|calls|>") != nil
        if let end = member("<|end|>"),
           (member("<|return|>") != nil && hasCall) || (hasCall && member("<|flush|>") != nil) {
            set.remove(end)
            types[end] = .userDefined
        }
        if member("<|tool_response>") != nil, let closing = member("</s>") {
            set.remove(closing)
            types[closing] = .normal
        }
    }

    func text(_ id: TokenID) -> String {
        id >= 0 && id < count ? texts[id] : ""
    }

    func type(_ id: TokenID) -> TokenType {
        id >= 0 && id < count ? types[id] : .undefined
    }

    func id(for text: String) -> TokenID? {
        table.find(text)
    }

    /// Control and unknown tokens, which decoding leaves out when asked to skip special tokens.
    func isSkippedAsSpecial(_ id: TokenID) -> Bool {
        let type = self.type(id)
        return type == .control || type == .unknown
    }
}
