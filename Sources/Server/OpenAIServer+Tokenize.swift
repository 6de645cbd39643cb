import Engine
import Hummingbird
import Tokenizers

extension OpenAIServer {
    /// `POST /tokenize`: `{"prompt" | "content": text}` or `{"messages": [...]}` (rendered with
    /// the chat template) -> `{"tokens", "count", "max_model_len"}`, as vLLM answers (llama.cpp's
    /// `content` spelling is accepted too). `add_special_tokens` (default true) adds BOS.
    func tokenize(_ request: Request, context: some RequestContext) async throws -> Response {
        var request = request
        let f = try RequestFields(try await readJSON(&request))
        _ = try SamplingFields.checkModel(f, info)
        let addSpecial = try f.bool("add_special_tokens") ?? f.bool("add_special") ?? true
        let tokens: [TokenID]
        if f.has("messages") {
            guard let chat = info.chatPrompt else {
                throw APIError.invalid(info.chatTemplateError ?? "This model has no chat template", param: "messages")
            }
            let text: String
            do {
                text = try chat.render(try ChatRequestParser.parseMessages(f), addGenerationPrompt: try f.bool("add_generation_prompt") ?? true)
            } catch let e as APIError { throw e } catch {
                throw APIError.invalid("The chat template rejected the messages: \(error)", param: "messages")
            }
            tokens = chat.tokenize(text, with: info.tokenizer)
        } else {
            guard let text = try f.string("prompt") ?? f.string("content") else {
                throw APIError.invalid("'prompt' (a string) or 'messages' is required", param: "prompt")
            }
            tokens = info.tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: true)
        }
        var out: [String: JSONValue] = ["tokens": .array(tokens.map { .int($0) }), "count": .int(tokens.count),
                                        "max_model_len": .int(info.contextSize)]
        if try f.bool("with_pieces") ?? false {
            out["pieces"] = .array(tokens.map { .string(String(decoding: info.tokenizer.tokenBytes($0), as: UTF8.self)) })
        }
        return json(.object(out))
    }

    /// `POST /detokenize`: `{"tokens": [ids]}` -> `{"prompt": text}` (and llama.cpp's `content`).
    func detokenize(_ request: Request, context: some RequestContext) async throws -> Response {
        var request = request
        let f = try RequestFields(try await readJSON(&request))
        _ = try SamplingFields.checkModel(f, info)
        guard case .array(let list)? = f.value("tokens") else {
            throw APIError.invalid("'tokens' (a list of token ids) is required", param: "tokens")
        }
        let vocab = info.tokenizer.vocabularySize
        let ids: [TokenID] = try list.map { v in
            guard case .int(let id) = v, id >= 0, id < vocab else {
                throw APIError.invalid("'tokens' must hold token ids in 0..<\(vocab)", param: "tokens")
            }
            return id
        }
        let text = info.tokenizer.decode(ids, skipSpecial: false)
        return json(["prompt": .string(text), "content": .string(text)])
    }
}
