import XCTest
@testable import Tokenizers

final class IncrementalDetokenizerTests: XCTestCase {
    func testHoldsSplitCharactersUntilComplete() throws {
        let tokenizer = try SyntheticVocabulary.tokenizer()
        let text = "a😀é日"
        let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        XCTAssertEqual(ids.count, text.utf8.count)  // one token per byte: nothing merges here
        var detokenizer = IncrementalDetokenizer(tokenizer: tokenizer)
        let pieces = ids.map { detokenizer.append($0) }
        XCTAssertEqual(pieces.filter { !$0.isEmpty }, ["a", "😀", "é", "日"])
        XCTAssertEqual(detokenizer.flush(), "")
    }

    func testIncompleteCharacterFlushedAsReplacement() throws {
        let tokenizer = try SyntheticVocabulary.tokenizer()
        let ids = tokenizer.encode("😀", addSpecial: false, parseSpecial: false)
        var detokenizer = IncrementalDetokenizer(tokenizer: tokenizer)
        XCTAssertEqual(detokenizer.append(ids[0]), "")
        XCTAssertEqual(detokenizer.append(ids[1]), "")
        XCTAssertEqual(detokenizer.flush(), "\u{FFFD}")
        XCTAssertEqual(tokenizer.decode(Array(ids[0..<2]), skipSpecial: true), "\u{FFFD}")
    }

    func testInvalidSequencesMatchDecode() throws {
        let tokenizer = try SyntheticVocabulary.tokenizer()
        func byteToken(_ byte: UInt8) -> TokenID {
            tokenizer.tokenID(for: String(Unicode.Scalar(ByteLevelAlphabet.scalarForByte[Int(byte)])!))!
        }
        let streams: [[UInt8]] = [
            [0xF0, 0x9F, 0x41, 0x42], [0xE0, 0x80, 0x41], [0xC3], [0x80, 0x80, 0xC3, 0xA9], [0xED, 0xA0, 0x80],
            [0xF4, 0x90, 0x80, 0x80], [0xFF, 0x41], [0xE2, 0x82, 0xAC, 0xE2, 0x82],
        ]
        for stream in streams {
            let ids = stream.map(byteToken)
            var detokenizer = IncrementalDetokenizer(tokenizer: tokenizer)
            let joined = ids.map { detokenizer.append($0) }.joined() + detokenizer.flush()
            XCTAssertEqual(joined, tokenizer.decode(ids, skipSpecial: true), "\(stream)")
        }
    }

    func testSkipsControlTokensButNotUserDefined() throws {
        let tokenizer = try SyntheticVocabulary.tokenizer()
        var detokenizer = IncrementalDetokenizer(tokenizer: tokenizer)
        XCTAssertEqual(detokenizer.append(1), "")
        XCTAssertEqual(detokenizer.append(3), "<tool>")
        var showing = IncrementalDetokenizer(tokenizer: tokenizer, skipSpecial: false)
        XCTAssertEqual(showing.append(1), "<|im_start|>")
    }
}
