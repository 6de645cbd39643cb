/// A bounds-checked little-endian reader over a read-only byte region (the mmapped file).
///
/// Every read checks the bytes it needs against the end of the region before touching memory
/// and throws `GGUFError.truncated` otherwise. `what` is an autoclosure so the context text
/// of an error ("metadata key #3 'x' item 17") is only built when something is wrong.
struct ByteCursor {
    let base: UnsafeRawPointer
    let size: Int
    var offset: Int

    init(base: UnsafeRawPointer, size: Int, offset: Int = 0) {
        self.base = base
        self.size = size
        self.offset = offset
    }

    /// Bytes between the cursor and the end of the region.
    var remaining: Int { size - offset }

    /// Throws unless `count` more bytes are available.
    @inline(__always)
    func require(_ count: Int, _ what: @autoclosure () -> String) throws(GGUFError) {
        if count > size - offset {
            throw .truncated(what: what(), needed: count, offset: offset, fileSize: size)
        }
    }

    @inline(__always)
    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> T {
        try require(MemoryLayout<T>.size, what())
        let raw = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: raw)
    }

    /// Loads a value at the cursor without a bounds check; the caller has checked.
    @inline(__always)
    mutating func readUnchecked<T: FixedWidthInteger>(_: T.Type) -> T {
        let raw = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: raw)
    }

    /// Reads a GGUF string's u64 length and checks that many bytes follow. Returns the length;
    /// the cursor is left at the first byte of the string.
    @inline(__always)
    mutating func readStringLength(_ what: @autoclosure () -> String) throws(GGUFError) -> Int {
        let lengthOffset = offset
        let length = try read(UInt64.self, what())
        guard length <= UInt64(size - offset) else {
            // A length the whole file could not hold is corrupt; a plausible one means the
            // file was cut short, which is what a user needs to hear (re-download).
            if length > UInt64(size) {
                throw .stringTooLong(what: what(), length: length, offset: lengthOffset, fileSize: size)
            }
            throw .truncated(what: what(), needed: Int(length), offset: offset, fileSize: size)
        }
        return Int(length)  // fits: at most the bytes left in the region
    }

    /// Reads a GGUF string (u64 length + bytes). Invalid UTF-8 is repaired with U+FFFD.
    @inline(__always)
    mutating func readString(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        let length = try readStringLength(what())
        let bytes = UnsafeBufferPointer(
            start: (base + offset).assumingMemoryBound(to: UInt8.self), count: length)
        offset += length
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads a GGUF string that names something (a key or tensor) and may not exceed
    /// `limit` bytes; the check comes before decoding, so garbage read as a name after a
    /// corrupted count cannot allocate more than `limit` bytes.
    mutating func readName(limit: Int, _ what: @autoclosure () -> String) throws(GGUFError) -> String {
        let lengthOffset = offset
        let length = try readStringLength(what())
        guard length <= limit else {
            throw .nameTooLong(what: what(), length: length, offset: lengthOffset, limit: limit)
        }
        let bytes = UnsafeBufferPointer(
            start: (base + offset).assumingMemoryBound(to: UInt8.self), count: length)
        offset += length
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Skips a GGUF string without decoding it.
    @inline(__always)
    mutating func skipString(_ what: @autoclosure () -> String) throws(GGUFError) {
        offset += try readStringLength(what())
    }

    /// Checks that `count` items of at least `itemSize` bytes each can fit in what is left,
    /// so a corrupted count is rejected before anything is allocated for it.
    func requireCount(_ count: UInt64, itemSize: Int, countOffset: Int,
                      _ what: @autoclosure () -> String) throws(GGUFError) {
        if count > UInt64(remaining / itemSize) {
            throw .countTooLarge(what: what(), count: count, offset: countOffset,
                                 itemSize: itemSize, available: remaining)
        }
    }
}
