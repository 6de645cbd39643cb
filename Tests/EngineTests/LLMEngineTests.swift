import Engine
import Foundation
import Tokenizers
import XCTest

/// The serving engine on the real model: batched results equal solo results (also with
/// prefix sharing and forced preemption), blocks always return to the pool, bad requests are
/// rejected while others continue.
final class LLMEngineTests: XCTestCase {
    static var loaded: LoadedModel?

    func smollm2() throws -> LoadedModel {
        if let m = Self.loaded { return m }
        let m = try LoadedModel(path: ModelStore().resolve("smollm2-135m").path)
        Self.loaded = m
        return m
    }

    func greedy(_ n: Int) -> SamplingParams {
        var p = SamplingParams()
        p.temperature = 0
        p.maxTokens = n
        p.ignoreEOS = true
        return p
    }

    /// Each prompt alone through the single-sequence Generator.
    func solo(_ m: LoadedModel, _ prompts: [[Int]], maxTokens: [Int]) throws -> [[Int]] {
        try zip(prompts, maxTokens).map { p, n in
            try Generator(model: m.model, tokenizer: m.tokenizer, contextSize: 1024).generate(promptTokens: p, params: greedy(n)).tokenIDs
        }
    }

    func batched(_ engine: LLMEngine, _ prompts: [[Int]], maxTokens: [Int]) async throws -> [[Int]] {
        try await withThrowingTaskGroup(of: (Int, [Int]).self) { group in
            for (i, (p, n)) in zip(prompts, maxTokens).enumerated() {
                group.addTask { (i, try await engine.generate(tokens: p, params: self.greedy(n)).tokenIDs) }
            }
            var out = [[Int]](repeating: [], count: prompts.count)
            for try await (i, ids) in group { out[i] = ids }
            return out
        }
    }

