import CKernels
import GGUF
import Kernels
import XCTest

final class MatmulAndPoolTests: XCTestCase {
    func testPoolRunsEveryThreadEveryRegion() {
        let pool = ThreadPool(threads: 4)
        var hits = [Int](repeating: 0, count: 4)
        hits.withUnsafeMutableBufferPointer { h in
            for _ in 0..<2000 { pool.parallel { i, _ in h[i] += 1 } }
        }
        XCTAssertEqual(hits, [2000, 2000, 2000, 2000])
    }

    func testParallelForCoversRangeOnce() {
        let pool = ThreadPool(threads: 3)
        var seen = [Int](repeating: 0, count: 100)
        seen.withUnsafeMutableBufferPointer { s in pool.parallelFor(100) { r in for i in r { s[i] += 1 } } }
        XCTAssertEqual(seen, [Int](repeating: 1, count: 100))
    }

    override func tearDown() { CPUFeatures.limit(to: .avx512) }

    /// The pooled GEMM over T rows equals per-row scalar dot products: int8 ones, or float ones
    /// for formats whose prompt rows take float activations (ck_type_f32_for_prompt).
    func testPooledMatmulMatchesScalarDots() throws {
        for isa in [CPUFeatures.ISA.avx512, .avx2] where CPUFeatures.limit(to: isa) == isa {
            try checkPooledMatmul(isa)
        }
    }

    private func checkPooledMatmul(_ isa: CPUFeatures.ISA) throws {
        var rng = SplitMix(seed: 5)
        let pool = ThreadPool(threads: 2)
        for type in [GGMLType.q4_1, .q8_0, .f16, .q5_0, .q4_0] {
            let rows = 70, cols = 128, T = 5
            let wBytes = (0..<rows).flatMap { _ in randomRow(type, cols, &rng) }
            let x = (0..<(T * cols)).map { _ in rng.float() }
            var y = [Float](repeating: .nan, count: T * rows)
            try wBytes.withUnsafeBytes { wb in
                let w = try WeightMatrix(name: "w", type: type, rows: rows, cols: cols, data: wb.baseAddress!)
                let acts = Activations()
                x.withUnsafeBufferPointer { xb in
                    acts.set(xb.baseAddress!, tokens: T, cols: cols)
                    y.withUnsafeMutableBufferPointer { w.multiply(acts, into: $0.baseAddress!, pool: pool) }
                }
                let t = Int32(type.rawValue)
                let aRow = ck_activation_row_bytes(t, Int32(cols))
                for tok in 0..<T {
                    var a = [UInt8](repeating: 0, count: aRow)
                    x.withUnsafeBufferPointer { ck_quantize_activation(t, $0.baseAddress! + tok * cols, &a, Int32(cols)) }
                    for r in 0..<rows {
                        let row = wb.baseAddress! + r * w.rowBytes
                        let ref = ck_type_f32_for_prompt(t) != 0
                            ? x.withUnsafeBufferPointer { ck_vec_dot_f32act_scalar(t, Int32(cols), row, $0.baseAddress! + tok * cols) }
                            : ck_vec_dot_scalar(t, Int32(cols), row, a)
                        XCTAssertEqual(y[tok * rows + r], ref, accuracy: 1e-4 * max(1, abs(ref)), "\(type) \(isa) t=\(tok) r=\(r)")
                    }
                }
            }
        }
    }

    /// Prompt rows go float exactly where a float 4x4 GEMM exists and an int8 one does not.
    func testFloatPromptRowsPolicy() {
        guard CPUFeatures.limit(to: .avx512) == .avx512 else { return }
        let float = GGMLType.allCases.filter { ck_type_f32_for_prompt(Int32($0.rawValue)) != 0 }
        XCTAssertEqual(Set(float), [.q4_0, .q5_0])
        CPUFeatures.limit(to: .avx2)
        XCTAssertEqual(GGMLType.allCases.filter { ck_type_f32_for_prompt(Int32($0.rawValue)) != 0 }, [])
    }

    func testUnsupportedTypeIsAnError() throws {
        let bytes = [UInt8](repeating: 0, count: 144)
        try bytes.withUnsafeBytes { b in
            XCTAssertThrowsError(try WeightMatrix(name: "x", type: .iq2_XXS, rows: 1, cols: 256, data: b.baseAddress!)) { e in
                XCTAssertTrue("\(e)".contains("cannot compute"), "\(e)")
            }
        }
    }
}
