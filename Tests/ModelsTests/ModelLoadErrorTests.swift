import Engine
import Foundation
import GGUF
import Kernels
import Models
import XCTest

/// Bad model files and requests give one-line errors that say what is wrong; nothing traps.
final class ModelLoadErrorTests: XCTestCase {
    func assertOneLineError(_ body: @autoclosure () throws -> Any, contains needle: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(needle), "message \(message.debugDescription) lacks \(needle.debugDescription)", file: file, line: line)
            XCTAssertFalse(message.contains("\n"), "message spans lines: \(message.debugDescription)", file: file, line: line)
        }
    }

    func testTinyModelLoadsAndRuns() throws {
        let model = try loadModel(try TinyLlama().file(), pool: ThreadPool(threads: 2))
        let cache = model.makeKVCache(blockSize: 16, blockCount: 4)
        var batch = Batch()
        batch.append(tokens: [1, 2, 3], startPosition: 0, blockTable: [0, 1, 2, 3], wantsLogits: true)
        let logits = try model.forward(batch, cache: cache)
        XCTAssertEqual(logits.count, 16)
        XCTAssertTrue(logits.allSatisfy(\.isFinite))
    }

    /// A decode step may sample more sequences than the logits buffer was first sized for (the
    /// engine's --max-num-seqs can exceed 64); the buffer grows and every row is right.
    func testManySequencesSampleInOneStep() throws {
        let model = try loadModel(try TinyLlama().file(), pool: ThreadPool(threads: 2))
        let n = 100
        let cache = model.makeKVCache(blockSize: 4, blockCount: n)
        var batch = Batch()
        for i in 0..<n { batch.append(tokens: [1 + i % 7], startPosition: 0, blockTable: [Int32(i)], wantsLogits: true) }
        let all = Array(try model.forward(batch, cache: cache))
        XCTAssertEqual(all.count, n * 16)
        for i in [0, 63, 64, 99] {
            var one = Batch()
            one.append(tokens: [1 + i % 7], startPosition: 0, blockTable: [Int32(i)], wantsLogits: true)
            XCTAssertEqual(Array(try model.forward(one, cache: cache)), Array(all[(i * 16)..<((i + 1) * 16)]), "row \(i)")
        }
    }

    func testUnsupportedArchitecture() throws {
        var m = TinyLlama()
        m.architecture = "mamba"
        assertOneLineError(try loadModel(try m.file()), contains: "unsupported model architecture 'mamba'")
        assertOneLineError(try loadModel(try m.file()), contains: "(supported: llama, mistral, qwen2, gemma3)")
    }

    /// `mistral` is read as `llama`: the same weights give the same logits.
    func testMistralNameRunsTheLlamaGraph() throws {
        var logits: [[Float]] = []
        for arch in ["llama", "mistral"] {
            var m = TinyLlama()
            m.architecture = arch
            let model = try loadModel(try m.file(), pool: ThreadPool(threads: 1))
            let cache = model.makeKVCache(blockSize: 16, blockCount: 1)
            var batch = Batch()
            batch.append(tokens: [1, 2, 3], startPosition: 0, blockTable: [0], wantsLogits: true)
            logits.append(Array(try model.forward(batch, cache: cache)))
        }
        XCTAssertEqual(logits[0], logits[1])
    }

    func testQwen2NeedsAttentionBiases() throws {
        var m = TinyLlama()
        m.architecture = "qwen2"
        assertOneLineError(try loadModel(try m.file()), contains: "lacks tensor 'blk.0.attn_q.bias'")
    }

    func testUnsupportedTensorType() throws {
        var m = TinyLlama()
        m.dim = 256
        m.typeOverrides["blk.0.attn_q.weight"] = .iq2_XXS
        assertOneLineError(try loadModel(try m.file()), contains: "blk.0.attn_q.weight")
    }

    func testMissingTensorAndBadShape() throws {
        var m = TinyLlama()
        m.omit = ["blk.0.ffn_up.weight"]
        assertOneLineError(try loadModel(try m.file()), contains: "lacks tensor 'blk.0.ffn_up.weight'")
        var bad = TinyLlama()
        bad.ffnMetadataDelta = 32
        assertOneLineError(try loadModel(try bad.file()), contains: "'blk.0.ffn_gate.weight': shape [32, 64], expected [32, 96]")
    }

    func testOutOfRangeTokensAndPositions() throws {
        let model = try loadModel(try TinyLlama().file(), pool: ThreadPool(threads: 1))
        let cache = model.makeKVCache(blockSize: 16, blockCount: 4)
        var batch = Batch()
        batch.append(tokens: [99], startPosition: 0, blockTable: [0], wantsLogits: true)
        assertOneLineError(try model.forward(batch, cache: cache), contains: "outside the vocabulary")
        batch.removeAll()
        batch.append(tokens: [1], startPosition: 64, blockTable: [0, 1, 2, 3], wantsLogits: true)
        assertOneLineError(try model.forward(batch, cache: cache), contains: "beyond the context length")
    }

    func testPromptLongerThanContext() throws {
        let loaded = try LoadedModel(path: try TestModels.smollm2(), threads: 1)
        let gen = Generator(model: loaded.model, tokenizer: loaded.tokenizer, contextSize: 8)
        let ids = gen.encodePrompt(String(repeating: "hello world ", count: 10))
        assertOneLineError(try gen.generate(promptTokens: ids, params: SamplingParams()), contains: "context size is 8")
    }

    func testMissingAndNonGGUFFiles() throws {
        assertOneLineError(try LoadedModel(path: "/nonexistent/model.gguf"), contains: "/nonexistent/model.gguf")
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-model-\(UUID()).gguf")
        try Data("hello, I am not a model".utf8).write(to: tmp)
        defer { try? FileManager.default.removeItem(at: tmp) }
        assertOneLineError(try LoadedModel(path: tmp.path), contains: "GGUF")
    }

    /// The real file cut at many points: a clear error every time, never a crash.
    func testTruncatedRealModel() throws {
        let path = try TestModels.smollm2()
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(UUID()).gguf")
        defer { try? FileManager.default.removeItem(at: tmp) }
        var rng = SystemRandomNumberGenerator()
        let cuts = [0, 3, 4, 8, 23, 100, 5000, 1_000_000] + (0..<8).map { _ in Int.random(in: 0..<data.count, using: &rng) } + [data.count - 1]
        for cut in cuts {
            try data.prefix(cut).write(to: tmp)
            XCTAssertThrowsError(try LoadedModel(path: tmp.path, threads: 1), "cut at \(cut)") { error in
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    /// Random byte corruptions in the real file's header region: loading the model and
    /// tokenizer either throws a one-line error or succeeds; it never traps.
    func testCorruptedRealModelHeaders() throws {
        let path = try TestModels.smollm2()
        let original = try GGUFFile(path: path)
        let headerEnd = original.dataOffset
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var rng = SplitMix64(seed: 2026)
        var failures = 0
        for _ in 0..<60 {
            let saved = bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<headerEnd, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            do {
                _ = try LoadedModel(file: try GGUFFile(bytes: bytes), threads: 1)
            } catch {
                failures += 1
                XCTAssertFalse("\(error)".contains("\n"), "\(error)")
            }
            bytes = saved
        }
        print("corrupted headers: \(failures) of 60 rejected, the rest loaded")
    }
}

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
