import Foundation
import Kernels
import Models
import Tokenizers

/// The serving engine: many requests share one model through continuous batching over a paged
/// KV cache with prefix caching.
///
/// `submit` returns at once with a stream of events; an engine thread of its own (never Swift's
/// cooperative pool) runs steps: schedule -> one ragged forward pass -> sample -> stream.
///
///     let engine = try LLMEngine(model: LoadedModel(path: path))
///     let handle = try engine.submit(prompt: "Once upon a time", params: SamplingParams(maxTokens: 32))
///     for try await event in handle.events {
///         if case .token(_, let text, _, _) = event { print(text, terminator: "") }
///     }
public final class LLMEngine: @unchecked Sendable {
    public let model: LoadedModel
    public let options: EngineOptions
    /// Most tokens (prompt + generated) per sequence.
    public let contextSize: Int
    let cache: KVCacheStorage
    let blocks: BlockManager
    let scheduler: Scheduler

    private let lock = NSCondition()
    private var inbox: [SequenceState] = []
    private var cancellations: [Int] = []
    private var requests: [Int: [SequenceState]] = [:]   // engine thread only
    private var nextID = 1
    private var stopped = false
    private var statsSnapshot = EngineStats()
    private var thread: Thread?
    private var batch = Batch()

    public struct Handle: Sendable {
        public let id: Int
        public let events: AsyncThrowingStream<GenerationEvent, Error>
    }

