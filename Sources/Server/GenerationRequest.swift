import Engine
import Tokenizers

/// A chat or text completion request, validated and tokenized, ready for the engine.
struct GenerationRequest {
    enum Kind { case chat, completion }

    var kind: Kind
    var model: String
    /// One prompt for chat; one or more for completions (each gets `n` choices).
    var prompts: [[TokenID]]
    /// The prompts as text, for `echo`.
    var promptTexts: [String]
    var params: SamplingParams
    var n: Int
    var stream: Bool
    var includeUsage: Bool
    /// Report logprobs (chat: `logprobs: true`; completions: `logprobs: k`).
    var logprobs: Bool
    var topLogprobs: Int
    var echo: Bool
    /// Fields the server does not know; logged, otherwise ignored.
    var unknownFields: [String]

    var choiceCount: Int { prompts.count * n }
}

/// What the parsers need from the serving side.
struct RequestContextInfo {
    let modelID: String
    let modelAliases: Set<String>
    let contextSize: Int
    let tokenizer: any Tokenizer
    let chatPrompt: ChatPrompt?
    let chatTemplateError: String?
}

/// Fields of both endpoints that map straight onto sampling parameters.
enum SamplingFields {
    static let names: Set<String> = [
        "model", "max_tokens", "temperature", "top_p", "n", "stop", "seed", "presence_penalty",
        "frequency_penalty", "stream", "stream_options", "user", "top_k", "min_p", "repetition_penalty",
        "ignore_eos", "logprobs", "stop_token_ids",
        // Known and harmless here: accepted without effect.
        "store", "metadata", "service_tier", "parallel_tool_calls",
    ]

    /// Known OpenAI fields this server does not implement: a 400 naming the field beats a
    /// silent fallback (a client asking for JSON mode must not get free text unknowingly).
    static func rejectUnsupported(_ f: RequestFields, extra: [String] = []) throws {
        for key in ["tools", "tool_choice", "functions", "function_call", "audio", "prediction", "web_search_options"] + extra
        where f.has(key) {
            if (key == "tools" || key == "functions"), case .array(let a)? = f.value(key), a.isEmpty { continue }
            if key == "tool_choice", (try? f.string(key)) == "none" { continue }
            throw APIError.unsupported(key)
        }
        if let rf = try f.object("response_format"), let type = try rf.string("type"), type != "text" {
            throw APIError.unsupported("response_format", "of type '\(type)' is not supported by this server (only 'text')")
        }
        if let lb = f.value("logit_bias"), lb != .object([:]) { throw APIError.unsupported("logit_bias") }
        if let m = try f.strings("modalities"), m.contains(where: { $0 != "text" }) {
            throw APIError.unsupported("modalities", "other than 'text' are not supported by this server")
        }
    }

    static func checkModel(_ f: RequestFields, _ info: RequestContextInfo) throws -> String {
        guard let name = try f.string("model") else { return info.modelID }
        guard name == info.modelID || info.modelAliases.contains(name) else {
            throw APIError.modelNotFound(name, available: info.modelID)
        }
        return info.modelID
    }

    /// Sampling parameters; `maxTokensKeys` in order of preference.
    static func params(_ f: RequestFields, maxTokensKeys: [String]) throws -> (SamplingParams, maxTokens: Int?) {
        var p = SamplingParams()
        var maxTokens: Int?
        for key in maxTokensKeys.reversed() {
            if let m = try f.int(key) {
                guard m >= 1 else { throw APIError.invalid("'\(key)' must be at least 1 (got \(m))", param: key) }
                maxTokens = m
            }
        }
        if let t = try f.number("temperature") {
            guard t >= 0, t <= 2 else { throw APIError.invalid("'temperature' must be between 0 and 2 (got \(t))", param: "temperature") }
            p.temperature = Float(t)
        }
        if let v = try f.number("top_p") {
            guard v > 0, v <= 1 else { throw APIError.invalid("'top_p' must be in (0, 1] (got \(v))", param: "top_p") }
            p.topP = Float(v)
        }
        if let v = try f.int("top_k") {
            // vLLM uses -1 for "off"; 0 means the same here.
            guard v >= -1 else { throw APIError.invalid("'top_k' must be -1, 0 or positive (got \(v))", param: "top_k") }
            p.topK = max(0, v)
        }
        if let v = try f.number("min_p") {
            guard v >= 0, v <= 1 else { throw APIError.invalid("'min_p' must be in [0, 1] (got \(v))", param: "min_p") }
            p.minP = Float(v)
        }
        if let v = try f.number("repetition_penalty") {
            guard v > 0, v <= 10 else { throw APIError.invalid("'repetition_penalty' must be in (0, 10] (got \(v))", param: "repetition_penalty") }
            p.repetitionPenalty = Float(v)
        }
        for key in ["presence_penalty", "frequency_penalty"] {
            if let v = try f.number(key) {
                guard v >= -2, v <= 2 else { throw APIError.invalid("'\(key)' must be between -2 and 2 (got \(v))", param: key) }
                if key == "presence_penalty" { p.presencePenalty = Float(v) } else { p.frequencyPenalty = Float(v) }
            }
        }
        if let s = try f.int("seed") { p.seed = UInt64(bitPattern: Int64(s)) }
        if let stop = try f.strings("stop") {
            guard stop.count <= 16 else { throw APIError.invalid("'stop' takes at most 16 strings (got \(stop.count))", param: "stop") }
            if stop.contains(where: \.isEmpty) { throw APIError.invalid("'stop' strings must not be empty", param: "stop") }
            p.stop = stop
        }
        if case .array(let ids)? = f.value("stop_token_ids") {
            p.stopTokenIDs = try ids.map { v in
                guard case .int(let i) = v, i >= 0 else { throw APIError.invalid("'stop_token_ids' must be a list of token ids", param: "stop_token_ids") }
                return i
            }
        }
        if let e = try f.bool("ignore_eos") { p.ignoreEOS = e }
        return (p, maxTokens)
    }

    static func streamOptions(_ f: RequestFields, stream: Bool) throws -> Bool {
        guard let so = try f.object("stream_options") else { return false }
        guard stream else { throw APIError.invalid("'stream_options' is only allowed when 'stream' is true", param: "stream_options") }
        return try so.bool("include_usage") ?? false
    }

    /// Checks that prompt + max_tokens fit the context and sets max_tokens (the rest of the
    /// context when the client gave none).
    static func fit(_ params: inout SamplingParams, prompts: [[TokenID]], maxTokens: Int?, defaultMax: Int?,
                    info: RequestContextInfo, param: String) throws {
        let longest = prompts.map(\.count).max() ?? 0
        let room = info.contextSize - longest
        guard room >= 1 else {
            throw APIError.invalid("This model's maximum context length is \(info.contextSize) tokens, but the prompt has \(longest) tokens",
                                   param: param, code: "context_length_exceeded")
        }
        if let m = maxTokens, longest + m > info.contextSize {
            throw APIError.invalid("This model's maximum context length is \(info.contextSize) tokens, but \(longest + m) were requested "
                                   + "(\(longest) in the prompt, \(m) for the completion); reduce the prompt or max_tokens",
                                   param: "max_tokens", code: "context_length_exceeded")
        }
        params.maxTokens = min(maxTokens ?? defaultMax ?? room, room)
    }
}
