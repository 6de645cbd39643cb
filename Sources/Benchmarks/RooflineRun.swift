import Dispatch
import Engine
import Models

/// One batch size's measured decode step against its roofline bound.
public struct RooflinePoint: Sendable, Codable {
    public var batch: Int
    public var context: Int
    public var stepMs: Double
    public var tokensPerSecond: Double
    /// FLOPs / bytes of the step.
    public var arithmeticIntensity: Double
    /// The step's bytes at the measured bandwidth, or its FLOPs at the F32 peak, whichever is longer.
    public var boundMs: Double
    /// Achieved bytes/s over measured bandwidth.
    public var mbu: Double
    /// Achieved FLOP/s over the F32 FMA peak (decode rows multiply float activations).
    public var mfu: Double
    /// "bandwidth", "compute" or "overhead" (achieved time over twice the bound).
    public var regime: String

    enum CodingKeys: String, CodingKey {
        case batch, context, regime, mbu, mfu
        case stepMs = "step_ms", tokensPerSecond = "tokens_per_second"
        case arithmeticIntensity = "arithmetic_intensity", boundMs = "bound_ms"
    }
}

/// Times decode steps of `batch` sequences that each attend over `context` cached tokens.
///
/// The sequences share one cached prompt of `context` tokens (as prefix caching would give
/// them), each then writing its own blocks, so building a 256-sequence batch costs one prefill.
/// The byte count follows: the shared prefix is read once per step, the private tail per sequence.
public struct RooflineRun {
    public let model: LoadedModel
    public let cost: ModelCost
    public let peaks: MachinePeaks
    public let kvCacheType: KVCacheType

    public init(model: LoadedModel, peaks: MachinePeaks, kvCacheType: KVCacheType = .f16) {
        self.model = model
        self.peaks = peaks
        self.kvCacheType = kvCacheType
        cost = ModelCost(file: model.file, config: model.model.config, kvCacheType: kvCacheType)
    }

    public func measure(batch: Int, context: Int, steps: Int) throws -> RooflinePoint {
        let m = model.model
        let blockSize = 16
        let prefixBlocks = (context + blockSize - 1) / blockSize
        let privateBlocks = (steps + 2 + blockSize - 1) / blockSize + 1
        let cache = m.makeKVCache(blockSize: blockSize, blockCount: prefixBlocks + batch * privateBlocks, type: kvCacheType)
        let prefixTable = (0..<prefixBlocks).map { Int32($0) }
        let vocab = m.config.vocabularySize
        // Prefill the shared prompt once.
        var pos = 0
        while pos < context {
            let n = min(m.maxBatchTokens, context - pos)
            var b = Batch()
            b.append(tokens: (pos..<pos + n).map { ($0 * 7919 + 13) % vocab }, startPosition: pos,
                     blockTable: prefixTable + [Int32(prefixBlocks)], wantsLogits: false)
            _ = try m.forward(b, cache: cache)
            pos += n
        }
        // The prefix's last block may be partial: give each sequence its own copy of positions
        // from the first private block on by starting decode at a block boundary.
        let start = prefixBlocks * blockSize
        let tables: [[Int32]] = (0..<batch).map { s in
            prefixTable + (0..<privateBlocks).map { Int32(prefixBlocks + s * privateBlocks + $0) }
        }
        var elapsed = 0.0
        for step in 0..<(steps + 2) {
            var b = Batch()
            for s in 0..<batch {
                b.append(tokens: [(s * 31 + step * 17) % vocab], startPosition: start + step, blockTable: tables[s], wantsLogits: true)
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try m.forward(b, cache: cache)
            let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if step >= 2 { elapsed += t }     // two warm-up steps
        }
        let stepSeconds = elapsed / Double(steps)
        let ctx = start + 2 + steps / 2      // mean context over the timed steps
        let bytes = Double(cost.weightBytes) + Double(context) * Double(cost.kvBytesPerContextToken)
            + Double(batch) * Double(ctx - context) * Double(cost.kvBytesPerContextToken)
        let flops = cost.stepFlops(batch: batch, context: ctx)
        let memorySeconds = bytes / (peaks.readGBps * 1e9)
        let computeSeconds = flops / (peaks.f32GFlops * 1e9)
        let bound = max(memorySeconds, computeSeconds)
        let regime = stepSeconds > 2 * bound ? "overhead" : (memorySeconds >= computeSeconds ? "bandwidth" : "compute")
        return RooflinePoint(batch: batch, context: ctx, stepMs: stepSeconds * 1000, tokensPerSecond: Double(batch) / stepSeconds,
                             arithmeticIntensity: flops / bytes, boundMs: bound * 1000,
                             mbu: bytes / stepSeconds / (peaks.readGBps * 1e9),
                             mfu: flops / stepSeconds / (peaks.f32GFlops * 1e9), regime: regime)
    }
}
