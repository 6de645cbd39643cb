/// Where one tensor lives in a GGUF file and how it is laid out.
public struct GGUFTensorInfo: Sendable, Equatable, CustomStringConvertible {
    /// The tensor's name, e.g. "blk.0.attn_q.weight".
    public let name: String
    /// The element format of the data.
    public let type: GGMLType
    /// Dimensions in ggml order: `shape[0]` is the innermost (contiguous) dimension, so a
    /// PyTorch `[out, in]` weight is stored as `[in, out]`.
    public let shape: [Int]
    /// Absolute byte offset of the data in the file (data section start + relative offset).
    public let offset: Int
    /// Bytes of data: `type.byteCount(elements: elementCount)`.
    public let byteCount: Int

    public init(name: String, type: GGMLType, shape: [Int], offset: Int, byteCount: Int) {
        self.name = name
        self.type = type
        self.shape = shape
        self.offset = offset
        self.byteCount = byteCount
    }

    /// Number of elements: the product of `shape` (checked for overflow when parsed).
    public var elementCount: Int {
        // Wrapping multiply: parsed shapes are known not to overflow, and a hand-made info
        // with an absurd shape must not trap here.
        shape.reduce(1, &*)
    }

    public var description: String {
        "\(name) \(type) \(shape) @\(offset) (\(byteCount) bytes)"
    }
}