    func waitIdle(_ engine: LLMEngine) async {
        for _ in 0..<200 {
            let s = engine.stats
            if s.running == 0 && s.waiting == 0 && s.kvBlocksUsed == 0 { return }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    func prompts(_ m: LoadedModel) -> [[Int]] {
        ["The capital of France is", "Once upon a time, in a land far away, there lived a young girl who",
         "def quicksort(arr):", "1, 2, 3, 4, 5,", "Water boils at", "The three primary colors are red,"]
            .map { m.tokenizer.encode($0, addSpecial: true, parseSpecial: true) }
    }

    func testBatchedGreedyEqualsSolo() async throws {
        let m = try smollm2()
        let ps = prompts(m), lens = [12, 20, 8, 16, 10, 14]
        let expected = try solo(m, ps, maxTokens: lens)
        var o = EngineOptions()
        o.maxBatchTokens = 24 // forces chunked prefill next to decoding sequences
        let engine = try LLMEngine(model: m, options: o)
        defer { engine.shutdown() }
        let got = try await batched(engine, ps, maxTokens: lens)
        XCTAssertEqual(got, expected)
        await waitIdle(engine)
        XCTAssertEqual(engine.stats.kvBlocksUsed, 0)
    }

    func testSharedPrefixesHitTheCacheAndMatchSolo() async throws {
        let m = try smollm2()
        let system = String(repeating: "You are a helpful assistant who answers questions about geography. ", count: 4)
        let ps = ["What is the capital of Spain?", "Name a river in Africa.", "Which ocean is largest?"]
            .map { m.tokenizer.encode(system + $0, addSpecial: true, parseSpecial: true) }
        let lens = [10, 10, 10]
        let expected = try solo(m, ps, maxTokens: lens)
        let engine = try LLMEngine(model: m)
        defer { engine.shutdown() }
        let first = try await batched(engine, [ps[0]], maxTokens: [10])
        let rest = try await batched(engine, Array(ps[1...]), maxTokens: [10, 10])
        XCTAssertEqual(first + rest, expected)
        XCTAssertGreaterThan(engine.stats.prefixHitRate, 0.3)
        await waitIdle(engine)
        XCTAssertEqual(engine.stats.kvBlocksUsed, 0)
    }

    func testSmallPoolForcesPreemptionAndStillMatchesSolo() async throws {
        let m = try smollm2()
        let ps = prompts(m), lens = [24, 24, 24, 24, 24, 24]
        let expected = try solo(m, ps, maxTokens: lens)
        var o = EngineOptions()
        o.blockSize = 16
        o.kvCacheMemory = 12 * 16 * m.model.kvBytesPerToken(type: o.kvCacheType)   // 12 blocks for 6 sequences of up to 3 blocks
        o.prefixCaching = false
        let engine = try LLMEngine(model: m, options: o)
        defer { engine.shutdown() }
        let got = try await batched(engine, ps, maxTokens: lens)
        XCTAssertEqual(got, expected)
        XCTAssertGreaterThan(engine.stats.preemptions, 0)
        await waitIdle(engine)
        XCTAssertEqual(engine.stats.kvBlocksUsed, 0)
    }

    func testCancellationFreesBlocks() async throws {
        let m = try smollm2()
        var o = EngineOptions()
        o.maxBatchTokens = 16
        let engine = try LLMEngine(model: m, options: o)
        defer { engine.shutdown() }
        let long = m.tokenizer.encode(String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 30), addSpecial: true, parseSpecial: true)
        let midPrefill = try engine.submit(tokens: long, params: greedy(50))
        let decoding = try engine.submit(tokens: prompts(m)[0], params: greedy(500))
        // A consumer task that goes away (a client disconnecting) cancels its request.
        let consumer = Task {
            var seen = 0
            for try await event in decoding.events { if case .token = event { seen += 1 } }
            return seen
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        consumer.cancel()
        engine.cancel(midPrefill.id)
        await waitIdle(engine)
        XCTAssertEqual(engine.stats.kvBlocksUsed, 0)
        XCTAssertEqual(engine.stats.running, 0)
        do {
            for try await _ in midPrefill.events {}
            XCTFail("a cancelled request's stream must end with an error")
        } catch is CancellationError {}
    }

    func testF16PoolHoldsTwiceTheTokensOfF32() throws {
        let m = try smollm2()
        var o = EngineOptions()
        o.kvCacheMemory = 64 << 20
        o.kvCacheType = .f32
        let f32 = try LLMEngine(model: m, options: o)
        defer { f32.shutdown() }
        o.kvCacheType = .f16
        let f16 = try LLMEngine(model: m, options: o)
        defer { f16.shutdown() }
        XCTAssertEqual(m.model.kvBytesPerToken(type: .f32), 2 * 30 * 192 * 4)
        XCTAssertEqual(f16.kvPoolTokens, 2 * f32.kvPoolTokens)
    }

    func testBadRequestsAreRejectedWhileOthersContinue() async throws {
        let m = try smollm2()
        var o = EngineOptions()
        o.kvCacheMemory = 8 * 16 * m.model.kvBytesPerToken(type: o.kvCacheType) // 128 tokens of pool
        o.contextSize = 512
        let engine = try LLMEngine(model: m, options: o)
        defer { engine.shutdown() }
        let ok = try engine.submit(tokens: prompts(m)[0], params: greedy(8))
        let huge = [Int](repeating: 300, count: 200)
        XCTAssertThrowsError(try engine.submit(tokens: huge, params: greedy(4))) { e in
            XCTAssertTrue("\(e)".contains("whole pool holds 128"), "\(e)")
        }
        XCTAssertThrowsError(try engine.submit(tokens: [Int](repeating: 300, count: 600), params: greedy(4))) { e in
            XCTAssertTrue("\(e)".contains("context size is 512"), "\(e)")
        }
        var bad = greedy(4)
        bad.topP = 0
        XCTAssertThrowsError(try engine.submit(tokens: [1, 2], params: bad))
        var n = 0
        for try await event in ok.events { if case .token = event { n += 1 } }
        XCTAssertEqual(n, 8)
    }

    func testSeededSamplingIsTheSameAloneOrBatched() async throws {
        let m = try smollm2()
        var p = SamplingParams()
        p.temperature = 0.9
        p.seed = 1234
        p.maxTokens = 16
        p.ignoreEOS = true
        let prompt = prompts(m)[1]
        let engine = try LLMEngine(model: m)
        defer { engine.shutdown() }
        let alone = try await engine.generate(tokens: prompt, params: p).tokenIDs
        async let others = batched(engine, prompts(m), maxTokens: [16, 16, 16, 16, 16, 16])
        let together = try await engine.generate(tokens: prompt, params: p).tokenIDs
        _ = try await others
        XCTAssertEqual(alone, together)
    }

    func testSeveralSamplesPerPrompt() async throws {
        let m = try smollm2()
        var p = SamplingParams()
        p.temperature = 1.0
        p.seed = 5
        p.maxTokens = 8
        p.ignoreEOS = true
        let engine = try LLMEngine(model: m)
        defer { engine.shutdown() }
        let handle = try engine.submit(tokens: prompts(m)[1], params: p, n: 3)
        var tokens = [[Int]](repeating: [], count: 3)
        var finished = 0
        for try await event in handle.events {
            switch event {
            case .token(let id, _, let sample, _): tokens[sample].append(id)
            case .text: break
            case .finished: finished += 1
            }
        }
        XCTAssertEqual(finished, 3)
        XCTAssertEqual(tokens.map(\.count), [8, 8, 8])
        XCTAssertNotEqual(tokens[0], tokens[1])
        await waitIdle(engine)
        XCTAssertEqual(engine.stats.kvBlocksUsed, 0)
    }
}
