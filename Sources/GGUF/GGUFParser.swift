/// Everything in a GGUF file except the tensor data.
struct GGUFHeader {
    var version: UInt32
    var metadata: [String: GGUFValue]
    var metadataKeys: [String]
    var tensors: [GGUFTensorInfo]
    var alignment: Int
    var dataOffset: Int
}

/// Parses and validates a GGUF header held in memory.
///
/// Layout (ggml docs/gguf.md, gguf-py): magic "GGUF", u32 version, u64 tensor count,
/// u64 key count, key/value pairs, tensor infos, zero padding up to the alignment, tensor
/// data. All little-endian. Versions 2 and 3 share this layout (v3 only allowed big-endian
/// files); v1 used u32 counts and lengths and is rejected.
///
/// Metadata is read in two passes. The first walks the whole header (keys, values, tensor
/// infos) without materialising values; only when the header's structure is sound does the
/// second pass build `GGUFValue`s. A corrupted array count that still fits in the file
/// (e.g. 49152 → 16 million i32 items, reaching into tensor data) therefore fails on the
/// garbage that follows instead of first allocating 24 bytes per bogus item. Keys and tensor
/// names, which pass 1 does decode, are capped at the lengths gguf.md allows.
enum GGUFParser {
    /// "GGUF" read as a little-endian u32.
    static let magic: UInt32 = 0x4655_4747
    /// Alignment of the data section when `general.alignment` is absent.
    static let defaultAlignment = 32
    /// ggml's GGML_MAX_DIMS.
    static let maxDimensions = 4
    /// Nesting limit for arrays of arrays; real files nest at most once.
    static let maxArrayDepth = 8
    /// Total metadata values (array items included). Real vocabularies hold well under a
    /// million entries; this bounds memory at ~400 MB for a hostile but well-formed file.
    static let maxValueCount = 1 << 24
    /// Longest metadata key (gguf.md: keys are at most 2^16-1 bytes).
    static let maxKeyLength = 65535
    /// Longest tensor name (gguf.md: at most 64 bytes; ggml's GGML_MAX_NAME).
    static let maxTensorNameLength = 64
    /// Smallest key/value pair: u64 key length, u32 type, 1-byte value.
    static let minimumKeyValueSize = 13
    /// Smallest tensor info: u64 name length, u32 n_dims, one u64 dim, u32 type, u64 offset.
    static let minimumTensorInfoSize = 32

    static func parse(base: UnsafeRawPointer, size: Int) throws(GGUFError) -> GGUFHeader {
        var cursor = ByteCursor(base: base, size: size)

        try cursor.require(4, "magic")
        let magicValue = cursor.readUnchecked(UInt32.self)
        guard magicValue == magic else { throw .badMagic(magicValue.byteSwapped) }

        let version = try cursor.read(UInt32.self, "version")
        // A big-endian v2/v3 file reads as 0x02000000 / 0x03000000 here (ggml's check).
        if version != 0 && version & 0xFFFF == 0 { throw .bigEndian(version: version.byteSwapped) }
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }

        let tensorCountOffset = cursor.offset
        let tensorCount = try cursor.read(UInt64.self, "tensor count")
        let keyCountOffset = cursor.offset
        let keyCount = try cursor.read(UInt64.self, "metadata key count")
        try cursor.requireCount(keyCount, itemSize: minimumKeyValueSize, countOffset: keyCountOffset,
                                "metadata key")

        let entries = try scanMetadata(&cursor, count: Int(keyCount))

        try cursor.requireCount(tensorCount, itemSize: minimumTensorInfoSize, countOffset: tensorCountOffset,
                                "tensor")
        let rawTensors = try readTensorInfos(&cursor, count: Int(tensorCount))
        let headerEnd = cursor.offset

        var metadata = [String: GGUFValue](minimumCapacity: entries.count)
        for entry in entries {
            var valueCursor = ByteCursor(base: base, size: size, offset: entry.valueOffset)
            let what = { "metadata key #\(entry.index) \(quoted(entry.key))" }
            metadata[entry.key] = try readValue(&valueCursor, type: entry.type, depth: 0, what)
        }

