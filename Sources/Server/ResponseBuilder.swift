import Engine
import Foundation
import Tokenizers

/// Builds OpenAI response bodies and stream chunks for one request.
struct ResponseBuilder {
    let request: GenerationRequest
    let tokenizer: any Tokenizer
    let id: String
    let created: Int

    init(request: GenerationRequest, tokenizer: any Tokenizer) {
        self.request = request
        self.tokenizer = tokenizer
        let hex = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        id = (request.kind == .chat ? "chatcmpl-" : "cmpl-") + hex
        created = Int(Date().timeIntervalSince1970)
    }

    /// A finished choice's text, tokens and reason.
    struct Choice {
        var text = ""
        var tokenCount = 0
        var finishReason: FinishReason?
        var logprobs: [(TokenID, TokenLogprobs)] = []
        var timings = RequestTimings()
    }

    var object: String { request.kind == .chat ? "chat.completion" : "text_completion" }
    var chunkObject: String { request.kind == .chat ? "chat.completion.chunk" : "text_completion" }

    func usage(_ choices: [Choice]) -> JSONValue {
        let prompt = request.prompts.reduce(0) { $0 + $1.count }
        let completion = choices.reduce(0) { $0 + $1.tokenCount }
        return ["prompt_tokens": .int(prompt), "completion_tokens": .int(completion), "total_tokens": .int(prompt + completion)]
    }

    // MARK: - Whole responses

    func response(_ choices: [Choice]) -> JSONValue {
        let list: [JSONValue] = choices.enumerated().map { i, c in
            let reason: JSONValue = c.finishReason.map { .string($0.rawValue) } ?? .null
            switch request.kind {
            case .chat:
                return ["index": .int(i), "message": ["role": "assistant", "content": .string(c.text)],
                        "logprobs": request.logprobs ? chatLogprobs(c.logprobs) : .null, "finish_reason": reason]
            case .completion:
                let prompt = request.echo ? request.promptTexts[i / request.n] : ""
                return ["index": .int(i), "text": .string(prompt + c.text),
                        "logprobs": request.logprobs ? completionLogprobs(c.logprobs, offset: prompt.utf8.count) : .null,
                        "finish_reason": reason]
            }
        }
        return ["id": .string(id), "object": .string(object), "created": .int(created), "model": .string(request.model),
                "system_fingerprint": .null, "choices": .array(list), "usage": usage(choices)]
    }

    // MARK: - Stream chunks

    private func chunk(_ choices: [JSONValue], usage: JSONValue? = nil) -> JSONValue {
        var o: [String: JSONValue] = ["id": .string(id), "object": .string(chunkObject), "created": .int(created),
                                      "model": .string(request.model), "system_fingerprint": .null, "choices": .array(choices)]
        if request.includeUsage { o["usage"] = usage ?? .null }
        return .object(o)
    }

    /// Chat: the role announcement that opens each choice.
    func roleChunk(choice: Int) -> JSONValue {
        chunk([["index": .int(choice), "delta": ["role": "assistant", "content": ""], "logprobs": .null, "finish_reason": .null]])
    }

    /// Completions with echo: the prompt text as the first chunk of each choice.
    func echoChunk(choice: Int) -> JSONValue? {
        guard request.kind == .completion, request.echo else { return nil }
        return textChunk(choice: choice, text: request.promptTexts[choice / request.n], logprobs: nil, offset: 0)
    }

    func textChunk(choice: Int, text: String, logprobs: (TokenID, TokenLogprobs)?, offset: Int) -> JSONValue {
        let lp: JSONValue = logprobs.map { request.kind == .chat ? chatLogprobs([$0]) : completionLogprobs([$0], offset: offset) } ?? .null
        switch request.kind {
        case .chat:
            return chunk([["index": .int(choice), "delta": ["content": .string(text)], "logprobs": lp, "finish_reason": .null]])
        case .completion:
            return chunk([["index": .int(choice), "text": .string(text), "logprobs": lp, "finish_reason": .null]])
        }
    }

    func finishChunk(choice: Int, reason: FinishReason) -> JSONValue {
        switch request.kind {
        case .chat:
            return chunk([["index": .int(choice), "delta": [:], "logprobs": .null, "finish_reason": .string(reason.rawValue)]])
        case .completion:
            return chunk([["index": .int(choice), "text": "", "logprobs": .null, "finish_reason": .string(reason.rawValue)]])
        }
    }

    func usageChunk(_ choices: [Choice]) -> JSONValue {
        chunk([], usage: usage(choices))
    }

    // MARK: - Logprobs

    private func tokenString(_ id: TokenID) -> (String, [UInt8]) {
        let bytes = tokenizer.tokenBytes(id)
        return (String(decoding: bytes, as: UTF8.self), bytes)
    }

    /// Chat format: `{"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}]}`.
    private func chatLogprobs(_ list: [(TokenID, TokenLogprobs)]) -> JSONValue {
        func entry(_ t: TokenLogprob) -> [String: JSONValue] {
            let (s, b) = tokenString(t.id)
            return ["token": .string(s), "logprob": .double(Double(t.logprob)), "bytes": .array(b.map { .int(Int($0)) })]
        }
        return ["content": .array(list.map { _, lp in
            var e = entry(lp.chosen)
            e["top_logprobs"] = .array(lp.top.map { .object(entry($0)) })
            return .object(e)
        })]
    }

    /// Legacy completions format: parallel lists of tokens, logprobs, top alternatives and offsets.
    private func completionLogprobs(_ list: [(TokenID, TokenLogprobs)], offset: Int) -> JSONValue {
        var tokens: [JSONValue] = [], values: [JSONValue] = [], tops: [JSONValue] = [], offsets: [JSONValue] = []
        var at = offset
        for (_, lp) in list {
            let (s, b) = tokenString(lp.chosen.id)
            tokens.append(.string(s))
            values.append(.double(Double(lp.chosen.logprob)))
            var top: [String: JSONValue] = [:]
            for t in lp.top { top[tokenString(t.id).0] = .double(Double(t.logprob)) }
            tops.append(.object(top))
            offsets.append(.int(at))
            at += b.count
        }
        return ["tokens": .array(tokens), "token_logprobs": .array(values), "top_logprobs": .array(tops), "text_offset": .array(offsets)]
    }
}
