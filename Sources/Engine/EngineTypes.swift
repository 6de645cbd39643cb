import Models
import Tokenizers

/// How the scheduler forms batches (the seeds' comparison).
public enum BatchingMode: String, Sendable, CaseIterable, Codable {
    /// Iteration-level (Orca): every step admits waiting requests and retires finished ones.
    case continuous
    /// A fixed batch runs to completion before the next one starts.
    case `static`
    /// Wait up to a timeout to fill a batch, then run it to completion.
    case dynamic
}

/// Settings of an LLMEngine.
public struct EngineOptions: Sendable {
    /// Most tokens (decode + prefill chunks) one step computes.
    public var maxBatchTokens = 512
    /// Most sequences running at once.
    public var maxNumSeqs = 64
    /// Tokens per KV block.
    public var blockSize = 16
    /// KV pool size in bytes (nil = a default that fits the machine: 1 GiB, capped at a quarter of RAM).
    public var kvCacheMemory: Int?
    /// Element type of the KV pool (F16 holds twice the tokens of F32 in the same memory).
    public var kvCacheType = KVCacheType.f16
    /// Most tokens (prompt + generated) per sequence; nil = the model's context length, at most 8192.
    public var contextSize: Int?
    public var prefixCaching = true
    public var batching = BatchingMode.continuous
    /// Dynamic batching: how long the first waiting request may wait for the batch to fill.
    public var dynamicBatchTimeoutMs = 50.0

    public init() {}
}

/// Per-request timings, measured on the engine thread.
public struct RequestTimings: Sendable, Codable, Equatable {
    public var promptTokens = 0
    /// Prompt tokens found in the prefix cache.
    public var cachedPromptTokens = 0
    public var generatedTokens = 0
    /// Arrival to first scheduling.
    public var queueMs = 0.0
    /// Arrival to first generated token.
    public var ttftMs = 0.0
    /// Mean time per output token after the first.
    public var tpotMs = 0.0
    /// Arrival to finish.
    public var totalMs = 0.0

    public init() {}
}

/// What a request's stream delivers.
public enum GenerationEvent: Sendable {
    /// A generated token and the text it completes (may be empty while a UTF-8 character or a
    /// possible stop string is pending). `sample` is the index among the request's n samples;
    /// `logprobs` is set when the request asked for them.
    case token(id: TokenID, text: String, sample: Int, logprobs: TokenLogprobs?)
    /// Text released at the end without a new token (a held-back partial character or a
    /// suffix that turned out not to be a stop string).
    case text(String, sample: Int)
    /// A sample finished; the stream ends after every sample has finished.
    case finished(sample: Int, reason: FinishReason, timings: RequestTimings)
}

/// Engine-wide statistics for metrics.
public struct EngineStats: Sendable, Equatable {
    public var running = 0
    public var waiting = 0
    public var kvBlocksTotal = 0
    public var kvBlocksUsed = 0
    public var kvUsage: Double { kvBlocksTotal > 0 ? Double(kvBlocksUsed) / Double(kvBlocksTotal) : 0 }
    public var prefixHitRate = 0.0
    public var promptTokensProcessed = 0
    public var generatedTokens = 0
    public var steps = 0
    public var preemptions = 0
    public var finishedRequests = 0
}

/// Request errors raised at submission. One-line messages.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    case promptTooLongForPool(tokens: Int, poolTokens: Int)
    case invalidSampleCount(Int)
    case shutDown

    public var description: String {
        switch self {
        case .promptTooLongForPool(let tokens, let poolTokens):
            return "the prompt needs \(tokens) tokens of KV cache but the whole pool holds \(poolTokens); raise --kv-cache-memory"
        case .invalidSampleCount(let n):
            return "n must be between 1 and 64 (got \(n))"
        case .shutDown:
            return "the engine has shut down"
        }
    }
}
