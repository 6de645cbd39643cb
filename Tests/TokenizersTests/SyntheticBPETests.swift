import GGUF
import XCTest
@testable import Tokenizers

final class SyntheticBPETests: XCTestCase {
    var tokenizer: (any Tokenizer)!

    override func setUpWithError() throws {
        tokenizer = try SyntheticVocabulary.tokenizer()
    }

    /// Token ids of `texts` (each must be a vocabulary string).
    func ids(_ texts: String...) -> [TokenID] {
        texts.map { tokenizer.tokenID(for: $0)! }
    }

    func testMergesApplyLowestRankFirst() {
        // "that": t h -> th (rank 0); a t -> at (rank 4); th+at never merge.
        XCTAssertEqual(tokenizer.encode("that", addSpecial: false, parseSpecial: false), ids("th", "at"))
        // "abc": b c (rank 2) beats a b (rank 3).
        XCTAssertEqual(tokenizer.encode("abc", addSpecial: false, parseSpecial: false), ids("a", "bc"))
        // " the": Ġ t (rank 9) waits until t h, th e are done, then Ġt he cannot apply: Ġ + the.
        XCTAssertEqual(tokenizer.encode(" the", addSpecial: false, parseSpecial: false), ids("Ġ", "the"))
        XCTAssertEqual(tokenizer.encode(" cat", addSpecial: false, parseSpecial: false), ids("Ġcat"))
    }

    func testEqualRanksMergeLeftmostFirst() {
        XCTAssertEqual(tokenizer.encode("aaaa", addSpecial: false, parseSpecial: false), ids("aaaa"))
        XCTAssertEqual(tokenizer.encode("aaa", addSpecial: false, parseSpecial: false), ids("aa", "a"))
        XCTAssertEqual(tokenizer.encode("aaaaa", addSpecial: false, parseSpecial: false), ids("aaaa", "a"))
    }

    func testBytesWithoutMergesStayBytes() {
        let emoji = "😀"
        let expected = Array(emoji.utf8).map { byte in
            tokenizer.tokenID(for: String(Unicode.Scalar(ByteLevelAlphabet.scalarForByte[Int(byte)])!))!
        }
        XCTAssertEqual(tokenizer.encode(emoji, addSpecial: false, parseSpecial: false), expected)
        XCTAssertEqual(tokenizer.decode(expected, skipSpecial: true), emoji)
    }

    func testControlTokensParsedOnlyWhenAsked() {
        let text = "<|im_start|>the<|im_end|>"
        XCTAssertEqual(tokenizer.encode(text, addSpecial: false, parseSpecial: true), [1] + ids("the") + [2])
        let plain = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        XCTAssertFalse(plain.contains(1))
        XCTAssertFalse(plain.contains(2))
        XCTAssertEqual(tokenizer.decode(plain, skipSpecial: true), text)
    }

    func testUserDefinedTokensAlwaysParsed() {
        XCTAssertEqual(tokenizer.encode("a<tool>b", addSpecial: false, parseSpecial: false), ids("a") + [3] + ids("b"))
        XCTAssertEqual(tokenizer.encode("a<tool>b", addSpecial: false, parseSpecial: true), ids("a") + [3] + ids("b"))
    }

    /// llama.cpp splits special tokens longest first over the whole text, not longest match per position:
    /// "xyz" (3 bytes) claims "wxyz"[1...] before "wx" is tried, so "wx" does not match there.
    func testLongerSpecialTokensClaimFirst() {
        XCTAssertEqual(tokenizer.encode("wxyz", addSpecial: false, parseSpecial: false), ids("w") + [4])
        XCTAssertEqual(tokenizer.encode("wxwx", addSpecial: false, parseSpecial: false), [5, 5])
    }

    func testAddSpecial() throws {
        XCTAssertFalse(tokenizer.addBOS)
        XCTAssertEqual(tokenizer.encode("a", addSpecial: true, parseSpecial: false), ids("a"))
        let withBOS = try SyntheticVocabulary.tokenizer(extra: [
            "tokenizer.ggml.add_bos_token": .bool(true), "tokenizer.ggml.add_eos_token": .bool(true),
        ])
        XCTAssertEqual(withBOS.encode("a", addSpecial: true, parseSpecial: false), [1] + ids("a") + [0])
        XCTAssertEqual(withBOS.encode("a", addSpecial: false, parseSpecial: false), ids("a"))
        XCTAssertEqual(withBOS.encode("", addSpecial: true, parseSpecial: false), [1, 0])
    }

