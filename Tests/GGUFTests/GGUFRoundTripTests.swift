import Foundation
import XCTest
@testable import GGUF

/// Writer → reader round trips.
final class GGUFRoundTripTests: XCTestCase {
    /// One value of every type, plus arrays of every element type and nested arrays.
    static let allValues: [(String, GGUFValue)] = [
        ("t.u8", .uint8(200)),
        ("t.i8", .int8(-100)),
        ("t.u16", .uint16(60000)),
        ("t.i16", .int16(-30000)),
        ("t.u32", .uint32(4_000_000_000)),
        ("t.i32", .int32(-2_000_000_000)),
        ("t.f32", .float32(1e-5)),
        ("t.bool.true", .bool(true)),
        ("t.bool.false", .bool(false)),
        ("t.string", .string("héllo ✓ \n\"quoted\"")),
        ("t.string.empty", .string("")),
        ("t.u64", .uint64(UInt64.max)),
        ("t.i64", .int64(Int64.min)),
        ("t.f64", .float64(-2.5e300)),
        ("t.arr.u8", .array([.uint8(0), .uint8(255)])),
        ("t.arr.i8", .array([.int8(-128), .int8(127)])),
        ("t.arr.u16", .array([.uint16(1), .uint16(65535)])),
        ("t.arr.i16", .array([.int16(-1), .int16(32767)])),
        ("t.arr.u32", .array([.uint32(7), .uint32(8), .uint32(9)])),
        ("t.arr.i32", .array([.int32(-7), .int32(8)])),
        ("t.arr.f32", .array([.float32(0.5), .float32(-0.0), .float32(.infinity)])),
        ("t.arr.bool", .array([.bool(true), .bool(false)])),
        ("t.arr.string", .array([.string("a"), .string(""), .string("ünïcødé")])),
        ("t.arr.u64", .array([.uint64(1 << 40)])),
        ("t.arr.i64", .array([.int64(-(1 << 40))])),
        ("t.arr.f64", .array([.float64(3.25)])),
        ("t.arr.empty", .array([])),
        ("t.arr.nested", .array([.array([.int32(1), .int32(2)]), .array([.int32(3)]), .array([])])),
        ("t.arr.nested.strings", .array([.array([.string("x")]), .array([.string("y"), .string("z")])])),
        ("t.arr.deep", .array([.array([.array([.array([.uint8(1)])])])])),
    ]

    func makeWriter(version: UInt32 = 3, alignment: Int = 32) -> GGUFWriter {
        var writer = GGUFWriter(version: version, alignment: alignment)
        writer.add(key: "general.architecture", value: .string("llama"))
        for (key, value) in Self.allValues { writer.add(key: key, value: value) }
        writer.addTensor(name: "f32.vec", type: .f32, shape: [5],
                         data: (0..<20).map { UInt8($0) })
        writer.addTensor(name: "q4_1.mat", type: .q4_1, shape: [64, 3],
                         data: (0..<(2 * 3 * 20)).map { UInt8(truncatingIfNeeded: $0 * 7) })
        writer.addTensor(name: "f16.4d", type: .f16, shape: [2, 3, 1, 2],
                         data: (0..<24).map { UInt8(255 - $0) })
        writer.addTensor(name: "empty", type: .f32, shape: [0, 4], data: [])
        return writer
    }

    func testRoundTripEveryValueTypeV2AndV3() throws {
        for version: UInt32 in [2, 3] {
            let writer = makeWriter(version: version)
            let gguf = try GGUFFile(bytes: writer.serialized())
            XCTAssertEqual(gguf.version, version)
            XCTAssertEqual(gguf.alignment, 32)
            XCTAssertEqual(gguf.metadataKeys, ["general.architecture"] + Self.allValues.map(\.0))
            for (key, value) in Self.allValues {
                XCTAssertEqual(gguf.metadata[key], value, key)
                XCTAssertEqual(gguf.metadata[key]?.type, value.type, key)
            }
            XCTAssertEqual(gguf.architecture, "llama")
            assertConsistent(gguf)
        }
    }

