/// Why a GGUF file could not be opened, parsed or written.
///
/// Each case carries enough context (byte offset, key or tensor name) for its one-line
/// `description` to say what is wrong and where, so a user can tell a truncated download
/// from a file produced by a buggy converter.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, inspected or mapped (`reason` is the system's message).
    case cannotOpen(path: String, reason: String)
    /// The file could not be written (`reason` is the system's message).
    case cannotWrite(path: String, reason: String)
    /// The first four bytes are not "GGUF"; `magic` holds them in file order (big-endian).
    case badMagic(UInt32)
    /// The version field only makes sense byte-swapped: a big-endian file.
    case bigEndian(version: UInt32)
    /// A version other than 2 or 3.
    case unsupportedVersion(UInt32)
    /// `what` needs `needed` bytes at `offset` but the file ends first.
    case truncated(what: String, needed: Int, offset: Int, fileSize: Int)
    /// A string's u64 length at `offset` runs past the end of the file.
    case stringTooLong(what: String, length: UInt64, offset: Int, fileSize: Int)
    /// A count read at `offset` cannot fit: `count` items of at least `itemSize` bytes each
    /// need more than the `available` bytes left in the file. Either the file is cut short or
    /// the count is corrupt; which one cannot be told apart.
    case countTooLarge(what: String, count: UInt64, offset: Int, itemSize: Int, available: Int)
    /// A key or tensor name longer than the format allows (`limit` bytes).
    case nameTooLong(what: String, length: Int, offset: Int, limit: Int)
    /// The metadata holds more values in total (array items included) than `limit`.
    case tooManyValues(limit: Int)
    /// A metadata value type tag outside 0...12.
    case unknownValueType(UInt32, what: String, offset: Int)
    /// Arrays nested deeper than `limit` levels.
    case nestingTooDeep(what: String, offset: Int, limit: Int)
    /// The same metadata key appears twice.
    case duplicateKey(String, offset: Int)
    /// The same tensor name appears twice.
    case duplicateTensor(String, offset: Int)
    /// `general.alignment` is not a positive power of two (or not an integer).
    case invalidAlignment(String)
    /// A tensor's n_dims is outside 1...4.
    case invalidDimensionCount(tensor: String, count: UInt32)
    /// A tensor dimension does not fit in a signed 64-bit integer.
    case invalidDimension(tensor: String, index: Int, value: UInt64)
    /// The product of a tensor's dimensions (or its byte size) overflows.
    case sizeOverflow(tensor: String, shape: [Int])
    /// A tensor type number that is not a known `GGMLType`.
    case unknownTensorType(UInt32, tensor: String)
    /// A row length (shape[0]) that is not a whole number of quantization blocks.
    case notBlockMultiple(tensor: String, type: GGMLType, rowLength: Int)
    /// A tensor offset (relative to the data section) that is not a multiple of the alignment.
    case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
    /// A tensor's absolute data range `[start, end)` is not inside the file. Values saturate
    /// at `UInt64.max` when the sum itself overflows.
    case tensorOutOfBounds(tensor: String, start: UInt64, end: UInt64, fileSize: Int)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open '\(path)': \(reason)"
        case let .cannotWrite(path, reason):
            return "cannot write '\(path)': \(reason)"
        case let .badMagic(magic):
            return "not a GGUF file (bad magic \(hex(magic)), expected 0x47475546 \"GGUF\")"
        case let .bigEndian(version):
            return "big-endian GGUF file (version \(version) stored byte-swapped); only little-endian files are supported"
        case let .unsupportedVersion(version):
            let hint = version == 1 ? " (GGUF v1 used 32-bit counts and is obsolete)" : ""
            return "unsupported GGUF version \(version)\(hint); versions 2 and 3 are supported"
        case let .truncated(what, needed, offset, fileSize):
            return "truncated GGUF file: \(what) needs \(needed) bytes at offset \(offset), file has \(fileSize)"
        case let .stringTooLong(what, length, offset, fileSize):
            return "\(what): string length \(length) at offset \(offset) exceeds file size \(fileSize)"
        case let .countTooLarge(what, count, offset, itemSize, available):
            let (bytes, overflow) = count.multipliedReportingOverflow(by: UInt64(itemSize))
            let needed = overflow ? "more than \(UInt64.max)" : "at least \(bytes)"
            return "truncated or corrupt GGUF file: \(what) count \(count) at offset \(offset) needs \(needed) bytes, \(available) remain"
        case let .nameTooLong(what, length, offset, limit):
            return "\(what): name length \(length) at offset \(offset) exceeds the limit of \(limit) bytes"
        case let .tooManyValues(limit):
            return "GGUF metadata holds more than \(limit) values in total"
        case let .unknownValueType(type, what, offset):
            return "unknown metadata value type \(type) for \(what) at offset \(offset)"
        case let .nestingTooDeep(what, offset, limit):
            return "\(what): arrays nested deeper than \(limit) levels at offset \(offset)"
        case let .duplicateKey(key, offset):
            return "duplicate metadata key \(quoted(key)) at offset \(offset)"
        case let .duplicateTensor(name, offset):
            return "duplicate tensor name \(quoted(name)) at offset \(offset)"
        case let .invalidAlignment(reason):
            return "invalid general.alignment: \(reason)"
        case let .invalidDimensionCount(tensor, count):
            return "tensor \(quoted(tensor)) has \(count) dimensions; 1 to 4 are allowed"
        case let .invalidDimension(tensor, index, value):
            return "tensor \(quoted(tensor)) dimension \(index) is \(value), larger than the largest signed 64-bit integer"
        case let .sizeOverflow(tensor, shape):
            return "tensor \(quoted(tensor)) with shape \(shape) is too large (element count or byte size overflows)"
        case let .unknownTensorType(type, tensor):
            return "unknown tensor type \(type) for tensor \(quoted(tensor))"
        case let .notBlockMultiple(tensor, type, rowLength):
            return "tensor \(quoted(tensor)) of type \(type) has rows of \(rowLength) elements, not a multiple of the block size \(type.blockSize)"
        case let .misalignedTensor(tensor, offset, alignment):
            return "tensor \(quoted(tensor)) data offset \(offset) is not a multiple of the alignment \(alignment)"
        case let .tensorOutOfBounds(tensor, start, end, fileSize):
            return "tensor \(quoted(tensor)) data [\(start), \(end)) lies outside the file (size \(fileSize))"
        }
    }
}

/// `0x` and eight upper-case hex digits.
private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

/// A key or tensor name for an error message: single-quoted, control characters escaped,
/// cut after 64 characters so garbage read as a name cannot flood the message.
func quoted(_ name: String) -> String {
    var out = "'"
    for (index, scalar) in name.unicodeScalars.enumerated() {
        if index == 64 {
            out += "...'"
            return out
        }
        if scalar.value < 0x20 || scalar.value == 0x7F {
            out += "\\u{" + String(scalar.value, radix: 16) + "}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out + "'"
}
