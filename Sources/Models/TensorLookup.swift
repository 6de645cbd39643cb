import GGUF
import Kernels

/// Typed access to a file's tensors with shape checks, so a bad file fails at load time
/// with the tensor's name rather than later inside a kernel.
struct TensorLookup {
    let file: GGUFFile

    func has(_ name: String) -> Bool { file.tensor(named: name) != nil }

    /// A [rows, cols] weight matrix (ggml shape [cols, rows]).
    func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
        guard let info = file.tensor(named: name) else { throw ModelError.missingTensor(name) }
        guard info.shape.count >= 2, info.shape[0] == cols, info.shape[1] == rows,
              info.shape.dropFirst(2).allSatisfy({ $0 == 1 }) else {
            throw ModelError.badTensor(name: name, reason: "shape \(info.shape), expected [\(cols), \(rows)]")
        }
        do {
            return try WeightMatrix(file, info)
        } catch let error as KernelError {
            throw ModelError.badTensor(name: name, reason: error.description)
        }
    }

    /// A float vector of `count` elements (norm weights), copied out as F32.
    func vector(_ name: String, count: Int) throws -> [Float] {
        guard let info = file.tensor(named: name) else { throw ModelError.missingTensor(name) }
        guard info.elementCount == count else {
            throw ModelError.badTensor(name: name, reason: "has \(info.elementCount) elements, expected \(count)")
        }
        guard info.type == .f32 || info.type == .f16 || info.type == .bf16 else {
            throw ModelError.badTensor(name: name, reason: "type \(info.type) is not a float type")
        }
        let data = file.data(for: info)
        return [Float](unsafeUninitializedCapacity: count) { buf, n in
            dequantize(info.type, data.baseAddress!, into: buf.baseAddress!, count: count)
            n = count
        }
    }
}
