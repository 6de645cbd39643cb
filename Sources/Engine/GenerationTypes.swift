import Tokenizers

/// Why generation ended: `length` (max tokens or context end) or `stop` (EOS, end-of-turn
/// token, stop token or stop string).
public enum FinishReason: String, Sendable, Codable {
    case length
    case stop
}

/// Per-request timings in the units inference engineers quote.
public struct GenerationTimings: Sendable, Codable, Equatable {
    public var promptTokens = 0
    /// Prefill wall time.
    public var promptMs = 0.0
    /// Time from the start of the request to the first generated token.
    public var ttftMs = 0.0
    public var generatedTokens = 0
    /// Wall time from the first generated token to the last one.
    public var decodeMs = 0.0

    public init() {}

    /// Decode speed over the tokens after the first (the first is paid for by prefill).
    public var decodeTokensPerSecond: Double {
        generatedTokens > 1 && decodeMs > 0 ? Double(generatedTokens - 1) / (decodeMs / 1000) : 0
    }
    public var promptTokensPerSecond: Double { promptMs > 0 ? Double(promptTokens) / (promptMs / 1000) : 0 }
    /// Mean time per output token after the first.
    public var tpotMs: Double { generatedTokens > 1 ? decodeMs / Double(generatedTokens - 1) : 0 }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", promptMs = "prompt_ms", ttftMs = "ttft_ms"
        case generatedTokens = "generated_tokens", decodeMs = "decode_ms"
        case decodeTokensPerSecond = "decode_tokens_per_second"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(promptMs, forKey: .promptMs)
        try c.encode(ttftMs, forKey: .ttftMs)
        try c.encode(generatedTokens, forKey: .generatedTokens)
        try c.encode(decodeMs, forKey: .decodeMs)
        try c.encode(decodeTokensPerSecond, forKey: .decodeTokensPerSecond)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try c.decode(Int.self, forKey: .promptTokens)
        promptMs = try c.decode(Double.self, forKey: .promptMs)
        ttftMs = try c.decode(Double.self, forKey: .ttftMs)
        generatedTokens = try c.decode(Int.self, forKey: .generatedTokens)
        decodeMs = try c.decode(Double.self, forKey: .decodeMs)
    }
}

/// The outcome of one completion.
public struct GenerationResult: Sendable {
    public var promptTokenIDs: [TokenID]
    public var tokenIDs: [TokenID]
    public var text: String
    public var finishReason: FinishReason
    public var timings: GenerationTimings
}

/// Errors a request can hit before or while generating. One-line messages.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case emptyPrompt
    case promptTooLong(tokens: Int, contextSize: Int)
    case invalidTokenID(Int, vocabularySize: Int)

    public var description: String {
        switch self {
        case .emptyPrompt:
            return "the prompt is empty (after tokenization) and the model adds no BOS token"
        case .promptTooLong(let tokens, let contextSize):
            return "the prompt has \(tokens) tokens but the context size is \(contextSize); shorten it or raise --ctx-size"
        case .invalidTokenID(let id, let vocabularySize):
            return "token id \(id) is outside the vocabulary (0..<\(vocabularySize))"
        }
    }
}
