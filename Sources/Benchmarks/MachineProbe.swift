import CKernels
import Foundation
import Kernels

/// This machine's ceilings: memory read bandwidth and peak arithmetic, per thread count.
public struct MachinePeaks: Sendable, Codable {
    public var threads: Int
    public var isa: String
    /// Best read bandwidth over a buffer far larger than the caches (GB/s, 1e9 bytes).
    public var readGBps: Double
    /// F32 fused multiply-add peak (GFLOP/s, an FMA counts 2).
    public var f32GFlops: Double
    /// int8 multiply-accumulate peak (GOP/s, a MAC counts 2).
    public var int8GOps: Double

    /// Ops per byte at which compute takes as long as reading the bytes (the ridge point).
    public var ridgeF32: Double { f32GFlops / readGBps }

    enum CodingKeys: String, CodingKey {
        case threads, isa
        case readGBps = "read_gb_per_s", f32GFlops = "f32_gflops", int8GOps = "int8_gops"
    }
}

/// STREAM-like probes run on the engine's own thread pool, so they see what the kernels see.
public enum MachineProbe {
    /// Measures the peaks with `threads` compute threads. `bufferBytes` should dwarf the LLC.
    public static func measure(threads: Int, bufferBytes: Int = 512 << 20, repetitions: Int = 5) -> MachinePeaks {
        let pool = ThreadPool(threads: threads)
        let n = pool.threadCount
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferBytes, alignment: 64)
        defer { buffer.deallocate() }
        memset(buffer, 1, bufferBytes)      // touch every page before timing
        var sink = 0.0
        var best = Double.infinity
        for _ in 0..<repetitions {
            let t = time {
                pool.parallel { i, count in
                    let chunk = bufferBytes / count / 128 * 128
                    let r = ck_probe_read(buffer + i * chunk, chunk)
                    if r == 42.4242 { print("") }      // keeps the read alive
                }
            }
            best = min(best, t)
        }
        let readGBps = Double(bufferBytes) / best / 1e9

        func peak(_ body: @escaping (Int, UnsafeMutablePointer<Double>) -> Double) -> Double {
            let iters = 4_000_000
            var bestRate = 0.0
            for _ in 0..<3 {
                var opsPerThread = 0.0
                let t = time {
                    pool.parallel { i, _ in
                        var ops = 0.0
                        let r = body(iters, &ops)
                        if i == 0 { opsPerThread = ops }
                        if r == 42.4242 { print("") }
                    }
                }
                bestRate = max(bestRate, opsPerThread * Double(n) / t / 1e9)
            }
            return bestRate
        }
        let f32 = peak { iters, ops in ck_probe_fma_f32(iters, ops) }
        let i8 = peak { iters, ops in ck_probe_dot_i8(iters, ops) }
        sink += f32
        return MachinePeaks(threads: n, isa: String(cString: ck_isa_name(ck_cpu_isa())), readGBps: readGBps,
                            f32GFlops: f32, int8GOps: i8)
    }

    static func time(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
