/// Interns byte strings: each distinct key gets the next index, in insertion order.
///
/// Keys are compared byte for byte. Swift `String` equality is canonical equivalence (`"é" == "e\u{301}"`),
/// which would merge distinct vocabulary entries, so lookups go through UTF-8 bytes instead.
/// Open addressing over one flat byte buffer: building it for a 50k-token vocabulary costs a few milliseconds
/// and a lookup allocates nothing.
struct ByteStringTable: Sendable {
    /// All keys back to back; key `i` is `storage[offsets[i]..<offsets[i + 1]]`.
    private var storage: [UInt8] = []
    private var offsets: [Int32] = [0]
    /// Key index + 1 per slot, 0 for an empty slot. Count is a power of two, at most half full.
    private var slots: [Int32]

    init(minimumCapacity: Int = 16) {
        var size = 16
        while size < minimumCapacity * 2 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        storage.reserveCapacity(minimumCapacity * 8)
        offsets.reserveCapacity(minimumCapacity + 1)
    }

    var count: Int { offsets.count - 1 }

    /// Inserts `key` unless present. Returns its index and whether it was new.
    @discardableResult
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>) -> (index: Int, inserted: Bool) {
        if (count + 1) * 2 > slots.count { grow() }
        let (found, slot) = probe(key, hash: Self.hash(key))
        if let found { return (found, false) }
        let index = count
        storage.append(contentsOf: key)
        offsets.append(Int32(storage.count))
        slots[slot] = Int32(index + 1)
        return (index, true)
    }

    mutating func insert(_ key: [UInt8]) -> (index: Int, inserted: Bool) {
        key.withUnsafeBufferPointer { insert($0) }
    }

    func find(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        probe(key, hash: Self.hash(key)).index
    }

    /// The key's index if present, and the slot where the search ended (where a new key would go).
    private func probe(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (index: Int?, slot: Int) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        return storage.withUnsafeBufferPointer { bytes in
            while true {
                let entry = Int(slots[slot])
                if entry == 0 { return (nil, slot) }
                let index = entry - 1
                let start = Int(offsets[index]), end = Int(offsets[index + 1])
                if end - start == key.count {
                    var equal = true
                    var i = 0
                    while i < key.count {
                        if bytes[start + i] != key[i] { equal = false; break }
                        i += 1
                    }
                    if equal { return (index, slot) }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    func find(_ key: [UInt8]) -> Int? {
        key.withUnsafeBufferPointer { find($0) }
    }

    func find(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { find($0) }
    }

    /// The bytes of key `index`.
    func key(_ index: Int) -> ArraySlice<UInt8> {
        storage[Int(offsets[index])..<Int(offsets[index + 1])]
    }

    func keyLength(_ index: Int) -> Int {
        Int(offsets[index + 1] - offsets[index])
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        for index in 0..<count {
            let start = Int(offsets[index]), end = Int(offsets[index + 1])
            let hash = storage.withUnsafeBufferPointer { Self.hash(UnsafeBufferPointer(rebasing: $0[start..<end])) }
            place(index: index, hash: hash)
        }
    }

    private mutating func place(index: Int, hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(index + 1)
    }

    /// FNV-1a, then a multiply to spread the low bits used for the slot. Keys are short token strings.
    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return ((h ^ (h >> 29)) &* 0xbf58_476d_1ce4_e5b9) >> 16
    }
}
