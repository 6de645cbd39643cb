import GGUF
import Kernels

/// The GGUF `gemma3` architecture (text): Gemma 3 270M, 1B, 4B, ...
///
/// Differences from `llama`: embeddings scaled by sqrt(dim); per-head RMSNorm of Q and K
/// before RoPE (NeoX halves); norms after attention and after the feed-forward as well as
/// before; GeGLU (tanh GELU) feed-forward; five sliding-window layers (RoPE base 10000) for
/// every global layer (the file's rope base); optional final logit soft-capping. The GGUF
/// converter already folded Gemma's `1 + weight` into the norm weights.
public final class Gemma3Model: LanguageModel {
    public var config: ModelConfig { run.config }
    public var maxBatchTokens: Int { run.maxBatchTokens }
    public var pool: ThreadPool { run.pool }

    /// Every `slidingWindowPattern`-th layer is global; the rest use the sliding window.
    static let slidingWindowPattern = 6
    /// RoPE base of the sliding-window layers (Gemma 3's `rope_local_base_freq`).
    static let localRopeBase: Float = 10_000

    struct Layer {
        let attnNorm: [Float]       // [dim]
        let wq: WeightMatrix        // [qDim, dim]
        let wk: WeightMatrix        // [kvDim, dim]
        let wv: WeightMatrix        // [kvDim, dim]
        let qNorm: [Float]          // [headDim]
        let kNorm: [Float]          // [headDim]
        let wo: WeightMatrix        // [dim, qDim]
        let postAttnNorm: [Float]   // [dim]
        let ffnNorm: [Float]        // [dim]
        let gate: WeightMatrix      // [ffn, dim]
        let up: WeightMatrix        // [ffn, dim]
        let down: WeightMatrix      // [dim, ffn]
        let postFFNNorm: [Float]    // [dim]
        let isLocal: Bool
    }

    let file: GGUFFile
    let run: DecoderRunner
    let tokenEmbedding: WeightMatrix   // [vocab, dim]
    let layers: [Layer]
    let outputNorm: [Float]
    let output: WeightMatrix
    let globalFrequencies: [Float]
    let localFrequencies: [Float]

    public init(file: GGUFFile, pool: ThreadPool, maxBatchTokens: Int = 512, maxLogitRows: Int = 64) throws {
        let c = try ModelConfig(file: file)
        self.file = file
        let t = TensorLookup(file: file)
        let dim = c.embeddingLength
        tokenEmbedding = try t.matrix("token_embd.weight", rows: c.vocabularySize, cols: dim)
        layers = try (0..<c.layerCount).map { i in
            let p = "blk.\(i)."
            return Layer(
                attnNorm: try t.vector(p + "attn_norm.weight", count: dim),
                wq: try t.matrix(p + "attn_q.weight", rows: c.qDim, cols: dim),
                wk: try t.matrix(p + "attn_k.weight", rows: c.kvDim, cols: dim),
                wv: try t.matrix(p + "attn_v.weight", rows: c.kvDim, cols: dim),
                qNorm: try t.vector(p + "attn_q_norm.weight", count: c.headDim),
                kNorm: try t.vector(p + "attn_k_norm.weight", count: c.headDim),
                wo: try t.matrix(p + "attn_output.weight", rows: dim, cols: c.qDim),
                postAttnNorm: try t.vector(p + "post_attention_norm.weight", count: dim),
                ffnNorm: try t.vector(p + "ffn_norm.weight", count: dim),
                gate: try t.matrix(p + "ffn_gate.weight", rows: c.feedForwardLength, cols: dim),
                up: try t.matrix(p + "ffn_up.weight", rows: c.feedForwardLength, cols: dim),
                down: try t.matrix(p + "ffn_down.weight", rows: dim, cols: c.feedForwardLength),
                postFFNNorm: try t.vector(p + "post_ffw_norm.weight", count: dim),
                isLocal: c.slidingWindow > 0 && (i + 1) % Self.slidingWindowPattern != 0)
        }
        outputNorm = try t.vector("output_norm.weight", count: dim)
        output = t.has("output.weight") ? try t.matrix("output.weight", rows: c.vocabularySize, cols: dim) : tokenEmbedding
        globalFrequencies = Ops.ropeInverseFrequencies(base: c.ropeFreqBase, rotaryDim: c.ropeDimensionCount).map { $0 / c.ropeScaleFactor }
        localFrequencies = Ops.ropeInverseFrequencies(base: Self.localRopeBase, rotaryDim: c.ropeDimensionCount)
        run = DecoderRunner(config: c, pool: pool, maxBatchTokens: maxBatchTokens, maxLogitRows: maxLogitRows)
    }


    public func forward(_ batch: Batch, cache: KVCacheStorage) throws -> UnsafeMutableBufferPointer<Float> {
        try run.validate(batch, cache: cache)
        let c = config, T = batch.tokenCount, dim = c.embeddingLength
        if T == 0 { return UnsafeMutableBufferPointer(start: run.logits.pointer, count: 0) }
        let scale = 1 / Float(c.headDim).squareRoot()
        run.embed(batch, table: tokenEmbedding, scale: Float(dim).squareRoot())
        for (l, layer) in layers.enumerated() {
            run.normRows(run.x.pointer, into: run.xn.pointer, weight: layer.attnNorm, rows: T)
            run.projectQKV(wq: layer.wq, wk: layer.wk, wv: layer.wv, tokens: T)
            run.ropeAndStore(batch, layer: l, cache: cache,
                             inverseFrequencies: layer.isLocal ? localFrequencies : globalFrequencies,
                             style: .neox, qNorm: layer.qNorm, kNorm: layer.kNorm)
            run.attention(batch, layer: l, cache: cache, scale: scale, window: layer.isLocal ? c.slidingWindow : 0)
            run.projectOutput(layer.wo, tokens: T)
            run.normRows(run.tmp.pointer, into: run.tmp.pointer, weight: layer.postAttnNorm, rows: T)
            Ops.add(run.x.pointer, run.tmp.pointer, count: T * dim)

            run.normRows(run.x.pointer, into: run.xn.pointer, weight: layer.ffnNorm, rows: T)
            run.feedForward(gate: layer.gate, up: layer.up, down: layer.down, activation: .gelu, tokens: T)
            run.normRows(run.tmp.pointer, into: run.tmp.pointer, weight: layer.postFFNNorm, rows: T)
            Ops.add(run.x.pointer, run.tmp.pointer, count: T * dim)
        }
        return run.outputHead(batch, norm: outputNorm, output: output, softcap: c.finalLogitSoftcap)
    }
}
