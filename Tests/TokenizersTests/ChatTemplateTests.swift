import Foundation
import XCTest
@testable import Tokenizers

/// The public API, error reporting and the value model; rendering itself is checked against jinja2 by
/// ChatTemplateFixtureTests.
final class ChatTemplateTests: XCTestCase {
    private let chatML = """
        {% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
        """

    func testRendersChatMessages() throws {
        let template = try ChatTemplate(source: chatML)
        let messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi")]
        XCTAssertEqual(
            try template.render(messages: messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>"),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(
            try template.render(messages: messages, addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>"),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
    }

    func testContextMatchesApplyChatTemplate() throws {
        let template = try ChatTemplate(source: "{{ bos_token }}|{{ eos_token }}|{{ tools is none }}|"
                                        + "{{ documents is none }}|{{ add_generation_prompt }}|{{ custom }}")
        XCTAssertEqual(try template.render(messages: [], addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>"),
                       "<s>|</s>|True|True|False|")
        XCTAssertEqual(try template.render(messages: [], addGenerationPrompt: true, bosToken: "", eosToken: "",
                                           extra: ["custom": 42, "tools": ["t"]]),
                       "||False|True|True|42")
    }

    func testMessagesCarryExtraFields() throws {
        let template = try ChatTemplate(source: "{% for m in messages %}{{ m.role }}:{{ m.tool_calls[0].function.name "
                                        + "if m.tool_calls is defined else m.content }};{% endfor %}")
        let call: TemplateValue = ["function": ["name": "get_weather", "arguments": ["city": "Paris"]]]
        let conversation: [TemplateValue] = [
            ChatMessage(role: "user", content: "Weather?").templateValue,
            ["role": "assistant", "content": "", "tool_calls": [call]],
        ]
        XCTAssertEqual(try template.render(conversation: conversation, addGenerationPrompt: false, bosToken: "",
                                           eosToken: ""),
                       "user:Weather?;assistant:get_weather;")
    }

    func testSyntaxErrorsNameLineAndColumn() {
        XCTAssertEqual(message("Hello\n{{ 1 + }}"), "chat template error at line 2, column 8: unexpected end of print statement")
        XCTAssertEqual(message("line one\n\n  {{ name | foo }}"), "chat template error at line 3, column 13: unknown filter 'foo'")
        XCTAssertEqual(message("{% if x %}\nopen"), "chat template error at line 2, column 5: unexpected end of template, "
                       + "expected 'elif' or 'else' or 'endif'")
        XCTAssertEqual(message("{% for x in xs %}{% endif %}"),
                       "chat template error at line 1, column 21: unknown tag 'endif'")
        XCTAssertEqual(message("{{ 'unterminated }}"), "chat template error at line 1, column 4: unexpected char \"'\"")
        XCTAssertEqual(message("{% include 'other.jinja' %}"),
                       "chat template error at line 1, column 4: unsupported tag 'include': chat templates cannot load "
                       + "other templates")
    }

    func testRuntimeErrorsNameThePosition() throws {
        let template = try ChatTemplate(source: "ok\n  {{ messages[0].content + 1 }}")
        XCTAssertThrowsError(try template.render(messages: [ChatMessage(role: "user", content: "x")],
                                                 addGenerationPrompt: false, bosToken: "", eosToken: "")) { error in
            let error = error as! ChatTemplateError
            XCTAssertEqual(error.kind, .runtime)
            XCTAssertEqual(error.description,
                           "chat template error at line 2, column 26: can only concatenate str (not \"int\") to str")
        }
        let undefined = try ChatTemplate(source: "{{ messages[0].missing.deeper }}")
        XCTAssertThrowsError(try undefined.render(messages: [ChatMessage(role: "user", content: "x")],
                                                  addGenerationPrompt: false, bosToken: "", eosToken: "")) { error in
            XCTAssertEqual("\(error)", "chat template error at line 1, column 16: 'messages[0].missing' is undefined")
        }
    }

    func testRaiseExceptionMessage() throws {
        let template = try ChatTemplate(source: "{% if messages[0].role == 'system' %}{{ raise_exception('System role "
                                        + "not supported') }}{% endif %}fine")
        XCTAssertThrowsError(try template.render(messages: [ChatMessage(role: "system", content: "x")],
                                                 addGenerationPrompt: false, bosToken: "", eosToken: "")) { error in
            let error = error as! ChatTemplateError
            XCTAssertEqual(error.kind, .raised)
            XCTAssertEqual(error.message, "System role not supported")
            XCTAssertEqual(error.description, "chat template raised: System role not supported")
        }
        XCTAssertEqual(try template.render(messages: [ChatMessage(role: "user", content: "x")],
                                           addGenerationPrompt: false, bosToken: "", eosToken: ""), "fine")
    }

    func testImmutableSandboxRefusesMutation() throws {
        let template = try ChatTemplate(source: "{% set xs = [] %}{% set _ = xs.append(1) %}{{ xs }}")
        XCTAssertThrowsError(try template.render(context: [:])) { error in
            XCTAssertEqual("\(error)", "chat template error at line 1, column 38: access to attribute 'append' of "
                           + "'list' object is unsafe.")
        }
    }

    func testStrftimeNowUsesTheConfiguredClock() throws {
        var template = try ChatTemplate(source: "{{ strftime_now('%d %b %Y, %A %H:%M') }}")
        template.timeZone = TimeZone(identifier: "UTC")!
        template.now = { Date(timeIntervalSince1970: 1_721_952_000 + 3_600 * 13 + 60 * 7) }
        XCTAssertEqual(try template.render(context: [:]), "26 Jul 2024, Friday 13:07")
    }

    func testHostileTemplatesFailCleanly() throws {
        let deep = String(repeating: "(", count: 5_000) + "1" + String(repeating: ")", count: 5_000)
        XCTAssertEqual(try? ChatTemplate(source: "{{ \(deep) }}").source, nil)
        let nested = String(repeating: "{% if true %}", count: 5_000) + String(repeating: "{% endif %}", count: 5_000)
        XCTAssertThrowsError(try ChatTemplate(source: nested))
        let recursive = try ChatTemplate(source: "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        XCTAssertThrowsError(try recursive.render(context: [:])) { error in
            XCTAssertTrue("\(error)".hasSuffix("maximum recursion depth exceeded"), "\(error)")
        }
        let huge = try ChatTemplate(source: "{{ 'x' * 100000 * 100000 }}{{ 'a'.center(10 ** 12) }}")
        XCTAssertThrowsError(try huge.render(context: [:]))
        XCTAssertThrowsError(try ChatTemplate(source: "{{ range(10 ** 9)|length }}").render(context: [:]))
        for source in ["{{", "{%", "{#", "{{ 1 }", "{% for %}", "{{ ) }}", "{{ [1, }}", "{% set %}", "{% macro %}",
                       "{{ 1 if }}", "{{ a[::0] }}", "{{ 'a' | }}", "\u{0}{{ '\u{0}' }}", "{% raw %}", "{{ 9" + String(repeating: "9", count: 40) + " }}"] {
            do {
                _ = try ChatTemplate(source: source).render(context: ["a": [1]])
            } catch let error as ChatTemplateError {
                XCTAssertFalse(error.description.contains("\n"), source)
            }
        }
    }

    /// The nesting and recursion limits leave room on a small (512 KiB) thread stack, as a server's worker
    /// threads may have.
    func testLimitsFitASmallThreadStack() throws {
        let paren = String(repeating: "(", count: TemplateParser.maxDepth - 2) + "1"
            + String(repeating: ")", count: TemplateParser.maxDepth - 2)
        let blocks = String(repeating: "{% if true %}", count: TemplateParser.maxDepth - 2) + "x"
            + String(repeating: "{% endif %}", count: TemplateParser.maxDepth - 2)
        let recursion = "{% macro f(n) %}{% if n < 1000 %}{{ f(n + 1) }}{% endif %}{% endmacro %}{{ f(0) }}"
        /// Written by the thread before it signals, read after the wait.
        final class Results: @unchecked Sendable { var values: [String] = [] }
        let box = Results()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            for source in ["{{ \(paren) }}", blocks, recursion] {
                do {
                    box.values.append(try ChatTemplate(source: source).render(context: [:]))
                } catch {
                    box.values.append("\(error)")
                }
            }
            done.signal()
        }
        thread.stackSize = 512 * 1024
        thread.start()
        done.wait()
        let results = box.values
        XCTAssertEqual(results.count, 3)
        XCTAssertEqual(results.first, "1")
        XCTAssertEqual(results.dropFirst().first, "x")
        XCTAssertTrue(results.last?.hasSuffix("maximum recursion depth exceeded") ?? false, "\(results)")
    }

    func testTemplateValueJSONKeepsOrderAndRoundTrips() throws {
        let text = #"{"z": 1, "a": [true, null, 2.5, -3, "é\n\"q\" 😀"], "m": {"y": {}, "x": []}, "big": 1e400}"#
        let value = try TemplateValue(json: text)
        guard case .dictionary(let dictionary) = value else { return XCTFail("not a dictionary") }
        XCTAssertEqual(dictionary.keys, ["z", "a", "m", "big"])
        XCTAssertEqual(try value.pythonJSON(.init()),
                       #"{"z": 1, "a": [true, null, 2.5, -3, "é\n\"q\" 😀"], "m": {"y": {}, "x": []}, "big": Infinity}"#)
        XCTAssertThrowsError(try TemplateValue(json: #"{"a": }"#))
        XCTAssertThrowsError(try TemplateValue(json: "[1, 2"))
        XCTAssertThrowsError(try TemplateValue(json: String(repeating: "[", count: 10_000)))
    }

    func testPythonFloatRepr() {
        let cases: [(Double, String)] = [
            (0.1, "0.1"), (1e16, "1e+16"), (1e-5, "1e-05"), (123456789.123, "123456789.123"), (Double.leastNonzeroMagnitude, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"), (100.0, "100.0"), (0.0001, "0.0001"), (1e22, "1e+22"),
            (12345678901234567.0, "1.2345678901234568e+16"), (1234567890123456.7, "1234567890123456.8"),
            (-2.5e-10, "-2.5e-10"), (3.0, "3.0"), (1.0 / 3, "0.3333333333333333"), (9007199254740992.0, "9007199254740992.0"),
            (-0.0, "-0.0"), (.infinity, "inf"),
        ]
        for (value, expected) in cases { XCTAssertEqual(TemplateValue.pythonFloatRepr(value), expected) }
    }

    func testTemplateValueLiteralsAndTruthiness() {
        let value: TemplateValue = ["role": "user", "n": 1, "x": 1.5, "flag": true, "none": nil, "list": [1, "a"]]
        guard case .dictionary(let dictionary) = value else { return XCTFail("not a dictionary") }
        XCTAssertEqual(dictionary.keys, ["role", "n", "x", "flag", "none", "list"])
        XCTAssertEqual(dictionary["none"], TemplateValue.none)
        XCTAssertFalse(TemplateValue.undefined.isTruthy)
        XCTAssertFalse(TemplateValue.string("").isTruthy)
        XCTAssertFalse(TemplateValue.array([]).isTruthy)
        XCTAssertTrue(TemplateValue.double(0.5).isTruthy)
        XCTAssertEqual(TemplateValue.int(1), TemplateValue.double(1))
    }

    private func message(_ source: String) -> String? {
        do {
            _ = try ChatTemplate(source: source)
            return nil
        } catch {
            return "\(error)"
        }
    }
}
