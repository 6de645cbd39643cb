import ArgumentParser
import Engine
import Foundation
import GGUF
import Kernels
import Models

/// `-t 1,2`: a comma-separated list of integers.
struct IntList: ExpressibleByArgument {
    let values: [Int]

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        var values: [Int] = []
        for part in parts {
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)) else { return nil }
            values.append(v)
        }
        if values.isEmpty { return nil }
        self.values = values
    }

    init(_ values: [Int]) { self.values = values }

    var defaultValueDescription: String { values.map(String.init).joined(separator: ",") }
}

struct BenchGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Prompt processing (pp) and text generation (tg) speed, in the manner of llama-bench.",
        discussion: """
        ppP runs one forward pass over P random tokens from an empty KV cache (in chunks of \
        --batch-size rows, logits for the last token only); tgN runs N single-token decode steps \
        from an empty cache (no prompt), logits every step. Each test runs once untimed to warm \
        up, then -r times; t/s is the mean over the repetitions ± their sample standard \
        deviation. -p 0 or -n 0 skips that test. The model is loaded once per thread count.
        """
    )

    @Option(name: [.short, .customLong("model")], help: "GGUF file path or known model alias (default: smollm2-135m).")
    var model: String?

    @Option(name: [.customShort("p"), .customLong("n-prompt")], help: "Prompt tokens for the pp test (0 skips it).")
    var nPrompt = 512

    @Option(name: [.customShort("n"), .customLong("n-gen")], help: "Generated tokens for the tg test (0 skips it).")
    var nGen = 128

    @Option(name: [.short, .customLong("threads")], help: "Comma-separated thread counts (default: one per core).")
    var threads = IntList([ThreadPool.defaultThreadCount])

    @Option(name: [.short, .customLong("repetitions")], help: "Timed repetitions of each test.")
    var repetitions = 5

    @Option(name: .customLong("batch-size"), help: "Most tokens per forward pass during pp (llama-bench's -ub).")
    var batchSize = 512

    @Option(help: "Seed for the random token ids.")
    var seed: UInt64 = 0

    @OptionGroup var kvCache: KVCacheTypeOption

    @Flag(help: "Print one JSON object instead of a markdown table.")
    var json = false

    func validate() throws {
        if let t = threads.values.first(where: { !(1...1024).contains($0) }) {
            throw CLIError("--threads must be between 1 and 1024 (got \(t))")
        }
        if nPrompt < 0 { throw CLIError("-p/--n-prompt must be 0 or more (got \(nPrompt))") }
        if nGen < 0 { throw CLIError("-n/--n-gen must be 0 or more (got \(nGen))") }
        if nPrompt == 0 && nGen == 0 { throw CLIError("nothing to measure: -p and -n are both 0") }
        if repetitions < 1 { throw CLIError("-r/--repetitions must be at least 1 (got \(repetitions))") }
        if !(1...65536).contains(batchSize) { throw CLIError("--batch-size must be between 1 and 65536 (got \(batchSize))") }
    }

    func run() throws {
        let path = try ModelStore().resolve(model) { printError($0) }.path
        let file = try GGUFFile(path: path)
        let info = BenchModelInfo(file: file)
        let isa = CPUFeatures.isa.description
        var results: [BenchGenerateResult] = []
        if !json {
            writeOut("| model | size | params | backend | ISA | threads | test | t/s |\n")
            writeOut("| --- | ---: | ---: | --- | --- | ---: | ---: | ---: |\n")
        }
        for t in threads.values {
            let lm = try loadModel(file, pool: ThreadPool(threads: t), maxBatchTokens: batchSize)
            let context = lm.config.contextLength
            for (name, count) in [("-p", nPrompt), ("-n", nGen)] where count > context {
                throw CLIError("\(name) \(count) exceeds the model's context length \(context)")
            }
            var bench = GenerateBench(model: lm, positions: max(nPrompt, nGen), kvType: kvCache.kvCacheType, seed: seed)
            var tests: [(String, Int, Int)] = []   // (name, prompt tokens, generated tokens)
            if nPrompt > 0 { tests.append(("pp\(nPrompt)", nPrompt, 0)) }
            if nGen > 0 { tests.append(("tg\(nGen)", 0, nGen)) }
            for (test, p, n) in tests {
                let once = { () throws -> Double in p > 0 ? try bench.prompt(p) : try bench.generate(n) }
                _ = try once()   // warm-up, not counted
                var samples: [Double] = []
                for _ in 0..<repetitions {
                    let seconds = try once()
                    samples.append(Double(p + n) / seconds)
                }
                let (mean, sd) = meanAndStddev(samples)
                let r = BenchGenerateResult(test: test, threads: lm.pool.threadCount, tokens_per_second: mean, stddev: sd,
                                            model: info.label, model_path: path, model_size: info.bytes, model_params: info.parameters,
                                            backend: "CPU", isa: isa, n_prompt: p, n_gen: n, batch_size: batchSize,
                                            kv_cache_type: "\(kvCache.kvCacheType)", repetitions: repetitions, samples: samples)
                results.append(r)
                if !json {
                    writeOut("| \(info.label) | \(formatMiB(info.bytes)) | \(formatParams(info.parameters)) | CPU | \(isa) | "
                             + "\(r.threads) | \(test) | \(String(format: "%.2f ± %.2f", mean, sd)) |\n")
                }
            }
        }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            writeOut(String(decoding: try enc.encode(BenchGenerateReport(results: results)), as: UTF8.self) + "\n")
        }
    }
}

