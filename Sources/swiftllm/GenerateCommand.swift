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

    @Option(name: [.customShort("n"), .customLong("max-tokens")], help: "Most tokens to generate.")
    var maxTokens = 128

    @Option(help: "Sampling temperature; 0 = greedy.")
    var temperature: Float = 0.8

    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0 = off).")
    var topK = 40

    @Option(name: .customLong("top-p"), help: "Nucleus sampling mass (1 = off).")
    var topP: Float = 0.95

    @Option(name: .customLong("min-p"), help: "Drop tokens below min-p times the top probability (0 = off).")
    var minP: Float = 0.05

    @Option(name: .customLong("repeat-penalty"), help: "Repetition penalty (1 = off).")
    var repeatPenalty: Float = 1.0

    @Option(name: .customLong("repeat-last-n"), help: "Tokens the repetition penalty looks back over (0 = all).")
    var repeatLastN = 64

    @Option(name: .customLong("presence-penalty"), help: "OpenAI-style presence penalty.")
    var presencePenalty: Float = 0

    @Option(name: .customLong("frequency-penalty"), help: "OpenAI-style frequency penalty.")
    var frequencyPenalty: Float = 0

    @Option(help: "Random seed for reproducible sampling.")
    var seed: UInt64?

    @Option(parsing: .singleValue, help: "Stop string (not emitted); repeatable.")
    var stop: [String] = []

    @Flag(name: .customLong("ignore-eos"), help: "Keep generating past end-of-sequence tokens.")
    var ignoreEOS = false

    @Option(name: [.short, .customLong("ctx-size")], help: "Context size in tokens (default: the model's, at most 8192).")
    var ctxSize: Int?

    @Flag(help: "Print one JSON object with ids, text, finish reason and timings.")
    var json = false

    @Argument(help: "The prompt.")
    var prompt: String

    func validate() throws {
        if let c = ctxSize, c < 2 { throw ValidationError("--ctx-size must be at least 2 (got \(c))") }
        if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1 (got \(maxTokens))") }
    }

    var params: SamplingParams {
        var p = SamplingParams()
        p.temperature = temperature
        p.topK = topK
        p.topP = topP
        p.minP = minP
        p.repetitionPenalty = repeatPenalty
        p.penaltyLastN = repeatLastN
        p.presencePenalty = presencePenalty
        p.frequencyPenalty = frequencyPenalty
        p.seed = seed
        p.maxTokens = maxTokens
        p.stop = stop
        p.ignoreEOS = ignoreEOS
        return p
    }

    func run() throws {
        let params = self.params
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
