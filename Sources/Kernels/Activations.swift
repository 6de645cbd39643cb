import CKernels
import GGUF

/// One matmul input [T, cols] and its conversions into the activation formats weights need.
///
/// Quantized weights multiply against activations quantized per block; the conversion is done
/// once per input and reused by every matrix that reads it (Q, K and V share one; gate and up
/// share one). Buffers grow only while the model warms up, never per token.
public final class Activations {
    /// One converted copy of the input per quantized activation kind (CK_ACT_Q8, CK_ACT_Q8K):
    /// matrices sharing an input may be in formats that want different kinds.
    private var buffers: [UnsafeMutableRawPointer]
    private var capacities: [Int]
    private var valid: [Bool]
    public private(set) var source: UnsafePointer<Float>?
    public private(set) var tokens = 0
    public private(set) var cols = 0

    private static let kinds = 3 // CK_ACT_F32 (unused slot), CK_ACT_Q8, CK_ACT_Q8K

    public init(capacityBytes: Int = 1 << 16) {
        let capacity = max(64, capacityBytes)
        capacities = [Int](repeating: capacity, count: Self.kinds)
        buffers = (0..<Self.kinds).map { _ in UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64) }
        valid = [Bool](repeating: false, count: Self.kinds)
    }

    deinit { for b in buffers { b.deallocate() } }

    /// Sets the float input: `tokens` rows of `cols` floats, contiguous.
    public func set(_ x: UnsafePointer<Float>, tokens: Int, cols: Int) {
        source = x
        self.tokens = tokens
        self.cols = cols
        for k in valid.indices { valid[k] = false }
    }

    /// The input in the activation format of `type`, converting on first use.
    func rows(for type: GGMLType, pool: ThreadPool) -> (UnsafeRawPointer, Int) {
        let t = Int32(type.rawValue)
        let rowBytes = ck_activation_row_bytes(t, Int32(cols))
        let kind = Int(ck_type_activation(t))
        guard kind != Int(CK_ACT_F32.rawValue) else { return (UnsafeRawPointer(source!), rowBytes) }
        precondition(kind < Self.kinds, "unknown activation kind \(kind)")
        if !valid[kind] {
            let need = rowBytes * tokens
            if need > capacities[kind] {
                buffers[kind].deallocate()
                capacities[kind] = need
                buffers[kind] = UnsafeMutableRawPointer.allocate(byteCount: need, alignment: 64)
            }
            let src = source!, dst = buffers[kind], n = cols
            if tokens >= 4 {
                pool.parallelFor(tokens) { range in
                    for r in range { ck_quantize_activation(t, src + r * n, dst + r * rowBytes, Int32(n)) }
                }
            } else {
                for r in 0..<tokens { ck_quantize_activation(t, src + r * n, dst + r * rowBytes, Int32(n)) }
            }
            valid[kind] = true
        }
        return (UnsafeRawPointer(buffers[kind]), rowBytes)
    }
}

extension WeightMatrix {
    /// Batches up to this many rows multiply float activations directly (decode steps are
    /// bandwidth-bound, so skipping activation rounding is free and keeps greedy decoding on the
    /// float reference); larger batches are compute-bound and use int8 activations.
    public static let floatActivationMaxTokens = 4

    /// out[t, r] = dot(row r, input row t) for all t < input.tokens: [T, rows] with row stride `ldOut`.
    public func multiply(_ input: Activations, into out: UnsafeMutablePointer<Float>, ldOut: Int? = nil, pool: ThreadPool) {
        precondition(input.cols == cols, "matmul shape mismatch for \(name)")
        if input.tokens <= Self.floatActivationMaxTokens, let x = input.source, ck_type_has_f32_kernel(Int32(type.rawValue)) != 0 {
            ck_pool_matmul_f32act(pool.pool, Int32(type.rawValue), Int32(cols), data, rowBytes, x,
                                  Int32(input.tokens), out, Int32(ldOut ?? rows), Int32(rows))
            return
        }
        let (a, aRowBytes) = input.rows(for: type, pool: pool)
        ck_pool_matmul(pool.pool, Int32(type.rawValue), Int32(cols), data, rowBytes, a, aRowBytes,
                       Int32(input.tokens), out, Int32(ldOut ?? rows), Int32(rows))
    }
}
