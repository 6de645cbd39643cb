/// Scratch memory for one ``Sampler``, allocated once so sampling never allocates.
///
/// Only what the parameters need is allocated: a greedy sampler has none, the default
/// (temperature 1, no filters) 8 bytes per vocabulary entry, every option on 24.
/// ``Sampler`` copies it on write, so copies of a sampler never share it.
final class SamplerScratch {
    /// Number of logit buckets top-p uses to find its cut without sorting the vocabulary.
    static let bucketCount = 4096

    let ids: UnsafeMutableBufferPointer<Int32>         // [n] surviving token ids, first `count` in use
    let values: UnsafeMutableBufferPointer<Float>      // [n] their logits, later their weights
    let weights: UnsafeMutableBufferPointer<Float>     // [n] temperature-1 weights for top-p (or empty)
    let bucketMass: UnsafeMutableBufferPointer<Double> // [bucketCount] top-p mass per logit bucket (or empty)
    let bucketSize: UnsafeMutableBufferPointer<Int32>  // [bucketCount] tokens per bucket (or empty)
    let counts: UnsafeMutableBufferPointer<Int32>      // [n] occurrences among generated tokens; 0 between calls (or empty)
    let touched: UnsafeMutableBufferPointer<Int32>     // [n] ids with a nonzero count, for the sparse reset (or empty)
    let stamps: UnsafeMutableBufferPointer<UInt32>     // [n] == current stamp: already penalized this call (or empty)

    init(vocabularySize n: Int, params: SamplingParams) {
        let draws = params.temperature > 0
        let bucketsTopP = draws && params.topP < 1 && !(params.topK > 0 && params.topK < n)
        let counted = params.presencePenalty != 0 || params.frequencyPenalty != 0
        ids = Self.zeroed(draws ? n : 0)
        values = Self.zeroed(draws ? n : 0)
        weights = Self.zeroed(bucketsTopP ? n : 0)
        bucketMass = Self.zeroed(bucketsTopP ? Self.bucketCount : 0)
        bucketSize = Self.zeroed(bucketsTopP ? Self.bucketCount : 0)
        counts = Self.zeroed(counted ? n : 0)
        touched = Self.zeroed(counted ? n : 0)
        stamps = Self.zeroed(params.repetitionPenalty != 1 ? n : 0)
    }

    deinit {
        ids.deallocate()
        values.deallocate()
        weights.deallocate()
        bucketMass.deallocate()
        bucketSize.deallocate()
        counts.deallocate()
        touched.deallocate()
        stamps.deallocate()
    }

    private static func zeroed<T: Numeric>(_ count: Int) -> UnsafeMutableBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: count)
        buffer.initialize(repeating: 0)
        return buffer
    }
}
