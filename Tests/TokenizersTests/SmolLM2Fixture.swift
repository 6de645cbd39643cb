import Foundation
import GGUF
import XCTest
@testable import Tokenizers

/// The SmolLM2 model file and the golden tokenizations produced from it by llama.cpp.
enum SmolLM2Fixture {
    static let modelFile = "SmolLM2-135M-Instruct.Q4_1.gguf"

    static var modelPath: String {
        let cache = ProcessInfo.processInfo.environment["SWIFTLLM_CACHE"]
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/swiftllm")
        return (cache as NSString).appendingPathComponent(modelFile)
    }

    static var fixturePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tokenizer/smollm2.json").path
    }

    struct Golden: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int]
        }
        let model: String?
        let add_bos: Bool?
        let bos_id: Int?
        let eos_id: Int?
        let cases: [Case]
    }

    /// Metadata of the real model; skips the test when the file is not in the model cache.
    static func metadata() throws -> [String: GGUFValue] {
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw XCTSkip("\(modelFile) not found at \(modelPath) (set SWIFTLLM_CACHE); skipping real-vocabulary test")
        }
        return try GGUFFile(path: modelPath).metadata
    }

    static func tokenizer() throws -> any Tokenizer {
        try loadTokenizer(metadata: metadata())
    }

    static func golden() throws -> Golden {
        guard let data = FileManager.default.contents(atPath: fixturePath) else {
            throw XCTSkip("golden fixture \(fixturePath) not found")
        }
        return try JSONDecoder().decode(Golden.self, from: data)
    }

    static var variantsPath: String {
        URL(fileURLWithPath: fixturePath).deletingLastPathComponent()
            .appendingPathComponent("smollm2-pre-variants.json").path
    }

    /// llama.cpp's ids for the SmolLM2 vocabulary under other `tokenizer.ggml.pre` names.
    static func preTokenizerVariants() throws -> [String: [Golden.Case]] {
        struct File: Decodable { let variants: [String: [Golden.Case]] }
        guard let data = FileManager.default.contents(atPath: variantsPath) else {
            throw XCTSkip("golden fixture \(variantsPath) not found")
        }
        return try JSONDecoder().decode(File.self, from: data).variants
    }
}
