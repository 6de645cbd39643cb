import Foundation
import GGUF
import XCTest
@testable import Tokenizers

/// A tiny SentencePiece vocabulary whose scores force a known merge order.
enum SyntheticSentencePiece {
    static let specials: [(String, TokenType)] = [
        ("<unk>", .unknown),  // 0
        ("<s>", .control),  // 1
        ("</s>", .control),  // 2
        ("<start>", .control),  // 3
        ("  ", .userDefined),  // 4: two spaces, as Gemma has
        ("\n", .userDefined),  // 5
    ]
    static let byteBase = specials.count  // <0x00> is id 6

    /// Normal tokens and scores; higher scores merge first.
    static let pieces: [(String, Float)] = [
        ("▁", 0), ("a", 0), ("b", 0), ("c", 0), ("d", 0), ("e", 0), ("h", 0), ("l", 0), ("o", 0), ("r", 0), ("w", 0),
        ("ll", -1), ("llo", -2), ("he", -3), ("hello", -4), ("▁h", -5), ("▁hello", -6),
        ("bc", -7), ("ab", -8), ("aa", -9), ("aaaa", -9),
        ("▁w", -10), ("or", -11), ("▁wor", -12), ("ld", -13), ("▁world", -14),
    ]

    static var tokens: [String] {
        specials.map(\.0) + (0..<256).map { String(format: "<0x%02X>", $0) } + pieces.map(\.0)
    }

    static func metadata(addSpacePrefix: Bool?, extra: [String: GGUFValue] = [:]) -> [String: GGUFValue] {
        var types = specials.map { Int32($0.1.rawValue) }
        types += [Int32](repeating: Int32(TokenType.byte.rawValue), count: 256)
        types += [Int32](repeating: Int32(TokenType.normal.rawValue), count: pieces.count)
        let scores = [Float](repeating: -1000, count: specials.count) + [Float](repeating: 0, count: 256)
            + pieces.map(\.1)
        // No BOS/EOS/unknown ids: llama.cpp's defaults for this model (1, 2, 0) apply.
        var metadata: [String: GGUFValue] = [
            "tokenizer.ggml.model": .string("llama"),
            "tokenizer.ggml.tokens": .array(tokens.map { .string($0) }),
            "tokenizer.ggml.token_type": .array(types.map { .int32($0) }),
            "tokenizer.ggml.scores": .array(scores.map { .float32($0) }),
        ]
        if let addSpacePrefix { metadata["tokenizer.ggml.add_space_prefix"] = .bool(addSpacePrefix) }
        for (key, value) in extra { metadata[key] = value }
        return metadata
    }

    static func tokenizer(addSpacePrefix: Bool?, extra: [String: GGUFValue] = [:]) throws -> SentencePieceTokenizer {
        try XCTUnwrap(loadTokenizer(metadata: metadata(addSpacePrefix: addSpacePrefix, extra: extra))
            as? SentencePieceTokenizer)
    }
}

final class SyntheticSentencePieceTests: XCTestCase {
    var plain: SentencePieceTokenizer!  // add_space_prefix false, as Gemma
    var prefixed: SentencePieceTokenizer!  // add_space_prefix absent: llama.cpp's default, true

    override func setUpWithError() throws {
        plain = try SyntheticSentencePiece.tokenizer(addSpacePrefix: false)
        prefixed = try SyntheticSentencePiece.tokenizer(addSpacePrefix: nil)
    }

    func ids(_ texts: String...) -> [TokenID] {
        texts.map { plain.tokenID(for: $0)! }
    }

    func byte(_ value: UInt8) -> TokenID { SyntheticSentencePiece.byteBase + Int(value) }

    func testDefaults() {
        XCTAssertTrue(prefixed.addSpacePrefix)
        XCTAssertFalse(plain.addSpacePrefix)
        XCTAssertEqual(plain.bosTokenID, 1)
        XCTAssertEqual(plain.eosTokenID, 2)
        XCTAssertTrue(plain.addBOS)
        XCTAssertFalse(plain.addEOS)
        XCTAssertEqual(plain.endOfGenerationTokenIDs, [2])
        XCTAssertEqual(plain.score(plain.tokenID(for: "▁hello")!), -6)
        XCTAssertTrue(supportedTokenizerModels.contains("llama"))
    }

