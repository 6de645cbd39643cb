import Foundation
import GGUF
import XCTest
@testable import Tokenizers

/// The golden files written by scripts/reference/gen_chat_template_fixtures.py from Python jinja2 configured as
/// transformers' `apply_chat_template` configures it.
enum ChatTemplateFixtures {
    /// Tests/Fixtures/chat_templates, found from this file's real location (test files may be symlinked into a
    /// development package).
    static var directory: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/chat_templates")
    }

    static func load(_ name: String) throws -> TemplateDictionary {
        let url = directory.appendingPathComponent(name)
        let text = try String(contentsOf: url, encoding: .utf8)
        guard case .dictionary(let root) = try TemplateValue(json: text) else {
            throw XCTSkip("\(name) is not a JSON object")
        }
        return root
    }

    /// Every per-template golden file (all but snippets.json), sorted.
    static func templateFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") && $0 != "snippets.json" }
            .sorted()
    }

    /// The SmolLM2 model file's metadata; skips when the file is not in the model cache.
    static func smolLM2Metadata() throws -> [String: GGUFValue] {
        let cache = ProcessInfo.processInfo.environment["SWIFTLLM_CACHE"]
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/swiftllm")
        let path = (cache as NSString).appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("SmolLM2-135M-Instruct.Q4_1.gguf not found in \(cache) (set SWIFTLLM_CACHE)")
        }
        return try GGUFFile(path: path).metadata
    }

    /// The fixed instant the generator gave `strftime_now` ("2025-03-09T14:05:07"), read in UTC.
    static func pin(_ template: inout ChatTemplate, to isoDate: String) throws {
        let parts = isoDate.split(whereSeparator: { "-T:".contains($0) }).compactMap { Int($0) }
        guard parts.count == 6 else { throw XCTSkip("bad date \(isoDate)") }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3],
                                        minute: parts[4], second: parts[5])
        let date = calendar.date(from: components)!
        template.now = { date }
        template.timeZone = calendar.timeZone
    }
}

extension TemplateDictionary {
    func string(_ key: String) -> String? { self[key]?.stringValue }

    func dictionary(_ key: String) -> TemplateDictionary? {
        if case .dictionary(let value)? = self[key] { return value }
        return nil
    }

    func array(_ key: String) -> [TemplateValue]? {
        if case .array(let value)? = self[key] { return value }
        return nil
    }
}
