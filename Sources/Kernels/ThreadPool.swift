import Foundation
import CKernels

/// A persistent pool of compute threads (the caller is thread 0).
///
/// Compute never runs on Swift's cooperative pool: a decode step is hundreds of short
/// parallel regions and each must start in microseconds, so workers spin briefly and then park.
public final class ThreadPool: @unchecked Sendable {
    let pool: OpaquePointer
    /// Number of threads, including the caller.
    public let threadCount: Int

    public init(threads: Int = ThreadPool.defaultThreadCount) {
        pool = ck_pool_create(Int32(max(1, threads)))
        threadCount = Int(ck_pool_size(pool))
    }

    deinit { ck_pool_destroy(pool) }

    /// One thread per available core.
    public static var defaultThreadCount: Int {
        max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Runs `body(threadIndex, threadCount)` on every thread and waits for all of them.
    /// The closure must not throw or escape; it runs on foreign threads.
    public func parallel(_ body: (Int, Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            var box = body
            withUnsafeMutablePointer(to: &box) { ptr in
                ck_pool_run(pool, { ctx, index, count in
                    let f = ctx!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee
                    f(Int(index), Int(count))
                }, UnsafeMutableRawPointer(ptr))
            }
        }
    }

    /// Splits `0..<count` into one contiguous range per thread.
    public func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 { body(0..<count); return }
        parallel { index, threads in
            let chunk = (count + threads - 1) / threads
            let start = min(count, index * chunk)
            let end = min(count, start + chunk)
            if start < end { body(start..<end) }
        }
    }
}
