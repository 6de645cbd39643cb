/// How the next token is chosen and when generation stops, per request.
///
/// Filters follow llama.cpp's default chain; see ``Sampler`` for the order they run in.
/// JSON keys are snake_case (`top_p`, `max_tokens`, ...) as in the OpenAI and vLLM APIs, and
/// every key is optional when decoding: a missing key keeps its default.
public struct SamplingParams: Sendable, Codable, Equatable {
    /// Softmax temperature; 0 picks the most likely token (greedy, ties to the lowest id).
    public var temperature: Float = 1.0
    /// Keep only the `topK` most likely tokens; 0 disables.
    public var topK: Int = 0
    /// Keep the smallest set of most likely tokens whose probability reaches `topP`; 1 disables.
    public var topP: Float = 1.0
    /// Drop tokens less likely than `minP` times the most likely one; 0 disables.
    public var minP: Float = 0.0
    /// HF / llama.cpp repetition penalty over the penalty window (prompt and generated):
    /// a positive logit is divided by it, a negative one multiplied; 1 disables.
    public var repetitionPenalty: Float = 1.0
    /// How many of the last history tokens the repetition penalty looks at; 0 = all of them.
    public var penaltyLastN: Int = 64
    /// OpenAI presence penalty over generated tokens: subtracted once from every token seen.
    public var presencePenalty: Float = 0.0
    /// OpenAI frequency penalty over generated tokens: subtracted once per occurrence.
    public var frequencyPenalty: Float = 0.0
    /// Seed of the request's own random stream; nil draws a fresh seed.
    public var seed: UInt64? = nil
    /// Most tokens to generate.
    public var maxTokens: Int = 256
    /// Strings that end generation; they are never emitted.
    public var stop: [String] = []
    /// Token ids that end generation, besides the model's end-of-sequence tokens.
    public var stopTokenIDs: [Int] = []
    /// Keep generating past the model's end-of-sequence tokens (benchmarks).
    public var ignoreEOS: Bool = false
    /// Report each sampled token's log-probability and this many most likely alternatives
    /// (0...20); nil reports none.
    public var logprobs: Int? = nil

    public init(
        temperature: Float = 1.0,
        topK: Int = 0,
        topP: Float = 1.0,
        minP: Float = 0.0,
        repetitionPenalty: Float = 1.0,
        penaltyLastN: Int = 64,
        presencePenalty: Float = 0.0,
        frequencyPenalty: Float = 0.0,
        seed: UInt64? = nil,
        maxTokens: Int = 256,
        stop: [String] = [],
        stopTokenIDs: [Int] = [],
        ignoreEOS: Bool = false
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.penaltyLastN = penaltyLastN
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.seed = seed
        self.maxTokens = maxTokens
        self.stop = stop
        self.stopTokenIDs = stopTokenIDs
        self.ignoreEOS = ignoreEOS
    }

    /// Greedy decoding: temperature 0, everything else at its default.
    public static let greedy = SamplingParams(temperature: 0)

    /// Throws the first out-of-range field. Comparisons are written so that NaN fails them.
    public func validate() throws {
        func fail(_ message: String) -> SamplingParamsError { SamplingParamsError(message: message) }
        guard temperature >= 0, temperature.isFinite else {
            throw fail("temperature must be >= 0 and finite (got \(temperature))")
        }
        guard topK >= 0 else { throw fail("top_k must be >= 0 (got \(topK))") }
        guard topP > 0, topP <= 1 else { throw fail("top_p must be in (0, 1] (got \(topP))") }
        guard minP >= 0, minP <= 1 else { throw fail("min_p must be in [0, 1] (got \(minP))") }
        guard repetitionPenalty > 0, repetitionPenalty <= 10 else {
            throw fail("repetition_penalty must be in (0, 10] (got \(repetitionPenalty))")
        }
        guard penaltyLastN >= 0 else { throw fail("penalty_last_n must be >= 0 (got \(penaltyLastN))") }
        guard presencePenalty >= -2, presencePenalty <= 2 else {
            throw fail("presence_penalty must be in [-2, 2] (got \(presencePenalty))")
        }
        guard frequencyPenalty >= -2, frequencyPenalty <= 2 else {
            throw fail("frequency_penalty must be in [-2, 2] (got \(frequencyPenalty))")
        }
        guard maxTokens >= 1 else { throw fail("max_tokens must be >= 1 (got \(maxTokens))") }
        if stop.contains(where: \.isEmpty) { throw fail("stop strings must not be empty") }
        if let k = logprobs, !(0...20).contains(k) { throw fail("top_logprobs must be in [0, 20] (got \(k))") }
        if let bad = stopTokenIDs.first(where: { $0 < 0 }) {
            throw fail("stop_token_ids must be >= 0 (got \(bad))")
        }
    }

    enum CodingKeys: String, CodingKey {
        case temperature
        case topK = "top_k"
        case topP = "top_p"
        case minP = "min_p"
        case repetitionPenalty = "repetition_penalty"
        case penaltyLastN = "penalty_last_n"
        case presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty"
        case seed
        case maxTokens = "max_tokens"
        case stop
        case stopTokenIDs = "stop_token_ids"
        case ignoreEOS = "ignore_eos"
        case logprobs
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SamplingParams()
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? d.temperature
        topK = try c.decodeIfPresent(Int.self, forKey: .topK) ?? d.topK
        topP = try c.decodeIfPresent(Float.self, forKey: .topP) ?? d.topP
        minP = try c.decodeIfPresent(Float.self, forKey: .minP) ?? d.minP
        repetitionPenalty = try c.decodeIfPresent(Float.self, forKey: .repetitionPenalty) ?? d.repetitionPenalty
        penaltyLastN = try c.decodeIfPresent(Int.self, forKey: .penaltyLastN) ?? d.penaltyLastN
        presencePenalty = try c.decodeIfPresent(Float.self, forKey: .presencePenalty) ?? d.presencePenalty
        frequencyPenalty = try c.decodeIfPresent(Float.self, forKey: .frequencyPenalty) ?? d.frequencyPenalty
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? d.maxTokens
        stop = try c.decodeIfPresent([String].self, forKey: .stop) ?? d.stop
        stopTokenIDs = try c.decodeIfPresent([Int].self, forKey: .stopTokenIDs) ?? d.stopTokenIDs
        ignoreEOS = try c.decodeIfPresent(Bool.self, forKey: .ignoreEOS) ?? d.ignoreEOS
        logprobs = try c.decodeIfPresent(Int.self, forKey: .logprobs)
    }
}

/// A sampling parameter out of range, e.g. "top_p must be in (0, 1] (got 1.5)".
public struct SamplingParamsError: Error, Equatable, CustomStringConvertible {
    /// One line naming the parameter, its allowed range and the value given.
    public let message: String

    public init(message: String) { self.message = message }

    public var description: String { message }
}
