import ArgumentParser
import Benchmarks
import Engine
import Foundation
import Models

struct BenchKVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv",
        abstract: "KV cache size (formula and allocated) and the time to move a sequence's cache to a host buffer and a file and back.",
        discussion: """
        Size per token = 2 (K and V) x layers x kv_heads x head_dim x bytes per element, shown for \
        F32, F16 and the quantized formats' bytes per element. Transfer: the sequence's blocks, \
        scattered through the pool, are copied into one contiguous buffer and back (the CPU \
        analogue of a device<->host copy), and written to a file with fsync and read back.
        """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Context length (tokens per sequence).")
    var ctx = 512

    @Option(help: "Sequences in the batch.")
    var batch = 1

    @Option(name: .customLong("block-size"), help: "Tokens per KV block.")
    var blockSize = 16

    @Option(help: "Directory for the transfer file.")
    var dir = NSTemporaryDirectory()

    @Option(help: "Repetitions per transfer (the best is reported).")
    var repetitions = 5

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (1...10_000_000).contains(ctx) else { throw ValidationError("--ctx must be between 1 and 10000000 (got \(ctx))") }
        guard (1...100_000).contains(batch) else { throw ValidationError("--batch must be between 1 and 100000 (got \(batch))") }
        guard (1...1024).contains(blockSize) else { throw ValidationError("--block-size must be between 1 and 1024 (got \(blockSize))") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
    }

    struct Size: Encodable {
        let format: String
        let bytes_per_token: Double
        let bytes_per_sequence: Double
        let bytes_per_batch: Double
        let allocated_bytes_per_batch: Double?
    }
    struct Transfer: Encodable {
        let kv_cache_type: String
        let result: KVTransfer.Result
    }
    struct Output: Encodable {
        let model: String
        let ctx: Int
        let batch: Int
        let layers: Int
        let kv_heads: Int
        let head_dim: Int
        let sizes: [Size]
        let transfer: [Transfer]
    }

    func run() throws {
        let loaded = try modelOptions.load()
        let c = loaded.model.config
        let blocksPerSeq = (ctx + blockSize - 1) / blockSize
        let sizes: [Size] = KVTransfer.formats.map { f in
            let perToken = KVTransfer.bytesPerToken(c, elementBytes: f.bytesPerElement)
            let allocated = KVCacheType(rawValue: f.name).map { t in
                Double(blocksPerSeq * blockSize * batch * loaded.model.kvBytesPerToken(type: t))
            }
            return Size(format: f.name, bytes_per_token: perToken, bytes_per_sequence: perToken * Double(ctx),
                        bytes_per_batch: perToken * Double(ctx * batch), allocated_bytes_per_batch: allocated)
        }
        var transfers: [Transfer] = []
        for type in [KVCacheType.f16, .f32] {
            let cache = loaded.model.makeKVCache(blockSize: blockSize, blockCount: 2 * blocksPerSeq, type: type)
            let file = URL(fileURLWithPath: dir).appendingPathComponent("swiftllm-kv-\(getpid()).bin")
            transfers.append(Transfer(kv_cache_type: type.rawValue,
                                      result: try KVTransfer.measure(cache: cache, context: ctx, file: file, repetitions: repetitions)))
        }
        let name = loaded.file.string("general.name") ?? modelOptions.model ?? "model"
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            let out = Output(model: name, ctx: ctx, batch: batch, layers: c.layerCount, kv_heads: c.kvHeadCount, head_dim: c.headDim,
                             sizes: sizes, transfer: transfers)
            writeOut(String(decoding: try e.encode(out), as: UTF8.self) + "\n")
            return
        }
        func mib(_ b: Double) -> String { String(format: "%.2f MiB", b / 1048576) }
        var s = "## KV cache of \(name): \(c.layerCount) layers x \(c.kvHeadCount) KV heads x \(c.headDim) dims, ctx \(ctx), batch \(batch)\n\n"
        s += "| format | per token | per sequence | per batch | allocated (blocks of \(blockSize)) |\n|---|---:|---:|---:|---:|\n"
        for z in sizes {
            s += "| \(z.format) | \(Int(z.bytes_per_token)) B | \(mib(z.bytes_per_sequence)) | \(mib(z.bytes_per_batch)) | \(z.allocated_bytes_per_batch.map(mib) ?? "n/a (not a pool format)") |\n"
        }
        s += "\n## Moving one sequence's KV cache (\(ctx) tokens), best of \(repetitions)\n\n"
        s += "| pool type | bytes | pool -> host | host -> pool | host -> file (fsync) | file -> host |\n|---|---:|---:|---:|---:|---:|\n"
        for t in transfers {
            let r = t.result
            func cell(_ x: KVTransfer.Timing) -> String { String(format: "%.3f ms (%.2f GB/s)", x.seconds * 1000, x.gbPerSecond) }
            s += "| \(t.kv_cache_type) | \(mib(Double(r.poolToHost.bytes))) | \(cell(r.poolToHost)) | \(cell(r.hostToPool)) | \(cell(r.hostToFile)) | \(cell(r.fileToHost)) |\n"
        }
        writeOut(s)
    }
}
