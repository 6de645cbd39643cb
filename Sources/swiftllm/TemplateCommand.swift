import ArgumentParser
import Engine
import Foundation
import GGUF
import Tokenizers

struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Render a conversation with the model's chat template.",
        discussion: "Reads a JSON array of {\"role\", \"content\"} messages from standard input and prints the prompt the model would see."
    )

    @Option(name: [.short, .customLong("model")], help: "GGUF file path or known model alias (default: smollm2-135m).")
    var model: String?

    @Option(name: .customLong("chat-template-file"), help: "Use this Jinja chat template instead of the model's.")
    var chatTemplateFile: String?

    @Flag(name: .customLong("no-generation-prompt"), help: "Do not append the assistant turn opener.")
    var noGenerationPrompt = false

    func run() throws {
        let file = try GGUFFile(path: ModelStore().resolve(model) { printError($0) }.path)
        let tokenizer = try loadTokenizer(metadata: file.metadata)
        let prompt = try ChatPrompt(file: file, tokenizer: tokenizer, templateFile: chatTemplateFile)
        let messages = try ChatPrompt.decodeMessages(FileHandle.standardInput.readDataToEndOfFile())
        writeOut(try prompt.render(messages, addGenerationPrompt: !noGenerationPrompt))
    }
}
