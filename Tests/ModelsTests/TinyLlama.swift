import Foundation
import GGUF

/// Builds tiny random-weight `llama` GGUF files in memory for load-error tests.
struct TinyLlama {
    var dim = 32, heads = 2, kvHeads = 1, ffn = 64, vocab = 16, layers = 1
    var architecture = "llama"
    var typeOverrides: [String: GGMLType] = [:]
    var omit: Set<String> = []
    /// Added to feed_forward_length in the metadata only, so tensor shapes disagree with it.
    var ffnMetadataDelta = 0

    func f32(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).flatMap { i in withUnsafeBytes(of: Float(sin(Double(i * 7 + seed)) * 0.1)) { Array($0) } }
    }

    func bytes() -> [UInt8] {
        var w = GGUFWriter()
        w.add(key: "general.architecture", value: .string(architecture))
        w.add(key: "\(architecture).block_count", value: .uint32(UInt32(layers)))
        w.add(key: "\(architecture).embedding_length", value: .uint32(UInt32(dim)))
        w.add(key: "\(architecture).feed_forward_length", value: .uint32(UInt32(ffn + ffnMetadataDelta)))
        w.add(key: "\(architecture).attention.head_count", value: .uint32(UInt32(heads)))
        w.add(key: "\(architecture).attention.head_count_kv", value: .uint32(UInt32(kvHeads)))
        w.add(key: "\(architecture).context_length", value: .uint32(64))
        w.add(key: "\(architecture).vocab_size", value: .uint32(UInt32(vocab)))
        let hd = dim / heads
        var tensors: [(String, [Int])] = [("token_embd.weight", [dim, vocab]), ("output_norm.weight", [dim])]
        for l in 0..<layers {
            let p = "blk.\(l)."
            tensors += [(p + "attn_norm.weight", [dim]), (p + "attn_q.weight", [dim, heads * hd]),
                        (p + "attn_k.weight", [dim, kvHeads * hd]), (p + "attn_v.weight", [dim, kvHeads * hd]),
                        (p + "attn_output.weight", [heads * hd, dim]), (p + "ffn_norm.weight", [dim]),
                        (p + "ffn_gate.weight", [dim, ffn]), (p + "ffn_up.weight", [dim, ffn]), (p + "ffn_down.weight", [ffn, dim])]
        }
        for (i, (name, shape)) in tensors.enumerated() where !omit.contains(name) {
            let count = shape.reduce(1, *)
            if let t = typeOverrides[name] {
                w.addTensor(name: name, type: t, shape: shape, data: [UInt8](repeating: 0, count: t.byteCount(elements: count)!))
            } else {
                w.addTensor(name: name, type: .f32, shape: shape, data: f32(count, seed: i))
            }
        }
        return w.serialized()
    }

    func file() throws -> GGUFFile { try GGUFFile(bytes: bytes()) }
}
