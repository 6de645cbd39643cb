/// exp() over whole logit rows, written so the compiler vectorizes it.
///
/// libm's `expf` is an opaque call per element, a few ms per token on a 262k vocabulary.
/// This is Cephes' `expf` (range reduction by ln 2, degree-7 polynomial, relative error
/// about 2e-7) in branch-free form: no calls, no branches, so the loop becomes SIMD code
/// on whatever vector unit the target has. Results below e^-87 are flushed to 0, so a
/// logit of -inf (a masked token) or NaN gets exactly zero weight.
enum FastExp {
    /// `output[i] = exp((input[i] - shift) * scale)` for `i < count`; `input` may equal `output`.
    /// Meant for arguments <= 0 (logits minus their maximum); larger ones saturate at e^88.
    static func exponentiate(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        count: Int, shift: Float, scale: Float
    ) {
        for i in 0..<count {
            output[i] = exp((input[i] - shift) * scale)
        }
    }

    /// e^x for one value, branch-free so that loops over it vectorize.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = x < -87 ? -87 : (x > 88 ? 88 : x)
        // n = round(x / ln 2): adding 1.5 * 2^23 leaves the rounded integer in the low mantissa bits.
        let magic: Float = 12_582_912
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        // r = x - n ln 2, with ln 2 split in two so n * ln2High is exact (Cephes' C1, C2).
        let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        p = p * (r * r) + r + 1
        // 2^n built directly in the exponent field; n is in [-126, 127] after the clamp.
        let exponent = (shifted.bitPattern &- magic.bitPattern &+ 127) &<< 23
        let result = p * Float(bitPattern: exponent)
        return x >= -87 ? result : 0  // NaN fails the test too: no weight for NaN logits
    }
}
