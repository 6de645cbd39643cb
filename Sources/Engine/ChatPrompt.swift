import Foundation
import GGUF
import Tokenizers

/// Why a chat prompt cannot be built. One-line messages.
public enum ChatPromptError: Error, CustomStringConvertible, Equatable {
    case noTemplate(model: String)
    case unreadableTemplateFile(path: String, reason: String)
    case invalidMessages(String)

    public var description: String {
        switch self {
        case .noTemplate(let model):
            return "model '\(model)' has no chat template (tokenizer.chat_template); pass --chat-template-file FILE or use `generate` for raw completion"
        case .unreadableTemplateFile(let path, let reason):
            return "cannot read chat template file '\(path)': \(reason)"
        case .invalidMessages(let reason):
            return "invalid messages: \(reason)"
        }
    }
}

/// Renders conversations into prompts with the model's own chat template (or an override
/// file, as llama.cpp's --chat-template-file), never a guessed format.
public struct ChatPrompt: Sendable {
    public let template: ChatTemplate
    public let bosToken: String
    public let eosToken: String

    /// The template from `templateFile` if given, else the GGUF's `tokenizer.chat_template`.
    public init(file: GGUFFile, tokenizer: any Tokenizer, templateFile: String? = nil) throws {
        let source: String
        if let templateFile {
            do {
                source = try String(contentsOfFile: templateFile, encoding: .utf8)
            } catch {
                throw ChatPromptError.unreadableTemplateFile(path: templateFile, reason: (error as NSError).localizedDescription)
            }
        } else if let s = file.string("tokenizer.chat_template"), !s.isEmpty {
            source = s
        } else {
            throw ChatPromptError.noTemplate(model: file.string("general.name") ?? (file.path as NSString).lastPathComponent)
        }
        template = try ChatTemplate(source: source)
        bosToken = tokenizer.bosTokenID.map { tokenizer.tokenText($0) } ?? ""
        eosToken = tokenizer.eosTokenID.map { tokenizer.tokenText($0) } ?? ""
    }

    /// The prompt text for `messages`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: eosToken)
    }

    /// Token ids of a rendered prompt. BOS is added only when the tokenizer wants one and the
    /// template did not already write it (no double BOS).
    public func tokenize(_ text: String, with tokenizer: any Tokenizer) -> [TokenID] {
        let hasBOS = !bosToken.isEmpty && text.hasPrefix(bosToken)
        return tokenizer.encode(text, addSpecial: !hasBOS, parseSpecial: true)
    }

    /// Parses a JSON array of {"role", "content"} objects.
    public static func decodeMessages(_ data: Data) throws -> [ChatMessage] {
        do {
            return try JSONDecoder().decode([ChatMessage].self, from: data)
        } catch DecodingError.dataCorrupted(let context) {
            throw ChatPromptError.invalidMessages("not valid JSON (\(context.debugDescription))")
        } catch {
            throw ChatPromptError.invalidMessages("expected a JSON array of {\"role\": ..., \"content\": ...} objects")
        }
    }
}
