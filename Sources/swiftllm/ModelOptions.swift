import ArgumentParser
import Engine
import Foundation
import Kernels

let knownAliases = KnownModels.all.map(\.alias).joined(separator: ", ")

/// Options shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(name: [.short, .customLong("model")], help: "GGUF file path or known model alias (default: smollm2-135m).")
    var model: String?

    @Option(name: [.short, .customLong("threads")], help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let t = threads, !(1...1024).contains(t) { throw ValidationError("--threads must be between 1 and 1024 (got \(t))") }
    }

    /// Resolves -m to a local file, fetching a known model on first use (progress on stderr).
    func resolvePath() throws -> String {
        try ModelStore().resolve(model) { line in printError(line) }.path
    }

    func load(maxBatchTokens: Int = 512) throws -> LoadedModel {
        try LoadedModel(path: resolvePath(), threads: threads ?? ThreadPool.defaultThreadCount, maxBatchTokens: maxBatchTokens)
    }
}

func printError(_ s: String, newline: Bool = true) {
    FileHandle.standardError.write(Data((newline ? s + "\n" : s).utf8))
}

/// Writes to stdout without buffering delays, for streamed tokens.
func writeOut(_ s: String) {
    FileHandle.standardOutput.write(Data(s.utf8))
}

/// A one-line command error (ArgumentParser prints "Error: <message>" and exits 1, without usage).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
