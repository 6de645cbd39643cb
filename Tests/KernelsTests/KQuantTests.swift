import CKernels
import Foundation
import GGUF
import Kernels
import XCTest

/// K-quant formats (Q2_K .. Q6_K) against Q8_K activations: dequantization against the gguf
/// package, SIMD kernels against their scalar twins, matmul tiles against per-row dots.
final class KQuantTests: XCTestCase {
    static let types: [GGMLType] = [.q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    override func tearDown() { CPUFeatures.limit(to: .avx512) }

    func testTypeTables() {
        for type in Self.types {
            let t = Int32(type.rawValue)
            XCTAssertTrue(CPUFeatures.supports(type), "\(type)")
            XCTAssertEqual(Int(ck_type_block_size(t)), type.blockSize, "\(type)")
            XCTAssertEqual(Int(ck_type_block_bytes(t)), type.typeSize, "\(type)")
            XCTAssertEqual(ck_type_activation(t), Int32(CK_ACT_Q8K.rawValue), "\(type)")
            XCTAssertEqual(ck_activation_row_bytes(t, 1024), 4 * MemoryLayout<ck_block_q8_K>.size, "\(type)")
        }
        XCTAssertEqual(MemoryLayout<ck_block_q8_K>.size, 292)
    }

    func testDequantizeBitExactAgainstGGUFPackage() throws {
        let data = try Data(contentsOf: Fixtures.url("quant/quant_fixtures.json"))
        var checked = Set<GGMLType>()
        for c in try JSONDecoder().decode([DequantizeTests.Case].self, from: data) {
            guard let type = GGMLType(rawValue: c.ggml_type), Self.types.contains(type) else { continue }
            let raw = [UInt8](Data(base64Encoded: c.raw_b64)!)
            let expected = [UInt8](Data(base64Encoded: c.expected_b64)!).withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
            XCTAssertEqual(raw.count, type.byteCount(elements: c.n_elements))
            let out = dequantized(type, raw, c.n_elements)
            let mismatches = (0..<c.n_elements).filter { out[$0].bitPattern != expected[$0] }
            XCTAssertEqual(mismatches.count, 0, "\(type): first at \(mismatches.first ?? -1)")
            checked.insert(type)
        }
        XCTAssertEqual(checked, Set(Self.types))
    }

    func testQ8KQuantizeSIMDMatchesScalarExactly() {
        var rng = SplitMix(seed: 21)
        let n = 1024
        var x = (0..<n).map { _ in rng.float() * 10 }
        for i in 256..<512 { x[i] = 0 } // an all-zero block
        let t = Int32(GGMLType.q4_K.rawValue)
        let bytes = ck_activation_row_bytes(t, Int32(n))
        var scalar = [UInt8](repeating: 0, count: bytes), simd = scalar
        CPUFeatures.limit(to: .scalar)
        ck_quantize_activation(t, x, &scalar, Int32(n))
        CPUFeatures.limit(to: .avx512)
        ck_quantize_activation(t, x, &simd, Int32(n))
        XCTAssertEqual(scalar, simd)
        // bsums are the sums of each 16 quants
        scalar.withUnsafeBytes { raw in
            let blocks = raw.bindMemory(to: ck_block_q8_K.self)
            for b in blocks {
                var block = b
                let qs = withUnsafeBytes(of: &block.qs) { Array($0.bindMemory(to: Int8.self)) }
                let sums = withUnsafeBytes(of: &block.bsums) { Array($0.bindMemory(to: Int16.self)) }
                for j in 0..<16 { XCTAssertEqual(Int(sums[j]), qs[16 * j..<16 * j + 16].reduce(0) { $0 + Int($1) }) }
                XCTAssertLessThanOrEqual(qs.map { abs(Int($0)) }.max()!, 127)
            }
        }
    }

    func testFastDotsMatchScalar() {
        var rng = SplitMix(seed: 8)
        for isa in CPUFeatures.ISA.allCases.reversed() {
            guard CPUFeatures.limit(to: isa) == isa else { continue }
            for type in Self.types {
                for n in [256, 512, 1024, 2560] {
                    let w = randomKRow(type, n, &rng)
                    let x = (0..<n).map { _ in rng.float() * 3 }
                    let a = quantizedActivation(type, x)
                    let t = Int32(type.rawValue)
                    let fast = ck_vec_dot(t, Int32(n), w, a)
                    let ref = ck_vec_dot_scalar(t, Int32(n), w, a)
                    XCTAssertEqual(fast, ref, accuracy: 1e-4 * max(1, abs(ref)), "\(type) n=\(n) isa=\(isa)")
                }
            }
        }
    }

    /// The scalar dot equals the float dot of the dequantized weights with the dequantized
    /// activations (d * q): this pins the element order and the offset/min handling.
    func testScalarDotEqualsDequantizedDot() {
        var rng = SplitMix(seed: 12)
        for type in Self.types {
            let n = 1024
            let w = randomKRow(type, n, &rng)
            let x = (0..<n).map { _ in rng.float() }
            let a = quantizedActivation(type, x)
            let wf = dequantized(type, w, n)
            let xq = dequantizedActivation(a, n)
            var exact = 0.0, scale = 0.0
            for i in 0..<n { exact += Double(wf[i]) * Double(xq[i]); scale += abs(Double(wf[i]) * Double(xq[i])) }
            let got = ck_vec_dot_scalar(Int32(type.rawValue), Int32(n), w, a)
            XCTAssertEqual(Double(got), exact, accuracy: 1e-5 * scale + 1e-7, "\(type)")
        }
    }

    /// The quantized dot approximates the float dot of the dequantized row within the bound
    /// the activation rounding allows (half a step, amax / 254, per element).
    func testQuantizedDotApproximatesFloatDot() {
        var rng = SplitMix(seed: 13)
        for type in Self.types {
            let n = 768
            let w = randomKRow(type, n, &rng)
            let x = (0..<n).map { _ in rng.float() }
            let wf = dequantized(type, w, n)
            var exact = 0.0, bound = 1e-5
            for b in 0..<(n / 256) {
                let amax = x[(256 * b)..<(256 * b + 256)].map { abs(Double($0)) }.max()!
                for i in (256 * b)..<(256 * b + 256) {
                    exact += Double(wf[i]) * Double(x[i])
                    bound += abs(Double(wf[i])) * amax / 254 * 1.001
                }
            }
            let a = quantizedActivation(type, x)
            let got = ck_vec_dot(Int32(type.rawValue), Int32(n), w, a)
            XCTAssertEqual(Double(got), exact, accuracy: bound, "\(type)")
        }
    }

    /// Pooled matmul (4-row and 4x4 tiles plus remainder rows and tokens) equals scalar dots.
    func testPooledMatmulMatchesScalarDots() throws {
        var rng = SplitMix(seed: 17)
        let pool = ThreadPool(threads: 2)
        for isa in [CPUFeatures.ISA.avx512, .avx2] {
            guard CPUFeatures.limit(to: isa) == isa else { continue }
            for type in Self.types {
                let rows = 70, cols = 512
                let wBytes = (0..<rows).flatMap { _ in randomKRow(type, cols, &rng) }
                for T in [1, 3, 5, 8] {
                    let x = (0..<(T * cols)).map { _ in rng.float() }
                    let y = try multiply(type, wBytes, rows: rows, cols: cols, x, tokens: T, pool: pool)
                    wBytes.withUnsafeBytes { wb in
                        let rowBytes = type.byteCount(elements: cols)!
                        for tok in 0..<T {
                            let a = quantizedActivation(type, Array(x[(tok * cols)..<((tok + 1) * cols)]))
                            for r in 0..<rows {
                                let ref = ck_vec_dot_scalar(Int32(type.rawValue), Int32(cols), wb.baseAddress! + r * rowBytes, a)
                                XCTAssertEqual(y[tok * rows + r], ref, accuracy: 1e-4 * max(1, abs(ref)), "\(type) \(isa) T=\(T) t=\(tok) r=\(r)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// One input feeding matrices that want different activation kinds (Q8 and Q8_K) gets
    /// the right conversion for each, whatever the order.
    func testSharedInputServesBothActivationKinds() throws {
        var rng = SplitMix(seed: 19)
        let pool = ThreadPool(threads: 2)
        let rows = 8, cols = 256, T = 2
        let wK = (0..<rows).flatMap { _ in randomKRow(.q4_K, cols, &rng) }
        let w8 = (0..<rows).flatMap { _ in randomRow(.q8_0, cols, &rng) }
        let x = (0..<(T * cols)).map { _ in rng.float() }
        let refK = try multiply(.q4_K, wK, rows: rows, cols: cols, x, tokens: T, pool: pool)
        let ref8 = try multiply(.q8_0, w8, rows: rows, cols: cols, x, tokens: T, pool: pool)
        var yK = [Float](repeating: .nan, count: T * rows), y8 = yK, yK2 = yK
        try wK.withUnsafeBytes { kb in
            try w8.withUnsafeBytes { eb in
                let mK = try WeightMatrix(name: "k", type: .q4_K, rows: rows, cols: cols, data: kb.baseAddress!)
                let m8 = try WeightMatrix(name: "e", type: .q8_0, rows: rows, cols: cols, data: eb.baseAddress!)
                let acts = Activations()
                x.withUnsafeBufferPointer { xb in
                    acts.set(xb.baseAddress!, tokens: T, cols: cols)
                    yK.withUnsafeMutableBufferPointer { mK.multiply(acts, into: $0.baseAddress!, pool: pool) }
                    y8.withUnsafeMutableBufferPointer { m8.multiply(acts, into: $0.baseAddress!, pool: pool) }
                    yK2.withUnsafeMutableBufferPointer { mK.multiply(acts, into: $0.baseAddress!, pool: pool) }
                }
            }
        }
        XCTAssertEqual(yK, refK)
        XCTAssertEqual(y8, ref8)
        XCTAssertEqual(yK2, refK)
    }

    func testRowsNotAMultipleOf256AreRejected() throws {
        let bytes = [UInt8](repeating: 0, count: 4096)
        try bytes.withUnsafeBytes { b in
            XCTAssertThrowsError(try WeightMatrix(name: "w", type: .q4_K, rows: 2, cols: 640, data: b.baseAddress!))
            XCTAssertNoThrow(try WeightMatrix(name: "w", type: .q6_K, rows: 2, cols: 1024, data: b.baseAddress!))
        }
    }

    /// Nanoseconds per 256-element block of the Q4_K and Q6_K kernels on each ISA
    /// (SWIFTLLM_BENCH=1 to run; prints, asserts nothing).
    func testBenchmarkKQuantDots() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["SWIFTLLM_BENCH"] == "1", "set SWIFTLLM_BENCH=1")
        var rng = SplitMix(seed: 23)
        let pool = ThreadPool(threads: 1)
        for type in [GGMLType.q4_K, .q6_K, .q5_K, .q3_K, .q2_K] {
            let cols = 2048, rows = 256, blocks = Double(rows * cols / 256)
            let w = (0..<rows).flatMap { _ in randomKRow(type, cols, &rng) }
            let x = (0..<(4 * cols)).map { _ in rng.float() }
            let a = quantizedActivation(type, Array(x[0..<cols]))
            let rowBytes = type.byteCount(elements: cols)!
            var line = "\(type):"
            for isa in CPUFeatures.ISA.allCases.reversed() {
                guard CPUFeatures.limit(to: isa) == isa else { continue }
                let t = Int32(type.rawValue)
                var sink: Float = 0
                let dot = time(repeats: isa == .scalar ? 3 : 30) {
                    w.withUnsafeBytes { wb in
                        for r in 0..<rows { sink += ck_vec_dot(t, Int32(cols), wb.baseAddress! + r * rowBytes, a) }
                    }
                }
                let mv = try time(repeats: isa == .scalar ? 3 : 30) {
                    _ = try multiply(type, w, rows: rows, cols: cols, Array(x[0..<cols]), tokens: 1, pool: pool)
                }
                let mm = try time(repeats: isa == .scalar ? 1 : 10) {
                    _ = try multiply(type, w, rows: rows, cols: cols, x, tokens: 4, pool: pool)
                }
                line += String(format: "  %@ dot %.1f ns/block, matvec %.1f, 4-token matmul %.1f per block-token",
                               isa.description, dot / blocks * 1e9, mv / blocks * 1e9, mm / blocks / 4 * 1e9)
                XCTAssertFalse(sink.isNaN)
            }
            print(line)
        }
    }
}

// MARK: - Helpers

/// Byte offsets of the fp16 scale fields in each K-quant block (ggml layouts).
private let kScaleOffsets: [GGMLType: [Int]] = [
    .q2_K: [80, 82], .q3_K: [108], .q4_K: [0, 2], .q5_K: [0, 2], .q6_K: [208],
]

/// A random but valid K-quant row: random bytes, with small finite fp16 super-block scales.
func randomKRow(_ type: GGMLType, _ n: Int, _ rng: inout SplitMix) -> [UInt8] {
    var bytes = (0..<type.byteCount(elements: n)!).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    for b in 0..<(n / 256) {
        for offset in kScaleOffsets[type]! {
            let h = Float16(rng.float() * 0.01).bitPattern
            bytes[b * type.typeSize + offset] = UInt8(h & 0xff)
            bytes[b * type.typeSize + offset + 1] = UInt8(h >> 8)
        }
    }
    return bytes
}

private func dequantized(_ type: GGMLType, _ raw: [UInt8], _ n: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: n)
    raw.withUnsafeBytes { src in
        out.withUnsafeMutableBufferPointer { dequantize(type, src.baseAddress!, into: $0.baseAddress!, count: n) }
    }
    return out
}

private func quantizedActivation(_ type: GGMLType, _ x: [Float]) -> [UInt8] {
    let t = Int32(type.rawValue)
    var a = [UInt8](repeating: 0, count: ck_activation_row_bytes(t, Int32(x.count)))
    ck_quantize_activation(t, x, &a, Int32(x.count))
    return a
}

/// d * q of each element of a Q8_K row.
private func dequantizedActivation(_ a: [UInt8], _ n: Int) -> [Float] {
    a.withUnsafeBytes { raw in
        raw.bindMemory(to: ck_block_q8_K.self).flatMap { b -> [Float] in
            var block = b
            return withUnsafeBytes(of: &block.qs) { $0.bindMemory(to: Int8.self).map { Float($0) * b.d } }
        }
    }
}

/// y[t * rows + r] through WeightMatrix.multiply (the pooled matmul path).
private func multiply(_ type: GGMLType, _ w: [UInt8], rows: Int, cols: Int, _ x: [Float], tokens: Int,
                      pool: ThreadPool) throws -> [Float] {
    var y = [Float](repeating: .nan, count: tokens * rows)
    try w.withUnsafeBytes { wb in
        let m = try WeightMatrix(name: "w", type: type, rows: rows, cols: cols, data: wb.baseAddress!)
        let acts = Activations()
        x.withUnsafeBufferPointer { xb in
            acts.set(xb.baseAddress!, tokens: tokens, cols: cols)
            y.withUnsafeMutableBufferPointer { m.multiply(acts, into: $0.baseAddress!, pool: pool) }
        }
    }
    return y
}

/// Seconds per call of `body`, best of `repeats`.
private func time(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}
