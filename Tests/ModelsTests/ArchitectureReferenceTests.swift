import Foundation
import GGUF
import Kernels
import Models
import XCTest

/// The llama variants on tiny random-weight GGUF files against the numpy reference
/// (scripts/reference/gen_arch_fixtures.py; files and reference committed): `qwen2` (Q/K/V
/// biases, NeoX RoPE, tied output) and `llama` with `attention.sliding_window` (Mistral 7B
/// v0.1, untied output, a prompt of several windows). Weights are F16, which multiply float
/// activations, so logits agree to ~1e-5; the generator checks that switching off any one
/// variant feature moves them by more than 100 times the tolerance.
final class ArchitectureReferenceTests: XCTestCase {
    struct Reference: Decodable {
        struct Case: Decodable {
            let model: String
            let architecture: String
            let sliding_window: Int
            let prompt_ids: [Int]
            let greedy_ids: [Int]
            /// [step][vocab]: step 0 at the last prompt position, step i after greedy token i-1.
            let step_logits: [[Float]]
        }
        /// Largest |logit difference| allowed.
        let tolerance: Float
        let cases: [Case]
    }

    /// Small blocks in scrambled order, so the window spans blocks that are not adjacent in memory.
    let blockSize = 4
    let blockTable: [Int32] = (0..<16).map { Int32(($0 * 7) % 16) }

    func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Fixtures.url("models/tiny_arch_reference.json")))
    }

    func load(_ c: Reference.Case) throws -> any LanguageModel {
        let model = try loadModel(try GGUFFile(path: Fixtures.url("models/\(c.model)").path), pool: ThreadPool(threads: 2))
        XCTAssertEqual(model.config.architecture, c.architecture)
        XCTAssertEqual(model.config.slidingWindow, c.sliding_window)
        return model
    }

    func assertClose(_ logits: [Float], _ expected: [Float], tolerance: Float, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(logits.count, expected.count, what, file: file, line: line)
        let maxDiff = zip(logits, expected).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(maxDiff, tolerance, "\(what): max |logit difference|", file: file, line: line)
        XCTAssertGreaterThan(logits.cosineSimilarity(expected), 0.999, what, file: file, line: line)
    }

    func argmax(_ x: [Float]) -> Int { x.indices.max { x[$0] < x[$1] }! }

    func testFixturesCoverEachVariant() throws {
        let ref = try reference()
        XCTAssertEqual(Set(ref.cases.map(\.architecture)), ["qwen2", "llama"])
        for c in ref.cases where c.sliding_window > 0 {
            XCTAssertGreaterThan(c.prompt_ids.count, 3 * c.sliding_window, "the prompt must span several windows")
        }
    }

    /// Prompt in one batch, then greedy decode one token per step; every step's logits and the
    /// chosen tokens match the reference.
    func testGreedyDecodeMatchesReference() throws {
        let ref = try reference()
        for c in ref.cases {
            let model = try load(c)
            let cache = model.makeKVCache(blockSize: blockSize, blockCount: blockTable.count, type: .f32)  // the reference is float
            var batch = Batch()
            batch.append(tokens: c.prompt_ids, startPosition: 0, blockTable: blockTable, wantsLogits: true)
            var logits = Array(try model.forward(batch, cache: cache))
            var ids: [Int] = []
            for (step, expected) in c.step_logits.enumerated() {
                assertClose(logits, expected, tolerance: ref.tolerance, "\(c.model) step \(step)")
                ids.append(argmax(logits))
                batch.removeAll()
                batch.append(tokens: [ids.last!], startPosition: c.prompt_ids.count + step, blockTable: blockTable,
                             wantsLogits: true, isDecode: true)
                logits = Array(try model.forward(batch, cache: cache))
            }
            XCTAssertEqual(ids, c.greedy_ids, c.model)
        }
    }

    /// The prompt prefilled in chunks (keys of earlier chunks come from the cache) gives the
    /// same last-position logits.
    func testChunkedPrefillMatchesReference() throws {
        let ref = try reference()
        for c in ref.cases {
            let model = try load(c)
            let cache = model.makeKVCache(blockSize: blockSize, blockCount: blockTable.count, type: .f32)  // the reference is float
            var logits: [Float] = []
            var pos = 0
            while pos < c.prompt_ids.count {
                let n = min(5, c.prompt_ids.count - pos)
                var batch = Batch()
                batch.append(tokens: c.prompt_ids[pos..<pos + n], startPosition: pos, blockTable: blockTable,
                             wantsLogits: pos + n == c.prompt_ids.count)
                logits = Array(try model.forward(batch, cache: cache))
                pos += n
            }
            assertClose(logits, c.step_logits[0], tolerance: ref.tolerance, "\(c.model) chunked prefill")
        }
    }
}
