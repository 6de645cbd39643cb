import GGUF
import Kernels

/// Builds the model of one architecture from its file.
typealias ModelConstructor = @Sendable (_ file: GGUFFile, _ pool: ThreadPool, _ maxBatchTokens: Int) throws -> any LanguageModel

/// Every GGUF `general.architecture` the engine runs, in the order error messages list them.
/// loadModel, ModelConfig and ModelError.supportedArchitectures all read this one table, so a
/// llama-like family is a LlamaVariant and one line here; a new graph is one file and one line.
enum Architectures {
    static let table: [(name: String, make: ModelConstructor)] = [
        ("llama", llama(.llama)),
        ("mistral", llama(.mistral)),
        ("qwen2", llama(.qwen2)),
        ("gemma3", { try Gemma3Model(file: $0, pool: $1, maxBatchTokens: $2) }),
    ]

    static let names = table.map(\.name)

    static func constructor(for architecture: String?) -> ModelConstructor? {
        table.first { $0.name == architecture }?.make
    }

    private static func llama(_ variant: LlamaVariant) -> ModelConstructor {
        { try LlamaModel(file: $0, variant: variant, pool: $1, maxBatchTokens: $2) }
    }
}
