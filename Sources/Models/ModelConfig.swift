import GGUF

/// Hyperparameters of a decoder-only transformer, read from GGUF metadata (`<arch>.*` keys).
public struct ModelConfig: Sendable, Equatable {
    public var architecture: String
    public var layerCount: Int          // <arch>.block_count
    public var embeddingLength: Int     // model dim
    public var feedForwardLength: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int             // <arch>.attention.key_length, else dim / heads
    public var vocabularySize: Int
    public var contextLength: Int       // trained context
    public var ropeFreqBase: Float
    public var ropeDimensionCount: Int
    public var rmsEpsilon: Float
    /// Sliding-window size of local attention layers (0 = every layer is global).
    public var slidingWindow: Int = 0
    /// Final logit soft-capping (0 = off).
    public var finalLogitSoftcap: Float = 0
    /// Linear RoPE scaling factor of global layers (1 = none).
    public var ropeScaleFactor: Float = 1

    public var qDim: Int { headCount * headDim }
    public var kvDim: Int { kvHeadCount * headDim }

    /// Reads the hyperparameters of the file's architecture and checks they are consistent.
    public init(file: GGUFFile) throws {
        guard let arch = file.architecture, ModelError.supportedArchitectures.contains(arch) else {
            throw ModelError.unsupportedArchitecture(file.architecture)
        }
        func int(_ key: String, default value: Int? = nil) throws -> Int {
            guard let v = file.metadata["\(arch).\(key)"] else {
                if let value { return value }
                throw ModelError.missingMetadata("\(arch).\(key)")
            }
            guard let i = v.int ?? (v.array?.first?.int) else {
                throw ModelError.invalidMetadata(key: "\(arch).\(key)", reason: "not an integer")
            }
            return i
        }
        func float(_ key: String, default value: Float) throws -> Float {
            guard let v = file.metadata["\(arch).\(key)"] else { return value }
            guard let f = v.float else { throw ModelError.invalidMetadata(key: "\(arch).\(key)", reason: "not a number") }
            return f
        }
        architecture = arch
        layerCount = try int("block_count")
        embeddingLength = try int("embedding_length")
        feedForwardLength = try int("feed_forward_length")
        headCount = try int("attention.head_count")
        kvHeadCount = try int("attention.head_count_kv", default: headCount)
        guard headCount > 0 else { throw ModelError.invalidMetadata(key: "\(arch).attention.head_count", reason: "must be positive") }
        headDim = try int("attention.key_length", default: embeddingLength / headCount)
        contextLength = try int("context_length", default: 2048)
        ropeFreqBase = try float("rope.freq_base", default: 10000)
        ropeDimensionCount = try int("rope.dimension_count", default: headDim)
        rmsEpsilon = try float("attention.layer_norm_rms_epsilon", default: 1e-5)
        slidingWindow = try int("attention.sliding_window", default: 0)
        finalLogitSoftcap = try float("final_logit_softcapping", default: 0)
        if file.string("\(arch).rope.scaling.type") == "linear" {
            ropeScaleFactor = try float("rope.scaling.factor", default: 1)
        }
        let tokens = file.metadata["tokenizer.ggml.tokens"]?.array?.count
        vocabularySize = try tokens ?? int("vocab_size")

        try check(layerCount, in: 1...1024, "block_count")
        try check(embeddingLength, in: 1...131072, "embedding_length")
        try check(feedForwardLength, in: 1...1_048_576, "feed_forward_length")
        try check(headCount, in: 1...1024, "attention.head_count")
        try check(kvHeadCount, in: 1...headCount, "attention.head_count_kv")
        guard headCount % kvHeadCount == 0 else {
            throw ModelError.invalidMetadata(key: "\(arch).attention.head_count_kv", reason: "\(kvHeadCount) does not divide head_count \(headCount)")
        }
        try check(headDim, in: 2...512, "attention.key_length")
        try check(ropeDimensionCount, in: 2...headDim, "rope.dimension_count")
        try check(contextLength, in: 1...10_000_000, "context_length")
        try check(vocabularySize, in: 1...10_000_000, "vocab_size")
        guard ropeFreqBase > 0, ropeFreqBase.isFinite else {
            throw ModelError.invalidMetadata(key: "\(arch).rope.freq_base", reason: "must be a positive number")
        }
        try check(slidingWindow, in: 0...10_000_000, "attention.sliding_window")
        guard ropeScaleFactor > 0, ropeScaleFactor.isFinite, finalLogitSoftcap >= 0, finalLogitSoftcap.isFinite else {
            throw ModelError.invalidMetadata(key: "\(arch).rope.scaling.factor", reason: "must be a positive number")
        }
        guard rmsEpsilon >= 0, rmsEpsilon.isFinite else {
            throw ModelError.invalidMetadata(key: "\(arch).attention.layer_norm_rms_epsilon", reason: "must be a non-negative number")
        }
    }

    private func check(_ v: Int, in range: ClosedRange<Int>, _ key: String) throws {
        guard range.contains(v) else {
            throw ModelError.invalidMetadata(key: "\(architecture).\(key)", reason: "\(v) is outside \(range.lowerBound)...\(range.upperBound)")
        }
    }
}
