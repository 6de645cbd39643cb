import Kernels

/// The machinery every decoder architecture shares: scratch buffers sized once for the
/// largest batch, batch validation, embedding, RoPE + KV writes, paged attention over a ragged
/// batch and the output head. Architectures (one file each) compose these steps.
final class DecoderRunner {
    let config: ModelConfig
    let pool: ThreadPool
    let maxBatchTokens: Int
    let maxLogitRows: Int

    // Scratch, sized for maxBatchTokens rows.
    let x: ScratchBuffer            // [T, dim] residual stream
    let xn: ScratchBuffer           // [T, dim] normed input of a block
    let q: ScratchBuffer            // [T, qDim]
    let k: ScratchBuffer            // [T, kvDim]
    let v: ScratchBuffer            // [T, kvDim]
    let att: ScratchBuffer          // [T, qDim] attention output
    let tmp: ScratchBuffer          // [T, dim] block output before the residual add
    let gate: ScratchBuffer         // [T, ffn]
    let up: ScratchBuffer           // [T, ffn]
    /// [rows, vocab]: sized for `maxLogitRows` at load and grown when a step samples more rows
    /// (a decode step of many sequences), so small batches never pay for a vocab-wide buffer per sequence.
    private(set) var logits: ScratchBuffer
    let acts = Activations()
    /// [T] 1 for decode rows: they multiply float activations (see WeightMatrix.multiply).
    let floatRows: UnsafeMutablePointer<UInt8>
    /// [maxBatchTokens] all ones: the output head always runs in float, whatever the batch.
    let allFloat: UnsafeMutablePointer<UInt8>

    init(config c: ModelConfig, pool: ThreadPool, maxBatchTokens: Int, maxLogitRows: Int) {
        config = c
        self.pool = pool
        self.maxBatchTokens = max(1, maxBatchTokens)
        self.maxLogitRows = max(1, min(maxLogitRows, self.maxBatchTokens))
        let T = self.maxBatchTokens, dim = c.embeddingLength
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
        floatRows = .allocate(capacity: T)
        floatRows.initialize(repeating: 0, count: T)
        allFloat = .allocate(capacity: T)
        allFloat.initialize(repeating: 1, count: T)
    }

    deinit {
        floatRows.deallocate()
        allFloat.deallocate()
    }

    /// Marks the rows of decoding sequences for this step.
    func markDecodeRows(_ batch: Batch) {
        for s in batch.sequences {
            for i in s.rows { floatRows[i] = s.isDecode ? 1 : 0 }
        }
    }

    /// Checks sizes, token ids, positions and block tables before any compute.
    func validate(_ batch: Batch, cache: KVCacheStorage) throws {
        let c = config
        let T = batch.tokenCount
        guard T <= maxBatchTokens else { throw ModelError.batchTooLarge(tokens: T, capacity: maxBatchTokens) }
        guard cache.layerCount == c.layerCount, cache.kvDim == c.kvDim else {
            throw ModelError.badTensor(name: "kv cache", reason: "laid out for another model")
        }
        for (i, id) in batch.tokens.enumerated() {
            guard id >= 0, id < c.vocabularySize else { throw ModelError.tokenOutOfRange(id: id, vocabularySize: c.vocabularySize) }
            let pos = Int(batch.positions[i])
            guard pos >= 0, pos < c.contextLength else { throw ModelError.contextOverflow(position: pos, contextLength: c.contextLength) }
        }
        for s in batch.sequences where !s.rows.isEmpty {
            let last = Int(batch.positions[s.rows.upperBound - 1])
            guard last / cache.blockSize < s.blockTable.count,
                  s.blockTable.allSatisfy({ $0 >= 0 && Int($0) < cache.blockCount }) else {
                throw ModelError.contextOverflow(position: last, contextLength: s.blockTable.count * cache.blockSize)
            }
        }
    }

    /// x[t] = embedding row of token t, times `scale`; also marks this step's decode rows.
    func embed(_ batch: Batch, table: WeightMatrix, scale: Float = 1) {
        markDecodeRows(batch)
        let dim = config.embeddingLength
        for (i, id) in batch.tokens.enumerated() {
            table.dequantizeRow(id, into: x[row: i, width: dim])
        }
        if scale != 1 { Ops.scale(x.pointer, by: scale, count: batch.tokenCount * dim) }
    }

    /// xn[t] = rmsnorm(src[t]) * weight for every row.
    func normRows(_ src: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>, weight: [Float], rows: Int) {
        let dim = config.embeddingLength
        for i in 0..<rows {
            Ops.rmsNorm(dst + i * dim, src + i * dim, weight: weight, count: dim, eps: config.rmsEpsilon)
        }
    }

    /// Q, K, V of the normed rows in `xn`.
    func projectQKV(wq: WeightMatrix, wk: WeightMatrix, wv: WeightMatrix, tokens T: Int) {
        acts.set(xn.pointer, tokens: T, cols: config.embeddingLength, floatRows: floatRows)
        wq.multiply(acts, into: q.pointer, pool: pool)
        wk.multiply(acts, into: k.pointer, pool: pool)
        wv.multiply(acts, into: v.pointer, pool: pool)
    }

