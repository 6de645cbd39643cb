import Foundation
import GGUF
import XCTest
@testable import Tokenizers

/// Renders every golden conversation and snippet and compares with Python jinja2's output byte for byte.
final class ChatTemplateFixtureTests: XCTestCase {
    func testEveryTemplateFixtureMatchesJinja() throws {
        let files = try ChatTemplateFixtures.templateFiles()
        XCTAssertGreaterThanOrEqual(files.count, 14, "fixtures missing from \(ChatTemplateFixtures.directory.path)")
        var checked = 0
        for file in files {
            checked += try checkTemplateFixture(file)
        }
        XCTAssertGreaterThan(checked, 150)
    }

    /// The widely used templates the issue names must each be present, with system-prompt multi-turn cases.
    func testRequiredTemplatesArePresent() throws {
        let files = Set(try ChatTemplateFixtures.templateFiles())
        for name in ["smollm2-135m-instruct", "llama-3.1-instruct", "llama-3.2-instruct", "mistral-7b-instruct-v0.3",
                     "qwen2.5-instruct", "phi-3-mini-4k-instruct", "gemma-2-it", "gemma-3-it"] {
            XCTAssertTrue(files.contains(name + ".json"), name)
        }
    }

    func testSnippetsMatchJinja() throws {
        let root = try ChatTemplateFixtures.load("snippets.json")
        let snippets = try XCTUnwrap(root.array("snippets"))
        XCTAssertGreaterThan(snippets.count, 150)
        for case .dictionary(let snippet) in snippets {
            let source = try XCTUnwrap(snippet.string("template"))
            var context: [String: TemplateValue] = [:]
            for (key, value) in snippet.dictionary("context")?.pairs ?? [] { context[key] = value }
            let label = PythonText.repr(source)
            do {
                var template = try ChatTemplate(source: source)
                try ChatTemplateFixtures.pin(&template, to: try XCTUnwrap(root.string("now")))
                let output = try template.render(context: context)
                if let expected = snippet.string("expected") {
                    XCTAssertEqual(output, expected, label)
                } else {
                    XCTFail("\(label) rendered \(PythonText.repr(output)) but jinja2 fails")
                }
            } catch let error as ChatTemplateError {
                if let raised = snippet.string("error") {
                    XCTAssertEqual(error.kind, .raised, label)
                    XCTAssertEqual(error.description, "chat template raised: \(raised)", label)
                } else if let kind = snippet.string("error_kind") {
                    XCTAssertEqual(error.kind, kind == "syntax" ? .syntax : .runtime, "\(label): \(error)")
                    XCTAssertFalse(error.description.contains("\n"), "one-line message: \(error)")
                    XCTAssertTrue(error.description.hasPrefix("chat template error at line "), "\(error)")
                } else {
                    XCTFail("\(label) failed: \(error)")
                }
            }
        }
    }

    /// The template inside the real SmolLM2 file is the one the fixture was generated from.
    func testSmolLM2TemplateFromModelFile() throws {
        let metadata = try ChatTemplateFixtures.smolLM2Metadata()
        let source = try XCTUnwrap(metadata["tokenizer.chat_template"]?.string)
        let fixture = try ChatTemplateFixtures.load("smollm2-135m-instruct.json")
        XCTAssertEqual(source, fixture.string("template"))
        let template = try ChatTemplate(source: source)
        let prompt = try template.render(
            messages: [ChatMessage(role: "user", content: "What is 2+2?")], addGenerationPrompt: true,
            bosToken: "<|im_start|>", eosToken: "<|im_end|>")
        XCTAssertEqual(prompt, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                       + "<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")
    }

    /// Returns the number of cases checked.
    private func checkTemplateFixture(_ file: String) throws -> Int {
        let fixture = try ChatTemplateFixtures.load(file)
        let source = try XCTUnwrap(fixture.string("template"), file)
        var template: ChatTemplate
        do {
            template = try ChatTemplate(source: source)
        } catch {
            XCTFail("\(file): \(error)")
            return 0
        }
        try ChatTemplateFixtures.pin(&template, to: try XCTUnwrap(fixture.string("now")))
        let bos = fixture.string("bos_token") ?? ""
        let eos = fixture.string("eos_token") ?? ""
        var checked = 0
        for case .dictionary(let testCase) in fixture.array("cases") ?? [] {
            let label = "\(file) \(testCase.string("name") ?? "?")"
            let messages = try XCTUnwrap(testCase.array("messages"), label)
            let addGenerationPrompt = testCase["add_generation_prompt"]?.isTruthy ?? false
            var extra: [String: TemplateValue] = [:]
            for (key, value) in testCase.dictionary("extra")?.pairs ?? [] { extra[key] = value }
            do {
                let output = try template.render(conversation: messages, addGenerationPrompt: addGenerationPrompt,
                                                 bosToken: bos, eosToken: eos, extra: extra)
                if let expected = testCase.string("expected") {
                    XCTAssertEqual(output, expected, label)
                    if output != expected { print(firstDifference(output, expected, label)) }
                } else {
                    XCTFail("\(label): rendered, but jinja2 raised \(testCase.string("error") ?? "?")")
                }
            } catch let error as ChatTemplateError {
                if let raised = testCase.string("error") {
                    XCTAssertEqual(error.description, "chat template raised: \(raised)", label)
                } else {
                    XCTFail("\(label): \(error)")
                }
            }
            checked += 1
        }
        return checked
    }

    private func firstDifference(_ actual: String, _ expected: String, _ label: String) -> String {
        let a = Array(actual.unicodeScalars)
        let b = Array(expected.unicodeScalars)
        var index = 0
        while index < min(a.count, b.count) && a[index] == b[index] { index += 1 }
        let context = { (s: [Unicode.Scalar]) in PythonText.repr(PythonText.string(s[max(0, index - 30)..<min(s.count, index + 40)])) }
        return "\(label): first difference at scalar \(index)\n  got:      \(context(a))\n  expected: \(context(b))"
    }
}
