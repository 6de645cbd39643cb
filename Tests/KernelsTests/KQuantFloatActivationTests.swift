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

    /// Float kernels against the int8 path (activation quantization included) on Gemma 3
    /// 270M-shaped matrices, one thread: decode (1 token) and a prefill chunk (64 tokens).
    /// Prints only; run with SWIFTLLM_BENCH=1.
    func testBenchmarkFloatVsInt8() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["SWIFTLLM_BENCH"] != nil, "set SWIFTLLM_BENCH=1")
        var rng = SplitMix(seed: 34)
        let shapes: [(GGMLType, Int, Int)] = [(.q4_K, 640, 2048), (.q6_K, 640, 2048), (.q5_0, 2048, 640), (.q8_0, 256, 640), (.q4_1, 1536, 576), (.q8_0, 576, 576), (.q4_0, 1536, 576)]
        for (type, rows, cols) in shapes {
            let w = (0..<rows).flatMap { _ in type.blockSize == 256 ? randomKRow(type, cols, &rng) : randomRow(type, cols, &rng) }
            let t = Int32(type.rawValue), rowBytes = type.byteCount(elements: cols)!
            for T in [1, 64] {
                let x = (0..<(T * cols)).map { _ in rng.float() }
                let aRow = ck_activation_row_bytes(t, Int32(cols))
                var a = [UInt8](repeating: 0, count: T * aRow)
                var y = [Float](repeating: 0, count: T * rows)
                let repeats = T == 1 ? 200 : 10
                w.withUnsafeBytes { wb in
                    let f = best(repeats) { ck_matmul_rows_f32act(t, Int32(cols), wb.baseAddress!, rowBytes, x, Int32(T), &y, Int32(rows), 0, Int32(rows)) }
                    let q = best(repeats) {
                        a.withUnsafeMutableBytes { ab in
                            for r in 0..<T { ck_quantize_activation(t, Array(x[(r * cols)..<((r + 1) * cols)]), ab.baseAddress! + r * aRow, Int32(cols)) }
                        }
                        ck_matmul_rows(t, Int32(cols), wb.baseAddress!, rowBytes, a, aRow, Int32(T), &y, Int32(rows), 0, Int32(rows))
                    }
                    print("\(type) \(rows)x\(cols), \(T) tokens, 1 thread: float \(Int(f)) us, int8 \(Int(q)) us, float/int8 \((f / q * 100).rounded() / 100)")
                }
            }
        }
    }
}

/// Best wall time of `repeats` runs, in microseconds.
private func best(_ repeats: Int, _ body: () -> Void) -> Double {
    var b = Double.infinity
    for _ in 0..<repeats {
        let s = DispatchTime.now().uptimeNanoseconds
        body()
        b = min(b, Double(DispatchTime.now().uptimeNanoseconds - s) / 1e3)
    }
    return b
}
