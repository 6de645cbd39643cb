/// A fixed float buffer allocated once at model load, reused by every forward step.
final class ScratchBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ count: Int) {
        self.count = max(1, count)
        pointer = .allocate(capacity: self.count)
        pointer.initialize(repeating: 0, count: self.count)
    }

    deinit { pointer.deallocate() }

    @inline(__always) subscript(row row: Int, width width: Int) -> UnsafeMutablePointer<Float> { pointer + row * width }
}
