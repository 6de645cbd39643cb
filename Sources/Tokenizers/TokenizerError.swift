/// Why a tokenizer could not be loaded from GGUF metadata. Each description is one line.
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    case missingKey(String)
    case wrongType(key: String, expected: String)
    case unsupportedModel(String, supported: [String])
    case unsupportedPreTokenizer(String, supported: [String])
    case malformedMerge(index: Int, text: String)
    case tokenIDOutOfRange(key: String, id: Int, vocabularySize: Int)
    case arrayTooShort(key: String, count: Int, expected: Int)
    case duplicateToken(text: String, firstID: Int, secondID: Int)
    case emptyVocabulary
    /// `add_bos_token` / `add_eos_token` is true but the matching id is absent.
    case missingSpecialToken(flagKey: String, idKey: String)

    public var description: String {
        switch self {
        case .missingKey(let key):
            return "GGUF metadata has no \(key)"
        case .wrongType(let key, let expected):
            return "GGUF metadata \(key) is not \(expected)"
        case .unsupportedModel(let name, let supported):
            return "unsupported tokenizer model \"\(name)\" (supported: \(supported.joined(separator: ", ")))"
        case .unsupportedPreTokenizer(let name, let supported):
            return "unsupported pre-tokenizer \"\(name)\" (supported: \(supported.joined(separator: ", ")))"
        case .malformedMerge(let index, let text):
            return "malformed merge tokenizer.ggml.merges[\(index)] \"\(text)\": expected two tokens separated by a space"
        case .tokenIDOutOfRange(let key, let id, let size):
            return "\(key) = \(id) is out of range (vocabulary has \(size) tokens)"
        case .arrayTooShort(let key, let count, let expected):
            return "\(key) has \(count) entries, expected \(expected)"
        case .duplicateToken(let text, let first, let second):
            return "duplicate token \"\(text)\" in vocabulary (ids \(first) and \(second))"
        case .emptyVocabulary:
            return "tokenizer.ggml.tokens is empty"
        case .missingSpecialToken(let flagKey, let idKey):
            return "\(flagKey) is true but \(idKey) is not set"
        }
    }
}