        let alignment = try alignment(from: metadata["general.alignment"])
        let (padded, overflow) = headerEnd.addingReportingOverflow(alignment - 1)
        guard !overflow else { throw .invalidAlignment("\(alignment) is larger than any file") }
        let dataOffset = padded & ~(alignment - 1)

        let tensors = try placeTensors(rawTensors, dataOffset: dataOffset, alignment: alignment, fileSize: size)
        return GGUFHeader(version: version, metadata: metadata, metadataKeys: entries.map(\.key),
                          tensors: tensors, alignment: alignment, dataOffset: dataOffset)
    }

    // MARK: - Metadata, pass 1: structure only

    /// A key whose value has been checked but not yet decoded.
    struct PendingEntry {
        let index: Int
        let key: String
        let type: GGUFValueType
        let valueOffset: Int
    }

    static func scanMetadata(_ cursor: inout ByteCursor, count: Int) throws(GGUFError) -> [PendingEntry] {
        var entries: [PendingEntry] = []
        entries.reserveCapacity(min(count, 1024))  // count is unverified: don't trust it for memory
        var seen = Set<String>()
        var valueCount = 0
        for index in 0..<count {
            let keyOffset = cursor.offset
            let key = try cursor.readName(limit: maxKeyLength, "metadata key #\(index)")
            guard seen.insert(key).inserted else { throw .duplicateKey(key, offset: keyOffset) }
            let what = { "metadata key #\(index) \(quoted(key))" }
            let typeOffset = cursor.offset
            let rawType = try cursor.read(UInt32.self, "\(what()) value type")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw .unknownValueType(rawType, what: what(), offset: typeOffset)
            }
            let valueOffset = cursor.offset
            try skipValue(&cursor, type: type, depth: 0, valueCount: &valueCount, what)
            entries.append(PendingEntry(index: index, key: key, type: type, valueOffset: valueOffset))
        }
        return entries
    }

    /// Moves past one value, checking everything `readValue` will rely on.
    static func skipValue(_ cursor: inout ByteCursor, type: GGUFValueType, depth: Int,
                          valueCount: inout Int, _ what: () -> String) throws(GGUFError) {
        valueCount += 1
        guard valueCount <= maxValueCount else { throw .tooManyValues(limit: maxValueCount) }
        switch type {
        case .string:
            try cursor.skipString(what())
        case .array:
            let (elementType, count) = try readArrayHeader(&cursor, depth: depth + 1, what)
            valueCount += count
            guard valueCount <= maxValueCount else { throw .tooManyValues(limit: maxValueCount) }
            if let size = elementType.fixedSize {
                cursor.offset += count * size  // fits: readArrayHeader checked count * size <= remaining
            } else if elementType == .string {
                for item in 0..<count { try cursor.skipString("\(what()) item \(item)") }
            } else {
                valueCount -= count  // each nested array counts itself in the recursive call
                for item in 0..<count {
                    try skipValue(&cursor, type: .array, depth: depth + 1, valueCount: &valueCount,
                                  { "\(what()) item \(item)" })
                }
            }
        default:
            let size = type.fixedSize ?? 0
            try cursor.require(size, what())
            cursor.offset += size
        }
    }

    /// Reads an array's element type and count, checking the nesting depth and that `count`
    /// elements of the smallest possible size fit in the rest of the file.
    static func readArrayHeader(_ cursor: inout ByteCursor, depth: Int,
                                _ what: () -> String) throws(GGUFError) -> (GGUFValueType, Int) {
        guard depth <= maxArrayDepth else {
            throw .nestingTooDeep(what: what(), offset: cursor.offset, limit: maxArrayDepth)
        }
        let typeOffset = cursor.offset
        let rawType = try cursor.read(UInt32.self, "\(what()) array element type")
        guard let elementType = GGUFValueType(rawValue: rawType) else {
            throw .unknownValueType(rawType, what: "\(what()) array elements", offset: typeOffset)
        }
        let countOffset = cursor.offset
        let count = try cursor.read(UInt64.self, "\(what()) array count")
        try cursor.requireCount(count, itemSize: elementType.minimumSize, countOffset: countOffset,
                                "\(what()) \(elementType) array")
        return (elementType, Int(count))  // fits: at most the bytes left in the file
    }

    // MARK: - Metadata, pass 2: decoding

    static func readValue(_ cursor: inout ByteCursor, type: GGUFValueType, depth: Int,
                          _ what: () -> String) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self, what()))
        case .int8: return .int8(try cursor.read(Int8.self, what()))
        case .uint16: return .uint16(try cursor.read(UInt16.self, what()))
        case .int16: return .int16(try cursor.read(Int16.self, what()))
        case .uint32: return .uint32(try cursor.read(UInt32.self, what()))
        case .int32: return .int32(try cursor.read(Int32.self, what()))
        case .float32: return .float32(Float(bitPattern: try cursor.read(UInt32.self, what())))
        case .bool: return .bool(try cursor.read(UInt8.self, what()) != 0)  // ggml: any nonzero byte
        case .string: return .string(try cursor.readString(what()))
        case .uint64: return .uint64(try cursor.read(UInt64.self, what()))
        case .int64: return .int64(try cursor.read(Int64.self, what()))
        case .float64: return .float64(Double(bitPattern: try cursor.read(UInt64.self, what())))
        case .array: return .array(try readArray(&cursor, depth: depth + 1, what))
        }
    }

    static func readArray(_ cursor: inout ByteCursor, depth: Int,
                          _ what: () -> String) throws(GGUFError) -> [GGUFValue] {
        let (elementType, count) = try readArrayHeader(&cursor, depth: depth, what)
        var items: [GGUFValue] = []
        items.reserveCapacity(count)
        // Fixed-size elements: the whole block was bounds-checked by readArrayHeader, so the
        // loops below load without per-item checks.
        switch elementType {
        case .uint8: for _ in 0..<count { items.append(.uint8(cursor.readUnchecked(UInt8.self))) }
        case .int8: for _ in 0..<count { items.append(.int8(cursor.readUnchecked(Int8.self))) }
        case .uint16: for _ in 0..<count { items.append(.uint16(cursor.readUnchecked(UInt16.self))) }
        case .int16: for _ in 0..<count { items.append(.int16(cursor.readUnchecked(Int16.self))) }
        case .uint32: for _ in 0..<count { items.append(.uint32(cursor.readUnchecked(UInt32.self))) }
        case .int32: for _ in 0..<count { items.append(.int32(cursor.readUnchecked(Int32.self))) }
        case .uint64: for _ in 0..<count { items.append(.uint64(cursor.readUnchecked(UInt64.self))) }
        case .int64: for _ in 0..<count { items.append(.int64(cursor.readUnchecked(Int64.self))) }
        case .bool: for _ in 0..<count { items.append(.bool(cursor.readUnchecked(UInt8.self) != 0)) }
        case .float32:
            for _ in 0..<count { items.append(.float32(Float(bitPattern: cursor.readUnchecked(UInt32.self)))) }
        case .float64:
            for _ in 0..<count { items.append(.float64(Double(bitPattern: cursor.readUnchecked(UInt64.self)))) }
        case .string:
            for item in 0..<count { items.append(.string(try cursor.readString("\(what()) item \(item)"))) }
        case .array:
            for item in 0..<count {
                items.append(.array(try readArray(&cursor, depth: depth + 1, { "\(what()) item \(item)" })))
            }
        }
        return items
    }

    static func alignment(from value: GGUFValue?) throws(GGUFError) -> Int {
        guard let value else { return defaultAlignment }
        switch value {
        case .uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64:
            guard let alignment = value.int, alignment > 0, alignment & (alignment - 1) == 0 else {
                throw .invalidAlignment("\(value.int.map(String.init) ?? "\(value)") is not a positive power of two")
            }
            return alignment
        default:
            throw .invalidAlignment("has type \(value.type), expected an unsigned integer")
        }
    }

    // MARK: - Tensor infos

    /// A tensor info as stored: offset still relative to the data section.
    struct RawTensorInfo {
        let name: String
        let type: GGMLType
        let shape: [Int]
        let relativeOffset: UInt64
        let byteCount: Int
    }

    static func readTensorInfos(_ cursor: inout ByteCursor, count: Int) throws(GGUFError) -> [RawTensorInfo] {
        var tensors: [RawTensorInfo] = []
        tensors.reserveCapacity(min(count, 4096))
        var seen = Set<String>()
        for index in 0..<count {
            let nameOffset = cursor.offset
            let name = try cursor.readName(limit: maxTensorNameLength, "tensor #\(index) name")
            guard seen.insert(name).inserted else { throw .duplicateTensor(name, offset: nameOffset) }

            let dimensionCount = try cursor.read(UInt32.self, "tensor \(quoted(name)) dimension count")
            guard dimensionCount >= 1 && dimensionCount <= UInt32(maxDimensions) else {
                throw .invalidDimensionCount(tensor: name, count: dimensionCount)
            }
            var shape: [Int] = []
            shape.reserveCapacity(Int(dimensionCount))
            for axis in 0..<Int(dimensionCount) {
                let raw = try cursor.read(UInt64.self, "tensor \(quoted(name)) dimension \(axis)")
                guard let dimension = Int(exactly: raw) else {
                    throw .invalidDimension(tensor: name, index: axis, value: raw)
                }
                shape.append(dimension)
            }
            var elements = 1
            for dimension in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw .sizeOverflow(tensor: name, shape: shape) }
                elements = product
            }

            let rawType = try cursor.read(UInt32.self, "tensor \(quoted(name)) type")
            guard let type = GGMLType(rawValue: rawType) else {
                throw .unknownTensorType(rawType, tensor: name)
            }
            // ggml quantizes along rows, so blocks may not straddle shape[0].
            guard shape[0] % type.blockSize == 0 else {
                throw .notBlockMultiple(tensor: name, type: type, rowLength: shape[0])
            }
            guard let byteCount = type.byteCount(elements: elements) else {
                throw .sizeOverflow(tensor: name, shape: shape)
            }
            let relativeOffset = try cursor.read(UInt64.self, "tensor \(quoted(name)) data offset")
            tensors.append(RawTensorInfo(name: name, type: type, shape: shape,
                                         relativeOffset: relativeOffset, byteCount: byteCount))
        }
        return tensors
    }

    /// Turns relative offsets into absolute ones and checks alignment and file bounds.
    static func placeTensors(_ raw: [RawTensorInfo], dataOffset: Int, alignment: Int,
                             fileSize: Int) throws(GGUFError) -> [GGUFTensorInfo] {
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(raw.count)
        for info in raw {
            guard info.relativeOffset % UInt64(alignment) == 0 else {
                throw .misalignedTensor(tensor: info.name, offset: info.relativeOffset, alignment: alignment)
            }
            let (start, startOverflow) = UInt64(dataOffset).addingReportingOverflow(info.relativeOffset)
            let (end, endOverflow) = start.addingReportingOverflow(UInt64(info.byteCount))
            guard !startOverflow, !endOverflow, end <= UInt64(fileSize) else {
                throw .tensorOutOfBounds(tensor: info.name, start: startOverflow ? .max : start,
                                         end: startOverflow || endOverflow ? .max : end, fileSize: fileSize)
            }
            tensors.append(GGUFTensorInfo(name: info.name, type: info.type, shape: info.shape,
                                          offset: Int(start), byteCount: info.byteCount))
        }
        return tensors
    }
}