    /// Optional per-head RMSNorm of Q and K, RoPE at each token's position, then K and V of
    /// every row written into the cache slot of its (sequence, position).
    func ropeAndStore(_ batch: Batch, layer l: Int, cache: KVCacheStorage, inverseFrequencies freqs: [Float],
                      style: Ops.RopeStyle, qNorm: [Float]? = nil, kNorm: [Float]? = nil) {
        let c = config, kvDim = c.kvDim, hd = c.headDim
        freqs.withUnsafeBufferPointer { f in
            for s in batch.sequences {
                s.blockTable.withUnsafeBufferPointer { table in
                    for i in s.rows {
                        let pos = Int(batch.positions[i])
                        let qi = q[row: i, width: c.qDim], ki = k[row: i, width: kvDim]
                        if let qNorm { for h in 0..<c.headCount { Ops.rmsNorm(qi + h * hd, qi + h * hd, weight: qNorm, count: hd, eps: c.rmsEpsilon) } }
                        if let kNorm { for h in 0..<c.kvHeadCount { Ops.rmsNorm(ki + h * hd, ki + h * hd, weight: kNorm, count: hd, eps: c.rmsEpsilon) } }
                        Ops.rope(qi, heads: c.headCount, headDim: hd, rotaryDim: c.ropeDimensionCount,
                                 position: pos, inverseFrequencies: f.baseAddress!, style: style)
                        Ops.rope(ki, heads: c.kvHeadCount, headDim: hd, rotaryDim: c.ropeDimensionCount,
                                 position: pos, inverseFrequencies: f.baseAddress!, style: style)
                        let slot = cache.slot(position: pos, blockTable: table.baseAddress!)
                        cache.store(layer: l, slot: slot, key: ki, value: v[row: i, width: kvDim])
                    }
                }
            }
        }
    }

    /// att = attention of every sequence over its cached keys; (sequence, head) pairs are
    /// spread over the threads.
    func attention(_ batch: Batch, layer l: Int, cache: KVCacheStorage, scale: Float, window: Int) {
        let c = config, heads = c.headCount
        let kernel = PagedAttention(heads: heads, kvHeads: c.kvHeadCount, headDim: c.headDim,
                                    blockSize: cache.blockSize, scale: scale, halfPrecision: cache.type == .f16)
        let kPool = UnsafeRawPointer(cache.keyPool(l)), vPool = UnsafeRawPointer(cache.valuePool(l))
        let items = batch.sequences.count * heads
        let q = self.q, att = self.att
        batch.positions.withUnsafeBufferPointer { positions in
            pool.parallelFor(items) { range in
                var item = range.lowerBound
                while item < range.upperBound {
                    let s = batch.sequences[item / heads]
                    let h0 = item % heads
                    let h1 = min(heads, h0 + (range.upperBound - item))
                    if !s.rows.isEmpty {
                        s.blockTable.withUnsafeBufferPointer { table in
                            kernel.run(q: q[row: s.rows.lowerBound, width: c.qDim], qStride: c.qDim,
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

    /// tmp = wo · att
    func projectOutput(_ wo: WeightMatrix, tokens T: Int) {
        acts.set(att.pointer, tokens: T, cols: config.qDim, floatRows: floatRows)
        wo.multiply(acts, into: tmp.pointer, pool: pool)
    }

    enum GatedActivation { case silu, gelu }

    /// tmp = down · (act(gate · xn) * (up · xn))
    func feedForward(gate wg: WeightMatrix, up wu: WeightMatrix, down wd: WeightMatrix, activation: GatedActivation, tokens T: Int) {
        let ffn = config.feedForwardLength
        acts.set(xn.pointer, tokens: T, cols: config.embeddingLength, floatRows: floatRows)
        wg.multiply(acts, into: gate.pointer, pool: pool)
        wu.multiply(acts, into: up.pointer, pool: pool)
        switch activation {
        case .silu: Ops.siluMul(gate.pointer, up.pointer, count: T * ffn)
        case .gelu: Ops.geluMul(gate.pointer, up.pointer, count: T * ffn)
        }
        acts.set(gate.pointer, tokens: T, cols: ffn, floatRows: floatRows)
        wd.multiply(acts, into: tmp.pointer, pool: pool)
    }

    /// Final norm and output head, only for the last row of each sequence that samples.
    func outputHead(_ batch: Batch, norm: [Float], output: WeightMatrix, softcap: Float = 0) -> UnsafeMutableBufferPointer<Float> {
        let c = config, dim = c.embeddingLength
        var n = 0
        for s in batch.sequences where s.wantsLogits && !s.rows.isEmpty {
            Ops.rmsNorm(xn[row: n, width: dim], x[row: s.rows.upperBound - 1, width: dim], weight: norm, count: dim, eps: c.rmsEpsilon)
            n += 1
        }
        if n == 0 { return UnsafeMutableBufferPointer(start: logits.pointer, count: 0) }
        if n * c.vocabularySize > logits.count { logits = ScratchBuffer(n * c.vocabularySize) }
        acts.set(xn.pointer, tokens: n, cols: dim, floatRows: allFloat)
        output.multiply(acts, into: logits.pointer, pool: pool)
        let out = UnsafeMutableBufferPointer(start: logits.pointer, count: n * c.vocabularySize)
        if softcap > 0 { for i in out.indices { out[i] = softcap * tanh(out[i] / softcap) } }
        return out
    }
}

import Foundation
