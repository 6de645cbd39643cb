import Kernels

/// What sets one llama-like GGUF architecture apart from `llama`. The graph, tensor names and
/// metadata keys are LlamaModel's; a variant only switches its optional steps. A family that
/// needs other tensors (Phi-3's fused `attn_qkv` and gate/up) is not a variant: it gets a file.
public struct LlamaVariant: Sendable {
    /// How Q and K rotate. The HF -> GGUF converter permutes the Q/K rows of `llama` files so
    /// adjacent pairs rotate; other architectures keep Hugging Face's rotate-half (NeoX) layout.
    public var ropeStyle: Ops.RopeStyle
    /// Each layer adds `attn_q.bias`, `attn_k.bias`, `attn_v.bias` after its projections.
    public var qkvBias: Bool
    /// `<arch>.attention.sliding_window`, when the file has it, limits every layer: the query at
    /// position p sees the keys in (p - window, p], as Hugging Face's Mistral does.
    public var slidingWindow: Bool

    /// Llama 2/3, SmolLM2, Mistral 7B (the converter writes Mistral as `llama`).
    public static let llama = LlamaVariant(ropeStyle: .interleaved, qkvBias: false, slidingWindow: true)

    /// `mistral`: no llama.cpp converter writes this name; files that do are read as `llama`.
    public static let mistral = llama

    /// Qwen2 / Qwen2.5: Q, K, V biases and NeoX RoPE. The sliding window is ignored, as in
    /// llama.cpp: released Qwen2 models set `use_sliding_window: false`.
    public static let qwen2 = LlamaVariant(ropeStyle: .neox, qkvBias: true, slidingWindow: false)
}
