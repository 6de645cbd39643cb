import CKernels
import Foundation
import GGUF
import Kernels
import XCTest

/// K-quant weights times float activations (decode rows): every ISA's kernels against the
/// scalar twin (bit for bit: one arithmetic everywhere, so 4x4 tiles, 4-row dots and tail
/// rows agree too) and against the dequantize-and-dot reference. Batched against solo through
/// the pool: FloatActivationTests.
final class KQuantFloatActivationTests: XCTestCase {
    static let types: [GGMLType] = [.q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    override func tearDown() { CPUFeatures.limit(to: .avx512) }

    /// y[t * rows + r] from ck_matmul_rows_f32act over all rows (4-row tiles, 4x4 tiles, and
    /// the scalar tail when rows is not a multiple of 4).
    private func matmul(_ type: GGMLType, _ w: [UInt8], rows: Int, cols: Int, _ x: [Float], tokens: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * rows)
        let rowBytes = type.byteCount(elements: cols)!
        w.withUnsafeBytes { wb in
            ck_matmul_rows_f32act(Int32(type.rawValue), Int32(cols), wb.baseAddress!, rowBytes, x, Int32(tokens),
                                  &y, Int32(rows), 0, Int32(rows))
        }
        return y
    }

    func testEveryKQuantHasAFloatKernel() {
        for type in Self.types { XCTAssertNotEqual(ck_type_has_f32_kernel(Int32(type.rawValue)), 0, "\(type)") }
    }

    func testKernelsEqualScalarTwinBitwiseOnEveryISA() {
        var rng = SplitMix(seed: 31)
        for type in Self.types {
            let t = Int32(type.rawValue)
            for cols in [256, 768] {
                let rows = 11, T = 6 // two 4-row tiles + 3 tail rows; a 4x4 GEMM tile + 2 single tokens
                let w = (0..<rows).flatMap { _ in randomKRow(type, cols, &rng) }
                var x = (0..<(T * cols)).map { _ in rng.float() * 4 }
                for i in 0..<16 { x[cols + i] = 0 } // a zero chunk
                let rowBytes = type.byteCount(elements: cols)!
                var twin = [Float](repeating: 0, count: T * rows)
                w.withUnsafeBytes { wb in
                    for tok in 0..<T {
                        for r in 0..<rows {
                            twin[tok * rows + r] = x.withUnsafeBufferPointer {
                                ck_kq_vec_dot_f32act_scalar(t, Int32(cols), wb.baseAddress! + r * rowBytes, $0.baseAddress! + tok * cols)
                            }
                        }
                    }
                }
                for isa in CPUFeatures.ISA.allCases.reversed() {
                    guard CPUFeatures.limit(to: isa) == isa else { continue }
                    let y = matmul(type, w, rows: rows, cols: cols, x, tokens: T)
                    let differing = (0..<(T * rows)).filter { y[$0].bitPattern != twin[$0].bitPattern }
                    XCTAssertEqual(differing.count, 0, "\(type) cols=\(cols) isa=\(isa): first at \(differing.first ?? -1)")
                }
                CPUFeatures.limit(to: .avx512)
            }
        }
    }

    /// Against the dequantized row dotted with x in double: only float summation error remains.
    func testKernelsMatchDequantizedDot() {
        var rng = SplitMix(seed: 32)
        for type in Self.types {
            let t = Int32(type.rawValue)
            let rows = 8, cols = 1024, T = 5
            let w = (0..<rows).flatMap { _ in randomKRow(type, cols, &rng) }
            let x = (0..<(T * cols)).map { _ in rng.float() }
            let rowBytes = type.byteCount(elements: cols)!
            for isa in CPUFeatures.ISA.allCases.reversed() {
                guard CPUFeatures.limit(to: isa) == isa else { continue }
                let y = matmul(type, w, rows: rows, cols: cols, x, tokens: T)
                w.withUnsafeBytes { wb in
                    var wf = [Float](repeating: 0, count: cols)
                    for r in 0..<rows {
                        wf.withUnsafeMutableBufferPointer { dequantize(type, wb.baseAddress! + r * rowBytes, into: $0.baseAddress!, count: cols) }
                        for tok in 0..<T {
                            let ref = x.withUnsafeBufferPointer { ck_vec_dot_f32act_scalar(t, Int32(cols), wb.baseAddress! + r * rowBytes, $0.baseAddress! + tok * cols) }
                            var exact = 0.0, scale = 0.0
                            for i in 0..<cols {
                                exact += Double(wf[i]) * Double(x[tok * cols + i])
                                scale += abs(Double(wf[i]) * Double(x[tok * cols + i]))
                            }
                            XCTAssertEqual(Double(ref), exact, accuracy: 1e-6 * scale + 1e-9, "\(type) reference")
                            XCTAssertEqual(Double(y[tok * rows + r]), exact, accuracy: 1e-5 * scale + 1e-9, "\(type) \(isa) t=\(tok) r=\(r)")
                        }
                    }
                }
            }
        }
    }

    /// Decode-shaped timing (one token, Gemma-sized matrices): float kernels vs Q8_K kernels.
    /// Prints only; run with SWIFTLLM_BENCH=1.
    func testBenchmarkFloatVsInt8Decode() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["SWIFTLLM_BENCH"] != nil, "set SWIFTLLM_BENCH=1")
        var rng = SplitMix(seed: 34)
        for type in [GGMLType.q4_K, .q6_K] {
            let rows = 640, cols = 2048
            let w = (0..<rows).flatMap { _ in randomKRow(type, cols, &rng) }
            let x = (0..<cols).map { _ in rng.float() }
            let t = Int32(type.rawValue)
            var a = [UInt8](repeating: 0, count: ck_activation_row_bytes(t, Int32(cols)))
            var y = [Float](repeating: 0, count: rows)
            let rowBytes = type.byteCount(elements: cols)!
            func best(_ body: () -> Void) -> Double {
                var b = Double.infinity
                for _ in 0..<200 {
                    let s = DispatchTime.now().uptimeNanoseconds
                    body()
                    b = min(b, Double(DispatchTime.now().uptimeNanoseconds - s) / 1e3)
                }
                return b
            }
            w.withUnsafeBytes { wb in
                let f = best { ck_matmul_rows_f32act(t, Int32(cols), wb.baseAddress!, rowBytes, x, 1, &y, Int32(rows), 0, Int32(rows)) }
                let q = best {
                    ck_quantize_activation(t, x, &a, Int32(cols))
                    ck_matmul_rows(t, Int32(cols), wb.baseAddress!, rowBytes, a, a.count, 1, &y, Int32(rows), 0, Int32(rows))
                }
                print("\(type) \(rows)x\(cols), 1 token, 1 thread: float \(f) us, int8 \(q) us")
            }
        }
    }
}
