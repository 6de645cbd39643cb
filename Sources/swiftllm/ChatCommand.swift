import ArgumentParser
import Engine
import Foundation
import Models
import Tokenizers

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a model in the terminal, using its own chat template.",
        discussion: """
        Replies stream as they are generated. Type /reset to clear the history, /exit (or end \
        of input) to leave. With piped standard input, each line is one user message.
        """
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(help: "System prompt.")
    var system: String?

    @Option(name: .customLong("chat-template-file"), help: "Use this Jinja chat template instead of the model's.")
    var chatTemplateFile: String?

    @OptionGroup var kv: KVCacheTypeOption

    @Option(name: [.short, .customLong("ctx-size")], help: "Context size in tokens (default: the model's, at most 8192).")
    var ctxSize: Int?

    func validate() throws {
        if let c = ctxSize, c < 2 { throw ValidationError("--ctx-size must be at least 2 (got \(c))") }
    }

    func run() throws {
        var params = sampling.params
        try params.validate()
        let loaded = try modelOptions.load()
        let prompt = try ChatPrompt(file: loaded.file, tokenizer: loaded.tokenizer, templateFile: chatTemplateFile)
        let generator = Generator(model: loaded.model, tokenizer: loaded.tokenizer,
                                  contextSize: ctxSize ?? min(8192, loaded.model.config.contextLength),
                                  kvCacheType: kv.kvCacheType)
        params.maxTokens = max(1, params.maxTokens)
        let interactive = isatty(STDIN_FILENO) != 0
        let start: [ChatMessage] = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        var history = start
        if interactive { printError("chatting with \(loaded.file.string("general.name") ?? "the model"); /reset clears the history, /exit leaves") }
        while true {
            if interactive { printError("> ", newline: false) }
            guard let line = readLine(strippingNewline: true) else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/exit" || text == "/quit" { break }
            if text == "/reset" { history = start; printError("(history cleared)"); continue }
            history.append(ChatMessage(role: "user", content: line))
            let ids = prompt.tokenize(try prompt.render(history), with: loaded.tokenizer)
            do {
                let result = try generator.generate(promptTokens: ids, params: params) { delta in
                    writeOut(delta)
                    return true
                }
                writeOut("\n")
                history.append(ChatMessage(role: "assistant", content: result.text))
            } catch let error as GenerationError {
                // The conversation outgrew the context: say so and keep the session alive.
                history.removeLast()
                printError("error: \(error) (use /reset)")
            }
        }
    }
}
