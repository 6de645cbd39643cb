/// Picks the next token from a row of logits, for one request.
///
/// Order of operations, as in llama.cpp's default sampler chain:
/// 1. penalties: repetition over the last `penaltyLastN` tokens of prompt + generated,
///    then presence and frequency over the generated tokens;
/// 2. temperature 0: argmax, ties to the lowest id, and stop here;
/// 3. top-k, 4. top-p, 5. min-p — all three judged on the temperature-1 distribution,
///    so changing the temperature does not change which tokens survive;
/// 6. temperature, 7. softmax over the survivors, 8. one draw from the request's own
///    seeded xoshiro256** stream.
///
/// All scratch memory is allocated in `init` (see ``SamplerScratch``), so
/// ``sample(logits:history:generatedCount:)`` does not allocate. Costs per token for a
/// vocabulary of n: top-k is a bounded heap, *O(n log k)* at worst and close to *O(n)* for
/// the usual small k; top-p without top-k buckets the logits and sorts only the bucket
/// where the cut falls; the rest is a few passes over the row.
///
/// A copy of a sampler continues the same random stream; copies never share scratch memory.
public struct Sampler: @unchecked Sendable {  // the only reference, `scratch`, is copied on write
    /// The parameters this sampler applies.
    public let params: SamplingParams
    /// Logits past this index are ignored (models may pad their output row).
    public let vocabularySize: Int
    /// The seed of this sampler's random stream: `params.seed`, or the fresh one drawn for it.
    public let seed: UInt64

    private var rng: Xoshiro256StarStar
    private var scratch: SamplerScratch
    private var windowStamp: UInt32 = 0  // marks tokens already penalized in the current call

    /// Prepares a sampler; `vocabularySize` sizes the scratch buffers.
    public init(params: SamplingParams, vocabularySize: Int) {
        self.params = params
        self.vocabularySize = max(0, vocabularySize)
        var system = SystemRandomNumberGenerator()
        self.seed = params.seed ?? system.next()
        self.rng = Xoshiro256StarStar(seed: seed)
        self.scratch = SamplerScratch(vocabularySize: self.vocabularySize, params: params)
    }

    /// Picks the next token from `logits`, which the penalties modify in place.
    ///
    /// - Parameters:
    ///   - logits: one row of model output; entries past `vocabularySize` are ignored.
    ///   - history: prompt and generated tokens so far, oldest first; ids outside the vocabulary are ignored.
    ///   - generatedCount: how many tokens at the end of `history` were generated (for the
    ///     presence and frequency penalties).
    /// - Returns: a token id in `0..<min(logits.count, vocabularySize)`, or 0 if that range is empty.
    public mutating func sample(logits: UnsafeMutableBufferPointer<Float>, history: [Int], generatedCount: Int) -> Int {
        let n = min(logits.count, vocabularySize)
        guard n > 0, let row = logits.baseAddress else { return 0 }
        if !isKnownUniquelyReferenced(&scratch) {
            scratch = SamplerScratch(vocabularySize: vocabularySize, params: params)
        }
        applyRepetitionPenalty(row, n: n, history: history)
        applyPresenceAndFrequencyPenalties(row, n: n, history: history, generatedCount: generatedCount)
        // A temperature so small that 1/T overflows is greedy too; every filter keeps the argmax.
        guard params.temperature > 0, (1 / params.temperature).isFinite else { return Sampler.argmax(row, n: n) }
        let u = rng.nextUnitDouble()
        return Sampler.filterAndDraw(row, n: n, scratch: scratch, params: params, u: u)
    }

    /// Array convenience for ``sample(logits:history:generatedCount:)``.
    public mutating func sample(logits: inout [Float], history: [Int], generatedCount: Int) -> Int {
        logits.withUnsafeMutableBufferPointer { sample(logits: $0, history: history, generatedCount: generatedCount) }
    }

    // MARK: - Penalties

    /// Divides positive logits by the penalty and multiplies negative ones, once per distinct
    /// token in the window, as llama.cpp and Hugging Face do.
    private mutating func applyRepetitionPenalty(_ logits: UnsafeMutablePointer<Float>, n: Int, history: [Int]) {
        let penalty = params.repetitionPenalty
        guard penalty != 1, let stamps = scratch.stamps.baseAddress, scratch.stamps.count >= n else { return }
        // A new stamp per call marks "seen" without clearing the array; clear only on wrap-around.
        windowStamp &+= 1
        if windowStamp == 0 {
            scratch.stamps.update(repeating: 0)
            windowStamp = 1
        }
        let stamp = windowStamp
        let lastN = params.penaltyLastN
        let start = lastN > 0 ? max(0, history.count - lastN) : 0
        for i in start..<history.count {
            let t = history[i]
            guard t >= 0, t < n, stamps[t] != stamp else { continue }
            stamps[t] = stamp
            let l = logits[t]
            logits[t] = l > 0 ? l / penalty : l * penalty
        }
    }

    /// OpenAI's penalties over the generated tokens: `logit -= count * frequency + presence`.
    private func applyPresenceAndFrequencyPenalties(
        _ logits: UnsafeMutablePointer<Float>, n: Int, history: [Int], generatedCount: Int
    ) {
        let presence = params.presencePenalty
        let frequency = params.frequencyPenalty
        guard presence != 0 || frequency != 0,
              let counts = scratch.counts.baseAddress, let touched = scratch.touched.baseAddress,
              scratch.counts.count >= n
        else { return }
        let generated = min(max(generatedCount, 0), history.count)
        var touchedCount = 0
        for i in (history.count - generated)..<history.count {
            let t = history[i]
            guard t >= 0, t < n else { continue }
            if counts[t] == 0 {
                touched[touchedCount] = Int32(t)
                touchedCount += 1
            }
            counts[t] += 1
        }
        // Apply, then zero only the entries touched: the reset costs O(generated), not O(n).
        for j in 0..<touchedCount {
            let t = Int(touched[j])
            logits[t] -= Float(counts[t]) * frequency + presence
            counts[t] = 0
        }
    }
}
