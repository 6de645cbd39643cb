import Engine
import Foundation
import GGUF
import Models
import XCTest

/// Greedy tokens and first-position logits of SmolLM2-135M-Instruct Q4_1 against the numpy
/// reference forward pass (scripts/reference/gen_smollm2_reference.py, fixture committed).
final class SmolLM2ReferenceTests: XCTestCase {
    struct Reference: Decodable {
        struct Case: Decodable {
            let prompt: String
            let prompt_ids: [Int]
            let greedy_ids: [Int]
            let first_logits_f16_b64: String
        }
        let cases: [Case]
    }

    static var loaded: LoadedModel?

    func model() throws -> LoadedModel {
        if let m = Self.loaded { return m }
        let m = try LoadedModel(path: try TestModels.smollm2())
        Self.loaded = m
        return m
    }

    func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Fixtures.url("models/smollm2_reference.json")))
    }

    func testGreedyTokensMatchReference() throws {
        let loaded = try model()
        let ref = try reference()
        XCTAssertGreaterThanOrEqual(ref.cases.count, 8)
        var matching = 0
        for c in ref.cases {
            let gen = Generator(model: loaded.model, tokenizer: loaded.tokenizer, contextSize: 512)
            var p = SamplingParams()
            p.temperature = 0
            p.maxTokens = 16
            p.ignoreEOS = true
            let result = try gen.generate(promptTokens: c.prompt_ids, params: p)
            let expected = Array(c.greedy_ids.prefix(16))
            if result.tokenIDs == expected {
                matching += 1
            } else {
                let firstDiff = zip(result.tokenIDs, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1
                print("prompt \(c.prompt.debugDescription): first difference at token \(firstDiff): got \(result.tokenIDs) expected \(expected)")
            }
        }
        XCTAssertGreaterThanOrEqual(matching, 7, "greedy tokens must match the reference on at least 7 of 8 prompts")
    }

    func testFirstLogitsCosineSimilarity() throws {
        let loaded = try model()
        for c in try reference().cases {
            let raw = [UInt8](Data(base64Encoded: c.first_logits_f16_b64)!)
            let expected: [Float] = raw.withUnsafeBytes { b in b.bindMemory(to: UInt16.self).map { Float(Float16(bitPattern: $0)) } }
            let cache = loaded.model.makeKVCache(blockSize: 16, blockCount: 64)
            var batch = Batch()
            batch.append(tokens: c.prompt_ids, startPosition: 0, blockTable: Array(0..<64), wantsLogits: true)
            let logits = Array(try loaded.model.forward(batch, cache: cache))
            XCTAssertEqual(logits.count, expected.count)
            let cos = logits.cosineSimilarity(expected)
            XCTAssertGreaterThan(cos, 0.99, "prompt \(c.prompt.debugDescription)")
            XCTAssertEqual(logits.indices.max { logits[$0] < logits[$1] }, expected.indices.max { expected[$0] < expected[$1] })
        }
    }

    /// A batch of two sequences computes the same logits as each sequence alone.
    func testRaggedBatchEqualsSeparateRuns() throws {
        let loaded = try model()
        let cases = try reference().cases.prefix(2)
        var alone: [[Float]] = []
        for c in cases {
            let cache = loaded.model.makeKVCache(blockSize: 16, blockCount: 32)
            var batch = Batch()
            batch.append(tokens: c.prompt_ids, startPosition: 0, blockTable: Array(0..<32), wantsLogits: true)
            alone.append(Array(try loaded.model.forward(batch, cache: cache)))
        }
        let cache = loaded.model.makeKVCache(blockSize: 16, blockCount: 64)
        var batch = Batch()
        for (i, c) in cases.enumerated() {
            batch.append(tokens: c.prompt_ids, startPosition: 0, blockTable: (0..<32).map { Int32($0 * 2 + i) }, wantsLogits: true)
        }
        let both = Array(try loaded.model.forward(batch, cache: cache))
        let v = loaded.model.config.vocabularySize
        for i in 0..<cases.count {
            XCTAssertGreaterThan(Array(both[(i * v)..<((i + 1) * v)]).cosineSimilarity(alone[i]), 0.99999)
        }
    }
}
