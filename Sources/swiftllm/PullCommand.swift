import ArgumentParser
import Engine

struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch a known model into the local model cache ($SWIFTLLM_CACHE, default ~/.cache/swiftllm).",
        discussion: "Known models: \(knownAliases)."
    )

    @Flag(help: "Download again even if the model is cached.")
    var force = false

    @Argument(help: "Model alias.")
    var name: String

    func run() throws {
        let url = try ModelStore().pull(name, force: force) { printError($0) }
        writeOut(url.path + "\n")
    }
}
