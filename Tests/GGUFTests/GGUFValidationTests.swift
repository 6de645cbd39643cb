import Foundation
import XCTest
@testable import GGUF

/// Malformed files: each must throw a GGUFError with a useful message, never crash.
final class GGUFValidationTests: XCTestCase {
    /// A small file with metadata of several kinds and tensors whose last data ends exactly
    /// at a 32-byte boundary (so the file has no trailing padding).
    func makeSmallFile() -> [UInt8] {
        var writer = GGUFWriter()
        writer.add(key: "general.architecture", value: .string("llama"))
        writer.add(key: "llama.block_count", value: .uint32(2))
        writer.add(key: "tokenizer.ggml.tokens", value: .array([.string("<s>"), .string("a"), .string("bc")]))
        writer.add(key: "tokenizer.ggml.scores", value: .array([.float32(0), .float32(-1), .float32(-2)]))
        writer.add(key: "nested", value: .array([.array([.uint16(1)]), .array([.uint16(2), .uint16(3)])]))
        writer.add(key: "flag", value: .bool(true))
        writer.addTensor(name: "token_embd.weight", type: .q4_1, shape: [32, 2], data: [UInt8](repeating: 3, count: 40))
        writer.addTensor(name: "output_norm.weight", type: .f32, shape: [8], data: [UInt8](repeating: 9, count: 32))
        return writer.serialized()
    }

    func testEveryTruncationOfASmallFileThrows() throws {
        let bytes = makeSmallFile()
        let full = try GGUFFile(bytes: bytes)
        let lastEnd = full.tensors.map { $0.offset + $0.byteCount }.max()!
        XCTAssertEqual(lastEnd, bytes.count)
        for length in 0..<bytes.count {
            guard let error = parseError(Array(bytes.prefix(length))) else { continue }
            if case .tensorOutOfBounds = error {
                // Cuts after the tensor infos name the first tensor that no longer fits.
                let tensor = full.tensors.first { $0.offset + $0.byteCount > length }!
                XCTAssertEqual(error, .tensorOutOfBounds(tensor: tensor.name, start: UInt64(tensor.offset),
                                                         end: UInt64(tensor.offset + tensor.byteCount), fileSize: length),
                               "length \(length)")
            } else {
                XCTAssertLessThan(length, full.dataOffset)
                XCTAssertTrue(error.description.hasPrefix("truncated"), "length \(length): \(error)")
            }
        }
    }