    func testTensorsRoundTrip() throws {
        let gguf = try GGUFFile(bytes: makeWriter().serialized())
        XCTAssertEqual(gguf.tensors.map(\.name), ["f32.vec", "q4_1.mat", "f16.4d", "empty"])
        XCTAssertEqual(gguf.dataOffset % 32, 0)

        let vec = try XCTUnwrap(gguf.tensor(named: "f32.vec"))
        XCTAssertEqual(vec.type, .f32)
        XCTAssertEqual(vec.shape, [5])
        XCTAssertEqual(vec.elementCount, 5)
        XCTAssertEqual(vec.offset, gguf.dataOffset)
        XCTAssertEqual(Array(gguf.data(for: vec)), (0..<20).map { UInt8($0) })

        let mat = try XCTUnwrap(gguf.tensor(named: "q4_1.mat"))
        XCTAssertEqual(mat.shape, [64, 3])
        XCTAssertEqual(mat.byteCount, 120)
        XCTAssertEqual(mat.offset, gguf.dataOffset + 32)  // 20 bytes padded to 32
        XCTAssertEqual(Array(gguf.data(for: mat)), (0..<120).map { UInt8(truncatingIfNeeded: $0 * 7) })

        let fourD = try XCTUnwrap(gguf.tensor(named: "f16.4d"))
        XCTAssertEqual(fourD.shape, [2, 3, 1, 2])
        XCTAssertEqual(fourD.elementCount, 12)
        XCTAssertEqual(Array(gguf.data(for: fourD)), (0..<24).map { UInt8(255 - $0) })

        let empty = try XCTUnwrap(gguf.tensor(named: "empty"))
        XCTAssertEqual(empty.elementCount, 0)
        XCTAssertEqual(gguf.data(for: empty).count, 0)
        XCTAssertNil(gguf.tensor(named: "missing"))
        XCTAssertEqual(gguf.baseAddress.load(as: UInt32.self), UInt32(littleEndian: 0x4655_4747))
    }

    func testTypedHelpers() throws {
        let gguf = try GGUFFile(bytes: makeWriter().serialized())
        XCTAssertEqual(gguf.int("t.u32"), 4_000_000_000)
        XCTAssertEqual(gguf.int("t.i64"), Int(Int64.min))
        XCTAssertNil(gguf.int("t.u64"))  // UInt64.max does not fit in Int
        XCTAssertNil(gguf.int("t.string"))
        XCTAssertEqual(gguf.float("t.f32"), 1e-5)
        XCTAssertEqual(gguf.float("t.u8"), 200)
        XCTAssertEqual(gguf.bool("t.bool.true"), true)
        XCTAssertNil(gguf.bool("t.u8"))
        XCTAssertEqual(gguf.string("t.string.empty"), "")
        XCTAssertEqual(gguf.array("t.arr.u32")?.count, 3)
        XCTAssertEqual(gguf.stringArray("t.arr.string"), ["a", "", "ünïcødé"])
        XCTAssertNil(gguf.stringArray("t.arr.u32"))
        XCTAssertNil(gguf.stringArray("t.string"))
        XCTAssertNil(gguf.string("missing"))
    }

    func testCustomAlignment() throws {
        let gguf = try GGUFFile(bytes: makeWriter(alignment: 64).serialized())
        XCTAssertEqual(gguf.alignment, 64)
        XCTAssertEqual(gguf.int("general.alignment"), 64)
        XCTAssertEqual(gguf.dataOffset % 64, 0)
        XCTAssertEqual(gguf.tensor(named: "q4_1.mat")?.offset, gguf.dataOffset + 64)
        assertConsistent(gguf)

        // general.alignment added by hand also drives the writer's padding.
        var writer = GGUFWriter()
        writer.add(key: "general.alignment", value: .uint32(16))
        writer.addTensor(name: "a", type: .f32, shape: [1], data: [1, 2, 3, 4])
        writer.addTensor(name: "b", type: .f32, shape: [1], data: [5, 6, 7, 8])
        let small = try GGUFFile(bytes: writer.serialized())
        XCTAssertEqual(small.alignment, 16)
        XCTAssertEqual(small.tensor(named: "b")?.offset, small.dataOffset + 16)
    }

    func testNoTensorsAndNoMetadata() throws {
        let empty = try GGUFFile(bytes: GGUFWriter().serialized())
        XCTAssertEqual(empty.tensors.count, 0)
        XCTAssertEqual(empty.metadata.count, 0)
        XCTAssertNil(empty.architecture)
        // The bare 24-byte header without padding is accepted too: no tensor needs the data section.
        XCTAssertNoThrow(try GGUFFile(bytes: RawGGUF.header(tensors: 0, keys: 0).bytes))
    }

    func testRewriteKeepsPositionAndLastValue() throws {
        var writer = GGUFWriter()
        writer.add(key: "a", value: .uint32(1))
        writer.add(key: "b", value: .uint32(2))
        writer.add(key: "a", value: .string("again"))
        let gguf = try GGUFFile(bytes: writer.serialized())
        XCTAssertEqual(gguf.metadataKeys, ["a", "b"])
        XCTAssertEqual(gguf.string("a"), "again")
    }

