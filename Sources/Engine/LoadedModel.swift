import GGUF
import Kernels
import Models
import Tokenizers

/// A GGUF file opened as a runnable model: the mapping, the forward pass and the tokenizer.
public struct LoadedModel {
    public let file: GGUFFile
    public let model: any LanguageModel
    public let tokenizer: any Tokenizer

    /// Opens and validates `path`; every failure is a one-line error naming the problem.
    public init(path: String, threads: Int = ThreadPool.defaultThreadCount, maxBatchTokens: Int = 512) throws {
        try self.init(file: GGUFFile(path: path), threads: threads, maxBatchTokens: maxBatchTokens)
    }

    /// Builds the model and tokenizer of an opened file, validating both.
    public init(file: GGUFFile, threads: Int = ThreadPool.defaultThreadCount, maxBatchTokens: Int = 512) throws {
        self.file = file
        model = try loadModel(file, pool: ThreadPool(threads: threads), maxBatchTokens: maxBatchTokens)
        tokenizer = try loadTokenizer(metadata: file.metadata)
        guard tokenizer.vocabularySize <= model.config.vocabularySize else {
            throw ModelError.invalidMetadata(key: "tokenizer.ggml.tokens",
                                             reason: "\(tokenizer.vocabularySize) tokens but the output head has \(model.config.vocabularySize) rows")
        }
    }
}
