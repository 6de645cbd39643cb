import Foundation
import XCTest
@testable import GGUF
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real SmolLM2-135M-Instruct Q4_1 file: expected contents, speed, and robustness against
/// truncation and corruption. Skipped when the model is not in the cache.
final class SmolLM2FileTests: XCTestCase {
    func modelPath() throws -> String {
        guard let path = smolLM2Path() else {
            throw XCTSkip("SmolLM2-135M-Instruct.Q4_1.gguf not in $SWIFTLLM_CACHE (default ~/.cache/swiftllm)")
        }
        return path
    }

    func testExpectedContents() throws {
        let gguf = try GGUFFile(path: try modelPath())
        XCTAssertEqual(gguf.version, 3)
        XCTAssertEqual(gguf.architecture, "llama")
        XCTAssertEqual(gguf.alignment, 32)
        XCTAssertEqual(gguf.fileSize, 98_362_432)
        XCTAssertEqual(gguf.metadataKeys.count, 33)
        XCTAssertEqual(gguf.metadataKeys.first, "general.architecture")
        XCTAssertEqual(gguf.metadataKeys.last, "general.quantization_version")
        XCTAssertEqual(gguf.dataOffset, 1_785_664)

        XCTAssertEqual(gguf.string("general.name"), "Smollm2 135M 8k Lc100K Mix1 Ep2")
        XCTAssertEqual(gguf.int("llama.block_count"), 30)
        XCTAssertEqual(gguf.int("llama.context_length"), 8192)
        XCTAssertEqual(gguf.int("llama.embedding_length"), 576)
        XCTAssertEqual(gguf.int("llama.feed_forward_length"), 1536)
        XCTAssertEqual(gguf.int("llama.attention.head_count"), 9)
        XCTAssertEqual(gguf.int("llama.attention.head_count_kv"), 3)
        XCTAssertEqual(gguf.int("llama.rope.dimension_count"), 64)
        XCTAssertEqual(gguf.int("llama.vocab_size"), 49152)
        XCTAssertEqual(gguf.float("llama.rope.freq_base"), 100_000)
        XCTAssertEqual(gguf.float("llama.attention.layer_norm_rms_epsilon"), 1e-5)
        XCTAssertEqual(gguf.int("general.file_type"), 3)  // MOSTLY_Q4_1

        XCTAssertEqual(gguf.string("tokenizer.ggml.model"), "gpt2")
        XCTAssertEqual(gguf.string("tokenizer.ggml.pre"), "smollm")
        XCTAssertEqual(gguf.bool("tokenizer.ggml.add_bos_token"), false)
        XCTAssertEqual(gguf.bool("tokenizer.ggml.add_space_prefix"), false)
        XCTAssertEqual(gguf.int("tokenizer.ggml.bos_token_id"), 1)
        XCTAssertEqual(gguf.int("tokenizer.ggml.eos_token_id"), 2)
        XCTAssertEqual(gguf.int("tokenizer.ggml.unknown_token_id"), 0)
        XCTAssertEqual(gguf.int("tokenizer.ggml.padding_token_id"), 2)
        XCTAssertTrue(gguf.string("tokenizer.chat_template")?.contains("<|im_start|>") ?? false)

        let tokens = try XCTUnwrap(gguf.stringArray("tokenizer.ggml.tokens"))
        XCTAssertEqual(tokens.count, 49152)
        XCTAssertEqual(Array(tokens.prefix(3)), ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        XCTAssertEqual(gguf.array("tokenizer.ggml.token_type")?.count, 49152)
        XCTAssertEqual(gguf.array("tokenizer.ggml.token_type")?.first, .int32(3))
        let merges = try XCTUnwrap(gguf.stringArray("tokenizer.ggml.merges"))
        XCTAssertEqual(merges.count, 48900)
        XCTAssertEqual(merges.first, "Ġ t")

        XCTAssertEqual(gguf.tensors.count, 272)
        var typeCounts: [GGMLType: Int] = [:]
        for tensor in gguf.tensors { typeCounts[tensor.type, default: 0] += 1 }
        XCTAssertEqual(typeCounts, [.q8_0: 1, .f32: 61, .q4_1: 210])
        let embedding = try XCTUnwrap(gguf.tensor(named: "token_embd.weight"))
        XCTAssertEqual(embedding.type, .q8_0)
        XCTAssertEqual(embedding.shape, [576, 49152])
        XCTAssertEqual(embedding.offset, gguf.dataOffset)
        XCTAssertEqual(gguf.tensor(named: "blk.0.ffn_down.weight")?.shape, [1536, 576])
        XCTAssertEqual(gguf.tensor(named: "blk.0.ffn_down.weight")?.type, .q4_1)
        XCTAssertEqual(gguf.tensor(named: "blk.29.attn_k.weight")?.shape, [576, 192])
        XCTAssertNil(gguf.tensor(named: "output.weight"))  // tied to token_embd
        let lastEnd = gguf.tensors.map { $0.offset + $0.byteCount }.max()
        XCTAssertEqual(lastEnd, gguf.fileSize)
        XCTAssertEqual(gguf.tensors.reduce(0) { $0 + $1.elementCount }, 134_515_008)
        assertConsistent(gguf)

        let report = inspectReport(gguf)
        XCTAssertTrue(report.contains("[array of 49152 string: \"<|endoftext|>\", \"<|im_start|>\""), report)
        XCTAssertTrue(report.contains("134515008 parameters"), report)
        print(report.split(separator: "\n").prefix(40).joined(separator: "\n"))
        print("...")
        print(report.split(separator: "\n").suffix(6).joined(separator: "\n"))
    }

    func testParsesFast() throws {
        let path = try modelPath()
        _ = try GGUFFile(path: path)  // warm the page cache
        var best = Double.infinity
        for _ in 0..<5 {
            best = min(best, try measureSeconds { _ = try GGUFFile(path: path) })
        }
        print("SmolLM2 header parse (49152 tokens + 48900 merges + 272 tensors): \(String(format: "%.1f", best * 1000)) ms")
        #if !DEBUG  // the budget is for optimized builds
        XCTAssertLessThan(best, 0.1)
        #endif
    }

    /// ~200 truncation points across the header and the data; every one must throw, and
    /// cuts in the data section must be reported as a tensor outside the file.
    func testTruncations() throws {
        let original = try modelPath()
        let full = try GGUFFile(path: original)
        let (directory, cleanup) = try makeTemporaryDirectory()
        defer { cleanup() }
        let copy = directory.appendingPathComponent("truncated.gguf").path
        try FileManager.default.copyItem(atPath: original, toPath: copy)

        var rng = SplitMix64(state: 7)
        var lengths = Set<Int>([0, 1, 4, 8, 23, 24, 25, 100, full.dataOffset - 1, full.dataOffset,
                                full.dataOffset + 1, full.fileSize - 1])
        for i in 0..<60 { lengths.insert(i * full.dataOffset / 60) }                  // evenly through the header
        while lengths.count < 130 { lengths.insert(Int.random(in: 0..<full.dataOffset, using: &rng)) }
        for i in 0..<40 { lengths.insert(full.dataOffset + i * (full.fileSize - full.dataOffset) / 40) }
        while lengths.count < 200 { lengths.insert(Int.random(in: full.dataOffset..<full.fileSize, using: &rng)) }

        var kinds: [String: Int] = [:]
        for length in lengths.sorted(by: >) {  // shrinking one copy: no need to rewrite 98 MB each time
            XCTAssertEqual(truncate(copy, off_t(length)), 0)
            do {
                _ = try GGUFFile(path: copy)
                XCTFail("truncation to \(length) bytes parsed")
            } catch let error as GGUFError {
                kinds[kind(error), default: 0] += 1
                if length >= full.dataOffset {
                    guard case .tensorOutOfBounds = error else {
                        XCTFail("truncation to \(length): \(error)")
                        continue
                    }
                } else {
                    XCTAssertTrue(error.description.hasPrefix("truncated"), "truncation to \(length): \(error)")
                }
            }
        }
        print("SmolLM2 truncations (\(lengths.count)):", kinds.sorted { $0.key < $1.key })
    }

    /// 500 random single- and multi-byte corruptions of the header region. Each must throw a
    /// GGUFError or parse to a consistent file.
    func testHeaderCorruptions() throws {
        let original = try modelPath()
        let full = try GGUFFile(path: original)
        let (directory, cleanup) = try makeTemporaryDirectory()
        defer { cleanup() }
        let copy = directory.appendingPathComponent("corrupt.gguf").path
        try FileManager.default.copyItem(atPath: original, toPath: copy)
        let fd = open(copy, O_RDWR)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }

        let reader = try XCTUnwrap(FileHandle(forReadingAtPath: original))
        let header = [UInt8](try XCTUnwrap(try reader.read(upToCount: full.dataOffset)))
        try reader.close()
        XCTAssertEqual(header.count, full.dataOffset)
        // Most of the header is token text, where a flipped byte just changes a token. Aim half
        // the corruptions at the structural parts: the fixed header and first keys, the
        // neighbourhood of each array header, and the tensor infos.
        let tensorInfoStart = try XCTUnwrap(find(Array("token_embd.weight".utf8), in: header)) - 8
        var hotSpots: [Range<Int>] = [0..<2048, tensorInfoStart..<full.dataOffset]
        for key in ["tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges",
                    "tokenizer.ggml.bos_token_id", "tokenizer.chat_template"] {
            if let at = find(Array(key.utf8), in: header) { hotSpots.append(max(0, at - 16)..<min(header.count, at + 64)) }
        }

        var parsed = 0
        var kinds: [String: Int] = [:]
        // GGUF_CORRUPTION_TRIALS / GGUF_CORRUPTION_SEED allow longer or different soak runs.
        let environment = ProcessInfo.processInfo.environment
        let trials = environment["GGUF_CORRUPTION_TRIALS"].flatMap { Int($0) } ?? 500
        var rng = SplitMix64(state: environment["GGUF_CORRUPTION_SEED"].flatMap { UInt64($0) } ?? 2024)
        for trial in 0..<trials {
            let region = trial % 2 == 0 ? 0..<full.dataOffset : hotSpots[Int.random(in: 0..<hotSpots.count, using: &rng)]
            var patches: [(Int, [UInt8])] = []
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:  // one byte
                patches.append((Int.random(in: region, using: &rng), [UInt8.random(in: 0...255, using: &rng)]))
            case 1:  // a run of 2...8 bytes
                let count = Int.random(in: 2...8, using: &rng)
                let at = min(Int.random(in: region, using: &rng), full.dataOffset - count)
                patches.append((at, (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }))
            default:  // 2...4 scattered bytes, sometimes set to 0xFF (maximal counts and lengths)
                for _ in 0..<Int.random(in: 2...4, using: &rng) {
                    let byte: UInt8 = Bool.random(using: &rng) ? 0xFF : UInt8.random(in: 0...255, using: &rng)
                    patches.append((Int.random(in: region, using: &rng), [byte]))
                }
            }
            for (at, bytes) in patches { XCTAssertEqual(pwrite(fd, bytes, bytes.count, off_t(at)), bytes.count) }
            do {
                let gguf = try GGUFFile(path: copy)
                assertConsistent(gguf)
                parsed += 1
            } catch let error as GGUFError {
                kinds[kind(error), default: 0] += 1
            } catch {
                XCTFail("trial \(trial): non-GGUF error \(error)")
            }
            for (at, bytes) in patches.reversed() {
                let restore = Array(header[at..<at + bytes.count])
                XCTAssertEqual(pwrite(fd, restore, restore.count, off_t(at)), restore.count)
            }
        }
        print("SmolLM2 header corruptions: \(trials) trials, \(parsed) still parse; errors:", kinds.sorted { $0.key < $1.key })
        // The copy was restored after every trial.
        XCTAssertEqual(try GGUFFile(path: copy).metadata, full.metadata)
    }

    private func kind(_ error: GGUFError) -> String {
        String("\(Mirror(reflecting: error).children.first?.label ?? "\(error)")")
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<start + needle.count].elementsEqual(needle) { return start }
        }
        return nil
    }
}
