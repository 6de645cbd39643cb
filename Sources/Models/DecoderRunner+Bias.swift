import Kernels

extension DecoderRunner {
    /// q, k, v rows += their biases (`qwen2`'s attention biases), before RoPE as in llama.cpp.
    func addQKVBias(q bq: [Float], k bk: [Float], v bv: [Float], tokens T: Int) {
        let c = config
        for i in 0..<T {
            Ops.add(q[row: i, width: c.qDim], bq, count: c.qDim)
            Ops.add(k[row: i, width: c.kvDim], bk, count: c.kvDim)
            Ops.add(v[row: i, width: c.kvDim], bv, count: c.kvDim)
        }
    }
}
