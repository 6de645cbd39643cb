import GGUF
import Kernels

/// The GGUF `llama` architecture: SmolLM2, Llama 2/3, Mistral and kin.
///
/// Per layer: RMSNorm -> Q, K, V -> RoPE (adjacent pairs) -> causal grouped-query attention
/// -> output projection -> residual; RMSNorm -> SwiGLU feed-forward -> residual. The output
/// head is `output.weight`, or the token embedding when tied.
public final class LlamaModel: LanguageModel {
    public let config: ModelConfig
    public let maxBatchTokens: Int
    public let pool: ThreadPool

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
    }

    let file: GGUFFile              // keeps the mapping alive
    let tokenEmbedding: WeightMatrix   // [vocab, dim]
    let layers: [Layer]
    let outputNorm: [Float]         // [dim]
    let output: WeightMatrix        // [vocab, dim]
    let ropeFrequencies: [Float]    // [ropeDim / 2]
    let attention: PagedAttention

    // Scratch, sized for maxBatchTokens rows.
    let x: ScratchBuffer            // [T, dim] residual stream
    let xn: ScratchBuffer           // [T, dim] normed
    let q: ScratchBuffer            // [T, qDim]
    let k: ScratchBuffer            // [T, kvDim]
    let v: ScratchBuffer            // [T, kvDim]
    let att: ScratchBuffer          // [T, qDim]
    let tmp: ScratchBuffer          // [T, dim]
    let gate: ScratchBuffer         // [T, ffn]
    let up: ScratchBuffer           // [T, ffn]
    let logits: ScratchBuffer       // [maxLogitRows, vocab]
    let acts = Activations()
    let maxLogitRows: Int

    public init(file: GGUFFile, pool: ThreadPool, maxBatchTokens: Int = 512, maxLogitRows: Int = 64) throws {
        let c = try ModelConfig(file: file)
        config = c
        self.file = file
        self.pool = pool
        self.maxBatchTokens = max(1, maxBatchTokens)
        self.maxLogitRows = max(1, min(maxLogitRows, self.maxBatchTokens))
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
                down: try t.matrix(p + "ffn_down.weight", rows: dim, cols: c.feedForwardLength))
        }
        outputNorm = try t.vector("output_norm.weight", count: dim)
        output = t.has("output.weight") ? try t.matrix("output.weight", rows: c.vocabularySize, cols: dim) : tokenEmbedding
        ropeFrequencies = Ops.ropeInverseFrequencies(base: c.ropeFreqBase, rotaryDim: c.ropeDimensionCount)
        attention = PagedAttention(heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, blockSize: 16,
                                   scale: 1 / Float(c.headDim).squareRoot())
        let T = self.maxBatchTokens
        x = ScratchBuffer(T * dim)
        xn = ScratchBuffer(T * dim)
        q = ScratchBuffer(T * c.qDim)
        k = ScratchBuffer(T * c.kvDim)
        v = ScratchBuffer(T * c.kvDim)
        att = ScratchBuffer(T * c.qDim)
        tmp = ScratchBuffer(T * dim)
        gate = ScratchBuffer(T * c.feedForwardLength)
        up = ScratchBuffer(T * c.feedForwardLength)
        logits = ScratchBuffer(self.maxLogitRows * c.vocabularySize)
    }

    public func makeKVCache(blockSize: Int, blockCount: Int) -> KVCacheStorage {
        KVCacheStorage(layerCount: config.layerCount, kvDim: config.kvDim, blockSize: blockSize, blockCount: blockCount)
    }

    public func forward(_ batch: Batch, cache: KVCacheStorage) throws -> UnsafeMutableBufferPointer<Float> {
        let c = config
        let T = batch.tokenCount
        let dim = c.embeddingLength
        guard T <= maxBatchTokens else { throw ModelError.batchTooLarge(tokens: T, capacity: maxBatchTokens) }
        let nLogits = batch.logitsCount
        guard nLogits <= maxLogitRows else { throw ModelError.batchTooLarge(tokens: nLogits, capacity: maxLogitRows) }
        for (i, id) in batch.tokens.enumerated() {
            guard id >= 0, id < c.vocabularySize else { throw ModelError.tokenOutOfRange(id: id, vocabularySize: c.vocabularySize) }
            let pos = Int(batch.positions[i])
            guard pos >= 0, pos < c.contextLength else { throw ModelError.contextOverflow(position: pos, contextLength: c.contextLength) }
        }
        for s in batch.sequences where !s.rows.isEmpty {
            let last = Int(batch.positions[s.rows.upperBound - 1])
            guard last / cache.blockSize < s.blockTable.count else {
                throw ModelError.contextOverflow(position: last, contextLength: s.blockTable.count * cache.blockSize)
            }
        }
        if T == 0 { return UnsafeMutableBufferPointer(start: logits.pointer, count: 0) }

        for (i, id) in batch.tokens.enumerated() { tokenEmbedding.dequantizeRow(id, into: x[row: i, width: dim]) }

        for (l, layer) in layers.enumerated() {
            attentionBlock(layer, layer: l, batch: batch, cache: cache)
            feedForwardBlock(layer, tokens: T)
        }
        return outputHead(batch)
    }

    private func attentionBlock(_ layer: Layer, layer l: Int, batch: Batch, cache: KVCacheStorage) {
        let c = config, T = batch.tokenCount, dim = c.embeddingLength
        for i in 0..<T { Ops.rmsNorm(xn[row: i, width: dim], x[row: i, width: dim], weight: layer.attnNorm, count: dim, eps: c.rmsEpsilon) }
        acts.set(xn.pointer, tokens: T, cols: dim)
        layer.wq.multiply(acts, into: q.pointer, pool: pool)
        layer.wk.multiply(acts, into: k.pointer, pool: pool)
        layer.wv.multiply(acts, into: v.pointer, pool: pool)

        let kPool = cache.keyPool(l), vPool = cache.valuePool(l), kvDim = c.kvDim
        ropeFrequencies.withUnsafeBufferPointer { freqs in
            for s in batch.sequences {
                s.blockTable.withUnsafeBufferPointer { table in
                    for i in s.rows {
                        let pos = Int(batch.positions[i])
                        Ops.rope(q[row: i, width: c.qDim], heads: c.headCount, headDim: c.headDim, rotaryDim: c.ropeDimensionCount,
                                 position: pos, inverseFrequencies: freqs.baseAddress!, style: .interleaved)
                        Ops.rope(k[row: i, width: kvDim], heads: c.kvHeadCount, headDim: c.headDim, rotaryDim: c.ropeDimensionCount,
                                 position: pos, inverseFrequencies: freqs.baseAddress!, style: .interleaved)
                        let slot = cache.slot(position: pos, blockTable: table.baseAddress!)
                        (kPool + slot * kvDim).update(from: k[row: i, width: kvDim], count: kvDim)
                        (vPool + slot * kvDim).update(from: v[row: i, width: kvDim], count: kvDim)
                    }
                }
            }
        }
        runAttention(batch: batch, kPool: kPool, vPool: vPool, window: 0)

        acts.set(att.pointer, tokens: T, cols: c.qDim)
        layer.wo.multiply(acts, into: tmp.pointer, pool: pool)
        Ops.add(x.pointer, tmp.pointer, count: T * dim)
    }

    /// Attention for every sequence of the batch, (sequence, head) pairs spread over the threads.
    func runAttention(batch: Batch, kPool: UnsafePointer<Float>, vPool: UnsafePointer<Float>, window: Int) {
        let c = config, heads = c.headCount
        let items = batch.sequences.count * heads
        batch.positions.withUnsafeBufferPointer { positions in
            pool.parallelFor(items) { range in
                var item = range.lowerBound
                while item < range.upperBound {
                    let s = batch.sequences[item / heads]
                    let h0 = item % heads
                    let h1 = min(heads, h0 + (range.upperBound - item))
                    if !s.rows.isEmpty {
                        s.blockTable.withUnsafeBufferPointer { table in
                            attention.run(q: q[row: s.rows.lowerBound, width: c.qDim], qStride: c.qDim,
                                          out: att[row: s.rows.lowerBound, width: c.qDim], outStride: c.qDim,
                                          kPool: kPool, vPool: vPool, blockTable: table.baseAddress!,
                                          positions: positions.baseAddress! + s.rows.lowerBound, count: s.rows.count,
                                          window: window, headRange: h0..<h1)
                        }
                    }
                    item += h1 - h0
                }
            }
        }
    }

    private func feedForwardBlock(_ layer: Layer, tokens T: Int) {
        let c = config, dim = c.embeddingLength, ffn = c.feedForwardLength
        for i in 0..<T { Ops.rmsNorm(xn[row: i, width: dim], x[row: i, width: dim], weight: layer.ffnNorm, count: dim, eps: c.rmsEpsilon) }
        acts.set(xn.pointer, tokens: T, cols: dim)
        layer.gate.multiply(acts, into: gate.pointer, pool: pool)
        layer.up.multiply(acts, into: up.pointer, pool: pool)
        Ops.siluMul(gate.pointer, up.pointer, count: T * ffn)
        acts.set(gate.pointer, tokens: T, cols: ffn)
        layer.down.multiply(acts, into: tmp.pointer, pool: pool)
        Ops.add(x.pointer, tmp.pointer, count: T * dim)
    }

    /// Final norm and output head, only for the last row of each sequence that samples.
    private func outputHead(_ batch: Batch) -> UnsafeMutableBufferPointer<Float> {
        let c = config, dim = c.embeddingLength
        var n = 0
        for s in batch.sequences where s.wantsLogits && !s.rows.isEmpty {
            Ops.rmsNorm(xn[row: n, width: dim], x[row: s.rows.upperBound - 1, width: dim], weight: outputNorm, count: dim, eps: c.rmsEpsilon)
            n += 1
        }
        if n == 0 { return UnsafeMutableBufferPointer(start: logits.pointer, count: 0) }
        acts.set(xn.pointer, tokens: n, cols: dim)
        output.multiply(acts, into: logits.pointer, pool: pool)
        return UnsafeMutableBufferPointer(start: logits.pointer, count: n * c.vocabularySize)
    }
}
