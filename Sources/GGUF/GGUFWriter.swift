#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds GGUF files in memory (used by tests and by scripts that make random-weight models).
///
/// Output follows gguf-py's layout: keys in insertion order, tensor infos with offsets
/// relative to the data section, zero padding to the alignment after the tensor infos and
/// after every tensor's data (including the last).
///
/// Inputs come from code, not files, so mistakes (a mixed-type array, a data length that
/// does not match the shape) are programming errors and trap with a message.
public struct GGUFWriter: Sendable {
    /// Format version written in the header.
    public let version: UInt32
    /// Padding unit for the data section; follows a valid `general.alignment` if one is added.
    public private(set) var alignment: Int

    private var keys: [String] = []
    private var values: [String: GGUFValue] = [:]
    private var tensors: [PendingTensor] = []
    private var tensorNames: Set<String> = []

    private struct PendingTensor: Sendable {
        let name: String
        let type: GGMLType
        let shape: [Int]
        let data: [UInt8]
    }

    /// A writer for `version` (2 and 3 share one layout; others are written as asked, which
    /// tests use to make unsupported files). A non-default `alignment` is recorded as
    /// `general.alignment` (u32), as gguf-py does.
    public init(version: UInt32 = 3, alignment: Int = 32) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0 && alignment <= Int(UInt32.max),
                     "GGUF alignment must be a power of two, got \(alignment)")
        self.version = version
        self.alignment = alignment
        if alignment != GGUFParser.defaultAlignment {
            add(key: "general.alignment", value: .uint32(UInt32(alignment)))
        }
    }

    /// Sets `key` (at most 65535 bytes) to `value`. A key added twice keeps its first position and the last value.
    /// Arrays must hold elements of one type (GGUF stores a single element type per array).
    public mutating func add(key: String, value: GGUFValue) {
        precondition(key.utf8.count <= GGUFParser.maxKeyLength, "GGUF keys are at most 65535 bytes")
        precondition(Self.isHomogeneous(value), "GGUF arrays need elements of one type (key '\(key)')")
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
        if key == "general.alignment", let a = value.int, a > 0, a & (a - 1) == 0 {
            alignment = a
        }
    }

    /// Adds a tensor. `name` is at most 64 bytes; `shape` is in ggml order (innermost
    /// first); `data.count` must equal `type.byteCount(elements:)` of the shape's product.
    public mutating func addTensor(name: String, type: GGMLType, shape: [Int], data: [UInt8]) {
        precondition(name.utf8.count <= GGUFParser.maxTensorNameLength, "tensor name '\(name)' is longer than 64 bytes")
        precondition((1...GGUFParser.maxDimensions).contains(shape.count) && shape.allSatisfy { $0 >= 0 },
                     "tensor '\(name)': shape \(shape) must have 1 to 4 non-negative dimensions")
        var elements = 1
        for dimension in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            precondition(!overflow, "tensor '\(name)': shape \(shape) has more elements than Int can count")
            elements = product
        }
        precondition(type.byteCount(elements: elements) == data.count,
                     "tensor '\(name)': \(type) \(shape) needs \(type.byteCount(elements: elements).map(String.init) ?? "a whole number of blocks, not \(elements) elements"), got \(data.count) bytes")
        precondition(tensorNames.insert(name).inserted, "duplicate tensor name '\(name)'")
        tensors.append(PendingTensor(name: name, type: type, shape: shape, data: data))
    }

    /// The complete file.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(tensors.reduce(4096) { $0 + $1.data.count + alignment })
        out.append(contentsOf: Array("GGUF".utf8))
        Self.append(version, to: &out)
        Self.append(UInt64(tensors.count), to: &out)
        Self.append(UInt64(keys.count), to: &out)
        for key in keys {
            let value = values[key]!
            Self.append(key, to: &out)
            Self.append(value.type.rawValue, to: &out)
            Self.appendPayload(value, to: &out)
        }
        var relativeOffset = 0
        for tensor in tensors {
            Self.append(tensor.name, to: &out)
            Self.append(UInt32(tensor.shape.count), to: &out)
            for dimension in tensor.shape { Self.append(UInt64(dimension), to: &out) }
            Self.append(tensor.type.rawValue, to: &out)
            Self.append(UInt64(relativeOffset), to: &out)
            relativeOffset += padded(tensor.data.count)
        }
        out.append(contentsOf: repeatElement(0, count: padded(out.count) - out.count))
        for tensor in tensors {
            out.append(contentsOf: tensor.data)
            out.append(contentsOf: repeatElement(0, count: padded(tensor.data.count) - tensor.data.count))
        }
        return out
    }

    /// Writes `serialized()` to `path`, replacing any existing file.
    public func write(to path: String) throws {
        let bytes = serialized()
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GGUFError.cannotWrite(path: path, reason: MappedRegion.lastError()) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + written, $0.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                throw GGUFError.cannotWrite(path: path, reason: MappedRegion.lastError())
            }
            written += result
        }
    }

    // MARK: - Encoding

    private func padded(_ count: Int) -> Int {
        (count + alignment - 1) / alignment * alignment
    }

    private static func isHomogeneous(_ value: GGUFValue) -> Bool {
        guard case .array(let items) = value else { return true }
        guard let first = items.first?.type else { return true }
        return items.allSatisfy { $0.type == first && isHomogeneous($0) }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func append(_ string: String, to out: inout [UInt8]) {
        let utf8 = string.utf8
        append(UInt64(utf8.count), to: &out)
        out.append(contentsOf: utf8)
    }

    /// The value's bytes without its type tag. An empty array is written with element type
    /// u8: GGUFValue does not remember the element type of an empty array.
    private static func appendPayload(_ value: GGUFValue, to out: inout [UInt8]) {
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .bool(let v): append(UInt8(v ? 1 : 0), to: &out)
        case .string(let v): append(v, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .array(let items):
            append((items.first?.type ?? .uint8).rawValue, to: &out)
            append(UInt64(items.count), to: &out)
            for item in items { appendPayload(item, to: &out) }
        }
    }
}

/// The C `write`, which `GGUFWriter.write(to:)` shadows inside the type.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
