/// The type tags of GGUF metadata values (gguf's `gguf_type` numbering).
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0
    case int8 = 1
    case uint16 = 2
    case int16 = 3
    case uint32 = 4
    case int32 = 5
    case float32 = 6
    case bool = 7
    case string = 8
    case array = 9
    case uint64 = 10
    case int64 = 11
    case float64 = 12

    /// Bytes of a scalar value in the file; nil for the variable-size string and array.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// The fewest bytes one value of this type can take in a file: a string is at least its
    /// u64 length, an array at least its u32 element type and u64 count. Used to reject
    /// counts that cannot fit in the bytes left before allocating anything for them.
    var minimumSize: Int {
        switch self {
        case .string: return 8
        case .array: return 12
        default: return fixedSize ?? 1
        }
    }

    /// Short names as `swiftllm inspect` prints them.
    public var description: String {
        switch self {
        case .uint8: return "u8"
        case .int8: return "i8"
        case .uint16: return "u16"
        case .int16: return "i16"
        case .uint32: return "u32"
        case .int32: return "i32"
        case .float32: return "f32"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        case .uint64: return "u64"
        case .int64: return "i64"
        case .float64: return "f64"
        }
    }
}
