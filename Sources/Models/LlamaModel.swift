import GGUF
import Kernels

/// The GGUF `llama` architecture (SmolLM2, Llama 2/3, Mistral) and its variants (`qwen2`).
///
/// Per layer: RMSNorm -> Q, K, V (+ biases) -> RoPE -> causal grouped-query attention (over a
/// sliding window if any) -> output projection -> residual; RMSNorm -> SwiGLU feed-forward ->
/// residual. The output head is `output.weight`, or the token embedding when tied. Which
/// optional steps run is the LlamaVariant's choice.
public final class LlamaModel: LanguageModel {
    public var config: ModelConfig { run.config }
    public var maxBatchTokens: Int { run.maxBatchTokens }
    public var pool: ThreadPool { run.pool }

    struct Layer {
        let attnNorm: [Float]       // [dim]
        let wq: WeightMatrix        // [qDim, dim]
        let wk: WeightMatrix        // [kvDim, dim]
        let wv: WeightMatrix        // [kvDim, dim]
        let wo: WeightMatrix        // [dim, qDim]
        let ffnNorm: [Float]        // [dim]
        let gate: WeightMatrix      // [ffn, dim]
        let up: WeightMatrix        // [ffn, dim]
        let down: WeightMatrix      // [dim, ffn]
        let qkvBias: (q: [Float], k: [Float], v: [Float])?  // [qDim], [kvDim], [kvDim]
    }

    let file: GGUFFile              // keeps the mapping alive
    let run: DecoderRunner
    let tokenEmbedding: WeightMatrix   // [vocab, dim]
    let layers: [Layer]
    let outputNorm: [Float]         // [dim]
    let output: WeightMatrix        // [vocab, dim]
    let ropeFrequencies: [Float]    // [ropeDim / 2]
    let ropeStyle: Ops.RopeStyle
    let window: Int                 // keys a query sees (0 = all)

    public init(file: GGUFFile, variant: LlamaVariant, pool: ThreadPool, maxBatchTokens: Int = 512, maxLogitRows: Int = 64) throws {
        let c = try ModelConfig(file: file)
        self.file = file
        ropeStyle = variant.ropeStyle
        window = variant.slidingWindow ? c.slidingWindow : 0
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
                wo: try t.matrix(p + "attn_output.weight", rows: dim, cols: c.qDim),
                ffnNorm: try t.vector(p + "ffn_norm.weight", count: dim),
                gate: try t.matrix(p + "ffn_gate.weight", rows: c.feedForwardLength, cols: dim),
                up: try t.matrix(p + "ffn_up.weight", rows: c.feedForwardLength, cols: dim),
                down: try t.matrix(p + "ffn_down.weight", rows: dim, cols: c.feedForwardLength),
                qkvBias: variant.qkvBias ? (q: try t.vector(p + "attn_q.bias", count: c.qDim),
                                            k: try t.vector(p + "attn_k.bias", count: c.kvDim),
                                            v: try t.vector(p + "attn_v.bias", count: c.kvDim)) : nil)
        }
        outputNorm = try t.vector("output_norm.weight", count: dim)
        output = t.has("output.weight") ? try t.matrix("output.weight", rows: c.vocabularySize, cols: dim) : tokenEmbedding
        ropeFrequencies = Ops.ropeInverseFrequencies(base: c.ropeFreqBase, rotaryDim: c.ropeDimensionCount)
        run = DecoderRunner(config: c, pool: pool, maxBatchTokens: maxBatchTokens, maxLogitRows: maxLogitRows)
    }


    public func forward(_ batch: Batch, cache: KVCacheStorage) throws -> UnsafeMutableBufferPointer<Float> {
        try run.validate(batch, cache: cache)
        let T = batch.tokenCount, dim = config.embeddingLength
        if T == 0 { return UnsafeMutableBufferPointer(start: run.logits.pointer, count: 0) }
        let scale = 1 / Float(config.headDim).squareRoot()
        run.embed(batch, table: tokenEmbedding)
        for (l, layer) in layers.enumerated() {
            run.normRows(run.x.pointer, into: run.xn.pointer, weight: layer.attnNorm, rows: T)
            run.projectQKV(wq: layer.wq, wk: layer.wk, wv: layer.wv, tokens: T)
            if let b = layer.qkvBias { run.addQKVBias(q: b.q, k: b.k, v: b.v, tokens: T) }
            run.ropeAndStore(batch, layer: l, cache: cache, inverseFrequencies: ropeFrequencies, style: ropeStyle)
            run.attention(batch, layer: l, cache: cache, scale: scale, window: window)
            run.projectOutput(layer.wo, tokens: T)
            Ops.add(run.x.pointer, run.tmp.pointer, count: T * dim)

            run.normRows(run.x.pointer, into: run.xn.pointer, weight: layer.ffnNorm, rows: T)
            run.feedForward(gate: layer.gate, up: layer.up, down: layer.down, activation: .silu, tokens: T)
            Ops.add(run.x.pointer, run.tmp.pointer, count: T * dim)
        }
        return run.outputHead(batch, norm: outputNorm, output: output)
    }
}
