/// The prefix-cache key of one full KV block: a 64-bit hash of its tokens chained with the
/// hash of the block before it, so equal keys mean equal prefixes up to and including the
/// block (barring collisions, which the ``BlockManager`` rules out by comparing tokens and
/// parent hashes on every hit).
///
/// Deterministic across runs (unlike `Hasher`, which is seeded per process) so that cache
/// behaviour is reproducible. Each token is folded in with the splitmix64 finalizer, a
/// bijective mixer with full avalanche: two multiplies per token, far below the cost of
/// computing the block's K/V.
enum BlockHash {
    /// Parent hash of a sequence's first block.
    static let root: UInt64 = 0x5357_4946_544C_4C4D  // "SWIFTLLM"

    /// Hash of `tokens` (one block) under the block whose hash is `parent`.
    static func hash(parent: UInt64, tokens: ArraySlice<Int>) -> UInt64 {
        var h = mix(parent ^ 0x9E37_79B9_7F4A_7C15)
        for token in tokens {
            h = mix(h ^ UInt64(bitPattern: Int64(token)))
        }
        return mix(h ^ UInt64(tokens.count))
    }

    /// splitmix64's output function (Steele, Lea & Flood): a bijection on UInt64.
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