    func testTruncatedFilesOnDiskThrow() throws {
        let (directory, cleanup) = try makeTemporaryDirectory()
        defer { cleanup() }
        let bytes = makeSmallFile()
        let path = directory.appendingPathComponent("cut.gguf").path
        for length in [0, 3, 4, 23, 24, 100, bytes.count - 1] {
            try Data(bytes.prefix(length)).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try GGUFFile(path: path), "length \(length)") { error in
                XCTAssertTrue(error is GGUFError, "\(error)")
                XCTAssertTrue("\(error)".hasPrefix("truncated") || "\(error)".contains("lies outside the file"),
                              "\(error)")
            }
        }
    }

    func testErrorMessages() throws {
        // Bad magic.
        XCTAssertEqual(parseError(Array("GGML\u{3}\0\0\0".utf8) + [UInt8](repeating: 0, count: 16))?.description,
                       "not a GGUF file (bad magic 0x47474D4C, expected 0x47475546 \"GGUF\")")
        // Truncated inside the header counts.
        XCTAssertEqual(parseError(Array(RawGGUF.header(tensors: 0, keys: 0).bytes.prefix(12)))?.description,
                       "truncated GGUF file: tensor count needs 8 bytes at offset 8, file has 12")
        XCTAssertEqual(parseError([0x47, 0x47])?.description,
                       "truncated GGUF file: magic needs 4 bytes at offset 0, file has 2")

        // Versions.
        XCTAssertEqual(parseError(RawGGUF.header(version: 1, tensors: 0, keys: 0).bytes),
                       .unsupportedVersion(1))
        XCTAssertEqual(GGUFError.unsupportedVersion(1).description,
                       "unsupported GGUF version 1 (GGUF v1 used 32-bit counts and is obsolete); versions 2 and 3 are supported")
        XCTAssertEqual(parseError(RawGGUF.header(version: 4, tensors: 0, keys: 0).bytes)?.description,
                       "unsupported GGUF version 4; versions 2 and 3 are supported")
        XCTAssertEqual(parseError(RawGGUF.header(version: 0, tensors: 0, keys: 0).bytes), .unsupportedVersion(0))
        XCTAssertEqual(parseError(RawGGUF.header(version: UInt32(3).byteSwapped, tensors: 0, keys: 0).bytes)?.description,
                       "big-endian GGUF file (version 3 stored byte-swapped); only little-endian files are supported")

        // Truncated in a metadata key: the message names the key index and offset.
        var raw = RawGGUF.header(tensors: 0, keys: 2)
        raw.string("a")
        raw.u32(GGUFValueType.string.rawValue)
        raw.string("twenty characters...")
        raw.bytes.append(contentsOf: [1, 0, 0])  // 3 of the 8 bytes of key #1's length
        XCTAssertEqual(parseError(raw.bytes)?.description,
                       "truncated GGUF file: metadata key #1 needs 8 bytes at offset 65, file has 68")

        // Truncated value.
        raw = RawGGUF.header(tensors: 0, keys: 1)
        raw.string("llama.block_count")
        raw.u32(GGUFValueType.uint64.rawValue)
        raw.u32(30)
        XCTAssertEqual(parseError(raw.bytes)?.description,
                       "truncated GGUF file: metadata key #0 'llama.block_count' needs 8 bytes at offset 53, file has 57")

        // A string length far beyond the file.
        raw = RawGGUF.header(tensors: 0, keys: 1)
        raw.string("general.name")
        raw.u32(GGUFValueType.string.rawValue)
        raw.u64(1 << 40)
        raw.bytes.append(contentsOf: Array("SmolLM".utf8))
        XCTAssertEqual(parseError(raw.bytes)?.description,
                       "metadata key #0 'general.name': string length 1099511627776 at offset 48 exceeds file size 62")

        // A huge key length.
        raw = RawGGUF.header(tensors: 0, keys: 1)
        raw.u64(UInt64.max)
        raw.u64(0)
        XCTAssertEqual(parseError(raw.bytes),
                       .stringTooLong(what: "metadata key #0", length: .max, offset: 24, fileSize: 40))

        // Counts that cannot fit are rejected before anything is allocated.
        XCTAssertEqual(parseError(RawGGUF.header(tensors: 0, keys: 1 << 60).bytes)?.description,
                       "truncated or corrupt GGUF file: metadata key count 1152921504606846976 at offset 16 needs at least 14987979559889010688 bytes, 0 remain")
        XCTAssertEqual(parseError(RawGGUF.header(tensors: UInt64.max, keys: 0).bytes + [UInt8](repeating: 0, count: 64)),
                       .countTooLarge(what: "tensor", count: .max, offset: 8, itemSize: 32, available: 64))
        XCTAssertEqual(GGUFError.countTooLarge(what: "tensor", count: .max, offset: 8, itemSize: 32, available: 64).description,
                       "truncated or corrupt GGUF file: tensor count 18446744073709551615 at offset 8 needs more than 18446744073709551615 bytes, 64 remain")
        raw = RawGGUF.header(tensors: 0, keys: 1)
        raw.string("tokenizer.ggml.tokens")
        raw.u32(GGUFValueType.array.rawValue)
        raw.u32(GGUFValueType.string.rawValue)
        raw.u64(49152)
        raw.string("<|endoftext|>")
        XCTAssertEqual(parseError(raw.bytes)?.description,
                       "truncated or corrupt GGUF file: metadata key #0 'tokenizer.ggml.tokens' string array count 49152 at offset 61 needs at least 393216 bytes, 21 remain")

        // Unknown value types, at top level and in arrays.
        raw = RawGGUF.header(tensors: 0, keys: 1)
        raw.string("k")
        raw.u32(13)
        raw.u64(0)
        XCTAssertEqual(parseError(raw.bytes)?.description,
                       "unknown metadata value type 13 for metadata key #0 'k' at offset 33")
        raw = RawGGUF.header(tensors: 0, keys: 1)
        raw.string("k")
        raw.u32(GGUFValueType.array.rawValue)
        raw.u32(99)
        raw.u64(0)
        XCTAssertEqual(parseError(raw.bytes), .unknownValueType(99, what: "metadata key #0 'k' array elements", offset: 37))

        // Duplicate key.
        raw = RawGGUF.header(tensors: 0, keys: 2)
        for _ in 0..<2 {
            raw.string("dup")
            raw.u32(GGUFValueType.uint8.rawValue)
            raw.u8(1)
        }
        XCTAssertEqual(parseError(raw.bytes)?.description, "duplicate metadata key 'dup' at offset 40")

        // Bad alignment values.
        for (value, message) in [(GGUFValue.uint32(48), "invalid general.alignment: 48 is not a positive power of two"),
                                 (.uint32(0), "invalid general.alignment: 0 is not a positive power of two"),
                                 (.int32(-32), "invalid general.alignment: -32 is not a positive power of two"),
                                 (.string("32"), "invalid general.alignment: has type string, expected an unsigned integer")] {
            var writer = GGUFWriter()
            writer.add(key: "general.alignment", value: value)
            XCTAssertEqual(parseError(writer.serialized())?.description, message)
        }
    }

    func testNameLengthLimits() throws {
        // A key of 65536 bytes: longer than gguf.md allows.
        var raw = RawGGUF.header(tensors: 0, keys: 1)
        raw.string(String(repeating: "k", count: 65536))
        raw.u32(GGUFValueType.uint8.rawValue)
        raw.u8(0)
        XCTAssertEqual(parseError(raw.bytes)?.description,
                       "metadata key #0: name length 65536 at offset 24 exceeds the limit of 65535 bytes")

        // Tensor names: 64 bytes is fine, 65 is not.
        XCTAssertNoThrow(try GGUFFile(bytes: tensorFile(name: String(repeating: "n", count: 64), dims: [4], type: 0)))
        XCTAssertEqual(parseError(tensorFile(name: String(repeating: "n", count: 65), dims: [4], type: 0)),
                       .nameTooLong(what: "tensor #0 name", length: 65, offset: 24, limit: 64))

        // Names in messages are cut short and control characters escaped.
        var writer = GGUFWriter()
        let longName = "a\n" + String(repeating: "b", count: 100)
        writer.add(key: longName, value: .uint8(1))
        var bytes = writer.serialized()
        bytes[24 + 8 + longName.utf8.count] = 99  // the value type
        XCTAssertEqual(parseError(bytes)?.description,
                       "unknown metadata value type 99 for metadata key #0 'a\\u{a}" + String(repeating: "b", count: 62)
                       + "...' at offset \(24 + 8 + longName.utf8.count)")
    }

    func testArrayNestingLimit() throws {
        func nested(_ depth: Int) -> GGUFValue {
            depth == 1 ? .array([.uint8(1)]) : .array([nested(depth - 1)])
        }
        var writer = GGUFWriter()
        writer.add(key: "deep", value: nested(8))
        XCTAssertNoThrow(try GGUFFile(bytes: writer.serialized()))
        writer.add(key: "deep", value: nested(9))
        let error = parseError(writer.serialized())
        XCTAssertEqual(error, .nestingTooDeep(what: "metadata key #0 'deep' item 0 item 0 item 0 item 0 item 0 item 0 item 0 item 0",
                                              offset: 24 + 8 + 4 + 4 + 8 * 12, limit: 8))

        // A bomb: an array header that claims to contain itself a million times over.
        var raw = RawGGUF.header(tensors: 0, keys: 1)
        raw.string("bomb")
        raw.u32(GGUFValueType.array.rawValue)
        for _ in 0..<100 {
            raw.u32(GGUFValueType.array.rawValue)
            raw.u64(1)
        }
        guard case .nestingTooDeep? = parseError(raw.bytes) else { return XCTFail("expected nestingTooDeep") }
    }

    func testTotalValueLimit() throws {
        var raw = RawGGUF.header(tensors: 0, keys: 1)
        raw.string("huge")
        raw.u32(GGUFValueType.array.rawValue)
        raw.u32(GGUFValueType.uint8.rawValue)
        let count = GGUFParser.maxValueCount + 1
        raw.u64(UInt64(count))
        raw.bytes.append(contentsOf: repeatElement(0, count: count))
        XCTAssertEqual(parseError(raw.bytes), .tooManyValues(limit: GGUFParser.maxValueCount))
    }

    /// A file with no metadata and one tensor info, for tensor validation cases.
    func tensorFile(name: String = "x", dims: [UInt64], type: UInt32, offset: UInt64 = 0, dataBytes: Int = 64,
                    second: (String, UInt64)? = nil) -> [UInt8] {
        var raw = RawGGUF.header(tensors: second == nil ? 1 : 2, keys: 0)
        raw.tensorInfo(name, dims: dims, type: type, offset: offset)
        if let second { raw.tensorInfo(second.0, dims: [4], type: 0, offset: second.1) }
        raw.pad()
        raw.bytes.append(contentsOf: repeatElement(0, count: dataBytes))
        return raw.bytes
    }

    func testTensorValidation() throws {
        XCTAssertNoThrow(try GGUFFile(bytes: tensorFile(dims: [16], type: 0)))

        XCTAssertEqual(parseError(tensorFile(dims: [99], type: 99))?.description, "unknown tensor type 99 for tensor 'x'")
        XCTAssertEqual(parseError(tensorFile(dims: [32], type: 4)), .unknownTensorType(4, tensor: "x"))  // removed Q4_2
        XCTAssertEqual(parseError(tensorFile(dims: [], type: 0))?.description,
                       "tensor 'x' has 0 dimensions; 1 to 4 are allowed")
        XCTAssertEqual(parseError(tensorFile(dims: [1, 1, 1, 1, 1], type: 0)), .invalidDimensionCount(tensor: "x", count: 5))
        XCTAssertEqual(parseError(tensorFile(dims: [1, UInt64.max], type: 0))?.description,
                       "tensor 'x' dimension 1 is 18446744073709551615, larger than the largest signed 64-bit integer")
        XCTAssertEqual(parseError(tensorFile(dims: [1 << 32, 1 << 32], type: 0)),
                       .sizeOverflow(tensor: "x", shape: [1 << 32, 1 << 32]))
        // Elements fit but bytes overflow.
        XCTAssertEqual(parseError(tensorFile(dims: [1 << 31, 1 << 31], type: 0)),
                       .sizeOverflow(tensor: "x", shape: [1 << 31, 1 << 31]))
        XCTAssertEqual(parseError(tensorFile(dims: [33, 2], type: GGMLType.q4_1.rawValue))?.description,
                       "tensor 'x' of type Q4_1 has rows of 33 elements, not a multiple of the block size 32")
        XCTAssertEqual(parseError(tensorFile(dims: [4], type: 0, offset: 8))?.description,
                       "tensor 'x' data offset 8 is not a multiple of the alignment 32")
        XCTAssertEqual(parseError(tensorFile(name: "blk.0.attn_q.weight", dims: [32], type: 0, dataBytes: 100))?.description,
                       "tensor 'blk.0.attn_q.weight' data [96, 224) lies outside the file (size 196)")
        XCTAssertEqual(parseError(tensorFile(dims: [4], type: 0, offset: UInt64.max - 31)),
                       .tensorOutOfBounds(tensor: "x", start: .max, end: .max, fileSize: 128))
        XCTAssertEqual(parseError(tensorFile(dims: [4], type: 0, second: ("x", 32)))?.description,
                       "duplicate tensor name 'x' at offset 57")
        XCTAssertEqual(parseError(tensorFile(dims: [1 << 40], type: 0)),
                       .tensorOutOfBounds(tensor: "x", start: 64, end: 64 + (1 << 42), fileSize: 128))
    }

    func testCannotOpen() throws {
        let (directory, cleanup) = try makeTemporaryDirectory()
        defer { cleanup() }
        let missing = directory.appendingPathComponent("missing.gguf").path
        XCTAssertThrowsError(try GGUFFile(path: missing)) { error in
            XCTAssertEqual("\(error)", "cannot open '\(missing)': No such file or directory")
        }
        XCTAssertThrowsError(try GGUFFile(path: directory.path)) { error in
            XCTAssertEqual("\(error)", "cannot open '\(directory.path)': Is a directory")
        }
        let empty = directory.appendingPathComponent("empty.gguf").path
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        XCTAssertThrowsError(try GGUFFile(path: empty)) { error in
            XCTAssertEqual(error as? GGUFError, .truncated(what: "magic", needed: 4, offset: 0, fileSize: 0))
        }
        XCTAssertThrowsError(try GGUFFile(contentsOf: URL(string: "https://example.com/m.gguf")!)) { error in
            XCTAssertTrue(error is GGUFError)
        }
        XCTAssertThrowsError(try GGUFWriter().write(to: missing + "/sub/x.gguf")) { error in
            XCTAssertEqual("\(error)", "cannot write '\(missing)/sub/x.gguf': No such file or directory")
        }
    }

    /// Random corruptions of a small synthetic file: each throws a GGUFError or parses to a
    /// consistent file.
    func testRandomCorruptionsOfASmallFile() throws {
        let bytes = makeSmallFile()
        var rng = SplitMix64(state: 42)
        var thrown = 0
        for _ in 0..<3000 {
            var copy = bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0..<copy.count, using: &rng)
                copy[at] = UInt8.random(in: 0...255, using: &rng)
            }
            do {
                let gguf = try GGUFFile(bytes: copy)
                assertConsistent(gguf)
                _ = inspectReport(gguf)
            } catch is GGUFError {
                thrown += 1
            }
        }
        XCTAssertGreaterThan(thrown, 100)
    }
}
