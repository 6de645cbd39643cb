import CKernels

/// Causal attention of one sequence's query rows over its paged KV cache (F32 or F16 storage).
public struct PagedAttention {
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    public let blockSize: Int
    public let scale: Float
    /// Pool element type: true for F16, false for F32.
    public let halfPrecision: Bool

    public init(heads: Int, kvHeads: Int, headDim: Int, blockSize: Int, scale: Float, halfPrecision: Bool = false) {
        self.halfPrecision = halfPrecision
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.blockSize = blockSize
        self.scale = scale
    }

    /// - Parameters:
    ///   - q: [nQ, heads * headDim] queries, row stride `qStride`
    ///   - out: [nQ, heads * headDim] results, row stride `outStride`
    ///   - kPool, vPool: this layer's pools [blocks][blockSize][kvHeads * headDim] (Float or Float16 bits)
    ///   - blockTable: the sequence's block ids, in position order
    ///   - positions: [nQ] each query's position; it sees keys 0...position (the last `window` if > 0)
    ///   - heads: the head range to compute (callers split heads across threads)
    public func run(q: UnsafePointer<Float>, qStride: Int, out: UnsafeMutablePointer<Float>, outStride: Int,
                    kPool: UnsafeRawPointer, vPool: UnsafeRawPointer,
                    blockTable: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, count nQ: Int,
                    window: Int = 0, headRange: Range<Int>) {
        let type = halfPrecision ? CK_KV_F16 : CK_KV_F32
        ck_attention_paged(q, Int32(qStride), out, Int32(outStride), kPool, vPool, Int32(type.rawValue), blockTable, Int32(blockSize),
                               positions, Int32(nQ), Int32(heads), Int32(kvHeads), Int32(headDim), scale,
                               Int32(window), Int32(headRange.lowerBound), Int32(headRange.upperBound))
    }
}
