/// Maps a pair of 32-bit symbols to a 64-bit value; used for BPE merges `(left, right) -> (rank, result)`.
/// Open addressing with a multiplicative hash: much cheaper per lookup than `Dictionary`'s seeded SipHash,
/// and merge lookups dominate encoding time.
struct PairTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private(set) var count = 0
    private static let empty = UInt64.max

    init(minimumCapacity: Int) {
        var size = 16
        while size < minimumCapacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
    }

    /// Stores `value` unless the pair is already present (the first merge line for a pair wins, as in llama.cpp).
    mutating func insertIfAbsent(_ a: Int32, _ b: Int32, value: UInt64) {
        if (count + 1) * 2 > keys.count { grow() }
        let key = Self.key(a, b)
        let mask = keys.count - 1
        var slot = Self.slot(key) & mask
        while keys[slot] != Self.empty {
            if keys[slot] == key { return }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        values[slot] = value
        count += 1
    }

    @inline(__always)
    func find(_ a: Int32, _ b: Int32) -> UInt64? {
        let key = Self.key(a, b)
        let mask = keys.count - 1
        var slot = Self.slot(key) & mask
        while true {
            let k = keys[slot]
            if k == key { return values[slot] }
            if k == Self.empty { return nil }
            slot = (slot + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UInt64](repeating: Self.empty, count: oldKeys.count * 2)
        values = [UInt64](repeating: 0, count: oldKeys.count * 2)
        let mask = keys.count - 1
        for (i, key) in oldKeys.enumerated() where key != Self.empty {
            var slot = Self.slot(key) & mask
            while keys[slot] != Self.empty { slot = (slot + 1) & mask }
            keys[slot] = key
            values[slot] = oldValues[i]
        }
    }

    @inline(__always)
    private static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    @inline(__always)
    private static func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9e37_79b9_7f4a_7c15) >> 20)
    }
}
