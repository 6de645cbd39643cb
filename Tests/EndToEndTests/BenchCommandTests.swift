import Foundation
import XCTest

/// The `swiftllm bench` commands' JSON contracts, on tiny settings (speed is not judged here).
final class BenchCommandTests: XCTestCase {
    func runJSON(_ args: [String]) throws -> [String: Any] {
        let binary = try EndToEndTests.swiftllmBinary()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "swiftllm \(args.joined(separator: " "))")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any], String(decoding: data, as: UTF8.self))
    }

    func testBenchGenerateJSON() throws {
        let v = try runJSON(["bench", "generate", "-p", "16", "-n", "4", "-r", "2", "-t", "1,2", "--json"])
        let results = try XCTUnwrap(v["results"] as? [[String: Any]])
        XCTAssertEqual(Set(results.compactMap { $0["test"] as? String }), ["pp16", "tg4"])
        XCTAssertEqual(Set(results.compactMap { $0["threads"] as? Int }), [1, 2])
        for r in results {
            XCTAssertGreaterThan(try XCTUnwrap(r["tokens_per_second"] as? Double), 0)
            XCTAssertNotNil(r["stddev"] as? Double)
        }
    }

    func testBenchRooflineJSON() throws {
        let v = try runJSON(["bench", "roofline", "--batch", "1,2", "--steps", "1", "--context", "16", "--probe-threads", "1", "--json"])
        let machine = try XCTUnwrap((v["machine"] as? [[String: Any]])?.first)
        XCTAssertGreaterThan(try XCTUnwrap(machine["read_gb_per_s"] as? Double), 0)
        let points = try XCTUnwrap(v["points"] as? [[String: Any]])
        XCTAssertEqual(points.compactMap { $0["batch"] as? Int }, [1, 2])
        XCTAssertTrue(points.allSatisfy { ["bandwidth", "compute", "overhead"].contains($0["regime"] as? String ?? "") })
    }

    func testBenchKVJSON() throws {
        let v = try runJSON(["bench", "kv", "--ctx", "64", "--batch", "2", "--repetitions", "1", "--json"])
        let sizes = try XCTUnwrap(v["sizes"] as? [[String: Any]])
        let f16 = try XCTUnwrap(sizes.first { $0["format"] as? String == "f16" })
        // SmolLM2: 2 x 30 layers x 3 KV heads x 64 dims x 2 bytes.
        XCTAssertEqual(f16["bytes_per_token"] as? Double, 23040)
        XCTAssertEqual(f16["bytes_per_batch"] as? Double, 23040 * 64 * 2)
        let transfer = try XCTUnwrap(v["transfer"] as? [[String: Any]])
        XCTAssertEqual(transfer.count, 2)
    }
}
