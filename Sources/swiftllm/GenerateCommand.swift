import ArgumentParser
import Engine
import Foundation

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Complete a raw prompt (no chat template).",
        discussion: "Text streams to stdout; timings go to stderr. With --json one JSON object is printed instead."
    )

    @OptionGroup var modelOptions: ModelOptions

    @OptionGroup var sampling: SamplingOptions

    @Option(name: [.short, .customLong("ctx-size")], help: "Context size in tokens (default: the model's, at most 8192).")
    var ctxSize: Int?

    @Flag(help: "Print one JSON object with ids, text, finish reason and timings.")
    var json = false

    @Argument(help: "The prompt.")
    var prompt: String

    func validate() throws {
        if let c = ctxSize, c < 2 { throw ValidationError("--ctx-size must be at least 2 (got \(c))") }
    }

    func run() throws {
        let params = sampling.params
        try params.validate()
        let loaded = try modelOptions.load()
        let generator = Generator(model: loaded.model, tokenizer: loaded.tokenizer,
                                  contextSize: ctxSize ?? min(8192, loaded.model.config.contextLength))
        let ids = generator.encodePrompt(prompt)
        if json {
            let result = try generator.generate(promptTokens: ids, params: params)
            let out = GenerateJSON(prompt_token_ids: result.promptTokenIDs, token_ids: result.tokenIDs, text: result.text,
                                   finish_reason: result.finishReason.rawValue, timings: result.timings)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            writeOut(String(decoding: try encoder.encode(out), as: UTF8.self) + "\n")
        } else {
            let result = try generator.generate(promptTokens: ids, params: params) { text in
                writeOut(text)
                return true
            }
            writeOut("\n")
            let t = result.timings
            printError(String(format: "prompt: %d tokens in %.1f ms (%.1f tok/s) | ttft %.1f ms | generated %d tokens, %.1f tok/s decode (%.2f ms/token) | finish: %@",
                              t.promptTokens, t.promptMs, t.promptTokensPerSecond, t.ttftMs, t.generatedTokens,
                              t.decodeTokensPerSecond, t.tpotMs, result.finishReason.rawValue))
        }
    }
}

struct GenerateJSON: Encodable {
    let prompt_token_ids: [Int]
    let token_ids: [Int]
    let text: String
    let finish_reason: String
    let timings: GenerationTimings
}
