import CKernels
import Foundation
import Kernels
import XCTest

/// Row ops and paged attention against straightforward double-precision references.
final class OpsTests: XCTestCase {
    func testRMSNorm() {
        var rng = SplitMix(seed: 1)
        let n = 576
        let x = (0..<n).map { _ in rng.float() }, w = (0..<n).map { _ in rng.float() }
        var out = [Float](repeating: 0, count: n)
        Ops.rmsNorm(&out, x, weight: w, count: n, eps: 1e-5)
        let rms = (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n) + 1e-5).squareRoot()
        for i in 0..<n { XCTAssertEqual(out[i], Float(Double(x[i]) / rms * Double(w[i])), accuracy: 1e-5) }
    }

    func testSiluMul() {
        var g: [Float] = [-20, -1, 0, 0.5, 3, 30], u: [Float] = [1, 2, 3, 4, 5, 6]
        let ref = zip(g, u).map { Double($0) / (1 + exp(-Double($0))) * Double($1) }
        Ops.siluMul(&g, u, count: g.count)
        for i in 0..<g.count { XCTAssertEqual(Double(g[i]), ref[i], accuracy: 1e-5 * max(1, abs(ref[i]))) }
    }

    func testRopeInterleavedAndNeox() {
        let dim = 8, pos = 5
        let freqs = Ops.ropeInverseFrequencies(base: 10000, rotaryDim: dim)
        let x: [Float] = (0..<dim).map { Float($0 + 1) }
        var a = x, b = x
        Ops.rope(&a, heads: 1, headDim: dim, rotaryDim: dim, position: pos, inverseFrequencies: freqs, style: .interleaved)
        Ops.rope(&b, heads: 1, headDim: dim, rotaryDim: dim, position: pos, inverseFrequencies: freqs, style: .neox)
        for i in 0..<dim / 2 {
            let t = Double(pos) * pow(10000, -2 * Double(i) / Double(dim))
            XCTAssertEqual(Double(a[2 * i]), Double(x[2 * i]) * cos(t) - Double(x[2 * i + 1]) * sin(t), accuracy: 1e-4)
            XCTAssertEqual(Double(a[2 * i + 1]), Double(x[2 * i]) * sin(t) + Double(x[2 * i + 1]) * cos(t), accuracy: 1e-4)
            let h = dim / 2
            XCTAssertEqual(Double(b[i]), Double(x[i]) * cos(t) - Double(x[i + h]) * sin(t), accuracy: 1e-4)
            XCTAssertEqual(Double(b[i + h]), Double(x[i]) * sin(t) + Double(x[i + h]) * cos(t), accuracy: 1e-4)
        }
    }

    /// Paged attention with shuffled blocks, GQA and a sliding window equals dense softmax
    /// attention, for F32 pools and for F16 pools (against the F16-rounded keys and values).
    func testPagedAttentionMatchesDense() {
        let best = ck_set_isa(Int32(CK_ISA_AVX512.rawValue))
        defer { ck_set_isa(best) }
        for isa in Set([Int32(CK_ISA_SCALAR.rawValue), best]).sorted() {
        ck_set_isa(isa)
        for half in [false, true] {
            var rng = SplitMix(seed: 9)
            let heads = 6, kvHeads = 2, hd = 64, bs = 16, n = 150, group = heads / kvHeads
            let blocks = (n + bs - 1) / bs
            let table: [Int32] = (0..<Int32(blocks)).map { $0 }.shuffled(using: &rng)
            let kvDim = kvHeads * hd
            var kPool = [Float](repeating: 0, count: blocks * bs * kvDim), vPool = kPool
            var kHalf = [UInt16](repeating: 0, count: kPool.count), vHalf = kHalf
            var keys = [[Float]](), vals = [[Float]]()
            for p in 0..<n {
                var k = (0..<kvDim).map { _ in rng.float() }, v = (0..<kvDim).map { _ in rng.float() }
                let slot = Int(table[p / bs]) * bs + p % bs
                if half {
                    ck_kv_store(&kHalf, slot * kvDim, k, Int32(kvDim), Int32(CK_KV_F16.rawValue))
                    ck_kv_store(&vHalf, slot * kvDim, v, Int32(kvDim), Int32(CK_KV_F16.rawValue))
                    k = k.map { ck_fp16_to_fp32(ck_fp32_to_fp16($0)) }
                    v = v.map { ck_fp16_to_fp32(ck_fp32_to_fp16($0)) }
                }
                keys.append(k); vals.append(v)
                for j in 0..<kvDim { kPool[slot * kvDim + j] = k[j]; vPool[slot * kvDim + j] = v[j] }
            }
            let qPositions: [Int32] = [0, 17, 100, 149]
            let q = (0..<(qPositions.count * heads * hd)).map { _ in rng.float() }
            let scale = 1 / Float(hd).squareRoot()
            for window in [0, 20] {
                var out = [Float](repeating: .nan, count: q.count)
                let kernel = PagedAttention(heads: heads, kvHeads: kvHeads, headDim: hd, blockSize: bs, scale: scale, halfPrecision: half)
                if half {
                    kernel.run(q: q, qStride: heads * hd, out: &out, outStride: heads * hd, kPool: kHalf, vPool: vHalf,
                               blockTable: table, positions: qPositions, count: qPositions.count, window: window, headRange: 0..<heads)
                } else {
                    kernel.run(q: q, qStride: heads * hd, out: &out, outStride: heads * hd, kPool: kPool, vPool: vPool,
                               blockTable: table, positions: qPositions, count: qPositions.count, window: window, headRange: 0..<heads)
                }
                for (i, pos) in qPositions.enumerated() {
                    for h in 0..<heads {
                        let kvh = h / group
                        let start = window > 0 ? max(0, Int(pos) + 1 - window) : 0
                        let ps = Array(start...Int(pos))
                        let scores = ps.map { p in (0..<hd).reduce(0.0) { $0 + Double(q[(i * heads + h) * hd + $1]) * Double(keys[p][kvh * hd + $1]) } * Double(scale) }
                        let m = scores.max()!
                        let e = scores.map { exp($0 - m) }, s = e.reduce(0, +)
                        for d in 0..<hd {
                            let ref = zip(ps, e).reduce(0.0) { $0 + $1.1 * Double(vals[$1.0][kvh * hd + d]) } / s
                            XCTAssertEqual(Double(out[(i * heads + h) * hd + d]), ref, accuracy: 1e-4, "isa=\(isa) f16=\(half) w=\(window) q=\(i) h=\(h) d=\(d)")
                        }
                    }
                }
            }
        }
        }
    }

    /// The F16 cache write rounds exactly like the scalar conversion on every value class.
    func testKVStoreF16RoundsLikeScalar() {
        var rng = SplitMix(seed: 3)
        var xs: [Float] = [0, -0, 1, -1, 65504, 65519, 65520, -70000, .infinity, -.infinity, 6.0e-8, 3.0e-8, 1e-6, -2.9e-5, 0.1, 1 / 3]
        for _ in 0..<1000 { xs.append(rng.float() * Float(pow(2.0, Double(Int.random(in: -20...16, using: &rng))))) }
        let best = ck_set_isa(Int32(CK_ISA_AVX512.rawValue))
        defer { ck_set_isa(best) }
        for isa in Set([Int32(CK_ISA_SCALAR.rawValue), best]).sorted() {
            ck_set_isa(isa)
            var out = [UInt16](repeating: 0, count: xs.count)
            ck_kv_store(&out, 0, xs, Int32(xs.count), Int32(CK_KV_F16.rawValue))
            for (i, x) in xs.enumerated() { XCTAssertEqual(out[i], ck_fp32_to_fp16(x), "isa=\(isa) x=\(x)") }
        }
        var f32 = [Float](repeating: 0, count: xs.count)
        ck_kv_store(&f32, 0, xs, Int32(xs.count), Int32(CK_KV_F32.rawValue))
        XCTAssertEqual(f32, xs)
    }
}
