import Foundation
import XCTest

/// Runs the Python end-to-end suites against the `swiftllm` binary this test run built: the
/// real `openai` client against `swiftllm serve`, and the web chat page in headless Chromium.
/// Their dependencies (python3 with `openai` and `websocket-client`, Debian's `chromium`) are
/// installed by .ci/run; without them these tests fail with the install line, never skip.
final class EndToEndTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary sits next to the test bundle in the build products directory.
    static func swiftllmBinary() throws -> String {
        let products = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? CommandLine.arguments[0])
            .deletingLastPathComponent()
        for dir in [products, Self.repo.appendingPathComponent(".build/release")] {
            let path = dir.appendingPathComponent("swiftllm").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        struct NoBinary: Error, CustomStringConvertible {
            var description: String { "no swiftllm binary next to the tests (run `swift build -c release` first)" }
        }
        throw NoBinary()
    }

    func run(_ script: String, timeout: TimeInterval = 600) throws {
        let binary = try Self.swiftllmBinary()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.repo.appendingPathComponent(script).path]
        var env = ProcessInfo.processInfo.environment
        env["SWIFTLLM_BIN"] = binary
        env["SWIFTLLM_SERVE_CMD"] = "\(binary) serve --port 0"
        env["PYTHONUNBUFFERED"] = "1"
        p.environment = env
        p.currentDirectoryURL = Self.repo
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        let collected = OutputCollector()
        out.fileHandleForReading.readabilityHandler = { h in collected.append(h.availableData) }
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
        collected.append(out.fileHandleForReading.readDataToEndOfFile())
        let text = collected.text
        print(text)
        XCTAssertEqual(p.terminationStatus, 0, "\(script) failed:\n\(text.suffix(4000))")
    }

    func testOpenAIClientAgainstServe() throws {
        try run("Tests/e2e/test_openai_api.py")
    }

    func testWebChatPageInHeadlessChromium() throws {
        try run("Tests/e2e/test_webchat.py")
    }
}

final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}
