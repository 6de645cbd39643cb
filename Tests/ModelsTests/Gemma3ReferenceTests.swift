import Engine
import Foundation
import GGUF
import Models
import XCTest

/// Greedy tokens and first-position logits of Gemma 3 270M (Q4_K_M GGUF) against the numpy
/// reference forward pass (scripts/reference/gen_gemma3_reference.py, fixture committed).
/// Prompts are raw text with BOS; one is ~700 tokens, so the 512-token sliding window masks
/// part of it and its prefill spans two batches.
final class Gemma3ReferenceTests: XCTestCase {
    struct Reference: Decodable {
        struct TopLogits: Decodable {
            let top_ids: [Int]
            let top_logits_f16_b64: String
            /// Log-sum-exp of the reference logits over the whole vocabulary.
            let logsumexp: Double
        }
        struct Case: Decodable {
            let prompt: String
            let prompt_ids: [Int]
            let greedy_ids: [Int]
            let first_logits: TopLogits
        }
        let cases: [Case]
    }

    static var loaded: LoadedModel?

    func model() throws -> LoadedModel {
        if let m = Self.loaded { return m }
        let m = try LoadedModel(path: try TestModels.gemma3())
        Self.loaded = m
        return m
    }

    func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Fixtures.url("models/gemma3_reference.json")))
    }

    /// Logits at the last prompt position, the prompt fed in chunks the model accepts.
    func firstLogits(_ loaded: LoadedModel, prompt: [Int], kvCacheType: KVCacheType) throws -> [Float] {
        let blocks = (prompt.count + 15) / 16
        let cache = loaded.model.makeKVCache(blockSize: 16, blockCount: blocks, type: kvCacheType)
        let table = (0..<blocks).map { Int32($0) }
        var pos = 0
        var logits: [Float] = []
        while pos < prompt.count {
            let n = min(loaded.model.maxBatchTokens, prompt.count - pos)
            var batch = Batch()
            batch.append(tokens: prompt[pos..<pos + n], startPosition: pos, blockTable: table, wantsLogits: pos + n == prompt.count)
            logits = Array(try loaded.model.forward(batch, cache: cache))
            pos += n
        }
        return logits
    }

    func testFixtureCoversTheSlidingWindow() throws {
        let ref = try reference()
        XCTAssertGreaterThanOrEqual(ref.cases.count, 8)
        let window = try model().model.config.slidingWindow
        XCTAssertEqual(window, 512)
        XCTAssertTrue(ref.cases.contains { $0.prompt_ids.count > window + 64 }, "one prompt must be longer than the sliding window")
    }

    /// The reference is a float forward pass, so the F32 cache is the like-for-like check of the
    /// model; the default F16 cache's count is printed beside it.
    func testGreedyTokensMatchReference() throws {
        let f16 = try greedyMatches(kvCacheType: .f16)
        let matching = try greedyMatches(kvCacheType: .f32)
        // Issue 3 asks for 7 of 8. Measured: 8 of 8 on AVX-512, 7 with SWIFTLLM_ISA=avx2 (the
        // 709-token prompt parts at token 15). Every divergence seen was at a near-tie (margins
        // 0.03-0.11 logits): the graph is exact (run layer by layer on Swift's own inputs, the
        // numpy reference with SwiftLLM's activation rounding reproduces each layer to 1e-5),
        // and what differs is int8 activation rounding, which Gemma amplifies (norm weights
        // ~300). Decode rows use float activations in every quantized matmul; prompt rows do in
        // Q5_0 matmuls on AVX-512 and round to int8 elsewhere (scripts/reference/README.md,
        // Gemma 3 section, has the count under each policy).
        print("gemma3 greedy: \(matching) of 8 prompts match the reference for 16 tokens with an F32 KV cache, \(f16) with F16 (goal: 7)")
        XCTAssertGreaterThanOrEqual(matching, 7, "greedy tokens regressed against the reference")
    }

    func greedyMatches(kvCacheType: KVCacheType) throws -> Int {
        let loaded = try model()
        let ref = try reference()
        XCTAssertGreaterThanOrEqual(ref.cases.count, 8)
        var matching = 0
        for c in ref.cases {
            let gen = Generator(model: loaded.model, tokenizer: loaded.tokenizer, contextSize: 1024, kvCacheType: kvCacheType)
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
                print("\(kvCacheType) cache, prompt \(c.prompt.prefix(60).debugDescription) (\(c.prompt_ids.count) tokens): first difference at token \(firstDiff): got \(result.tokenIDs) expected \(expected)")
            }
        }
        return matching
    }

    /// F32 cache: the like-for-like check. F16 cache (the default): measured 0.9725 on the code
    /// prompt, whose keys reach |70| in layer 11 where F16 keeps ~3 significant digits; every
    /// other prompt stays above 0.9995 and all argmaxes agree.
    func testFirstLogitsMatchReference() throws {
        try checkFirstLogits(kvCacheType: .f32, minimumCosine: 0.99)
        try checkFirstLogits(kvCacheType: .f16, minimumCosine: 0.95)
    }

    func checkFirstLogits(kvCacheType: KVCacheType, minimumCosine: Double) throws {
        let loaded = try model()
        for c in try reference().cases {
            let ref = c.first_logits
            let raw = [UInt8](try XCTUnwrap(Data(base64Encoded: ref.top_logits_f16_b64)))
            let expected: [Float] = raw.withUnsafeBytes { b in b.bindMemory(to: UInt16.self).map { Float(Float16(bitPattern: $0)) } }
            XCTAssertEqual(expected.count, ref.top_ids.count)

            let logits = try firstLogits(loaded, prompt: c.prompt_ids, kvCacheType: kvCacheType)
            XCTAssertEqual(logits.count, loaded.model.config.vocabularySize)
            let ours = ref.top_ids.map { logits[$0] }
            let cos = ours.cosineSimilarity(expected)
            let argmax = logits.indices.max { logits[$0] < logits[$1] }
            // Log-probability of the reference's top token on both sides (full-vocabulary softmax).
            let maxLogit = Double(logits.max() ?? 0)
            let lse = maxLogit + log(logits.reduce(0.0) { $0 + exp(Double($1) - maxLogit) })
            let top = ref.top_ids[0]
            let logProbDiff = abs((Double(logits[top]) - lse) - (Double(expected[0]) - ref.logsumexp))
            print("\(kvCacheType) cache, prompt \(c.prompt.prefix(40).debugDescription) (\(c.prompt_ids.count) tokens): cosine \(cos), "
                  + "argmax \(argmax ?? -1) vs \(top), top-1 log-prob difference \(logProbDiff)")
            XCTAssertGreaterThan(cos, minimumCosine, "\(kvCacheType) cache, prompt \(c.prompt.prefix(60).debugDescription)")
            XCTAssertEqual(argmax, top, "prompt \(c.prompt.prefix(60).debugDescription)")
        }
    }
}
