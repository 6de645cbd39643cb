import Foundation
import GGUF
import XCTest
@testable import Tokenizers
#if canImport(Engine)
import Engine
#endif

/// The Gemma 3 270M model file (SentencePiece-style vocabulary of 262144 tokens) and llama.cpp's golden
/// tokenizations of it (scripts/reference/gen_gemma_tokenizer_fixtures.py).
enum GemmaFixture {
    static let alias = "gemma3-270m"
    static let modelFile = "gemma-3-270m-q4_k_m.gguf"

    /// The model file: pulled through `ModelStore` when the test target links Engine, else looked up in the cache
    /// (and the test skipped when it is not there).
    static func modelPath() throws -> String {
        #if canImport(Engine)
        return try ModelStore().resolve(alias).path
        #else
        let cache = ProcessInfo.processInfo.environment["SWIFTLLM_CACHE"]
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/swiftllm")
        let path = (cache as NSString).appendingPathComponent(modelFile)
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(modelFile) not found at \(path) (set SWIFTLLM_CACHE); skipping real-vocabulary test")
        }
        return path
        #endif
    }

    static var fixturePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tokenizer/gemma3.json").path
    }

    struct Golden: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int]
        }
        let add_bos: Bool?
        let add_space_prefix: Bool?
        let bos_id: Int?
        let eos_id: Int?
        let cases: [Case]
    }

    static func metadata() throws -> [String: GGUFValue] {
        try GGUFFile(path: modelPath()).metadata
    }

    static func tokenizer() throws -> SentencePieceTokenizer {
        try XCTUnwrap(loadTokenizer(metadata: metadata()) as? SentencePieceTokenizer)
    }

    static func golden() throws -> Golden {
        guard let data = FileManager.default.contents(atPath: fixturePath) else {
            throw XCTSkip("golden fixture \(fixturePath) not found")
        }
        return try JSONDecoder().decode(Golden.self, from: data)
    }
}
