import ArgumentParser
import Engine
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Inference benchmarks.",
        subcommands: [BenchThroughputCommand.self, BenchGenerateCommand.self, BenchBatchedCommand.self, BenchRooflineCommand.self, BenchKVCommand.self]
    )
}

struct BenchThroughputCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "throughput",
        abstract: "Offline throughput: N synthetic prompts submitted at once to the serving engine.",
        discussion: """
        Prompts are random token ids (seeded) of --input-len tokens; each generates --output-len \
        tokens (EOS ignored), or a length drawn uniformly from [--min-output-len, --output-len] \
        for mixed lengths. --max-num-seqs 1 runs the prompts one at a time.
        """
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var engine: EngineOptionsGroup

    @Option(name: .customLong("num-prompts"), help: "Number of prompts.")
    var numPrompts = 64

    @Option(name: .customLong("input-len"), help: "Prompt length in tokens.")
    var inputLen = 128

    @Option(name: .customLong("output-len"), help: "Tokens to generate per prompt (the maximum when mixed).")
    var outputLen = 128

    @Option(name: .customLong("min-output-len"), help: "Shortest output for mixed lengths (default: --output-len, i.e. all equal).")
    var minOutputLen: Int?

    @Option(help: "Seed for the synthetic prompts and lengths.")
    var seed: UInt64 = 0

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if numPrompts < 1 || inputLen < 1 || outputLen < 1 { throw ValidationError("--num-prompts, --input-len and --output-len must be positive") }
        if let m = minOutputLen, !(1...outputLen).contains(m) { throw ValidationError("--min-output-len must be between 1 and --output-len") }
    }

    func run() throws {
        let loaded = try modelOptions.load()
        let engine = try LLMEngine(model: loaded, options: engine.options(contextSize: inputLen + outputLen + 1))
        defer { engine.shutdown() }
        var rng = SeededGenerator(seed: seed)
        let vocab = loaded.model.config.vocabularySize
        let special = loaded.tokenizer.endOfGenerationTokenIDs
        let prompts: [[Int]] = (0..<numPrompts).map { _ in
            (0..<inputLen).map { _ in
                var t: Int
                repeat { t = Int.random(in: 100..<vocab, using: &rng) } while special.contains(t)
                return t
            }
        }
        let lengths = (0..<numPrompts).map { _ in Int.random(in: (minOutputLen ?? outputLen)...outputLen, using: &rng) }
        let start = DispatchTime.now()
        let results = try blocking {
            try await withThrowingTaskGroup(of: GenerationResult.self) { group in
                for (p, n) in zip(prompts, lengths) {
                    var params = SamplingParams()
                    params.temperature = 0
                    params.maxTokens = n
                    params.ignoreEOS = true
                    group.addTask { try await engine.generate(tokens: p, params: params) }
                }
                var all: [GenerationResult] = []
                for try await r in group { all.append(r) }
                return all
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let output = results.reduce(0) { $0 + $1.tokenIDs.count }
        let input = results.reduce(0) { $0 + $1.promptTokenIDs.count }
        let stats = engine.stats
        let report = ThroughputReport(
            batching: self.engine.batching, num_prompts: numPrompts, input_tokens: input, output_tokens: output,
            total_tokens: input + output, seconds: seconds, requests_per_second: Double(numPrompts) / seconds,
            output_tokens_per_second: Double(output) / seconds, total_tokens_per_second: Double(input + output) / seconds,
            preemptions: stats.preemptions, prefix_hit_rate: stats.prefixHitRate)
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            writeOut(String(decoding: try enc.encode(report), as: UTF8.self) + "\n")
        } else {
            writeOut(String(format: "Total tokens: %d, seconds: %.2f, throughput: %.1f tokens/s\n", input + output, seconds, report.total_tokens_per_second))
            writeOut(String(format: "Requests/s: %.2f, output tokens/s: %.1f (batching: %@, %d prompts, %d in + %d out tokens, %d preemptions)\n",
                            report.requests_per_second, report.output_tokens_per_second, self.engine.batching, numPrompts, input, output, stats.preemptions))
        }
    }
}

struct ThroughputReport: Encodable {
    let batching: String
    let num_prompts: Int
    let input_tokens: Int
    let output_tokens: Int
    let total_tokens: Int
    let seconds: Double
    let requests_per_second: Double
    let output_tokens_per_second: Double
    let total_tokens_per_second: Double
    let preemptions: Int
    let prefix_hit_rate: Double
}

/// splitmix64: reproducible synthetic workloads.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
