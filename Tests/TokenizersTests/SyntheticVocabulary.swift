import GGUF
@testable import Tokenizers

/// A tiny byte-level BPE vocabulary: four special tokens, the 256 byte characters, and a few merges.
enum SyntheticVocabulary {
    static let specials: [(String, TokenType)] = [
        ("<|endoftext|>", .control),  // 0
        ("<|im_start|>", .control),  // 1
        ("<|im_end|>", .control),  // 2
        ("<tool>", .userDefined),  // 3
        ("xyz", .userDefined),  // 4
        ("wx", .userDefined),  // 5
    ]

    /// Merges in rank order; each result is also a token.
    static let merges = ["t h", "th e", "b c", "a b", "a t", "Ġ c", "Ġc at", "a a", "aa aa", "Ġ t", "Ġt he"]

    static var tokens: [String] {
        var tokens = specials.map(\.0)
        tokens += ByteLevelAlphabet.scalarForByte.map { String(Unicode.Scalar($0)!) }
        for merge in merges { tokens.append(merge.replacingOccurrences(of: " ", with: "")) }
        return tokens
    }

    static func metadata(pre: String = "gpt-2", extra: [String: GGUFValue] = [:], dropping: Set<String> = [])
        -> [String: GGUFValue]
    {
        let tokens = self.tokens
        var types = specials.map { Int32($0.1.rawValue) }
        types += [Int32](repeating: 1, count: tokens.count - specials.count)
        var metadata: [String: GGUFValue] = [
            "tokenizer.ggml.model": .string("gpt2"),
            "tokenizer.ggml.pre": .string(pre),
            "tokenizer.ggml.tokens": .array(tokens.map { .string($0) }),
            "tokenizer.ggml.token_type": .array(types.map { .int32($0) }),
            "tokenizer.ggml.merges": .array(merges.map { .string($0) }),
            "tokenizer.ggml.bos_token_id": .uint32(1),
            "tokenizer.ggml.eos_token_id": .uint32(0),
        ]
        for (key, value) in extra { metadata[key] = value }
        for key in dropping { metadata.removeValue(forKey: key) }
        return metadata
    }

    static func tokenizer(pre: String = "gpt-2", extra: [String: GGUFValue] = [:]) throws -> any Tokenizer {
        try loadTokenizer(metadata: metadata(pre: pre, extra: extra))
    }
}
