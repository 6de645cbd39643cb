import Engine
import Foundation
import GGUF
import Tokenizers
import XCTest

/// The chat prompt path and the generator's reuse of cached prefixes, on the real model.
final class ChatAndGeneratorTests: XCTestCase {
    static var loaded: LoadedModel?

    func smollm2() throws -> LoadedModel {
        if let m = Self.loaded { return m }
        let m = try LoadedModel(path: ModelStore().resolve("smollm2-135m").path)
        Self.loaded = m
        return m
    }

    func testChatPromptUsesTheModelTemplateWithoutDoubleBOS() throws {
        let m = try smollm2()
        let chat = try ChatPrompt(file: m.file, tokenizer: m.tokenizer)
        let text = try chat.render([ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi")])
        XCTAssertEqual(text, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let ids = chat.tokenize(text, with: m.tokenizer)
        XCTAssertEqual(ids.first, m.tokenizer.tokenID(for: "<|im_start|>"))
        XCTAssertEqual(ids.filter { $0 == m.tokenizer.tokenID(for: "<|im_start|>") }.count, 3)
    }

    func testMissingTemplateAndBadTemplateFileAreOneLineErrors() throws {
        let m = try smollm2()
        var w = GGUFWriter()
        w.add(key: "general.architecture", value: .string("llama"))
        let bare = try GGUFFile(bytes: w.serialized())
        XCTAssertThrowsError(try ChatPrompt(file: bare, tokenizer: m.tokenizer)) { e in
            XCTAssertTrue("\(e)".contains("has no chat template"), "\(e)")
        }
        XCTAssertThrowsError(try ChatPrompt(file: m.file, tokenizer: m.tokenizer, templateFile: "/nonexistent/t.jinja")) { e in
            XCTAssertTrue("\(e)".hasPrefix("cannot read chat template file '/nonexistent/t.jinja'"), "\(e)")
            XCTAssertFalse("\(e)".contains("\n"))
        }
        XCTAssertThrowsError(try ChatPrompt.decodeMessages(Data("[{\"role\": 1}]".utf8))) { e in
            XCTAssertTrue("\(e)".hasPrefix("invalid messages"), "\(e)")
        }
    }

    func testTemplateFileOverridesTheModelTemplate() throws {
        let m = try smollm2()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("t-\(UUID()).jinja")
        try Data("{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let chat = try ChatPrompt(file: m.file, tokenizer: m.tokenizer, templateFile: url.path)
        XCTAssertEqual(try chat.render([ChatMessage(role: "user", content: "Hi")]), "[user] Hi\n[assistant] ")
    }

    /// A second request sharing a prefix reuses the cached keys and values and gives the same
    /// greedy tokens as a fresh generator.
    func testPrefixReuseGivesTheSameTokensAsAFreshRun() throws {
        let m = try smollm2()
        var p = SamplingParams()
        p.temperature = 0
        p.maxTokens = 12
        p.ignoreEOS = true
        let shared = Generator(model: m.model, tokenizer: m.tokenizer, contextSize: 256)
        let first = shared.encodePrompt("The history of the Roman Empire")
        _ = try shared.generate(promptTokens: first, params: p)
        let second = shared.encodePrompt("The history of the Roman Empire is long, and")
        let reused = try shared.generate(promptTokens: second, params: p)
        let fresh = try Generator(model: m.model, tokenizer: m.tokenizer, contextSize: 256).generate(promptTokens: second, params: p)
        XCTAssertEqual(reused.tokenIDs, fresh.tokenIDs)
        XCTAssertEqual(reused.text, fresh.text)
    }

    func testStopStringsAreNotEmittedAndSeedsReproduce() throws {
        let m = try smollm2()
        let gen = Generator(model: m.model, tokenizer: m.tokenizer, contextSize: 256)
        var p = SamplingParams()
        p.temperature = 0
        p.maxTokens = 40
        p.stop = ["."]
        let r = try gen.generate(promptTokens: gen.encodePrompt("The capital of France is"), params: p)
        XCTAssertFalse(r.text.contains("."))
        XCTAssertEqual(r.finishReason, .stop)
        var s = SamplingParams()
        s.temperature = 1
        s.seed = 7
        s.maxTokens = 16
        let a = try gen.generate(promptTokens: gen.encodePrompt("Once upon a time"), params: s)
        let b = try gen.generate(promptTokens: gen.encodePrompt("Once upon a time"), params: s)
        XCTAssertEqual(a.tokenIDs, b.tokenIDs)
        var streamed = ""
        let c = try gen.generate(promptTokens: gen.encodePrompt("Once upon a time"), params: s) { streamed += $0; return true }
        XCTAssertEqual(streamed, c.text)
    }
}
