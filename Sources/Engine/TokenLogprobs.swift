import Tokenizers

/// A token and its log-probability under the model's distribution.
public struct TokenLogprob: Sendable, Equatable, Codable {
    public var id: TokenID
    public var logprob: Float

    public init(id: TokenID, logprob: Float) {
        self.id = id
        self.logprob = logprob
    }
}

/// Log-probabilities of a sampled token and of the most likely alternatives at its position,
/// from the model's raw distribution (before penalties, temperature and filters, as OpenAI and
/// vLLM report them).
public struct TokenLogprobs: Sendable, Equatable {
    public var chosen: TokenLogprob
    /// The `top` most likely tokens, most likely first (ties by lower id).
    public var top: [TokenLogprob]

    /// Computes them from one row of logits. `top` is at most 20, so a bounded insertion list
    /// beats sorting the vocabulary.
    public init(logits: UnsafeBufferPointer<Float>, chosen: TokenID, top: Int) {
        var maxLogit = -Float.infinity
        for v in logits where v > maxLogit { maxLogit = v }
        var sum = 0.0
        for v in logits { sum += Foundation.exp(Double(v - maxLogit)) }
        let lse = maxLogit + Float(Foundation.log(sum))
        self.chosen = TokenLogprob(id: chosen, logprob: logits[chosen] - lse)
        var best: [TokenLogprob] = []
        best.reserveCapacity(top + 1)
        if top > 0 {
            for (i, v) in logits.enumerated() where best.count < top || v > best[best.count - 1].logprob {
                var j = best.count
                while j > 0 && best[j - 1].logprob < v { j -= 1 }
                best.insert(TokenLogprob(id: i, logprob: v), at: j)
                if best.count > top { best.removeLast() }
            }
        }
        self.top = best.map { TokenLogprob(id: $0.id, logprob: $0.logprob - lse) }
    }
}

import Foundation
