import ArgumentParser
import Models

extension KVCacheType: ExpressibleByArgument {}

/// `--kv-cache-type`, for every command that runs a model.
struct KVCacheTypeOption: ParsableArguments {
    @Option(name: .customLong("kv-cache-type"), help: "KV cache element type: f16 (default; half the memory) or f32.")
    var kvCacheType: KVCacheType = .f16
}
