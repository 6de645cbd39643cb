import CKernels
import GGUF

/// One matmul input [T, cols] and its conversions into the activation formats weights need.
///
/// Quantized weights multiply against activations quantized per block; the conversion is done
/// once per input and reused by every matrix that reads it (Q, K and V share one; gate and up
/// share one). Buffers grow only while the model warms up, never per token.
public final class Activations {
    private var q8: UnsafeMutableRawPointer
    private var q8Capacity: Int
    private var q8Valid = false
    public private(set) var source: UnsafePointer<Float>?
    public private(set) var tokens = 0
    public private(set) var cols = 0

    public init(capacityBytes: Int = 1 << 16) {
        q8Capacity = max(64, capacityBytes)
        q8 = UnsafeMutableRawPointer.allocate(byteCount: q8Capacity, alignment: 64)
    }

    deinit { q8.deallocate() }

    /// Sets the float input: `tokens` rows of `cols` floats, contiguous.
    public func set(_ x: UnsafePointer<Float>, tokens: Int, cols: Int) {
        source = x
        self.tokens = tokens
        self.cols = cols
        q8Valid = false
    }

    /// The input in the activation format of `type`, converting on first use.
    func rows(for type: GGMLType, pool: ThreadPool) -> (UnsafeRawPointer, Int) {
        let t = Int32(type.rawValue)
        let rowBytes = ck_activation_row_bytes(t, Int32(cols))
        guard ck_type_activation(t) != Int32(CK_ACT_F32.rawValue) else { return (UnsafeRawPointer(source!), rowBytes) }
        if !q8Valid {
            let need = rowBytes * tokens
            if need > q8Capacity {
                q8.deallocate()
                q8Capacity = need
                q8 = UnsafeMutableRawPointer.allocate(byteCount: need, alignment: 64)
            }
            let src = source!, dst = q8, n = cols
            if tokens >= 4 {
                pool.parallelFor(tokens) { range in
                    for r in range { ck_quantize_activation(t, src + r * n, dst + r * rowBytes, Int32(n)) }
                }
            } else {
                for r in 0..<tokens { ck_quantize_activation(t, src + r * n, dst + r * rowBytes, Int32(n)) }
            }
            q8Valid = true
        }
        return (UnsafeRawPointer(q8), rowBytes)
    }
}

extension WeightMatrix {
    /// out[t, r] = dot(row r, input row t) for all t < input.tokens: [T, rows] with row stride `ldOut`.
    public func multiply(_ input: Activations, into out: UnsafeMutablePointer<Float>, ldOut: Int? = nil, pool: ThreadPool) {
        precondition(input.cols == cols, "matmul shape mismatch for \(name)")
        let (a, aRowBytes) = input.rows(for: type, pool: pool)
        ck_pool_matmul(pool.pool, Int32(type.rawValue), Int32(cols), data, rowBytes, a, aRowBytes,
                       Int32(input.tokens), out, Int32(ldOut ?? rows), Int32(rows))
    }
}
