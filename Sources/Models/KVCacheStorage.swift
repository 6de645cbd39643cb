/// The memory of a paged KV cache: per layer, a pool of fixed-size blocks for K and for V.
///
/// Layout per layer and per pool: [blocks][blockSize][kvHeads * headDim] floats, so one
/// position's keys for all heads are contiguous. Which block belongs to which sequence is the
/// block manager's business (Engine); the model only writes and reads through block tables.
public final class KVCacheStorage: @unchecked Sendable {
    public let layerCount: Int
    public let kvDim: Int
    public let blockSize: Int
    public let blockCount: Int
    private let keys: [UnsafeMutablePointer<Float>]     // [layer] -> pool
    private let values: [UnsafeMutablePointer<Float>]

    /// Pool memory is zero-filled lazily by the OS (calloc), so an unused pool costs no RAM.
    public init(layerCount: Int, kvDim: Int, blockSize: Int, blockCount: Int) {
        self.layerCount = layerCount
        self.kvDim = kvDim
        self.blockSize = blockSize
        self.blockCount = blockCount
        let floats = blockCount * blockSize * kvDim
        keys = (0..<layerCount).map { _ in calloc(floats, 4)!.assumingMemoryBound(to: Float.self) }
        values = (0..<layerCount).map { _ in calloc(floats, 4)!.assumingMemoryBound(to: Float.self) }
    }

    deinit {
        keys.forEach { free($0) }
        values.forEach { free($0) }
    }

    /// Bytes one token occupies across all layers (K and V).
    public var bytesPerToken: Int { 2 * layerCount * kvDim * MemoryLayout<Float>.size }
    public var totalBytes: Int { bytesPerToken * blockSize * blockCount }

    @inline(__always) public func keyPool(_ layer: Int) -> UnsafeMutablePointer<Float> { keys[layer] }
    @inline(__always) public func valuePool(_ layer: Int) -> UnsafeMutablePointer<Float> { values[layer] }

    /// Cache slot of `position` for a sequence with `blockTable`.
    @inline(__always) public func slot(position: Int, blockTable: UnsafePointer<Int32>) -> Int {
        Int(blockTable[position / blockSize]) * blockSize + position % blockSize
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
