import Engine
import Tokenizers

/// `POST /v1/completions` body -> GenerationRequest.
enum CompletionRequestParser {
    static let fields: Set<String> = SamplingFields.names.union(["prompt", "echo", "best_of", "suffix", "logit_bias"])

    /// OpenAI's legacy default when `max_tokens` is absent.
    static let defaultMaxTokens = 16

    static func parse(_ body: JSONValue, info: RequestContextInfo) throws -> GenerationRequest {
        let f = try RequestFields(body)
        try SamplingFields.rejectUnsupported(f, extra: ["suffix"])
        let model = try SamplingFields.checkModel(f, info)
        let (texts, prompts) = try parsePrompts(f, info)
        var (params, maxTokens) = try SamplingFields.params(f, maxTokensKeys: ["max_tokens"])
        try SamplingFields.fit(&params, prompts: prompts, maxTokens: maxTokens, defaultMax: defaultMaxTokens, info: info, param: "prompt")
        let n = try f.int("n", in: 1...64) ?? 1
        if let bestOf = try f.int("best_of"), bestOf != n, bestOf != 1 {
            throw APIError.unsupported("best_of", "other than 1 or n is not supported by this server")
        }
        let top = try f.int("logprobs", in: 0...20)
        if let top { params.logprobs = top }
        let stream = try f.bool("stream") ?? false
        return GenerationRequest(
            kind: .completion, model: model, prompts: prompts, promptTexts: texts, params: params, n: n, stream: stream,
            includeUsage: try SamplingFields.streamOptions(f, stream: stream),
            logprobs: top != nil, topLogprobs: top ?? 0, echo: try f.bool("echo") ?? false,
            unknownFields: f.unknownFields(known: fields))
    }

    /// `prompt` as a string, a list of strings, a list of token ids or a list of such lists.
    static func parsePrompts(_ f: RequestFields, _ info: RequestContextInfo) throws -> ([String], [[TokenID]]) {
        guard let v = f.value("prompt") else { throw APIError.invalid("'prompt' is required", param: "prompt") }
        let vocab = info.tokenizer.vocabularySize
        func ids(_ list: [JSONValue]) throws -> [TokenID] {
            try list.map { e in
                guard case .int(let id) = e, id >= 0, id < vocab else {
                    throw APIError.invalid("'prompt' token ids must be integers in 0..<\(vocab)", param: "prompt")
                }
                return id
            }
        }
        func encode(_ s: String) -> [TokenID] { info.tokenizer.encode(s, addSpecial: true, parseSpecial: true) }
        var texts: [String] = [], prompts: [[TokenID]] = []
        switch v {
        case .string(let s):
            texts = [s]
        case .array(let list) where list.isEmpty:
            throw APIError.invalid("'prompt' must not be empty", param: "prompt")
        case .array(let list):
            switch list[0] {
            case .string:
                texts = try list.map { e in
                    guard case .string(let s) = e else { throw APIError.invalid("'prompt' list must hold only strings", param: "prompt") }
                    return s
                }
            case .int:
                prompts = [try ids(list)]
            case .array:
                prompts = try list.map { e in
                    guard case .array(let inner) = e, !inner.isEmpty else { throw APIError.invalid("'prompt' must be a list of non-empty token id lists", param: "prompt") }
                    return try ids(inner)
                }
            default:
                throw APIError.invalid("'prompt' must be a string, a list of strings or token ids", param: "prompt")
            }
        default:
            throw APIError.invalid("'prompt' must be a string, a list of strings or token ids (got \(v.kindName))", param: "prompt")
        }
        guard texts.count + prompts.count <= 64 else { throw APIError.invalid("'prompt' holds at most 64 prompts", param: "prompt") }
        if !texts.isEmpty {
            prompts = texts.map(encode)
        } else {
            texts = prompts.map { info.tokenizer.decode($0, skipSpecial: false) }
        }
        if prompts.contains(where: \.isEmpty) {
            throw APIError.invalid("'prompt' is empty after tokenization", param: "prompt")
        }
        return (texts, prompts)
    }
}