    func testFileWriteAndOpen() throws {
        let (directory, cleanup) = try makeTemporaryDirectory()
        defer { cleanup() }
        let path = directory.appendingPathComponent("model.gguf").path
        let writer = makeWriter()
        try writer.write(to: path)
        let fromPath = try GGUFFile(path: path)
        XCTAssertEqual(fromPath.path, path)
        XCTAssertEqual(fromPath.fileSize, writer.serialized().count)
        let fromURL = try GGUFFile(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(fromURL.metadata, fromPath.metadata)
        XCTAssertEqual(fromURL.tensors, fromPath.tensors)
        let vec = try XCTUnwrap(fromPath.tensor(named: "f32.vec"))
        XCTAssertEqual(Array(fromPath.data(for: vec)), (0..<20).map { UInt8($0) })
        // mmap gives page-aligned memory, so aligned file offsets are aligned addresses.
        XCTAssertEqual(Int(bitPattern: fromPath.data(for: vec).baseAddress!) % 32, 0)
        assertConsistent(fromPath)
    }

    func testInvalidUTF8IsRepaired() throws {
        var raw = RawGGUF.header(tensors: 0, keys: 1)
        raw.string("bad.utf8")
        raw.u32(GGUFValueType.string.rawValue)
        raw.rawString([0x61, 0xFF, 0xC3, 0x62])  // "a", invalid byte, truncated sequence, "b"
        let gguf = try GGUFFile(bytes: raw.bytes)
        XCTAssertEqual(gguf.string("bad.utf8"), "a\u{FFFD}\u{FFFD}b")
    }

    func testInspectReport() throws {
        var writer = makeWriter()
        writer.add(key: "tokenizer.ggml.tokens", value: .array((0..<100).map { .string("tok\($0)") }))
        let gguf = try GGUFFile(bytes: writer.serialized())
        let report = inspectReport(gguf, maxArrayItems: 3)
        XCTAssertTrue(report.contains("version 3, alignment 32, \(gguf.metadataKeys.count) metadata keys, 4 tensors"), report)
        XCTAssertTrue(report.contains("[array of 100 string: \"tok0\", \"tok1\", \"tok2\", ... ]"), report)
        XCTAssertTrue(report.contains("[array of 3 u32: 7, 8, 9]"), report)
        XCTAssertTrue(report.contains("\"héllo ✓ \\n\\\"quoted\\\"\""), report)
        XCTAssertTrue(report.contains("array[array[i32]]"), report)
        XCTAssertTrue(report.contains("q4_1.mat"), report)
        XCTAssertTrue(report.contains("[64, 3]"), report)
        XCTAssertTrue(report.contains("Q4_1"), report)
        XCTAssertTrue(report.contains("\(5 + 192 + 12) parameters"), report)
        // Every key is on its own line.
        for key in gguf.metadataKeys {
            XCTAssertEqual(report.split(separator: "\n").filter { $0.hasPrefix("  \(key) ") }.count, 1, key)
        }
    }

    func testGGMLTypeNamesAndSizes() {
        XCTAssertEqual("\(GGMLType.q4_1)", "Q4_1")
        XCTAssertEqual("\(GGMLType.q4_K)", "Q4_K")
        XCTAssertEqual("\(GGMLType.iq2_XXS)", "IQ2_XXS")
        XCTAssertEqual(GGMLType.q4_1.byteCount(elements: 64), 40)
        XCTAssertNil(GGMLType.q4_1.byteCount(elements: 33))
        XCTAssertEqual(GGMLType.q6_K.byteCount(elements: 512), 420)
        XCTAssertNil(GGMLType.f32.byteCount(elements: Int.max))
        // Every name is distinct (no case falls back to a generic spelling).
        XCTAssertEqual(Set(GGMLType.allCases.map(\.description)).count, GGMLType.allCases.count)
    }

    /// A 262144-entry vocabulary (Gemma-sized) must parse quickly.
    func testLargeVocabularyParsesFast() throws {
        var writer = GGUFWriter()
        let tokens = (0..<262_144).map { GGUFValue.string("token_\($0)_\(String(repeating: "x", count: $0 % 13))") }
        writer.add(key: "tokenizer.ggml.tokens", value: .array(tokens))
        writer.add(key: "tokenizer.ggml.scores", value: .array((0..<262_144).map { .float32(Float($0)) }))
        writer.add(key: "tokenizer.ggml.token_type", value: .array((0..<262_144).map { _ in .int32(1) }))
        let bytes = writer.serialized()
        var gguf: GGUFFile?
        let seconds = try measureSeconds { gguf = try GGUFFile(bytes: bytes) }
        XCTAssertEqual(gguf?.stringArray("tokenizer.ggml.tokens")?.count, 262_144)
        XCTAssertEqual(gguf?.stringArray("tokenizer.ggml.tokens")?[1000], "token_1000_" + String(repeating: "x", count: 1000 % 13))
        print("262144-token vocabulary (+ scores, types) parsed in \(String(format: "%.1f", seconds * 1000)) ms")
        #if !DEBUG  // the budget is for optimized builds
        XCTAssertLessThan(seconds, 0.5)
        #endif
    }
}
