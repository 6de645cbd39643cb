import Engine
import Tokenizers

/// `POST /v1/chat/completions` body -> GenerationRequest.
enum ChatRequestParser {
    static let fields: Set<String> = SamplingFields.names.union([
        "messages", "max_completion_tokens", "top_logprobs", "add_generation_prompt",
        "tools", "tool_choice", "functions", "function_call", "response_format", "logit_bias", "modalities",
        "audio", "prediction", "web_search_options", "reasoning_effort",
    ])

    static func parse(_ body: JSONValue, info: RequestContextInfo) throws -> GenerationRequest {
        let f = try RequestFields(body)
        try SamplingFields.rejectUnsupported(f)
        let model = try SamplingFields.checkModel(f, info)
        guard let chat = info.chatPrompt else {
            throw APIError.invalid(info.chatTemplateError ?? "This model has no chat template; use /v1/completions", param: "messages",
                                   code: "no_chat_template")
        }
        let messages = try parseMessages(f)
        let addGenerationPrompt = try f.bool("add_generation_prompt") ?? true
        let text: String
        do {
            text = try chat.render(messages, addGenerationPrompt: addGenerationPrompt)
        } catch {
            throw APIError.invalid("The chat template rejected the messages: \(error)", param: "messages")
        }
        let prompt = chat.tokenize(text, with: info.tokenizer)
        var (params, maxTokens) = try SamplingFields.params(f, maxTokensKeys: ["max_completion_tokens", "max_tokens"])
        try SamplingFields.fit(&params, prompts: [prompt], maxTokens: maxTokens, defaultMax: nil, info: info, param: "messages")
        let logprobs = try f.bool("logprobs") ?? false
        let top = try f.int("top_logprobs", in: 0...20) ?? 0
        if top > 0 && !logprobs {
            throw APIError.invalid("'top_logprobs' requires 'logprobs' to be true", param: "top_logprobs")
        }
        if logprobs { params.logprobs = top }
        let stream = try f.bool("stream") ?? false
        return GenerationRequest(
            kind: .chat, model: model, prompts: [prompt], promptTexts: [text], params: params,
            n: try f.int("n", in: 1...64) ?? 1, stream: stream,
            includeUsage: try SamplingFields.streamOptions(f, stream: stream),
            logprobs: logprobs, topLogprobs: top, echo: false,
            unknownFields: f.unknownFields(known: fields))
    }

    static func parseMessages(_ f: RequestFields) throws -> [ChatMessage] {
        guard let v = f.value("messages") else { throw APIError.invalid("'messages' is required", param: "messages") }
        guard case .array(let list) = v, !list.isEmpty else {
            throw APIError.invalid("'messages' must be a non-empty list of {role, content} objects", param: "messages")
        }
        return try list.enumerated().map { i, m in
            let param = "messages[\(i)]"
            guard case .object = m else { throw APIError.invalid("'\(param)' must be an object", param: param) }
            let mf = try RequestFields(m)
            guard let role = try? mf.string("role") else { throw APIError.invalid("'\(param).role' is required and must be a string", param: "\(param).role") }
            switch role {
            case "system", "user", "assistant": break
            case "developer": return ChatMessage(role: "system", content: try content(mf, param))
            case "tool", "function": throw APIError.unsupported("\(param).role", "'\(role)' is not supported by this server (no tool calling)")
            default: throw APIError.invalid("'\(param).role' must be system, user, assistant or developer (got '\(role)')", param: "\(param).role")
            }
            if role == "assistant", mf.has("tool_calls") { throw APIError.unsupported("\(param).tool_calls") }
            return ChatMessage(role: role, content: try content(mf, param))
        }
    }

    /// A string, or a list of `{"type": "text", "text": ...}` parts (joined with newlines).
    private static func content(_ mf: RequestFields, _ param: String) throws -> String {
        guard let v = mf.value("content") else { return "" }
        switch v {
        case .string(let s): return s
        case .array(let parts):
            return try parts.enumerated().map { j, part in
                let pf = try RequestFields(part)
                let type = try pf.string("type") ?? "text"
                guard type == "text" else {
                    throw APIError.unsupported("\(param).content[\(j)].type", "'\(type)' is not supported by this server (text only)")
                }
                guard let t = try pf.string("text") else {
                    throw APIError.invalid("'\(param).content[\(j)].text' is required", param: "\(param).content[\(j)].text")
                }
                return t
            }.joined(separator: "\n")
        default:
            throw APIError.invalid("'\(param).content' must be a string or a list of text parts (got \(v.kindName))", param: "\(param).content")
        }
    }
}