    public init(model: LoadedModel, options: EngineOptions = EngineOptions()) throws {
        self.model = model
        self.options = options
        let config = model.model.config
        contextSize = max(2, min(options.contextSize ?? 8192, config.contextLength))
        let bytesPerToken = model.model.kvBytesPerToken(type: options.kvCacheType)
        let physical = Int(ProcessInfo.processInfo.physicalMemory)
        let budget = options.kvCacheMemory ?? min(1 << 30, physical / 4)
        let blockCount = max(1, budget / (bytesPerToken * options.blockSize))
        cache = model.model.makeKVCache(blockSize: options.blockSize, blockCount: blockCount, type: options.kvCacheType)
        blocks = BlockManager(blockCount: blockCount, blockSize: options.blockSize, prefixCaching: options.prefixCaching)
        scheduler = Scheduler(blocks: blocks, options: options)
        statsSnapshot.kvBlocksTotal = blockCount
        let t = Thread { [weak self] in self?.loop() }
        t.name = "swiftllm-engine"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    deinit { shutdown() }

    /// Tokens the whole KV pool holds.
    public var kvPoolTokens: Int { blocks.blockCount * blocks.blockSize }

    /// Submits a raw prompt (no chat template; BOS added when the model wants one).
    public func submit(prompt: String, params: SamplingParams, n: Int = 1) throws -> Handle {
        try submit(tokens: model.tokenizer.encode(prompt, addSpecial: true, parseSpecial: true), params: params, n: n)
    }

    /// Submits token ids. Bad requests throw here, before anything is queued.
    public func submit(tokens: [TokenID], params: SamplingParams, n: Int = 1) throws -> Handle {
        try params.validate()
        guard (1...64).contains(n) else { throw EngineError.invalidSampleCount(n) }
        let vocab = model.model.config.vocabularySize
        guard !tokens.isEmpty else { throw GenerationError.emptyPrompt }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= vocab }) { throw GenerationError.invalidTokenID(bad, vocabularySize: vocab) }
        guard tokens.count < contextSize else { throw GenerationError.promptTooLong(tokens: tokens.count, contextSize: contextSize) }
        guard blocks.blocksNeeded(tokens.count + 1) <= blocks.blockCount else {
            throw EngineError.promptTooLongForPool(tokens: tokens.count + 1, poolTokens: kvPoolTokens)
        }
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { throw EngineError.shutDown }
        let id = nextID
        nextID += 1
        let request = RequestState(id: id, params: params, endTokenIDs: params.endTokenIDs(model.tokenizer),
                                   samples: n, continuation: continuation)
        var first: SequenceState?
        for k in 0..<n {
            let s = SequenceState(request: request, sample: k, tokens: tokens, tokenizer: model.tokenizer, vocabularySize: vocab)
            s.sharesPromptWith = first
            first = first ?? s
            inbox.append(s)
        }
        continuation.onTermination = { [weak self] reason in
            if case .cancelled = reason { self?.cancel(id) }
        }
        lock.signal()
        return Handle(id: id, events: stream)
    }

    /// Stops a request; its blocks are freed at the next step and its stream ends.
    public func cancel(_ id: Int) {
        lock.lock()
        cancellations.append(id)
        lock.signal()
        lock.unlock()
    }

    /// Statistics as of the last step.
    public var stats: EngineStats {
        lock.lock()
        defer { lock.unlock() }
        return statsSnapshot
    }

    /// Ends the engine thread; unfinished requests' streams end with `EngineError.shutDown`.
    public func shutdown() {
        lock.lock()
        stopped = true
        lock.signal()
        lock.unlock()
    }

    /// Runs one prompt to completion and collects its result (the CLI's and tests' shortcut).
    public func generate(tokens: [TokenID], params: SamplingParams) async throws -> GenerationResult {
        let handle = try submit(tokens: tokens, params: params)
        var ids: [TokenID] = []
        var text = ""
        var reason = FinishReason.length
        var timings = RequestTimings()
        for try await event in handle.events {
            switch event {
            case .token(let id, let delta, _, _): ids.append(id); text += delta
            case .text(let delta, _): text += delta
            case .finished(_, let r, let t): reason = r; timings = t
            }
        }
        var g = GenerationTimings()
        g.promptTokens = timings.promptTokens
        g.ttftMs = timings.ttftMs
        g.promptMs = timings.ttftMs - timings.queueMs
        g.generatedTokens = timings.generatedTokens
        g.decodeMs = timings.tpotMs * Double(max(0, timings.generatedTokens - 1))
        return GenerationResult(promptTokenIDs: tokens, tokenIDs: ids, text: text, finishReason: reason, timings: g)
    }

    // MARK: - Engine thread

    private func loop() {
        while true {
            lock.lock()
            while inbox.isEmpty && cancellations.isEmpty && scheduler.isIdle && !stopped { lock.wait() }
            if stopped {
                lock.unlock()
                failAll()
                return
            }
            let arrivals = inbox
            let cancelled = cancellations
            inbox.removeAll()
            cancellations.removeAll()
            lock.unlock()

            for s in arrivals {
                requests[s.request.id, default: []].append(s)
                scheduler.add(s)
            }
            for id in cancelled { cancelRequest(id) }

            let work = scheduler.schedule()
            if work.isEmpty {
                if let deadline = scheduler.nextDynamicDeadline() {
                    lock.lock()
                    if inbox.isEmpty && cancellations.isEmpty && !stopped {
                        let wait = Double(deadline.uptimeNanoseconds &- DispatchTime.now().uptimeNanoseconds) / 1e9
                        _ = lock.wait(until: Date(timeIntervalSinceNow: max(0.0005, min(wait, 1))))
                    }
                    lock.unlock()
                }
                publishStats()
                continue
            }
            do {
                try step(work)
            } catch {
                // A model error fails the requests of this step, not the engine.
                for w in work { finish(w.sequence, error: error) }
            }
            publishStats()
        }
    }

    private func step(_ work: [ScheduledWork]) throws {
        batch.removeAll()
        for w in work {
            let s = w.sequence
            // Prompt rows use int8 activations, generated rows (decode, or recomputed after a
            // preemption) float ones: a token's numbers never depend on how it was scheduled.
            let split = min(max(s.promptCount, w.start), w.start + w.count)
            if split > w.start {
                batch.append(tokens: s.tokens[w.start..<split], startPosition: w.start, blockTable: s.allocation.blockTable,
                             wantsLogits: w.samples && split == w.start + w.count, isDecode: false)
            }
            if w.start + w.count > split {
                batch.append(tokens: s.tokens[split..<(w.start + w.count)], startPosition: split, blockTable: s.allocation.blockTable,
                             wantsLogits: w.samples, isDecode: true)
            }
        }
        let logits = try model.model.forward(batch, cache: cache)
        let vocab = model.model.config.vocabularySize
        var row = 0
        for w in work {
            let s = w.sequence
            s.computedTokens += w.count
            blocks.commit(s.allocation, tokens: s.tokens, computedTokens: s.computedTokens)
            promptTokensTotal += max(0, min(w.start + w.count, s.promptCount) - w.start)
            guard w.samples else { continue }
            let rowLogits = UnsafeMutableBufferPointer(rebasing: logits[(row * vocab)..<((row + 1) * vocab)])
            row += 1
            sampleNext(s, logits: rowLogits)
        }
    }

    private var rawLogits: [Float] = []
    private var promptTokensTotal = 0
    private var generatedTotal = 0
    private var finishedTotal = 0

    private func sampleNext(_ s: SequenceState, logits: UnsafeMutableBufferPointer<Float>) {
        let params = s.request.params
        // The sampler edits logits in place (penalties, temperature); logprobs need the raw row.
        if params.logprobs != nil { rawLogits.removeAll(keepingCapacity: true); rawLogits.append(contentsOf: logits) }
        let token = s.sampler.sample(logits: logits, history: s.tokens, generatedCount: s.generatedCount)
        let logprobs = params.logprobs.map { k in
            rawLogits.withUnsafeBufferPointer { TokenLogprobs(logits: $0, chosen: token, top: k) }
        }
        let now = DispatchTime.now()
        if s.firstToken == nil { s.firstToken = now }
        if s.request.endTokenIDs.contains(token) {
            finish(s, reason: .stop)
            return
        }
        s.tokens.append(token)
        generatedTotal += 1
        let out = s.stops.append(s.detokenizer.append(token))
        s.request.continuation.yield(.token(id: token, text: out.text, sample: s.sample, logprobs: logprobs))
        if out.stopped { finish(s, reason: .stop); return }
        if s.generatedCount >= params.maxTokens || s.tokens.count >= contextSize { finish(s, reason: .length) }
    }

    private func finish(_ s: SequenceState, reason: FinishReason) {
        let rest = flushHeldText(&s.detokenizer, &s.stops).text
        if !rest.isEmpty { s.request.continuation.yield(.text(rest, sample: s.sample)) }
        scheduler.remove(s)
        var t = s.timings
        let arrival = s.request.arrival
        let now = DispatchTime.now()
        t.generatedTokens = s.generatedCount
        t.queueMs = s.firstScheduled.map { ms(arrival, $0) } ?? ms(arrival, now)
        t.ttftMs = s.firstToken.map { ms(arrival, $0) } ?? ms(arrival, now)
        t.totalMs = ms(arrival, now)
        if let first = s.firstToken, t.generatedTokens > 1 { t.tpotMs = ms(first, now) / Double(t.generatedTokens - 1) }
        s.request.continuation.yield(.finished(sample: s.sample, reason: reason, timings: t))
        s.request.unfinishedSamples -= 1
        if s.request.unfinishedSamples == 0 {
            s.request.continuation.finish()
            requests[s.request.id] = nil
            finishedTotal += 1
        }
    }

    private func finish(_ s: SequenceState, error: Error) {
        scheduler.remove(s)
        s.request.unfinishedSamples -= 1
        if s.request.unfinishedSamples <= 0 {
            s.request.continuation.finish(throwing: error)
            requests[s.request.id] = nil
        }
    }

    private func cancelRequest(_ id: Int) {
        guard let seqs = requests[id] else { return }
        for s in seqs where s.status != .finished { scheduler.remove(s) }
        seqs.first?.request.continuation.finish(throwing: CancellationError())
        requests[id] = nil
    }

    private func failAll() {
        for (_, seqs) in requests {
            for s in seqs where s.status != .finished { scheduler.remove(s) }
            seqs.first?.request.continuation.finish(throwing: EngineError.shutDown)
        }
        requests.removeAll()
        for s in inbox { s.request.continuation.finish(throwing: EngineError.shutDown) }
    }

    private func publishStats() {
        lock.lock()
        statsSnapshot.running = scheduler.running.count
        statsSnapshot.waiting = scheduler.waiting.count + inbox.count
        statsSnapshot.kvBlocksUsed = blocks.usedBlockCount
        statsSnapshot.prefixHitRate = blocks.prefixHitRate
        statsSnapshot.promptTokensProcessed = promptTokensTotal
        statsSnapshot.generatedTokens = generatedTotal
        statsSnapshot.preemptions = scheduler.preemptions
        statsSnapshot.finishedRequests = finishedTotal
        statsSnapshot.steps += 1
        lock.unlock()
    }

    private func ms(_ a: DispatchTime, _ b: DispatchTime) -> Double {
        Double(b.uptimeNanoseconds &- a.uptimeNanoseconds) / 1e6
    }
}
