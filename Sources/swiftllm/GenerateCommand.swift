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

    @Option(name: .customLong("prompts-file"), help: "Run every line of FILE as a prompt, all at once through the serving engine; prints JSON Lines in input order.")
    var promptsFile: String?

    @OptionGroup var engine: EngineOptionsGroup

    @Argument(help: "The prompt.")
    var prompt: String?

    func validate() throws {
        if let c = ctxSize, c < 2 { throw ValidationError("--ctx-size must be at least 2 (got \(c))") }
        if (prompt == nil) == (promptsFile == nil) { throw ValidationError("give either a PROMPT or --prompts-file FILE") }
    }

    func run() throws {
        let params = sampling.params
        try params.validate()
        let loaded = try modelOptions.load()
        if let promptsFile { return try runBatch(loaded, file: promptsFile, params: params) }
        let prompt = self.prompt ?? ""
        let generator = Generator(model: loaded.model, tokenizer: loaded.tokenizer,
                                  contextSize: ctxSize ?? min(8192, loaded.model.config.contextLength),
                                  kvCacheType: engine.kv.kvCacheType)
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

extension GenerateCommand {
    /// All prompts submitted together to the serving engine; one JSON object per line, in order.
    func runBatch(_ loaded: LoadedModel, file: String, params: SamplingParams) throws {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw CLIError("cannot read prompts file '\(file)': \((error as NSError).localizedDescription)")
        }
        let prompts = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let engine = try LLMEngine(model: loaded, options: engine.options(contextSize: ctxSize))
        defer { engine.shutdown() }
        let ids = prompts.map { loaded.tokenizer.encode($0, addSpecial: true, parseSpecial: true) }
        let results = try blocking {
            try await withThrowingTaskGroup(of: (Int, GenerationResult).self) { group in
                for (i, p) in ids.enumerated() {
                    group.addTask { (i, try await engine.generate(tokens: p, params: params)) }
                }
                var out = [GenerationResult?](repeating: nil, count: ids.count)
                for try await (i, r) in group { out[i] = r }
                return out.map { $0! }
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for r in results {
            let out = GenerateJSON(prompt_token_ids: r.promptTokenIDs, token_ids: r.tokenIDs, text: r.text,
                                   finish_reason: r.finishReason.rawValue, timings: r.timings)
            writeOut(String(decoding: try encoder.encode(out), as: UTF8.self) + "\n")
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
