import CKernels

/// How a KV cache stores its keys and values. F16 halves the memory of F32 (so a pool of the
/// same size holds twice the tokens) at a rounding error far below the int8 activations'.
public enum KVCacheType: String, Sendable, CaseIterable, CustomStringConvertible {
    case f16, f32

    public var bytesPerElement: Int { self == .f16 ? 2 : 4 }
    public var description: String { rawValue }
    var kernelType: Int32 { self == .f16 ? Int32(CK_KV_F16.rawValue) : Int32(CK_KV_F32.rawValue) }
}

/// The memory of a paged KV cache: per layer, a pool of fixed-size blocks for K and for V.
///
/// Layout per layer and per pool: [blocks][blockSize][kvHeads * headDim] elements of `type`, so
/// one position's keys for all heads are contiguous. Which block belongs to which sequence is
/// the block manager's business (Engine); the model only writes and reads through block tables.
public final class KVCacheStorage: @unchecked Sendable {
    public let layerCount: Int
    public let kvDim: Int
    public let blockSize: Int
    public let blockCount: Int
    public let type: KVCacheType
    private let keys: [UnsafeMutableRawPointer]     // [layer] -> pool
    private let values: [UnsafeMutableRawPointer]

    /// Pool memory is zero-filled lazily by the OS (calloc), so an unused pool costs no RAM.
    public init(layerCount: Int, kvDim: Int, blockSize: Int, blockCount: Int, type: KVCacheType = .f16) {
        self.layerCount = layerCount
        self.kvDim = kvDim
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.type = type
        let elements = blockCount * blockSize * kvDim
        keys = (0..<layerCount).map { _ in calloc(elements, type.bytesPerElement)! }
        values = (0..<layerCount).map { _ in calloc(elements, type.bytesPerElement)! }
    }

    deinit {
        keys.forEach { free($0) }
        values.forEach { free($0) }
    }

    /// Bytes one token occupies across all layers (K and V).
    public var bytesPerToken: Int { Self.bytesPerToken(layerCount: layerCount, kvDim: kvDim, type: type) }
    public var totalBytes: Int { bytesPerToken * blockSize * blockCount }

    public static func bytesPerToken(layerCount: Int, kvDim: Int, type: KVCacheType) -> Int {
        2 * layerCount * kvDim * type.bytesPerElement
    }

    @inline(__always) public func keyPool(_ layer: Int) -> UnsafeMutableRawPointer { keys[layer] }
    @inline(__always) public func valuePool(_ layer: Int) -> UnsafeMutableRawPointer { values[layer] }

    /// Cache slot of `position` for a sequence with `blockTable`.
    @inline(__always) public func slot(position: Int, blockTable: UnsafePointer<Int32>) -> Int {
        Int(blockTable[position / blockSize]) * blockSize + position % blockSize
    }

    /// Writes one position's keys and values (kvDim floats each) of `layer` into `slot`.
    @inline(__always) public func store(layer: Int, slot: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        ck_kv_store(keys[layer], slot * kvDim, key, Int32(kvDim), type.kernelType)
        ck_kv_store(values[layer], slot * kvDim, value, Int32(kvDim), type.kernelType)
    }

    /// Reads one position's keys and values back as floats (for tests and KV transfer tools).
    public func load(layer: Int, slot: Int, key: UnsafeMutablePointer<Float>, value: UnsafeMutablePointer<Float>) {
        let n = kvDim, off = slot * kvDim
        switch type {
        case .f32:
            key.update(from: keys[layer].assumingMemoryBound(to: Float.self) + off, count: n)
            value.update(from: values[layer].assumingMemoryBound(to: Float.self) + off, count: n)
        case .f16:
            let k = keys[layer].assumingMemoryBound(to: UInt16.self) + off
            let v = values[layer].assumingMemoryBound(to: UInt16.self) + off
            for i in 0..<n { key[i] = ck_fp16_to_fp32(k[i]); value[i] = ck_fp16_to_fp32(v[i]) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
