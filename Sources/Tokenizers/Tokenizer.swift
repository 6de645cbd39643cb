/// A token's index in the model's vocabulary.
public typealias TokenID = Int

/// The kind of a vocabulary entry, as stored in `tokenizer.ggml.token_type` (llama.cpp's `llama_token_type`).
public enum TokenType: Int, Sendable {
    /// Type 0 in the file: nothing is known about the token; it decodes to nothing.
    case undefined = 0
    case normal = 1
    case unknown = 2
    /// Markers such as `<|im_start|>`: matched in text only when special tokens are parsed, hidden when decoding skips specials.
    case control = 3
    /// Added tokens that are always matched in text, even when special tokens are not parsed.
    case userDefined = 4
    case unused = 5
    /// SentencePiece byte-fallback tokens written `<0xXX>`.
    case byte = 6
}

/// Turns text into token ids and back, following llama.cpp's behaviour for the vocabulary stored in a GGUF file.
///
/// Implementations are immutable after loading, so one instance can serve many threads.
public protocol Tokenizer: Sendable {
    /// Number of entries in the vocabulary; valid ids are `0..<vocabularySize`.
    var vocabularySize: Int { get }
    /// Beginning-of-sequence token (`tokenizer.ggml.bos_token_id`), if the model has one.
    var bosTokenID: TokenID? { get }
    /// End-of-sequence token (`tokenizer.ggml.eos_token_id`), if the model has one.
    var eosTokenID: TokenID? { get }
    /// Whether `encode(_:addSpecial:parseSpecial:)` with `addSpecial` prepends BOS (`tokenizer.ggml.add_bos_token`).
    var addBOS: Bool { get }
    /// Whether `encode(_:addSpecial:parseSpecial:)` with `addSpecial` appends EOS (`tokenizer.ggml.add_eos_token`).
    var addEOS: Bool { get }
    /// Tokens that end generation: EOS, EOT, EOM and the end-of-turn markers llama.cpp recognises by text
    /// (`<|im_end|>`, `<|eot_id|>`, `<end_of_turn>`, `<|endoftext|>`, ...).
    var endOfGenerationTokenIDs: Set<TokenID> { get }

    /// Tokenizes `text`.
    /// - Parameters:
    ///   - addSpecial: add BOS/EOS as the model asks (`addBOS`, `addEOS`).
    ///   - parseSpecial: control tokens written in the text (e.g. `<|im_start|>`) become their ids instead of being
    ///     tokenized as plain text. User-defined tokens are always matched, as in llama.cpp.
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [TokenID]

    /// Concatenates the bytes of `ids` and decodes them as UTF-8 (invalid sequences become U+FFFD).
    /// - Parameter skipSpecial: leave out control and unknown tokens. Ids outside the vocabulary are always skipped.
    func decode(_ ids: [TokenID], skipSpecial: Bool) -> String

    /// The raw bytes the token stands for: byte-level decoded for normal BPE tokens, the literal text for
    /// control and user-defined tokens, empty for unused tokens and ids outside the vocabulary.
    func tokenBytes(_ id: TokenID) -> [UInt8]

    /// The token's type; `.undefined` for ids outside the vocabulary.
    func tokenType(_ id: TokenID) -> TokenType

    /// The vocabulary string as stored in the file (for byte-level BPE this is the mapped alphabet, e.g. `Ġthe`);
    /// empty for ids outside the vocabulary.
    func tokenText(_ id: TokenID) -> String

    /// Exact, byte-for-byte vocabulary lookup of a stored token string.
    func tokenID(for text: String) -> TokenID?
}

extension Tokenizer {
    /// Decodes `ids`, leaving out control tokens.
    public func decode(_ ids: [TokenID]) -> String {
        decode(ids, skipSpecial: true)
    }

    /// Whether generation should stop after `id`.
    public func isEndOfGeneration(_ id: TokenID) -> Bool {
        endOfGenerationTokenIDs.contains(id)
    }
}
