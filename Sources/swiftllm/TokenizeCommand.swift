import ArgumentParser
import Engine
import Foundation
import GGUF
import Tokenizers

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Turn text into token ids (or ids back into text with --decode).",
        discussion: "TEXT comes from the argument, or from standard input when omitted. Special tokens written in the text (e.g. <|im_start|>) are recognised."
    )

    @Option(name: [.short, .customLong("model")], help: "GGUF file path or known model alias (default: smollm2-135m).")
    var model: String?

    @Flag(help: "Print {\"ids\": [...]} (or {\"text\": ...} with --decode).")
    var json = false

    @Flag(help: "Decode: the input is token ids (space/comma separated or a JSON array).")
    var decode = false

    @Flag(name: .customLong("add-bos"), help: "Add the BOS token when the model asks for one.")
    var addBOS = false

    @Argument(help: "Text to tokenize (default: standard input).")
    var text: String?

    func run() throws {
        let path = try ModelStore().resolve(model) { printError($0) }.path
        let file = try GGUFFile(path: path)
        let tokenizer = try loadTokenizer(metadata: file.metadata)
        let input = text ?? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        if decode {
            let parts = input.split(whereSeparator: { " ,\n\t[]".contains($0) })
            var ids: [Int] = []
            for p in parts {
                guard let id = Int(p), id >= 0, id < tokenizer.vocabularySize else {
                    throw CLIError("'\(p)' is not a token id of this vocabulary (0..<\(tokenizer.vocabularySize))")
                }
                ids.append(id)
            }
            let out = tokenizer.decode(ids, skipSpecial: false)
            if json {
                let data = try JSONSerialization.data(withJSONObject: ["text": out], options: [.withoutEscapingSlashes])
                writeOut(String(decoding: data, as: UTF8.self) + "\n")
            } else {
                writeOut(out + "\n")
            }
            return
        }
        let ids = tokenizer.encode(input, addSpecial: addBOS, parseSpecial: true)
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["ids": ids])
            writeOut(String(decoding: data, as: UTF8.self) + "\n")
        } else {
            writeOut(ids.map(String.init).joined(separator: " ") + "\n")
        }
    }
}