    /// "▁hello": ll, llo, he, hello, then ▁hello; the early ▁h candidate goes stale when h merges into he.
    func testHighestScoreMergesFirst() {
        XCTAssertEqual(plain.encode(" hello", addSpecial: false, parseSpecial: false), ids("▁hello"))
        XCTAssertEqual(plain.encode("hello", addSpecial: false, parseSpecial: false), ids("hello"))
        XCTAssertEqual(plain.encode(" world", addSpecial: false, parseSpecial: false), ids("▁world"))
        // bc (-7) beats ab (-8); nothing spells a+bc.
        XCTAssertEqual(plain.encode("abc", addSpecial: false, parseSpecial: false), ids("a", "bc"))
        XCTAssertEqual(plain.encode("hello world", addSpecial: false, parseSpecial: false), ids("hello", "▁world"))
    }

    func testEqualScoresMergeLeftmostFirst() {
        XCTAssertEqual(plain.encode("aaa", addSpecial: false, parseSpecial: false), ids("aa", "a"))
        XCTAssertEqual(plain.encode("aaaa", addSpecial: false, parseSpecial: false), ids("aaaa"))
        XCTAssertEqual(plain.encode("aaaaa", addSpecial: false, parseSpecial: false), ids("aaaa", "a"))
    }

    func testByteFallback() {
        XCTAssertEqual(plain.encode("é", addSpecial: false, parseSpecial: false), [byte(0xC3), byte(0xA9)])
        XCTAssertEqual(plain.encode("a日", addSpecial: false, parseSpecial: false),
                       ids("a") + [byte(0xE6), byte(0x97), byte(0xA5)])
        XCTAssertEqual(plain.encode("\u{0}", addSpecial: false, parseSpecial: false), [byte(0)])
        XCTAssertEqual(plain.decode([byte(0xC3), byte(0xA9)]), "é")
        XCTAssertEqual(plain.tokenBytes(byte(0xFF)), [0xFF])
        XCTAssertEqual(plain.decode([byte(0xC3)]), "\u{FFFD}")
    }

    func testUserDefinedTokensSplitBeforeMerging() {
        // Two spaces are a user-defined token, matched even without parseSpecial; one space is ▁.
        XCTAssertEqual(plain.encode("hello  world", addSpecial: false, parseSpecial: false),
                       ids("hello") + [4] + ids("w", "or", "ld"))
        XCTAssertEqual(plain.encode("   hello", addSpecial: false, parseSpecial: false), [4] + ids("▁hello"))
        XCTAssertEqual(plain.encode("a\n\nb", addSpecial: false, parseSpecial: false), ids("a") + [5, 5] + ids("b"))
    }

    func testControlTokensParsedOnlyWhenAsked() {
        XCTAssertEqual(plain.encode("<start>hello", addSpecial: false, parseSpecial: true), [3] + ids("hello"))
        let literal = plain.encode("<start>", addSpecial: false, parseSpecial: false)
        XCTAssertFalse(literal.contains(3))
        XCTAssertEqual(plain.decode(literal), "<start>")
    }

    func testSpacePrefix() {
        // Added at the start of the text and after every special token, user-defined ones included.
        XCTAssertEqual(prefixed.encode("hello", addSpecial: false, parseSpecial: false), ids("▁hello"))
        XCTAssertEqual(prefixed.encode("hello world", addSpecial: false, parseSpecial: false), ids("▁hello", "▁world"))
        XCTAssertEqual(prefixed.encode("<start>hello", addSpecial: false, parseSpecial: true), [3] + ids("▁hello"))
        XCTAssertEqual(prefixed.encode("hello  world", addSpecial: false, parseSpecial: false),
                       ids("▁hello") + [4] + ids("▁world"))
        XCTAssertEqual(prefixed.encode("", addSpecial: false, parseSpecial: false), [])
        XCTAssertEqual(prefixed.encode("", addSpecial: true, parseSpecial: false), [1])
        XCTAssertEqual(prefixed.encode("hello", addSpecial: true, parseSpecial: false), [1] + ids("▁hello"))
        // Decoding drops the prefix again, as llama.cpp does; a skipped BOS first keeps the space.
        XCTAssertEqual(prefixed.decode(ids("▁hello", "▁world")), "hello world")
        XCTAssertEqual(prefixed.decode([1] + ids("▁hello"), skipSpecial: true), " hello")
        XCTAssertEqual(prefixed.decode([1] + ids("▁hello"), skipSpecial: false), "<s> hello")
        XCTAssertEqual(plain.decode(ids("▁hello", "▁world")), " hello world")
    }

