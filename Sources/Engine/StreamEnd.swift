import Tokenizers

extension SamplingParams {
    /// Token ids that end generation: the model's end-of-generation tokens (unless ignoring
    /// EOS) plus the request's stop tokens. Computed once per request, not per token.
    func endTokenIDs(_ tokenizer: any Tokenizer) -> Set<TokenID> {
        ignoreEOS ? Set(stopTokenIDs) : tokenizer.endOfGenerationTokenIDs.union(stopTokenIDs)
    }
}

/// The text still held back when a sequence ends: the detokenizer's pending bytes, then the
/// stop matcher's held suffix (unless that tail completes a stop string).
func flushHeldText(_ detokenizer: inout IncrementalDetokenizer, _ stops: inout StopStringMatcher) -> (text: String, stopped: Bool) {
    guard !stops.isStopped else { return ("", true) }
    let tail = stops.append(detokenizer.flush())
    return tail.stopped ? (tail.text, true) : (tail.text + stops.finish(), false)
}
