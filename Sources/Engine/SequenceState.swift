import Dispatch
import Tokenizers

/// One sample of one request as the scheduler tracks it: tokens, progress through the cache,
/// blocks, sampler and streaming state.
final class SequenceState {
    enum Status { case waiting, running, finished }

    let request: RequestState
    let sample: Int
    var tokens: [TokenID]            // prompt + generated
    let promptCount: Int
    /// Tokens whose keys and values are in the cache (the model has seen them).
    var computedTokens = 0
    var allocation = BlockAllocation()
    var status = Status.waiting
    var sampler: Sampler
    var detokenizer: IncrementalDetokenizer
    var stops: StopStringMatcher
    var timings = RequestTimings()
    var firstScheduled: DispatchTime?
    var firstToken: DispatchTime?
    /// Samples 1..<n wait for sample 0's prompt to be cached, then share its blocks.
    var sharesPromptWith: SequenceState?

    init(request: RequestState, sample: Int, tokens: [TokenID], tokenizer: any Tokenizer, vocabularySize: Int) {
        self.request = request
        self.sample = sample
        self.tokens = tokens
        promptCount = tokens.count
        var params = request.params
        // A per-sample random stream: seed + sample index, so a seeded request draws the same
        // tokens alone or batched, and its n samples differ.
        if let seed = params.seed { params.seed = seed &+ UInt64(sample) }
        sampler = Sampler(params: params, vocabularySize: vocabularySize)
        detokenizer = IncrementalDetokenizer(tokenizer: tokenizer)
        stops = StopStringMatcher(stopStrings: request.params.stop)
        timings.promptTokens = tokens.count
    }

    var generatedCount: Int { tokens.count - promptCount }
    /// Tokens still to feed through the model before the next sample.
    var pendingTokens: Int { tokens.count - computedTokens }
}

/// A submitted request: its parameters and its samples' stream.
final class RequestState {
    let id: Int
    let params: SamplingParams
    /// Tokens that end a sample (computed once: checked after every sampled token).
    let endTokenIDs: Set<TokenID>
    let arrival: DispatchTime
    let continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation
    var unfinishedSamples: Int

    init(id: Int, params: SamplingParams, endTokenIDs: Set<TokenID>, samples: Int,
         continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation) {
        self.id = id
        self.params = params
        self.endTokenIDs = endTokenIDs
        arrival = .now()
        self.continuation = continuation
        unfinishedSamples = samples
    }
}