/// The forward passes of one model: a private KV cache for `positions` tokens and reused batches.
struct GenerateBench {
    let model: any LanguageModel
    let cache: KVCacheStorage
    let blockTable: [Int32]
    var batch = Batch()
    var rng: SeededGenerator

    init(model: any LanguageModel, positions: Int, kvType: KVCacheType, seed: UInt64, blockSize: Int = 16) {
        self.model = model
        let blocks = max(1, (positions + blockSize - 1) / blockSize)
        cache = model.makeKVCache(blockSize: blockSize, blockCount: blocks, type: kvType)
        blockTable = (0..<Int32(blocks)).map { $0 }
        rng = SeededGenerator(seed: seed)
    }

    mutating func randomTokens(_ n: Int) -> [Int] {
        let vocab = model.config.vocabularySize
        return (0..<n).map { _ in Int.random(in: 0..<vocab, using: &rng) }
    }

    /// Seconds for one prompt pass over `n` tokens from position 0, in chunks of the model's max batch.
    mutating func prompt(_ n: Int) throws -> Double {
        let tokens = randomTokens(n)
        let start = DispatchTime.now()
        var pos = 0
        while pos < n {
            let count = min(model.maxBatchTokens, n - pos)
            batch.removeAll()
            batch.append(tokens: tokens[pos..<pos + count], startPosition: pos, blockTable: blockTable, wantsLogits: pos + count == n)
            _ = try model.forward(batch, cache: cache)
            pos += count
        }
        return seconds(since: start)
    }

    /// Seconds for `n` single-token decode steps at positions 0..<n.
    mutating func generate(_ n: Int) throws -> Double {
        let tokens = randomTokens(n)
        let start = DispatchTime.now()
        for i in 0..<n {
            batch.removeAll()
            batch.append(tokens: CollectionOfOne(tokens[i]), startPosition: i, blockTable: blockTable, wantsLogits: true, isDecode: true)
            _ = try model.forward(batch, cache: cache)
        }
        return seconds(since: start)
    }

    private func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}

/// What llama-bench's model, size and params columns show.
struct BenchModelInfo {
    let label: String
    let bytes: Int
    let parameters: Int

    init(file: GGUFFile) {
        bytes = file.tensors.reduce(0) { $0 + $1.byteCount }
        parameters = file.tensors.reduce(0) { $0 + $1.elementCount }
        let arch = file.architecture ?? "unknown"
        let size = file.string("general.size_label") ?? formatParams(parameters).replacingOccurrences(of: " ", with: "")
        let type = file.int("general.file_type").flatMap { Self.fileTypeNames[$0] } ?? Self.dominantType(file)
        label = "\(arch) \(size) \(type)"
    }

    /// llama.cpp's `llama_ftype` values.
    static let fileTypeNames: [Int: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
        11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M",
        18: "Q6_K", 32: "BF16",
    ]

    static func dominantType(_ file: GGUFFile) -> String {
        var bytes: [GGMLType: Int] = [:]
        for t in file.tensors { bytes[t.type, default: 0] += t.byteCount }
        return bytes.max { $0.value < $1.value }.map { "\($0.key)" } ?? "?"
    }
}

struct BenchGenerateReport: Encodable {
    let results: [BenchGenerateResult]
}

struct BenchGenerateResult: Encodable {
    let test: String
    let threads: Int
    let tokens_per_second: Double
    let stddev: Double
    let model: String
    let model_path: String
    let model_size: Int
    let model_params: Int
    let backend: String
    let isa: String
    let n_prompt: Int
    let n_gen: Int
    let batch_size: Int
    let kv_cache_type: String
    let repetitions: Int
    let samples: [Double]
}

/// Mean and sample standard deviation (n - 1; 0 for one sample), as llama-bench reports.
func meanAndStddev(_ xs: [Double]) -> (Double, Double) {
    guard !xs.isEmpty else { return (0, 0) }
    let mean = xs.reduce(0, +) / Double(xs.count)
    guard xs.count > 1 else { return (mean, 0) }
    let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
    return (mean, variance.squareRoot())
}

func formatMiB(_ bytes: Int) -> String { String(format: "%.2f MiB", Double(bytes) / 1_048_576) }

func formatParams(_ n: Int) -> String {
    n >= 1_000_000_000 ? String(format: "%.2f B", Double(n) / 1e9) : String(format: "%.2f M", Double(n) / 1e6)
}