    func testAddSpecialAndEOS() throws {
        let withEOS = try SyntheticSentencePiece.tokenizer(addSpacePrefix: false, extra: [
            "tokenizer.ggml.add_eos_token": .bool(true), "tokenizer.ggml.add_bos_token": .bool(false),
        ])
        XCTAssertEqual(withEOS.encode("hello", addSpecial: true, parseSpecial: false), ids("hello") + [2])
        XCTAssertEqual(withEOS.encode("hello", addSpecial: false, parseSpecial: false), ids("hello"))
    }

    func testIntegerScoresAndErrors() throws {
        let scores = SyntheticSentencePiece.metadata(addSpacePrefix: false)["tokenizer.ggml.scores"]!.array!
        let integer = try SyntheticSentencePiece.tokenizer(addSpacePrefix: false, extra: [
            "tokenizer.ggml.scores": .array(scores.map { .int32(Int32($0.float!)) }),
        ])
        XCTAssertEqual(integer.encode(" hello", addSpecial: false, parseSpecial: false), ids("▁hello"))

        func error(_ extra: [String: GGUFValue]) -> TokenizerError? {
            do {
                _ = try loadTokenizer(metadata: SyntheticSentencePiece.metadata(addSpacePrefix: false, extra: extra))
                return nil
            } catch {
                return error as? TokenizerError
            }
        }
        XCTAssertEqual(error(["tokenizer.ggml.scores": .array([.float32(0)])]),
                       .arrayTooShort(key: "tokenizer.ggml.scores", count: 1,
                                      expected: SyntheticSentencePiece.tokens.count))
        XCTAssertEqual(error(["tokenizer.ggml.scores": .array([.string("x")])]),
                       .wrongType(key: "tokenizer.ggml.scores", expected: "an array of numbers"))
        XCTAssertEqual(error(["tokenizer.ggml.add_space_prefix": .string("yes")]),
                       .wrongType(key: "tokenizer.ggml.add_space_prefix", expected: "a bool"))
    }

    func testIncrementalDetokenizerHoldsByteFallbackCharacters() {
        let text = "hello 日本 é😀 world"
        let ids = plain.encode(text, addSpecial: false, parseSpecial: false)
        var detokenizer = IncrementalDetokenizer(tokenizer: plain)
        var pieces = ids.map { detokenizer.append($0) }
        pieces.append(detokenizer.flush())
        XCTAssertEqual(pieces.joined(), text)
        XCTAssertFalse(pieces.contains { $0.contains("\u{FFFD}") })
        XCTAssertTrue(pieces.contains("日"))
    }
}

/// The real Gemma 3 vocabulary (262144 tokens) against llama.cpp's output.
final class GemmaTokenizerTests: XCTestCase {
    func testMatchesLlamaCppGolden() throws {
        let tokenizer = try GemmaFixture.tokenizer()
        let golden = try GemmaFixture.golden()
        if let addBOS = golden.add_bos { XCTAssertEqual(tokenizer.addBOS, addBOS) }
        if let prefix = golden.add_space_prefix { XCTAssertEqual(tokenizer.addSpacePrefix, prefix) }
        if let bos = golden.bos_id { XCTAssertEqual(tokenizer.bosTokenID, bos) }
        if let eos = golden.eos_id { XCTAssertEqual(tokenizer.eosTokenID, eos) }
        XCTAssertGreaterThanOrEqual(golden.cases.count, 60)

        var failures = 0
        for (index, c) in golden.cases.enumerated() {
            let ids = tokenizer.encode(c.text, addSpecial: false, parseSpecial: true)
            if ids != c.ids {
                failures += 1
                XCTFail("case \(index) \(c.text.debugDescription.prefix(120)): got \(ids.prefix(40)), llama.cpp \(c.ids.prefix(40))")
            }
            // Lossless except that a typed ▁ is SentencePiece's space marker (and add_space_prefix is off).
            XCTAssertEqual(tokenizer.decode(c.ids, skipSpecial: false), c.text.replacingOccurrences(of: "▁", with: " "),
                           "round trip of case \(index)")
        }
        print("Gemma 3 golden: \(golden.cases.count - failures)/\(golden.cases.count) cases match llama.cpp")
    }

