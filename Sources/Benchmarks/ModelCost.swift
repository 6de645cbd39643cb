import GGUF
import Models

/// What one decoded token costs a model: bytes read and floating-point operations, from the
/// file's tensor table (weights) and the config (attention over the KV cache).
public struct ModelCost: Sendable, Codable {
    /// Bytes of weight matrices one forward pass reads (the embedding table is read one row per
    /// token, so it counts only when it doubles as the output head).
    public var weightBytes: Int
    /// Multiply-accumulates of those matrices per token, times 2.
    public var weightFlopsPerToken: Double
    /// KV cache bytes per token of context, all layers, K and V.
    public var kvBytesPerContextToken: Int
    /// Attention FLOPs per token of context (QK^T and AV), all layers.
    public var attentionFlopsPerContextToken: Double

    enum CodingKeys: String, CodingKey {
        case weightBytes = "weight_bytes", weightFlopsPerToken = "weight_flops_per_token"
        case kvBytesPerContextToken = "kv_bytes_per_context_token"
        case attentionFlopsPerContextToken = "attention_flops_per_context_token"
    }

    public init(file: GGUFFile, config c: ModelConfig, kvCacheType: KVCacheType) {
        let tied = !file.tensors.contains { $0.name == "output.weight" }
        var bytes = 0, macs = 0.0
        for t in file.tensors where t.shape.count >= 2 {
            if t.name == "token_embd.weight" && !tied { continue }
            bytes += t.byteCount
            macs += Double(t.shape[0]) * Double(t.shape[1...].reduce(1, *))
        }
        weightBytes = bytes
        weightFlopsPerToken = 2 * macs
        kvBytesPerContextToken = KVCacheStorage.bytesPerToken(layerCount: c.layerCount, kvDim: c.kvDim, type: kvCacheType)
        attentionFlopsPerContextToken = 4 * Double(c.layerCount * c.qDim)
    }

    /// Bytes one decode step of `batch` sequences at `context` tokens reads.
    public func stepBytes(batch: Int, context: Int) -> Double {
        Double(weightBytes) + Double(batch * context * kvBytesPerContextToken)
    }

    /// FLOPs of that step.
    public func stepFlops(batch: Int, context: Int) -> Double {
        Double(batch) * (weightFlopsPerToken + Double(context) * attentionFlopsPerContextToken)
    }
}