    func testLlama3NamesDefaultToAddingBOS() throws {
        let llama = try SyntheticVocabulary.tokenizer(pre: "llama-bpe")
        XCTAssertTrue(llama.addBOS)
        XCTAssertEqual(llama.encode("a", addSpecial: true, parseSpecial: false), [1] + ids("a"))
        // ignore_merges: a word that is a token is taken whole. "Ġt he" would never be reached by merging " the".
        XCTAssertEqual(llama.encode(" the", addSpecial: false, parseSpecial: false), ids("Ġthe"))
    }

    func testDecode() {
        let tokens = [1] + ids("th", "at") + [3, 2]
        XCTAssertEqual(tokenizer.decode(tokens, skipSpecial: true), "that<tool>")
        XCTAssertEqual(tokenizer.decode(tokens, skipSpecial: false), "<|im_start|>that<tool><|im_end|>")
        XCTAssertEqual(tokenizer.decode([-1, 99999] + ids("a"), skipSpecial: true), "a")
        XCTAssertEqual(tokenizer.tokenBytes(tokenizer.tokenID(for: "Ġcat")!), Array(" cat".utf8))
        XCTAssertEqual(tokenizer.tokenText(tokenizer.tokenID(for: "Ġcat")!), "Ġcat")
        XCTAssertEqual(tokenizer.tokenType(2), .control)
        XCTAssertEqual(tokenizer.tokenType(3), .userDefined)
        XCTAssertEqual(tokenizer.tokenType(-5), .undefined)
        XCTAssertEqual(tokenizer.tokenBytes(1_000_000), [])
    }

    func testEndOfGeneration() {
        XCTAssertEqual(tokenizer.endOfGenerationTokenIDs, [0, 2])
        XCTAssertEqual(tokenizer.eosTokenID, 0)
        XCTAssertEqual(tokenizer.bosTokenID, 1)
    }

    func testExactLookupIsByteWise() {
        // "é" precomposed and decomposed are equal Swift Strings but different vocabulary strings.
        XCTAssertNil(tokenizer.tokenID(for: "e\u{301}"))
        XCTAssertEqual(tokenizer.tokenID(for: "é"), 4 + 2 + 0xE9)
    }

    func testErrors() {
        func error(_ metadata: [String: GGUFValue]) -> TokenizerError? {
            do {
                _ = try loadTokenizer(metadata: metadata)
                return nil
            } catch {
                return error as? TokenizerError
            }
        }
        XCTAssertEqual(error(SyntheticVocabulary.metadata(dropping: ["tokenizer.ggml.model"])),
                       .missingKey("tokenizer.ggml.model"))
        XCTAssertEqual(error(SyntheticVocabulary.metadata(dropping: ["tokenizer.ggml.merges"])),
                       .missingKey("tokenizer.ggml.merges"))
        XCTAssertEqual(error(SyntheticVocabulary.metadata(extra: ["tokenizer.ggml.model": .string("bert")])),
                       .unsupportedModel("bert", supported: supportedTokenizerModels))
        let unsupported = error(SyntheticVocabulary.metadata(pre: "klingon"))
        XCTAssertEqual(unsupported, .unsupportedPreTokenizer("klingon", supported: BPETokenizer.supportedPreTokenizers))
        XCTAssertTrue(unsupported!.description.contains("smollm"))
        XCTAssertEqual(error(SyntheticVocabulary.metadata(extra: ["tokenizer.ggml.merges": .array([.string("t h"), .string("th")])])),
                       .malformedMerge(index: 1, text: "th"))
        XCTAssertEqual(error(SyntheticVocabulary.metadata(extra: ["tokenizer.ggml.bos_token_id": .uint32(100_000)])),
                       .tokenIDOutOfRange(key: "tokenizer.ggml.bos_token_id", id: 100_000,
                                          vocabularySize: SyntheticVocabulary.tokens.count))
        XCTAssertEqual(error(SyntheticVocabulary.metadata(extra: ["tokenizer.ggml.add_bos_token": .bool(true)],
                                                          dropping: ["tokenizer.ggml.bos_token_id"])),
                       .missingSpecialToken(flagKey: "tokenizer.ggml.add_bos_token", idKey: "tokenizer.ggml.bos_token_id"))
        XCTAssertEqual(error(SyntheticVocabulary.metadata(extra: ["tokenizer.ggml.tokens": .string("oops")])),
                       .wrongType(key: "tokenizer.ggml.tokens", expected: "an array of strings"))
        XCTAssertEqual(error(SyntheticVocabulary.metadata(extra: ["tokenizer.ggml.token_type": .array([.int32(1)])])),
                       .arrayTooShort(key: "tokenizer.ggml.token_type", count: 1, expected: SyntheticVocabulary.tokens.count))
        for case let e? in [error(SyntheticVocabulary.metadata(pre: "klingon"))] {
            XCTAssertFalse(e.description.contains("\n"))
        }
    }
}
