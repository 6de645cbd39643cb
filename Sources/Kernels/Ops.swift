import Foundation
import CKernels

/// Row operations of a transformer layer, over raw float buffers (shapes in the names' docs).
public enum Ops {
    /// out[n] = x[n] / rms(x) * weight[n]; `out` may be `x`.
    @inline(__always)
    public static func rmsNorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, count: Int, eps: Float) {
        ck_rmsnorm(out, x, weight, Int32(count), eps)
    }

    /// g[n] = silu(g[n]) * u[n]
    @inline(__always)
    public static func siluMul(_ g: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>, count: Int) {
        ck_silu_mul(g, u, Int32(count))
    }

    /// g[n] = gelu(g[n]) * u[n] (tanh approximation)
    @inline(__always)
    public static func geluMul(_ g: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>, count: Int) {
        ck_gelu_mul(g, u, Int32(count))
    }

    /// x[n] *= s
    @inline(__always)
    public static func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        ck_scale(x, s, Int32(count))
    }

    /// x[n] += y[n]
    @inline(__always)
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        ck_add(x, y, Int32(count))
    }

    /// In-place softmax over n values.
    @inline(__always)
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        ck_softmax(x, Int32(count))
    }

    public enum RopeStyle: Int32, Sendable {
        /// Rotates adjacent pairs (x[2i], x[2i+1]): ggml's default, used by GGUF `llama`
        /// (the converter permutes Q/K weights so this matches Hugging Face's rotate_half).
        case interleaved = 0
        /// Rotates halves (x[i], x[i + d/2]): GPT-NeoX style, used by e.g. gemma3 and qwen2.
        case neox = 2
    }

    /// Rotary position embedding on x[heads, headDim] for one token at `position`.
    /// `inverseFrequencies` has rotaryDim/2 entries.
    @inline(__always)
    public static func rope(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, rotaryDim: Int,
                            position: Int, inverseFrequencies: UnsafePointer<Float>, style: RopeStyle) {
        ck_rope(x, Int32(heads), Int32(headDim), Int32(rotaryDim), Int32(position), inverseFrequencies, style.rawValue)
    }

    /// base^(-2i/rotaryDim) for i in 0..<rotaryDim/2.
    public static func ropeInverseFrequencies(base: Float, rotaryDim: Int) -> [Float] {
        (0..<rotaryDim / 2).map { i in Float(1.0 / pow(Double(base), Double(2 * i) / Double(rotaryDim))) }
    }
}
