import Foundation
import GGUF
import XCTest
@testable import Tokenizers

/// The real SmolLM2 vocabulary (49152 tokens, `smollm` pre-tokenizer) against llama.cpp's output.
final class SmolLM2TokenizerTests: XCTestCase {
    func testMatchesLlamaCppGolden() throws {
        let tokenizer = try SmolLM2Fixture.tokenizer()
        let golden = try SmolLM2Fixture.golden()
        if let addBOS = golden.add_bos { XCTAssertEqual(tokenizer.addBOS, addBOS) }
        if let bos = golden.bos_id { XCTAssertEqual(tokenizer.bosTokenID, bos) }
        if let eos = golden.eos_id { XCTAssertEqual(tokenizer.eosTokenID, eos) }
        XCTAssertFalse(golden.cases.isEmpty)

        var failures = 0
        for (index, c) in golden.cases.enumerated() {
            let ids = tokenizer.encode(c.text, addSpecial: false, parseSpecial: true)
            if ids != c.ids {
                failures += 1
                XCTFail("case \(index) \(c.text.debugDescription.prefix(120)): got \(ids.prefix(40)), llama.cpp \(c.ids.prefix(40))")
            }
            // Byte-level BPE is lossless, and with specials shown the control tokens come back as written.
            XCTAssertEqual(tokenizer.decode(c.ids, skipSpecial: false), c.text, "round trip of case \(index)")
        }
        print("SmolLM2 golden: \(golden.cases.count - failures)/\(golden.cases.count) cases match llama.cpp")
    }

    /// The same vocabulary under the llama3, qwen2, gpt-2 and default pre-tokenizers, against llama.cpp run on
    /// copies of the file with `tokenizer.ggml.pre` changed (scripts/reference/gen_tokenizer_pre_variants.py).
    func testPreTokenizerVariantsMatchLlamaCpp() throws {
        var metadata = try SmolLM2Fixture.metadata()
        let variants = try SmolLM2Fixture.preTokenizerVariants()
        XCTAssertEqual(Set(variants.keys), ["llama-bpe", "qwen2", "gpt-2", "default"])
        for (pre, cases) in variants.sorted(by: { $0.key < $1.key }) {
            metadata["tokenizer.ggml.pre"] = .string(pre)
            let tokenizer = try loadTokenizer(metadata: metadata)
            var matched = 0
            for (index, c) in cases.enumerated() {
                let ids = tokenizer.encode(c.text, addSpecial: false, parseSpecial: true)
                if ids == c.ids {
                    matched += 1
                } else {
                    XCTFail("\(pre) case \(index) \(c.text.debugDescription.prefix(120)): got \(ids.prefix(40)), llama.cpp \(c.ids.prefix(40))")
                }
            }
            print("pre-tokenizer \(pre): \(matched)/\(cases.count) cases match llama.cpp")
        }
    }

    func testVocabularyFacts() throws {
        let tokenizer = try SmolLM2Fixture.tokenizer()
        XCTAssertEqual(tokenizer.vocabularySize, 49152)
        XCTAssertEqual(tokenizer.bosTokenID, 1)
        XCTAssertEqual(tokenizer.eosTokenID, 2)
        XCTAssertFalse(tokenizer.addBOS)
        // llama.cpp: <|endoftext|> and <|im_end|> by name, <reponame> as the fill-in-the-middle repository token.
        XCTAssertEqual(tokenizer.endOfGenerationTokenIDs, [0, 2, 4])
        XCTAssertEqual(tokenizer.tokenID(for: "<|im_start|>"), 1)
        XCTAssertEqual(tokenizer.tokenType(1), .control)
        XCTAssertEqual(tokenizer.encode("<|im_start|>user\nHi<|im_end|>", addSpecial: true, parseSpecial: true).first, 1)
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("<|im_start|>Hi", addSpecial: false, parseSpecial: true),
                                        skipSpecial: true), "Hi")
    }

    func testIncrementalDetokenizerMatchesDecode() throws {
        let tokenizer = try SmolLM2Fixture.tokenizer()
        var texts = [
            "Emoji: 😀👍🏽🇫🇷 and 👨‍👩‍👧‍👦 family", "日本語のテキストと中文", "Ünïcödé ß ŉ ǅ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math",
            "<|im_start|>assistant\nBonjour, ça va ? 🙂<|im_end|>",
        ]
        if let golden = try? SmolLM2Fixture.golden() { texts += golden.cases.map(\.text) }
        for text in texts {
            let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
            for skipSpecial in [true, false] {
                var detokenizer = IncrementalDetokenizer(tokenizer: tokenizer, skipSpecial: skipSpecial)
                var pieces = ids.map { detokenizer.append($0) }
                pieces.append(detokenizer.flush())
                XCTAssertEqual(pieces.joined(), tokenizer.decode(ids, skipSpecial: skipSpecial), text)
                if !text.contains("\u{FFFD}") {
                    XCTAssertFalse(pieces.contains { $0.contains("\u{FFFD}") }, "broken UTF-8 in a piece of \(text)")
                }
            }
        }
    }

    func testLoadAndEncodeSpeed() throws {
        let metadata = try SmolLM2Fixture.metadata()
        var loadTimes: [Double] = []
        var tokenizer: (any Tokenizer)?
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            tokenizer = try loadTokenizer(metadata: metadata)
            loadTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        let text = String(repeating: Self.sampleParagraph, count: 10_240 / Self.sampleParagraph.utf8.count + 1)
        var encodeTimes: [Double] = []
        var count = 0
        for _ in 0..<20 {
            let start = DispatchTime.now().uptimeNanoseconds
            count = tokenizer!.encode(text, addSpecial: false, parseSpecial: true).count
            encodeTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        let load = loadTimes.min()!, encode = encodeTimes.min()!
        print(String(format: "SmolLM2 tokenizer: load %.1f ms (best of 5); encode %d bytes -> %d tokens in %.2f ms (best of 20)",
                     load, text.utf8.count, count, encode))
        #if !DEBUG
        // Loose budgets (the targets are 50 ms and a few ms) so a busy machine does not fail the test.
        XCTAssertLessThan(load, 200)
        XCTAssertLessThan(encode, 50)
        #endif
    }

    static let sampleParagraph = """
        The quick brown fox jumps over the lazy dog. In 2024, researchers trained 135M-parameter models \
        on 2T tokens; it's surprising how well they're doing! Prices rose 3.5% (from $1,234.56 to $1,277.77).
        def main():\n    print("héllo wörld — ça va?")  # 日本語 😀\n\n
        """
}
