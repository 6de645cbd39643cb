import Dispatch
import Foundation
import Models

/// KV cache sizes by formula, and the cost of moving one sequence's cache out of the paged pool
/// and back: the CPU analogue of the device <-> host copies that offloading and preemption by
/// swapping pay for.
public enum KVTransfer {
    /// Bytes per cached token for a config and an element size (bytes per element).
    public static func bytesPerToken(_ c: ModelConfig, elementBytes: Double) -> Double {
        2 * Double(c.layerCount * c.kvHeadCount * c.headDim) * elementBytes
    }

    /// Storage formats compared in the report: name and bytes per element (quantized ones
    /// include their block scales: Q8_0 is 34 bytes per 32 values, Q4_0 18).
    public static let formats: [(name: String, bytesPerElement: Double)] = [
        ("f32", 4), ("f16", 2), ("q8_0", 34.0 / 32), ("q4_0", 18.0 / 32),
    ]

    public struct Timing: Sendable, Encodable {
        public var bytes: Int
        public var seconds: Double
        public var gbPerSecond: Double { seconds > 0 ? Double(bytes) / seconds / 1e9 : 0 }

        enum CodingKeys: String, CodingKey { case bytes, seconds, gbPerSecond = "gb_per_s" }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(bytes, forKey: .bytes)
            try c.encode(seconds, forKey: .seconds)
            try c.encode(gbPerSecond, forKey: .gbPerSecond)
        }
    }

    public struct Result: Sendable, Encodable {
        public var poolToHost: Timing
        public var hostToPool: Timing
        public var hostToFile: Timing
        public var fileToHost: Timing

        enum CodingKeys: String, CodingKey {
            case poolToHost = "pool_to_host", hostToPool = "host_to_pool", hostToFile = "host_to_file", fileToHost = "file_to_host"
        }
    }

    /// Copies a `context`-token sequence's blocks (scattered through the pool, as a real block
    /// table is) into one contiguous host buffer, to a file (written and fsync'ed) and back;
    /// best of `repetitions` for each direction.
    public static func measure(cache: KVCacheStorage, context: Int, file: URL, repetitions: Int = 5) throws -> Result {
        let blocks = (context + cache.blockSize - 1) / cache.blockSize
        precondition(blocks * 2 <= cache.blockCount, "the pool needs room for two copies of the sequence")
        // Every other block: the source table; the blocks in between receive the copy back.
        let table = (0..<blocks).map { $0 * 2 }
        let back = (0..<blocks).map { $0 * 2 + 1 }
        let blockBytes = cache.blockSize * cache.kvDim * cache.type.bytesPerElement
        let total = blocks * blockBytes * cache.layerCount * 2
        for l in 0..<cache.layerCount {
            memset(cache.keyPool(l), 0x3c, cache.blockCount * blockBytes)
            memset(cache.valuePool(l), 0x3b, cache.blockCount * blockBytes)
        }
        let host = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 64)
        defer { host.deallocate() }
        memset(host, 0, total)

        func each(_ body: (_ pool: UnsafeMutableRawPointer, _ hostOffset: Int) -> Void) {
            var off = 0
            for l in 0..<cache.layerCount {
                for pool in [cache.keyPool(l), cache.valuePool(l)] {
                    body(pool, off)
                    off += blocks * blockBytes
                }
            }
        }
        func best(_ body: () throws -> Void) rethrows -> Timing {
            var t = Double.infinity
            for _ in 0..<repetitions {
                let s = DispatchTime.now().uptimeNanoseconds
                try body()
                t = min(t, Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
            }
            return Timing(bytes: total, seconds: t)
        }
        let out = best {
            each { pool, off in
                for (i, b) in table.enumerated() { memcpy(host + off + i * blockBytes, pool + b * blockBytes, blockBytes) }
            }
        }
        let into = best {
            each { pool, off in
                for (i, b) in back.enumerated() { memcpy(pool + b * blockBytes, host + off + i * blockBytes, blockBytes) }
            }
        }
        guard memcmp(cache.keyPool(0) + table[0] * blockBytes, cache.keyPool(0) + back[0] * blockBytes, blockBytes) == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
        let path = file.path
        let toFile = try best {
            let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
            guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission) }
            defer { close(fd) }
            var done = 0
            while done < total {
                let n = write(fd, host + done, total - done)
                guard n > 0 else { throw CocoaError(.fileWriteUnknown) }
                done += n
            }
            fsync(fd)
        }
        let fromFile = try best {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw CocoaError(.fileReadNoPermission) }
            defer { close(fd) }
            var done = 0
            while done < total {
                let n = read(fd, host + done, total - done)
                guard n > 0 else { throw CocoaError(.fileReadUnknown) }
                done += n
            }
        }
        unlink(path)
        return Result(poolToHost: out, hostToPool: into, hostToFile: toFile, fileToHost: fromFile)
    }
}
