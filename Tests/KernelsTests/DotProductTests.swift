import CKernels
import Foundation
import GGUF
import Kernels
import XCTest

/// Every SIMD dot product and the activation quantizer against their scalar twins.
final class DotProductTests: XCTestCase {
    static let types: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0]

    override func tearDown() { CPUFeatures.limit(to: .avx512) }

    func testFastDotsMatchScalar() {
        var rng = SplitMix(seed: 7)
        for isa in CPUFeatures.ISA.allCases.reversed() {
            let inUse = CPUFeatures.limit(to: isa)
            guard inUse == isa else { continue }
            for type in Self.types {
                for n in [32, 64, 576, 1536] {
                    let w = randomRow(type, n, &rng)
                    let x = (0..<n).map { _ in rng.float() * 3 }
                    let t = Int32(type.rawValue)
                    var a = [UInt8](repeating: 0, count: ck_activation_row_bytes(t, Int32(n)))
                    ck_quantize_activation(t, x, &a, Int32(n))
                    let fast = ck_vec_dot(t, Int32(n), w, a)
                    let ref = ck_vec_dot_scalar(t, Int32(n), w, a)
                    XCTAssertEqual(fast, ref, accuracy: 1e-4 * max(1, abs(ref)), "\(type) n=\(n) isa=\(isa)")
                }
            }
        }
    }

    func testQuantizeActivationSIMDMatchesScalarExactly() {
        var rng = SplitMix(seed: 3)
        let n = 1024
        var x = (0..<n).map { _ in rng.float() * 10 }
        x[5] = 0; for i in 32..<64 { x[i] = 0 } // an all-zero block
        var scalar = [UInt8](repeating: 0, count: n / 32 * 40)
        var simd = scalar
        CPUFeatures.limit(to: .scalar)
        ck_quantize_activation(Int32(GGMLType.q8_0.rawValue), x, &scalar, Int32(n))
        CPUFeatures.limit(to: .avx512)
        ck_quantize_activation(Int32(GGMLType.q8_0.rawValue), x, &simd, Int32(n))
        XCTAssertEqual(scalar, simd)
    }

    /// The quantized dot product approximates the float dot product of the dequantized row.
    func testQuantizedDotApproximatesFloatDot() {
        var rng = SplitMix(seed: 11)
        for type in Self.types {
            let n = 576
            let w = randomRow(type, n, &rng)
            let x = (0..<n).map { _ in rng.float() }
            var wf = [Float](repeating: 0, count: n)
            w.withUnsafeBytes { src in wf.withUnsafeMutableBufferPointer { dequantize(type, src.baseAddress!, into: $0.baseAddress!, count: n) } }
            let exact = zip(wf, x).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            let t = Int32(type.rawValue)
            var a = [UInt8](repeating: 0, count: ck_activation_row_bytes(t, Int32(n)))
            ck_quantize_activation(t, x, &a, Int32(n))
            let got = ck_vec_dot(t, Int32(n), w, a)
            let scale = zip(wf, x).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
            XCTAssertEqual(got, exact, accuracy: 0.02 * scale + 1e-5, "\(type)")
        }
    }
}

    /// Random but valid weight rows: float formats from random floats, block formats from
/// random bytes with finite fp16 scales.
func randomRow(_ type: GGMLType, _ n: Int, _ rng: inout SplitMix) -> [UInt8] {
    switch type {
    case .f32: return (0..<n).flatMap { _ in withUnsafeBytes(of: rng.float()) { Array($0) } }
    case .f16: return (0..<n).flatMap { _ in withUnsafeBytes(of: Float16(rng.float()).bitPattern) { Array($0) } }
    case .bf16: return (0..<n).flatMap { _ in withUnsafeBytes(of: UInt16(rng.float().bitPattern >> 16)) { Array($0) } }
    default:
        var bytes = (0..<type.byteCount(elements: n)!).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let scales = [.q4_1, .q5_1].contains(type) ? 2 : 1
        for b in 0..<(n / 32) {
            for s in 0..<scales {
                let h = Float16(rng.float() * 0.05).bitPattern
                bytes[b * type.typeSize + 2 * s] = UInt8(h & 0xff)
                bytes[b * type.typeSize + 2 * s + 1] = UInt8(h >> 8)
            }
        }
        return bytes
    }
}


/// A small deterministic generator for test data.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(Int64(bitPattern: next()) >> 11) / Float(1 << 52) }
}

/// The float-activation kernels (decode path) against the dequantize-and-dot reference, and
/// batched tokens against solo ones, on every ISA this CPU has (K-quants bit for bit against
/// their scalar twin: KQuantFloatActivationTests).
final class FloatActivationTests: XCTestCase {
    override func tearDown() { CPUFeatures.limit(to: .avx512) }

    func testFloatActivationMatmulMatchesReference() throws {
        var rng = SplitMix(seed: 21)
        let pool = ThreadPool(threads: 2)
        for isa in CPUFeatures.ISA.allCases.reversed() where CPUFeatures.limit(to: isa) == isa {
            for type in [GGMLType.q4_0, .q4_1, .q5_0, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K] {
                try check(type, isa: isa, pool: pool, &rng)
            }
        }
    }

    private func check(_ type: GGMLType, isa: CPUFeatures.ISA, pool: ThreadPool, _ rng: inout SplitMix) throws {
        let t = Int32(type.rawValue)
        XCTAssertNotEqual(ck_type_has_f32_kernel(t), 0, "\(type)")
        let kQuant = type.blockSize == 256
        let rows = 37, cols = kQuant ? 768 : 576, T = 6
        let w = (0..<rows).flatMap { _ in kQuant ? randomKRow(type, cols, &rng) : randomRow(type, cols, &rng) }
        let x = (0..<(T * cols)).map { _ in rng.float() }
        var y = [Float](repeating: .nan, count: T * rows)
        try w.withUnsafeBytes { wb in
            let m = try WeightMatrix(name: "w", type: type, rows: rows, cols: cols, data: wb.baseAddress!)
            let acts = Activations()
            let mask: [UInt8] = [1, 1, 1, 1, 1, 0] // a 4x4 float tile, a lone float row, an int8 row
            x.withUnsafeBufferPointer { xb in
                acts.set(xb.baseAddress!, tokens: T, cols: cols, floatRows: mask)
                y.withUnsafeMutableBufferPointer { m.multiply(acts, into: $0.baseAddress!, pool: pool) }
            }
            // batch invariance: each float token alone gives bit-identical results
            for tok in 0..<T where mask[tok] == 1 {
                var alone = [Float](repeating: .nan, count: rows)
                let one: [UInt8] = [1]
                x.withUnsafeBufferPointer { xb in
                    acts.set(xb.baseAddress! + tok * cols, tokens: 1, cols: cols, floatRows: one)
                    alone.withUnsafeMutableBufferPointer { m.multiply(acts, into: $0.baseAddress!, pool: pool) }
                }
                XCTAssertEqual(alone.map(\.bitPattern), y[(tok * rows)..<((tok + 1) * rows)].map(\.bitPattern),
                               "\(type) \(isa) token \(tok) alone vs batched")
            }
            for tok in 0..<T where mask[tok] == 1 {
                for r in 0..<rows {
                    let ref = x.withUnsafeBufferPointer { ck_vec_dot_f32act_scalar(t, Int32(cols), wb.baseAddress! + r * m.rowBytes, $0.baseAddress! + tok * cols) }
                    XCTAssertEqual(y[tok * rows + r], ref, accuracy: 1e-4 * max(1, abs(ref)), "\(type) \(isa) t=\(tok) r=\(r)")
                }
            }
        }
    }
}
