import Foundation
import XCTest
@testable import GGUF

/// Hand-assembles GGUF bytes, for headers the writer refuses to produce.
struct RawGGUF {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes.append(contentsOf: s.utf8) }
    mutating func rawString(_ b: [UInt8]) { u64(UInt64(b.count)); bytes.append(contentsOf: b) }

    /// Magic, version and the two counts.
    static func header(version: UInt32 = 3, tensors: UInt64, keys: UInt64) -> RawGGUF {
        var raw = RawGGUF()
        raw.bytes.append(contentsOf: Array("GGUF".utf8))
        raw.u32(version)
        raw.u64(tensors)
        raw.u64(keys)
        return raw
    }

    /// A tensor info record.
    mutating func tensorInfo(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        string(name)
        u32(UInt32(dims.count))
        for d in dims { u64(d) }
        u32(type)
        u64(offset)
    }

    /// Zero padding up to `alignment`.
    mutating func pad(to alignment: Int = 32) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }
}

/// Deterministic random numbers (SplitMix64), so a failing corruption case can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Parses `bytes` and returns the GGUFError it throws; fails the test if it parses or
/// throws anything else.
func parseError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> GGUFError? {
    do {
        _ = try GGUFFile(bytes: bytes)
        XCTFail("expected a GGUFError, but the bytes parsed", file: file, line: line)
    } catch let error as GGUFError {
        return error
    } catch {
        XCTFail("expected a GGUFError, got \(error)", file: file, line: line)
    }
    return nil
}

/// Checks the invariants every successfully parsed file must satisfy.
func assertConsistent(_ gguf: GGUFFile, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(gguf.version == 2 || gguf.version == 3, file: file, line: line)
    XCTAssertTrue(gguf.alignment > 0 && gguf.alignment & (gguf.alignment - 1) == 0, file: file, line: line)
    XCTAssertEqual(gguf.dataOffset % gguf.alignment, 0, file: file, line: line)
    XCTAssertEqual(gguf.metadataKeys.count, gguf.metadata.count, file: file, line: line)
    XCTAssertEqual(Set(gguf.metadataKeys).count, gguf.metadataKeys.count, file: file, line: line)
    for tensor in gguf.tensors {
        XCTAssertTrue((1...4).contains(tensor.shape.count), file: file, line: line)
        XCTAssertTrue(tensor.shape.allSatisfy { $0 >= 0 }, file: file, line: line)
        XCTAssertEqual(tensor.type.byteCount(elements: tensor.elementCount), tensor.byteCount, file: file, line: line)
        XCTAssertGreaterThanOrEqual(tensor.offset, gguf.dataOffset, file: file, line: line)
        XCTAssertLessThanOrEqual(tensor.offset + tensor.byteCount, gguf.fileSize, file: file, line: line)
        XCTAssertEqual(tensor.offset % gguf.alignment, 0, file: file, line: line)
        XCTAssertEqual(gguf.tensor(named: tensor.name), tensor, file: file, line: line)
        XCTAssertEqual(gguf.data(for: tensor).count, tensor.byteCount, file: file, line: line)
    }
}

/// The SmolLM2 test model, or nil when it is not in the cache.
func smolLM2Path() -> String? {
    let cache = ProcessInfo.processInfo.environment["SWIFTLLM_CACHE"]
        ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/swiftllm")
    let path = (cache as NSString).appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")
    return FileManager.default.fileExists(atPath: path) ? path : nil
}

/// A fresh temporary directory, removed by the returned cleanup closure.
func makeTemporaryDirectory() throws -> (URL, () -> Void) {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("gguf-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return (url, { try? FileManager.default.removeItem(at: url) })
}

/// Seconds taken by `body`.
func measureSeconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
