import Foundation
import Models
import Tokenizers

/// Generates one completion at a time with a model, its tokenizer and a private KV cache.
///
/// The CLI's `generate` path. The serving engine (LLMEngine) runs many sequences per step over
/// a shared block pool; this type is the single-sequence case with the same model API.
public final class Generator {
    public let model: any LanguageModel
    public let tokenizer: any Tokenizer
    /// Most tokens (prompt + generated) one completion may hold.
    public let contextSize: Int
    let cache: KVCacheStorage
    let blockTable: [Int32]
    var batch = Batch()
    /// Tokens whose keys and values are in the cache, in position order. A new prompt that
    /// starts with them (the next turn of a chat) only computes the rest.
    var cachedTokens: [TokenID] = []

    public init(model: any LanguageModel, tokenizer: any Tokenizer, contextSize: Int? = nil, blockSize: Int = 16,
                kvCacheType: KVCacheType = .f16) {
        self.model = model
        self.tokenizer = tokenizer
        let ctx = min(contextSize ?? model.config.contextLength, model.config.contextLength)
        self.contextSize = max(1, ctx)
        let blocks = (self.contextSize + blockSize - 1) / blockSize
        cache = model.makeKVCache(blockSize: blockSize, blockCount: blocks, type: kvCacheType)
        blockTable = (0..<Int32(blocks)).map { $0 }
    }

    /// Tokenizes a raw prompt (no chat template), adding BOS when the model asks for it.
    public func encodePrompt(_ prompt: String) -> [TokenID] {
        tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
    }

    /// Runs one completion. `onText` receives text deltas as they become final (never a broken
    /// UTF-8 character, never any part of a stop string); return false from it to cancel.
    public func generate(promptTokens prompt: [TokenID], params: SamplingParams,
                         onText: (String) -> Bool = { _ in true }) throws -> GenerationResult {
        try params.validate()
        let vocab = model.config.vocabularySize
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        if let bad = prompt.first(where: { $0 < 0 || $0 >= vocab }) { throw GenerationError.invalidTokenID(bad, vocabularySize: vocab) }
        guard prompt.count < contextSize else { throw GenerationError.promptTooLong(tokens: prompt.count, contextSize: contextSize) }

        let start = DispatchTime.now()
        var timings = GenerationTimings()
        timings.promptTokens = prompt.count
        var sampler = Sampler(params: params, vocabularySize: vocab)
        var history = prompt
        history.reserveCapacity(prompt.count + params.maxTokens)
        var generated: [TokenID] = []
        var detok = IncrementalDetokenizer(tokenizer: tokenizer)
        var stops = StopStringMatcher(stopStrings: params.stop)
        var text = ""
        let endIDs = params.endTokenIDs(tokenizer)
        var finish = FinishReason.length

        // Reuse the cached prefix (at least the last prompt token is recomputed for its logits),
        // then prefill the rest in chunks the model accepts; logits only for the last position.
        var pos = zip(cachedTokens, prompt).prefix { $0 == $1 }.count
        pos = min(pos, prompt.count - 1)
        cachedTokens.removeSubrange(pos...)
        var logits = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
        while pos < prompt.count {
            let n = min(model.maxBatchTokens, prompt.count - pos)
            batch.removeAll()
            batch.append(tokens: prompt[pos..<pos + n], startPosition: pos, blockTable: blockTable, wantsLogits: pos + n == prompt.count)
            logits = try model.forward(batch, cache: cache)
            cachedTokens.append(contentsOf: prompt[pos..<pos + n])
            pos += n
        }
        timings.promptMs = start.millisecondsElapsed

        var firstTokenTime: DispatchTime?
        while generated.count < params.maxTokens {
            let next = sampler.sample(logits: logits, history: history, generatedCount: generated.count)
            if firstTokenTime == nil {
                firstTokenTime = .now()
                timings.ttftMs = start.millisecondsElapsed
            }
            if endIDs.contains(next) { finish = .stop; break }
            generated.append(next)
            history.append(next)
            let out = stops.append(detok.append(next))
            text += out.text
            if !out.text.isEmpty, !onText(out.text) { finish = .stop; break }
            if out.stopped { finish = .stop; break }
            if generated.count >= params.maxTokens || history.count >= contextSize { break }
            batch.removeAll()
            batch.append(tokens: CollectionOfOne(next), startPosition: history.count - 1, blockTable: blockTable,
                         wantsLogits: true, isDecode: true)
            logits = try model.forward(batch, cache: cache)
            cachedTokens.append(next)
        }
        if !stops.isStopped {
            let (rest, stopped) = flushHeldText(&detok, &stops)
            if stopped { finish = .stop }
            text += rest
            if !rest.isEmpty { _ = onText(rest) }
        }
        timings.generatedTokens = generated.count
        if let first = firstTokenTime { timings.decodeMs = first.millisecondsElapsed }
        return GenerationResult(promptTokenIDs: prompt, tokenIDs: generated, text: text, finishReason: finish, timings: timings)
    }
}

extension DispatchTime {
    var millisecondsElapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - uptimeNanoseconds) / 1e6 }
}
