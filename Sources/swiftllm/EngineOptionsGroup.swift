import ArgumentParser
import Engine
import Foundation
import Models

/// Serving-engine flags shared by `generate --prompts-file`, `bench throughput` and `serve`.
struct EngineOptionsGroup: ParsableArguments {
    @Option(name: .customLong("max-batch-tokens"), help: "Most tokens one engine step computes (decode + prompt chunks).")
    var maxBatchTokens = 512

    @Option(name: .customLong("max-num-seqs"), help: "Most sequences running at once.")
    var maxNumSeqs = 64

    @Option(name: .customLong("kv-cache-memory"), help: "KV pool size, e.g. 512MiB or 2GiB (default: 1 GiB, at most a quarter of RAM).")
    var kvCacheMemory: String?

    @OptionGroup var kv: KVCacheTypeOption

    @Option(name: .customLong("block-size"), help: "Tokens per KV block.")
    var blockSize = 16

    @Option(help: "Batching policy: continuous, static or dynamic.")
    var batching: String = "continuous"

    @Option(name: .customLong("batch-timeout-ms"), help: "Dynamic batching: longest wait to fill a batch.")
    var batchTimeoutMs = 50.0

    @Flag(name: .customLong("no-prefix-caching"), help: "Do not reuse cached prompt prefixes.")
    var noPrefixCaching = false

    func validate() throws {
        guard BatchingMode(rawValue: batching) != nil else {
            throw ValidationError("--batching must be continuous, static or dynamic (got '\(batching)')")
        }
        if !(1...65536).contains(maxBatchTokens) { throw ValidationError("--max-batch-tokens must be between 1 and 65536 (got \(maxBatchTokens))") }
        if !(1...4096).contains(maxNumSeqs) { throw ValidationError("--max-num-seqs must be between 1 and 4096 (got \(maxNumSeqs))") }
        if !(1...1024).contains(blockSize) { throw ValidationError("--block-size must be between 1 and 1024 (got \(blockSize))") }
        if let m = kvCacheMemory, parseByteSize(m) == nil { throw ValidationError("--kv-cache-memory '\(m)' is not a size like 512MiB, 2GiB or 1000000") }
    }

    func options(contextSize: Int?) -> EngineOptions {
        var o = EngineOptions()
        o.maxBatchTokens = maxBatchTokens
        o.maxNumSeqs = maxNumSeqs
        o.blockSize = blockSize
        o.kvCacheMemory = kvCacheMemory.flatMap(parseByteSize)
        o.kvCacheType = kv.kvCacheType
        o.batching = BatchingMode(rawValue: batching) ?? .continuous
        o.dynamicBatchTimeoutMs = batchTimeoutMs
        o.prefixCaching = !noPrefixCaching
        o.contextSize = contextSize
        return o
    }
}

/// "2GiB", "512MiB", "1.5GB", "1000000" -> bytes.
func parseByteSize(_ text: String) -> Int? {
    let kib = 1024.0, mib = kib * 1024, gib = mib * 1024
    let units: [(String, Double)] = [("kib", kib), ("mib", mib), ("gib", gib), ("kb", 1e3), ("mb", 1e6), ("gb", 1e9),
                                     ("k", kib), ("m", mib), ("g", gib), ("b", 1)]
    let t = text.lowercased().trimmingCharacters(in: .whitespaces)
    for (suffix, scale) in units where t.hasSuffix(suffix) {
        guard let v = Double(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v > 0 else { return nil }
        return Int(v * scale)
    }
    guard let v = Int(t), v > 0 else { return nil }
    return v
}

/// Runs async work from a synchronous command and returns its result.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