    func testVocabularyFacts() throws {
        let tokenizer = try GemmaFixture.tokenizer()
        XCTAssertEqual(tokenizer.vocabularySize, 262_144)
        XCTAssertEqual(tokenizer.bosTokenID, 2)
        XCTAssertEqual(tokenizer.eosTokenID, 1)
        XCTAssertTrue(tokenizer.addBOS)
        XCTAssertFalse(tokenizer.addEOS)
        XCTAssertFalse(tokenizer.addSpacePrefix)
        // <eos>, <end_of_turn> (found by name), and </s> (a user-defined HTML tag llama.cpp lists by name).
        XCTAssertEqual(tokenizer.endOfGenerationTokenIDs, [1, 106, 212])
        XCTAssertEqual(tokenizer.tokenType(212), .control)
        XCTAssertEqual(tokenizer.tokenType(138), .userDefined)
        XCTAssertEqual(tokenizer.tokenText(138), "  ")
        XCTAssertEqual(tokenizer.tokenType(238), .byte)
        XCTAssertEqual(tokenizer.encode("Hi", addSpecial: true, parseSpecial: true).first, 2)
        let turn = tokenizer.encode("<start_of_turn>user\nhi<end_of_turn>\n", addSpecial: false, parseSpecial: true)
        XCTAssertEqual(turn.first, 105)
        XCTAssertEqual(tokenizer.decode(turn, skipSpecial: true), "user\nhi\n")
        XCTAssertFalse(tokenizer.encode("<start_of_turn>", addSpecial: false, parseSpecial: false).contains(105))
    }

    /// Byte-fallback characters arrive one byte per token; streamed pieces must never hold half a character.
    func testIncrementalDetokenizerOnByteFallback() throws {
        let tokenizer = try GemmaFixture.tokenizer()
        var texts = ["𠀀𠀁𪚥𰻞𱁬 rare ideographs", "\u{0}\u{1}\u{7}\u{1B}[31m ctl \u{7F}", "\u{E0001}\u{E0041} tags",
                     "\u{10FFFD}", "mixed 日本語 😀🧑‍🤝‍🧑 \u{E000}", "<start_of_turn>model\n𪚥<end_of_turn>"]
        if let golden = try? GemmaFixture.golden() { texts += golden.cases.map(\.text) }
        var byteTokensSeen = 0
        for text in texts {
            let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
            byteTokensSeen += ids.filter { tokenizer.tokenType($0) == .byte }.count
            for skipSpecial in [true, false] {
                var detokenizer = IncrementalDetokenizer(tokenizer: tokenizer, skipSpecial: skipSpecial)
                var pieces = ids.map { detokenizer.append($0) }
                pieces.append(detokenizer.flush())
                XCTAssertEqual(pieces.joined(), tokenizer.decode(ids, skipSpecial: skipSpecial), text.debugDescription)
                XCTAssertFalse(pieces.contains { $0.contains("\u{FFFD}") }, "broken UTF-8 in a piece of \(text.debugDescription)")
            }
        }
        XCTAssertGreaterThan(byteTokensSeen, 20)
    }

    func testLoadAndEncodeSpeed() throws {
        let path = try GemmaFixture.modelPath()
        var parseTimes: [Double] = []
        var loadTimes: [Double] = []
        var tokenizer: (any Tokenizer)?
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            let metadata = try GGUFFile(path: path).metadata
            let parsed = DispatchTime.now().uptimeNanoseconds
            tokenizer = try loadTokenizer(metadata: metadata)
            let loaded = DispatchTime.now().uptimeNanoseconds
            parseTimes.append(Double(parsed - start) / 1e6)
            loadTimes.append(Double(loaded - parsed) / 1e6)
        }
        let text = String(repeating: SmolLM2TokenizerTests.sampleParagraph,
                          count: 10_240 / SmolLM2TokenizerTests.sampleParagraph.utf8.count + 1)
        var encodeTimes: [Double] = []
        var count = 0
        for _ in 0..<20 {
            let start = DispatchTime.now().uptimeNanoseconds
            count = tokenizer!.encode(text, addSpecial: false, parseSpecial: true).count
            encodeTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        let parse = parseTimes.min()!, load = loadTimes.min()!, encode = encodeTimes.min()!
        print(String(format: "Gemma 3 tokenizer (262144 tokens): GGUF metadata %.1f ms, loadTokenizer %.1f ms (best of 3); encode %d bytes -> %d tokens in %.2f ms (best of 20)",
                     parse, load, text.utf8.count, count, encode))
        #if !DEBUG
        XCTAssertLessThan(load, 500)
        XCTAssertLessThan(parse + load, 1000)
        XCTAssertLessThan(encode, 50)
        #endif
    }
}
