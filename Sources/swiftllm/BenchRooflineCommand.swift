import ArgumentParser
import Benchmarks
import Engine
import Foundation
import Models

struct BenchRooflineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roofline",
        abstract: "Memory bandwidth, peak FLOP/s and the model's decode steps on a roofline (MBU, MFU, regime).",
        discussion: """
        Measures read bandwidth (STREAM-like, per thread count) and peak F32 FMA and int8 dot \
        throughput; computes the model's bytes and FLOPs per decode step at each batch size, the \
        arithmetic intensity and the machine's ridge point; times decode steps at those batch sizes \
        (sequences sharing a --context-token cached prompt) and reports tokens/s, MBU, MFU and whether \
        each step is bandwidth-, compute- or overhead-bound. MFU is against the F32 FMA peak because \
        decode rows multiply float activations.
        """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .customLong("batch"), help: "Comma-separated decode batch sizes.")
    var batches = "1,2,4,8,16,32,64,128,256"

    @Option(help: "Cached tokens each sequence attends over.")
    var context = 128

    @Option(help: "Timed decode steps per batch size (after two warm-up steps).")
    var steps = 8

    @Option(name: .customLong("probe-threads"), help: "Comma-separated thread counts for the bandwidth and FLOP probes (default: 1 and all).")
    var probeThreads: String?

    @OptionGroup var kv: KVCacheTypeOption

    @Option(help: "Write the roofline chart as SVG to this file.")
    var svg: String?

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    func parsedList(_ s: String, _ flag: String) throws -> [Int] {
        let v = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !v.isEmpty, v.allSatisfy({ $0 != nil && $0! >= 1 }) else { throw ValidationError("\(flag) must be a comma-separated list of positive integers (got '\(s)')") }
        return v.map { $0! }
    }

    func validate() throws {
        _ = try parsedList(batches, "--batch")
        if let p = probeThreads { _ = try parsedList(p, "--probe-threads") }
        guard (1...65536).contains(context) else { throw ValidationError("--context must be between 1 and 65536 (got \(context))") }
        guard (1...10000).contains(steps) else { throw ValidationError("--steps must be between 1 and 10000 (got \(steps))") }
    }

    struct Output: Encodable {
        let model: String
        let machine: [MachinePeaks]
        let cost: ModelCost
        let threads: Int
        let points: [RooflinePoint]
    }

    func run() throws {
        let batchList = try parsedList(batches, "--batch")
        let threads = modelOptions.threads ?? ProcessInfo.processInfo.activeProcessorCount
        let probeList = try probeThreads.map { try parsedList($0, "--probe-threads") } ?? Array(Set([1, threads])).sorted()
        let loaded = try modelOptions.load(maxBatchTokens: max(512, batchList.max() ?? 1))
        guard context + steps + 32 < loaded.model.config.contextLength else {
            throw CLIError("--context \(context) plus the decode steps exceeds the model's context length \(loaded.model.config.contextLength)")
        }
        if !json { printError("probing memory bandwidth and peak arithmetic...") }
        var machine: [MachinePeaks] = []
        for t in probeList { machine.append(MachineProbe.measure(threads: t)) }
        let peaks = machine.first { $0.threads == threads } ?? MachineProbe.measure(threads: threads)
        let run = RooflineRun(model: loaded, peaks: peaks, kvCacheType: kv.kvCacheType)
        var points: [RooflinePoint] = []
        for b in batchList {
            if !json { printError("decode batch \(b)...") }
            points.append(try run.measure(batch: b, context: context, steps: steps))
        }
        let name = loaded.file.string("general.name") ?? modelOptions.model ?? "model"
        if let svg {
            let chart = RooflineSVG.render(peaks: peaks, points: points, title: "\(name): decode steps on this machine's roofline (\(threads) threads)")
            try chart.write(toFile: svg, atomically: true, encoding: .utf8)
        }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            writeOut(String(decoding: try e.encode(Output(model: name, machine: machine, cost: run.cost, threads: threads, points: points)), as: UTF8.self) + "\n")
            return
        }
        var out = "## Machine (\(peaks.isa))\n\n| threads | read GB/s | F32 FMA GFLOP/s | int8 GOP/s | ridge (F32 FLOP/byte) |\n|---:|---:|---:|---:|---:|\n"
        for m in machine {
            out += String(format: "| %d | %.1f | %.1f | %.1f | %.2f |\n", m.threads, m.readGBps, m.f32GFlops, m.int8GOps, m.ridgeF32)
        }
        let c = run.cost
        out += String(format: "\n## %@ per decoded token\n\nweights read: %.1f MiB, weight FLOPs: %.3f GFLOP; per context token: KV %d bytes, attention %.0f FLOPs\n",
                      name, Double(c.weightBytes) / 1048576, c.weightFlopsPerToken / 1e9, c.kvBytesPerContextToken, c.attentionFlopsPerContextToken)
        out += String(format: "best possible at batch 1: %.2f ms/token (%.0f tok/s) from bandwidth\n",
                      Double(c.weightBytes) / (peaks.readGBps * 1e9) * 1000, peaks.readGBps * 1e9 / Double(c.weightBytes))
        out += "\n## Decode steps (\(threads) threads, context ~\(context), \(kv.kvCacheType) KV)\n\n"
        out += "| batch | ms/step | tok/s | FLOP/byte | bound ms | MBU | MFU | regime |\n|---:|---:|---:|---:|---:|---:|---:|---|\n"
        for p in points {
            out += String(format: "| %d | %.2f | %.1f | %.2f | %.2f | %.0f%% | %.1f%% | %@ |\n", p.batch, p.stepMs, p.tokensPerSecond,
                          p.arithmeticIntensity, p.boundMs, p.mbu * 100, p.mfu * 100, p.regime)
        }
        writeOut(out)
    }
}
