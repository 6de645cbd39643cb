import CKernels
import GGUF

/// A weight tensor viewed in place in the mapped file: `rows` output rows of `cols` elements,
/// in the file's own (possibly quantized) format. ggml shape [cols, rows].
public struct WeightMatrix: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    public let data: UnsafeRawPointer
    public let rowBytes: Int

    public init(name: String, type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer) throws {
        guard CPUFeatures.supports(type) else { throw KernelError.unsupportedType(tensor: name, type: type) }
        guard rows > 0, cols > 0, cols % type.blockSize == 0, let rb = type.byteCount(elements: cols) else {
            throw KernelError.badShape(tensor: name, shape: [cols, rows], expected: "columns a multiple of \(type.blockSize)")
        }
        self.name = name
        self.type = type
        self.rows = rows
        self.cols = cols
        self.data = data
        self.rowBytes = rb
    }

    /// Views a 2-D GGUF tensor as a weight matrix.
    public init(_ file: GGUFFile, _ info: GGUFTensorInfo) throws {
        guard info.shape.count == 2 || (info.shape.count > 2 && info.shape[2...].allSatisfy { $0 == 1 }) else {
            throw KernelError.badShape(tensor: info.name, shape: info.shape, expected: "a 2-D matrix")
        }
        try self.init(name: info.name, type: info.type, rows: info.shape[1], cols: info.shape[0],
                      data: file.data(for: info).baseAddress!)
    }

    public var byteCount: Int { rows * rowBytes }

    /// Dequantizes row `r` into `out` (`cols` floats).
    public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        ck_dequantize(Int32(type.rawValue), data + r * rowBytes, out, Int64(cols))
    }
}

/// Dequantizes `count` elements of `type` from `src` (bit-exact with the gguf reference).
public func dequantize(_ type: GGMLType, _ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, count: Int) {
    ck_dequantize(Int32(type.rawValue), src, dst, Int64(count))
}
