import GGUF

/// Why a tensor cannot be used by the kernels.
public enum KernelError: Error, CustomStringConvertible, Equatable {
    case unsupportedType(tensor: String, type: GGMLType)
    case badShape(tensor: String, shape: [Int], expected: String)

    public var description: String {
        switch self {
        case .unsupportedType(let tensor, let type):
            return "tensor '\(tensor)' has type \(type), which SwiftLLM cannot compute with yet (supported: \(CPUFeatures.supportedTypes.map(\.description).joined(separator: ", ")))"
        case .badShape(let tensor, let shape, let expected):
            return "tensor '\(tensor)' has shape \(shape), expected \(expected)"
        }
    }
}
