/// Why a model file cannot be loaded or a batch cannot run. Messages are one line.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(String?)
    case missingMetadata(String)
    case invalidMetadata(key: String, reason: String)
    case missingTensor(String)
    case badTensor(name: String, reason: String)
    case batchTooLarge(tokens: Int, capacity: Int)
    case contextOverflow(position: Int, contextLength: Int)
    case tokenOutOfRange(id: Int, vocabularySize: Int)

    /// The `general.architecture` names loadModel accepts (the Architectures table).
    public static var supportedArchitectures: [String] { Architectures.names }

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a):
            return "unsupported model architecture '\(a ?? "<missing general.architecture>")' (supported: \(Self.supportedArchitectures.joined(separator: ", ")))"
        case .missingMetadata(let key):
            return "model file lacks metadata key '\(key)'"
        case .invalidMetadata(let key, let reason):
            return "metadata '\(key)' is invalid: \(reason)"
        case .missingTensor(let name):
            return "model file lacks tensor '\(name)'"
        case .badTensor(let name, let reason):
            return "tensor '\(name)': \(reason)"
        case .batchTooLarge(let tokens, let capacity):
            return "batch of \(tokens) tokens exceeds the model's batch capacity of \(capacity)"
        case .contextOverflow(let position, let contextLength):
            return "position \(position) is beyond the context length \(contextLength)"
        case .tokenOutOfRange(let id, let vocabularySize):
            return "token id \(id) is outside the vocabulary (size \(vocabularySize))"
        }
    }
}
