import GGUF
import Kernels

/// A decoder-only model that runs ragged batches against a paged KV cache.
public protocol LanguageModel: AnyObject {
    var config: ModelConfig { get }
    /// Most rows one `forward` call accepts.
    var maxBatchTokens: Int { get }
    /// The compute threads this model runs on.
    var pool: ThreadPool { get }

    /// Makes KV cache memory laid out for this model.
    func makeKVCache(blockSize: Int, blockCount: Int, type: KVCacheType) -> KVCacheStorage

    /// Runs the batch, writing each token's keys and values into `cache` at its position, and
    /// returns logits [batch.logitsCount, vocabularySize], one row per sequence that wants them,
    /// in batch order. The buffer belongs to the model and is valid until the next call.
    func forward(_ batch: Batch, cache: KVCacheStorage) throws -> UnsafeMutableBufferPointer<Float>
}

extension LanguageModel {
    /// Every architecture caches one K and one V row of kvDim floats per layer and position.
    public func makeKVCache(blockSize: Int, blockCount: Int, type: KVCacheType = .f16) -> KVCacheStorage {
        KVCacheStorage(layerCount: config.layerCount, kvDim: config.kvDim, blockSize: blockSize, blockCount: blockCount, type: type)
    }

    /// Bytes one cached token takes across all layers (K and V).
    public func kvBytesPerToken(type: KVCacheType) -> Int {
        KVCacheStorage.bytesPerToken(layerCount: config.layerCount, kvDim: config.kvDim, type: type)
    }
}

/// Loads the model described by a GGUF file, choosing the architecture from its metadata.
public func loadModel(_ file: GGUFFile, pool: ThreadPool = ThreadPool(), maxBatchTokens: Int = 512) throws -> any LanguageModel {
    guard let make = Architectures.constructor(for: file.architecture) else {
        throw ModelError.unsupportedArchitecture(file.architecture)
    }
    return try make(file, pool, maxBatchTokens)
}
