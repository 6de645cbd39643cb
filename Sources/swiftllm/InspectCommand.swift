import ArgumentParser
import GGUF

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a GGUF file's metadata and tensor table."
    )

    @Option(help: "Array items shown before a long array is summarised.")
    var maxArrayItems = 8

    @Argument(help: "GGUF file.")
    var file: String

    func run() throws {
        let gguf = try GGUFFile(path: file)
        writeOut(inspectReport(gguf, maxArrayItems: maxArrayItems))
    }
}
