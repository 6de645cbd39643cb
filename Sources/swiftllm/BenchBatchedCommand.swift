import ArgumentParser
import Engine
import Foundation
import GGUF
import Kernels
import Models

struct BenchBatchedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batched",
        abstract: "Aggregate prefill and decode speed of B parallel sequences, in the manner of llama-batched-bench.",
        discussion: """
        For each (--npp, --ntg, --npl) combination: B sequences of PP random tokens are prefilled \
        together (chunks of --batch-size rows that may span sequences, logits for each sequence's \
        last token), then TG decode steps run with one row per sequence. S_PP = B*PP/T_PP, \
        S_TG = B*TG/T_TG, S = B*(PP+TG)/T, like llama-batched-bench's columns (and its JSONL \
        field names with --json). One untimed warm-up pass runs per thread count. The serving \
        engine's scheduler is not involved (see `bench throughput` for that).
        """
    )

    @Option(name: [.short, .customLong("model")], help: "GGUF file path or known model alias (default: smollm2-135m).")
    var model: String?

    @Option(name: [.short, .customLong("threads")], help: "Comma-separated thread counts (default: one per core).")
    var threads = IntList([ThreadPool.defaultThreadCount])

    @Option(help: "Comma-separated prompt lengths (llama-batched-bench's -npp).")
    var npp = IntList([128])

    @Option(help: "Comma-separated generated lengths (-ntg).")
    var ntg = IntList([128])

    @Option(help: "Comma-separated numbers of parallel sequences (-npl).")
    var npl = IntList([1, 16])

    @Option(name: .customLong("batch-size"), help: "Most rows per forward pass during prefill (llama-batched-bench's -ub).")
    var batchSize = 512

    @Option(help: "Seed for the random token ids.")
    var seed: UInt64 = 0

    @OptionGroup var kvCache: KVCacheTypeOption

    @Flag(help: "Print one JSON object ({\"results\": [...]}, llama-batched-bench's JSONL fields) instead of a table.")
    var json = false

    func validate() throws {
        if let t = threads.values.first(where: { !(1...1024).contains($0) }) {
            throw CLIError("--threads must be between 1 and 1024 (got \(t))")
        }
        if let v = npp.values.first(where: { $0 < 0 }) { throw CLIError("--npp values must be 0 or more (got \(v))") }
        if let v = ntg.values.first(where: { $0 < 0 }) { throw CLIError("--ntg values must be 0 or more (got \(v))") }
        if let v = npl.values.first(where: { !(1...4096).contains($0) }) { throw CLIError("--npl values must be between 1 and 4096 (got \(v))") }
        if !(1...65536).contains(batchSize) { throw CLIError("--batch-size must be between 1 and 65536 (got \(batchSize))") }
    }

    func run() throws {
        let path = try ModelStore().resolve(model) { printError($0) }.path
        let file = try GGUFFile(path: path)
        var results: [BatchedResult] = []
        if !json {
            writeOut("| PP | TG | B | N_KV | T_PP s | S_PP t/s | T_TG s | S_TG t/s | T s | S t/s | threads |\n")
            writeOut("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
        }
        for t in threads.values {
            let lm = try loadModel(file, pool: ThreadPool(threads: t), maxBatchTokens: batchSize)
            for p in npp.values where p > lm.config.contextLength || p + (ntg.values.max() ?? 0) > lm.config.contextLength {
                throw CLIError("--npp \(p) + --ntg exceeds the model's context length \(lm.config.contextLength)")
            }
            var rng = SeededGenerator(seed: seed)
            _ = try batchedRun(lm, pp: min(npp.values.max() ?? 0, 32), tg: 4, pl: 1, rng: &rng)   // warm-up
            for p in npp.values {
                for g in ntg.values {
                    for b in npl.values {
                        let (tpp, ttg) = try batchedRun(lm, pp: p, tg: g, pl: b, rng: &rng)
                        let rate = { (tokens: Int, seconds: Double) in seconds > 0 ? Double(tokens) / seconds : 0 }
                        let r = BatchedResult(pp: p, tg: g, pl: b, n_kv: b * (p + g), t_pp: tpp, speed_pp: rate(b * p, tpp),
                                              t_tg: ttg, speed_tg: rate(b * g, ttg), t: tpp + ttg, speed: rate(b * (p + g), tpp + ttg),
                                              n_threads: lm.pool.threadCount)
                        results.append(r)
                        if !json {
                            writeOut(String(format: "| %d | %d | %d | %d | %.3f | %.2f | %.3f | %.2f | %.3f | %.2f | %d |\n",
                                            p, g, b, r.n_kv, tpp, r.speed_pp, ttg, r.speed_tg, r.t, r.speed, r.n_threads))
                        }
                    }
                }
            }
        }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            writeOut(String(decoding: try enc.encode(BatchedReport(results: results)), as: UTF8.self) + "\n")
        }
    }

    /// Prefills `pl` sequences of `pp` tokens, then decodes `tg` steps of `pl` rows; returns both times in seconds.
    func batchedRun(_ model: any LanguageModel, pp: Int, tg: Int, pl: Int, rng: inout SeededGenerator) throws -> (Double, Double) {
        let blockSize = 16
        let perSequence = max(1, (pp + tg + blockSize - 1) / blockSize)
        let cache = model.makeKVCache(blockSize: blockSize, blockCount: perSequence * pl, type: kvCache.kvCacheType)
        let tables: [[Int32]] = (0..<pl).map { s in (0..<perSequence).map { Int32(s * perSequence + $0) } }
        let vocab = model.config.vocabularySize
        let prompts: [[Int]] = (0..<pl).map { _ in (0..<pp).map { _ in Int.random(in: 0..<vocab, using: &rng) } }
        let generated: [[Int]] = (0..<tg).map { _ in (0..<pl).map { _ in Int.random(in: 0..<vocab, using: &rng) } }
        var batch = Batch()

        var start = DispatchTime.now()
        var seq = 0, pos = 0
        while pp > 0 && seq < pl {
            batch.removeAll()
            var rows = 0
            while seq < pl && rows < model.maxBatchTokens {
                let n = min(model.maxBatchTokens - rows, pp - pos)
                batch.append(tokens: prompts[seq][pos..<pos + n], startPosition: pos, blockTable: tables[seq], wantsLogits: pos + n == pp)
                rows += n
                pos += n
                if pos == pp { seq += 1; pos = 0 }
            }
            _ = try model.forward(batch, cache: cache)
        }
        let tpp = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9

        start = DispatchTime.now()
        for step in 0..<tg {
            batch.removeAll()
            for s in 0..<pl {
                batch.append(tokens: CollectionOfOne(generated[step][s]), startPosition: pp + step, blockTable: tables[s],
                             wantsLogits: true, isDecode: true)
            }
            _ = try model.forward(batch, cache: cache)
        }
        let ttg = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return (tpp, ttg)
    }
}

struct BatchedReport: Encodable {
    let results: [BatchedResult]
}

/// llama-batched-bench's JSONL fields.
struct BatchedResult: Encodable {
    let pp: Int
    let tg: Int
    let pl: Int
    let n_kv: Int
    let t_pp: Double
    let speed_pp: Double
    let t_tg: Double
    let speed_tg: Double
    let t: Double
    let speed: Double
    let n_threads: Int
}
