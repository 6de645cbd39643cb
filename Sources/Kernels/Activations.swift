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
    /// [tokens] 1 = multiply this row's floats as they are (decode rows), 0 = quantized rows.
    /// nil = every row quantized.
    public private(set) var floatRows: UnsafePointer<UInt8>?
    private var allFloat = false
    private var anyFloat = false

    private static let kinds = 3 // CK_ACT_F32 (unused slot), CK_ACT_Q8, CK_ACT_Q8K

    public init(capacityBytes: Int = 1 << 16) {
        let capacity = max(64, capacityBytes)
        capacities = [Int](repeating: capacity, count: Self.kinds)
        buffers = (0..<Self.kinds).map { _ in UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64) }
        valid = [Bool](repeating: false, count: Self.kinds)
    }

    deinit { for b in buffers { b.deallocate() } }

    /// Sets the float input: `tokens` rows of `cols` floats, contiguous. `floatRows` marks the
    /// rows that weights with a float-activation kernel multiply unrounded (see `multiply`).
    public func set(_ x: UnsafePointer<Float>, tokens: Int, cols: Int, floatRows: UnsafePointer<UInt8>? = nil) {
        source = x
        self.tokens = tokens
        self.cols = cols
        self.floatRows = floatRows
        anyFloat = false
        allFloat = floatRows != nil
        if let m = floatRows {
            for t in 0..<tokens { if m[t] != 0 { anyFloat = true } else { allFloat = false } }
        }
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
    /// out[t, r] = dot(row r, input row t) for all t < input.tokens: [T, rows] with row stride `ldOut`.
    ///
    /// Rows marked in `input.floatRows` (decode tokens) multiply float activations when the
    /// format has such a kernel: decode is bandwidth-bound, so skipping activation rounding is
    /// free there and keeps greedy decoding on the float reference. Other rows (prompt chunks,
    /// compute-bound) use int8 activations, except in formats whose float GEMM is the faster
    /// one (`ck_type_f32_for_prompt`: Q4_0, Q5_0 on AVX-512). A row's result depends only on
    /// its own mode, so a sequence computes the same numbers alone or batched with others.
    public func multiply(_ input: Activations, into out: UnsafeMutablePointer<Float>, ldOut: Int? = nil, pool: ThreadPool) {
        precondition(input.cols == cols, "matmul shape mismatch for \(name)")
        let t = Int32(type.rawValue), ld = Int32(ldOut ?? rows)
        let everyRowFloat = ck_type_f32_for_prompt(t) != 0
        if input.anyFloatRows || everyRowFloat, let x = input.source, ck_type_has_f32_kernel(t) != 0 {
            if input.allFloatRows || everyRowFloat {
                ck_pool_matmul_f32act(pool.pool, t, Int32(cols), data, rowBytes, x, Int32(input.tokens), out, ld, Int32(rows))
            } else {
                let (a, aRowBytes) = input.rows(for: type, pool: pool)
                ck_pool_matmul_mixed(pool.pool, t, Int32(cols), data, rowBytes, a, aRowBytes, x, input.floatRows,
                                     Int32(input.tokens), out, ld, Int32(rows))
            }
            return
        }
        let (a, aRowBytes) = input.rows(for: type, pool: pool)
        ck_pool_matmul(pool.pool, t, Int32(cols), data, rowBytes, a, aRowBytes, Int32(input.tokens), out, ld, Int32(rows))
    }
}

extension Activations {
    var anyFloatRows: Bool { anyFloat }
    var allFloatRows: Bool { allFloat }
}
