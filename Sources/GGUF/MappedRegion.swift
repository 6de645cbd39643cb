#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only bytes that stay put for the lifetime of the object: a private mmap of a file,
/// or a heap copy for in-memory files. Freed in deinit, so a `GGUFFile` whose parse throws
/// releases its mapping with it.
final class MappedRegion: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    private let isMapped: Bool

    /// Maps the whole file read-only.
    init(path: String) throws(GGUFError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: Self.lastError()) }
        defer { close(fd) }  // the mapping keeps its own reference to the file

        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(path: path, reason: Self.lastError()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .cannotOpen(path: path, reason: (info.st_mode & S_IFMT) == S_IFDIR ? "Is a directory" : "not a regular file")
        }
        guard let size = Int(exactly: info.st_size) else {
            throw .cannotOpen(path: path, reason: "file size \(info.st_size) is not representable")
        }
        // mmap rejects length 0; an empty file is a truncated GGUF file, not an I/O failure.
        guard size > 0 else { throw .truncated(what: "magic", needed: 4, offset: 0, fileSize: 0) }

        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw .cannotOpen(path: path, reason: "mmap failed: " + Self.lastError())
        }
        base = UnsafeRawPointer(address)
        count = size
        isMapped = true
    }

    /// Copies `bytes` into a 64-byte-aligned heap buffer (tensor data keeps the alignment
    /// it would have in a page-aligned mapping).
    init(copying bytes: [UInt8]) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { source in
            if let from = source.baseAddress { buffer.copyMemory(from: from, byteCount: source.count) }
        }
        base = UnsafeRawPointer(buffer)
        count = bytes.count
        isMapped = false
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
