import Foundation

/// An opened GGUF file: validated header plus zero-copy access to tensor data.
///
/// The file is memory-mapped read-only for the object's lifetime and unmapped in deinit;
/// `data(for:)` hands out views into that mapping, valid while the `GGUFFile` is alive.
/// Everything is parsed and checked in `init` (see `GGUFParser`), after which the object
/// is immutable and safe to share across threads.
///
/// The mapping is `MAP_PRIVATE`: if another process truncates the file while it is mapped,
/// reads past the new end fault (SIGBUS). That cannot be validated away; don't do it.
public final class GGUFFile: @unchecked Sendable {
    /// The path the file was opened from ("<memory>" for `init(bytes:)`).
    public let path: String
    /// GGUF format version (2 or 3).
    public let version: UInt32
    /// All metadata key/value pairs.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    /// Alignment of the data section and of each tensor's offset: `general.alignment` or 32.
    public let alignment: Int
    /// Absolute byte offset where the tensor data section starts.
    public let dataOffset: Int
    /// Size of the file in bytes.
    public let fileSize: Int

    private let region: MappedRegion
    private let tensorIndex: [String: Int]

    /// Maps and parses the GGUF file at `path`. Throws `GGUFError` only.
    public convenience init(path: String) throws {
        try self.init(region: MappedRegion(path: path), path: path)
    }

    /// Opens a `file:` URL. Throws `GGUFError` only.
    public convenience init(contentsOf url: URL) throws {
        guard url.isFileURL else {
            throw GGUFError.cannotOpen(path: url.absoluteString, reason: "not a file URL")
        }
        try self.init(path: url.path)
    }

    /// Parses a GGUF file held in memory (copied). For tests and generated files.
    public convenience init(bytes: [UInt8], path: String = "<memory>") throws {
        try self.init(region: MappedRegion(copying: bytes), path: path)
    }

    private init(region: MappedRegion, path: String) throws(GGUFError) {
        let header = try GGUFParser.parse(base: region.base, size: region.count)
        self.region = region
        self.path = path
        self.version = header.version
        self.metadata = header.metadata
        self.metadataKeys = header.metadataKeys
        self.tensors = header.tensors
        self.alignment = header.alignment
        self.dataOffset = header.dataOffset
        self.fileSize = region.count
        var index = [String: Int](minimumCapacity: header.tensors.count)
        for (position, tensor) in header.tensors.enumerated() { index[tensor.name] = position }
        self.tensorIndex = index
    }

    /// The tensor called `name`, or nil. O(1).
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's bytes, as a view into the mapping (no copy). Valid while `self` lives.
    ///
    /// `tensor` must describe a range inside this file (any info from `tensors` does);
    /// passing an info from a different, larger file is a programming error and traps.
    public func data(for tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(tensor.offset >= 0 && tensor.byteCount >= 0 && tensor.offset <= fileSize
                     && tensor.byteCount <= fileSize - tensor.offset,
                     "tensor '\(tensor.name)' [\(tensor.offset), +\(tensor.byteCount)) is not inside \(path)")
        return UnsafeRawBufferPointer(start: region.base + tensor.offset, count: tensor.byteCount)
    }

    /// Start of the mapped file.
    public var baseAddress: UnsafeRawPointer { region.base }
}

// MARK: - Typed metadata access

extension GGUFFile {
    /// A string value, or nil if the key is missing or holds another type.
    public func string(_ key: String) -> String? { metadata[key]?.string }

    /// Any integer value as `Int` (nil if missing, not an integer, or a u64 beyond Int.max).
    public func int(_ key: String) -> Int? { metadata[key]?.int }

    /// Any numeric value as `Float` (integers are converted).
    public func float(_ key: String) -> Float? { metadata[key]?.float }

    /// A bool value.
    public func bool(_ key: String) -> Bool? { metadata[key]?.bool }

    /// An array value.
    public func array(_ key: String) -> [GGUFValue]? { metadata[key]?.array }

    /// An array of strings (e.g. `tokenizer.ggml.tokens`); nil if missing, not an array, or
    /// any element is not a string.
    public func stringArray(_ key: String) -> [String]? {
        guard case .array(let items)? = metadata[key] else { return nil }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        for item in items {
            guard case .string(let s) = item else { return nil }
            strings.append(s)
        }
        return strings
    }

    /// `general.architecture`, e.g. "llama".
    public var architecture: String? { string("general.architecture") }
}
