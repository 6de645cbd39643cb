import GGUF

/// Tokenizer models `loadTokenizer(metadata:)` can build, by `tokenizer.ggml.model`.
public let supportedTokenizerModels = ["gpt2", "llama"]

/// Builds the tokenizer a GGUF file describes from its metadata (the `tokenizer.ggml.*` keys).
///
/// Takes the metadata dictionary rather than a file so it works with any GGUF reader and with metadata built in
/// tests.
/// - Throws: `TokenizerError` for a missing or mistyped key, an unsupported model or pre-tokenizer, a malformed
///   merge, or an out-of-range special token id.
public func loadTokenizer(metadata: [String: GGUFValue]) throws -> any Tokenizer {
    let reader = MetadataReader(metadata: metadata)
    let modelKey = "tokenizer.ggml.model"
    guard let model = try reader.string(modelKey) else { throw TokenizerError.missingKey(modelKey) }
    switch model {
    case "gpt2":
        return try BPETokenizer(reader)
    case "llama":
        return try SentencePieceTokenizer(reader)
    default:
        throw TokenizerError.unsupportedModel(model, supported: supportedTokenizerModels)
    }
}
