import Dispatch

/// One sequence's share of a step: feed tokens[start..<start+count] through the model.
struct ScheduledWork {
    let sequence: SequenceState
    let start: Int
    let count: Int
    /// The chunk reaches the sequence's last token, so the step samples its next token.
    var samples: Bool { start + count == sequence.tokens.count }
}

/// Chooses each step's work: decode tokens of running sequences plus prompt chunks, under a
/// token budget and a sequence cap. Pure bookkeeping over queues and block tables (no tensors),
/// so policies are tested with a fake model in milliseconds.
///
/// - Running sequences are served first, oldest first; a long prompt is read in chunks so the
///   others keep decoding (chunked prefill).
/// - When blocks run out, the newest running sequence is preempted: its blocks are freed and it
///   goes back to the front of the waiting queue to be recomputed. It never deadlocks: a lone
///   sequence that cannot grow is preempted too, and admission only needs its prompt to fit.
/// - Waiting sequences are admitted first come, first served (no skipping ahead).
final class Scheduler {
    let blocks: BlockManager
    let options: EngineOptions
    private(set) var waiting: [SequenceState] = []
    private(set) var running: [SequenceState] = []
    private(set) var preemptions = 0

    init(blocks: BlockManager, options: EngineOptions) {
        self.blocks = blocks
        self.options = options
    }

    var isIdle: Bool { waiting.isEmpty && running.isEmpty }

    func add(_ sequence: SequenceState) {
        sequence.status = .waiting
        waiting.append(sequence)
    }

    /// Removes a sequence wherever it is and frees its blocks.
    func remove(_ sequence: SequenceState) {
        if sequence.status == .running { blocks.free(&sequence.allocation) }
        running.removeAll { $0 === sequence }
        waiting.removeAll { $0 === sequence }
        sequence.status = .finished
    }

    /// When dynamic batching should look again, if it is holding a batch back.
    func nextDynamicDeadline() -> DispatchTime? {
        guard options.batching == .dynamic, running.isEmpty, let first = waiting.first else { return nil }
        return first.request.arrival + .nanoseconds(Int(options.dynamicBatchTimeoutMs * 1e6))
    }

    func schedule(now: DispatchTime = .now()) -> [ScheduledWork] {
        var budget = max(1, options.maxBatchTokens)
        var work: [ScheduledWork] = []

        // Static and dynamic batching admit a whole batch when the previous one has finished;
        // its prompts are then read within the budget over the next steps, and nothing joins it.
        switch options.batching {
        case .continuous:
            break
        case .static:
            if running.isEmpty { admitBatch() }
        case .dynamic:
            if running.isEmpty, let first = waiting.first {
                let waited = Double(now.uptimeNanoseconds &- first.request.arrival.uptimeNanoseconds) / 1e6
                if waiting.count >= options.maxNumSeqs || waited >= options.dynamicBatchTimeoutMs { admitBatch() }
            }
        }

        var i = 0
        while i < running.count, budget > 0 {
            let s = running[i]
            let need = min(s.pendingTokens, budget)
            guard need > 0 else { i += 1; continue }
            var preemptedSelf = false
            while !blocks.reserve(&s.allocation, tokens: s.computedTokens + need) {
                let victim = running[running.count - 1]
                preempt(victim)
                if victim === s { preemptedSelf = true; break }
            }
            if preemptedSelf { continue }
            work.append(ScheduledWork(sequence: s, start: s.computedTokens, count: need))
            budget -= need
            i += 1
        }

        // Continuous batching: new requests join any step with budget left.
        if options.batching == .continuous {
            while budget > 0, running.count < options.maxNumSeqs, let s = waiting.first, admit(s) {
                let need = min(s.pendingTokens, budget)
                if need > 0 {
                    work.append(ScheduledWork(sequence: s, start: s.computedTokens, count: need))
                    budget -= need
                }
            }
        }
        for w in work where w.sequence.firstScheduled == nil { w.sequence.firstScheduled = now }
        return work
    }

    private func admitBatch() {
        while running.count < options.maxNumSeqs, let s = waiting.first, admit(s) {}
    }

    /// Moves the first waiting sequence to running if its prompt's blocks fit.
    private func admit(_ s: SequenceState) -> Bool {
        if let parent = s.sharesPromptWith, parent.status == .running, parent.computedTokens < parent.promptCount {
            return false // wait for sample 0's prompt to be cached, then share it
        }
        guard let allocation = blocks.allocate(promptTokens: s.tokens) else { return false }
        waiting.removeFirst()
        s.allocation = allocation
        s.computedTokens = allocation.cachedTokens
        s.timings.cachedPromptTokens = max(s.timings.cachedPromptTokens, min(allocation.cachedTokens, s.promptCount))
        s.status = .running
        running.append(s)
        return true
    }

    private func preempt(_ s: SequenceState) {
        blocks.free(&s.allocation)
        s.allocation = BlockAllocation()
        s.computedTokens = 0
        s.status = .waiting
        running.removeAll { $0 === s }
        waiting.insert(s, at: 0)
        preemptions += 1
    }
}
