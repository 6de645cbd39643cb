import Foundation
import XCTest
@testable import Engine

final class SamplerTests: XCTestCase {
    /// Deterministic pseudo-random logits in [-4, 4).
    private func randomLogits(_ n: Int, seed: UInt64) -> [Float] {
        var rng = Xoshiro256StarStar(seed: seed)
        return (0..<n).map { _ in Float(rng.nextUnitDouble() * 8 - 4) }
    }

    private func draw(_ sampler: inout Sampler, _ logits: [Float], history: [Int] = [], generated: Int = 0) -> Int {
        var copy = logits
        return sampler.sample(logits: &copy, history: history, generatedCount: generated)
    }

    func testGreedyIsArgmaxWithTiesToLowestID() {
        var sampler = Sampler(params: .greedy, vocabularySize: 6)
        XCTAssertEqual(draw(&sampler, [0.1, 2, -1, 3, 0, 1]), 3)
        XCTAssertEqual(draw(&sampler, [1, 5, 2, 5, 5, 0]), 1)
        XCTAssertEqual(draw(&sampler, [.nan, 1, .nan, 0.5, 0, 1]), 1)
        let logits = randomLogits(50_000, seed: 7)
        var big = Sampler(params: .greedy, vocabularySize: logits.count)
        XCTAssertEqual(draw(&big, logits), logits.indices.max { logits[$0] < logits[$1] })
    }

    func testLogitsPastVocabularyAreIgnored() {
        var sampler = Sampler(params: .greedy, vocabularySize: 3)
        XCTAssertEqual(draw(&sampler, [0, 1, 0, 9, 9]), 1)
        var empty = Sampler(params: .greedy, vocabularySize: 0)
        XCTAssertEqual(draw(&empty, [1, 2]), 0)
    }

    func testSeededSamplingIsReproducibleAndSeedsDiffer() {
        let logits = randomLogits(1000, seed: 1).map { $0 * 0.5 }
        func sequence(seed: UInt64, topK: Int = 0, topP: Float = 1) -> [Int] {
            var sampler = Sampler(params: SamplingParams(topK: topK, topP: topP, seed: seed), vocabularySize: logits.count)
            return (0..<64).map { _ in draw(&sampler, logits) }
        }
        XCTAssertEqual(sequence(seed: 42), sequence(seed: 42))
        XCTAssertEqual(sequence(seed: 42, topK: 50), sequence(seed: 42, topK: 50))
        XCTAssertEqual(sequence(seed: 42, topP: 0.9), sequence(seed: 42, topP: 0.9))
        XCTAssertNotEqual(sequence(seed: 42), sequence(seed: 43))
        let sampler = Sampler(params: SamplingParams(seed: 5), vocabularySize: 1)
        XCTAssertEqual(sampler.seed, 5)
    }

    func testTopKOneAndTinyTopPAreGreedy() {
        for trial in 0..<20 {
            let logits = randomLogits(3000, seed: UInt64(trial))
            var greedy = Sampler(params: .greedy, vocabularySize: logits.count)
            var topK1 = Sampler(params: SamplingParams(temperature: 1.5, topK: 1, seed: UInt64(trial)), vocabularySize: logits.count)
            var topPTiny = Sampler(params: SamplingParams(temperature: 1.5, topP: 1e-6, seed: UInt64(trial)), vocabularySize: logits.count)
            let expected = draw(&greedy, logits)
            XCTAssertEqual(draw(&topK1, logits), expected)
            XCTAssertEqual(draw(&topPTiny, logits), expected)
        }
    }

    func testTopKKeepsOnlyTheKMostLikely() {
        let logits = randomLogits(5000, seed: 3)
        let top5 = Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(5))
        var sampler = Sampler(params: SamplingParams(temperature: 5, topK: 5, seed: 9), vocabularySize: logits.count)
        var seen = Set<Int>()
        for _ in 0..<500 { seen.insert(draw(&sampler, logits)) }
        XCTAssertEqual(seen, top5)
    }

    func testTopPKeepsTheSmallestSetReachingP() {
        // Probabilities 0.5, 0.3, 0.15, 0.05: top-p 0.7 keeps {0, 1}; 0.85 keeps {0, 1, 2}.
        let logits: [Float] = [0.5, 0.3, 0.15, 0.05].map { Float(log($0)) }
        for (p, expected) in [(Float(0.7), Set([0, 1])), (0.85, Set([0, 1, 2])), (0.81, Set([0, 1, 2]))] {
            var sampler = Sampler(params: SamplingParams(topP: p, seed: 11), vocabularySize: 4)
            var seen = Set<Int>()
            for _ in 0..<2000 { seen.insert(draw(&sampler, logits)) }
            XCTAssertEqual(seen, expected, "top_p \(p)")
        }
    }

    /// The set top-p must keep: the shortest prefix, by descending logit then ascending id,
    /// whose softmax mass reaches p.
    private func referenceTopP(_ logits: [Float], p: Double) -> Set<Int> {
        let order = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        let maxLogit = logits[order[0]]
        let weights = order.map { exp(Double(logits[$0] - maxLogit)) }
        let goal = p * weights.reduce(0, +)
        var cumulative = 0.0
        var keep = 0
        while keep < order.count && cumulative < goal { cumulative += weights[keep]; keep += 1 }
        return Set(order.prefix(max(keep, 1)))
    }

    func testTopPWithoutTopKKeepsExactlyTheReferenceSet() {
        let n = 20_000
        let flat = randomLogits(n, seed: 21).map { $0 * 0.01 }
        var peaked = randomLogits(n, seed: 22)
        for i in 0..<10 { peaked[i * 97] = 12 }
        var masked = randomLogits(n, seed: 23).map { $0 * 3 }
        for i in stride(from: 0, to: n, by: 3) { masked[i] = -.infinity }
        let ties = randomLogits(n, seed: 24).map { ($0 * 2).rounded() }
        for (name, logits) in [("flat", flat), ("peaked", peaked), ("masked", masked), ("ties", ties)] {
            for p in [1e-6, 0.1, 0.5, 0.9, 0.99] {
                let scratch = SamplerScratch(vocabularySize: n, params: SamplingParams(topP: Float(p)))
                let kept = logits.withUnsafeBufferPointer { row in
                    Sampler.topPUnsorted(row.baseAddress!, n: n, maxValue: Sampler.maxLogit(row.baseAddress!, n: n),
                                         p: p, scratch: scratch)
                }
                let keptIDs = Set(scratch.ids.prefix(kept).map(Int.init))
                XCTAssertEqual(keptIDs.count, kept, "\(name) p=\(p): duplicate ids")
                XCTAssertEqual(keptIDs, referenceTopP(logits, p: p), "\(name) p=\(p)")
            }
        }
    }

    func testTopPSamplingOnLargeVocabularyStaysInTheTopPSet() {
        let logits = randomLogits(5000, seed: 21).map { $0 * 0.5 }
        let allowed = referenceTopP(logits, p: 0.5)
        var sampler = Sampler(params: SamplingParams(topP: 0.5, seed: 4), vocabularySize: logits.count)
        var seen = Set<Int>()
        for _ in 0..<2000 {
            let token = draw(&sampler, logits)
            XCTAssertTrue(allowed.contains(token))
            seen.insert(token)
        }
        XCTAssertGreaterThan(seen.count, allowed.count / 2)
    }

    func testFastExpMatchesLibm() {
        for x in stride(from: Float(-90), through: 10, by: 0.001) {
            let expected = Foundation.exp(Double(x))
            let got = Double(FastExp.exp(x))
            if x < -87 {
                XCTAssertEqual(got, 0)
            } else {
                XCTAssertEqual(got, expected, accuracy: expected * 4e-7, "x = \(x)")
            }
        }
        XCTAssertEqual(FastExp.exp(-.infinity), 0)
        XCTAssertEqual(FastExp.exp(0), 1)
    }

    func testMinPFilters() {
        // p_max = 0.5; min-p 0.25 keeps tokens with p >= 0.125: ids 0, 1, 2 but not 3 (0.05).
        let logits: [Float] = [0.5, 0.3, 0.15, 0.05].map { Float(log($0)) }
        var sampler = Sampler(params: SamplingParams(minP: 0.25, seed: 2), vocabularySize: 4)
        var seen = Set<Int>()
        for _ in 0..<3000 { seen.insert(draw(&sampler, logits)) }
        XCTAssertEqual(seen, [0, 1, 2])
        var strict = Sampler(params: SamplingParams(topK: 3, minP: 0.5, seed: 2), vocabularySize: 4)
        seen = []
        for _ in 0..<3000 { seen.insert(draw(&strict, logits)) }
        XCTAssertEqual(seen, [0, 1])
    }

    func testTemperatureZeroIsDeterministicAndLowTemperatureNearlyGreedy() {
        let logits: [Float] = [1.0, 1.5, 1.4, -2]
        var zeroA = Sampler(params: SamplingParams(temperature: 0, seed: 1), vocabularySize: 4)
        var zeroB = Sampler(params: SamplingParams(temperature: 0, seed: 2), vocabularySize: 4)
        var low = Sampler(params: SamplingParams(temperature: 0.01, seed: 3), vocabularySize: 4)
        var high = Sampler(params: SamplingParams(temperature: 1, seed: 3), vocabularySize: 4)
        var highSeen = Set<Int>()
        for _ in 0..<500 {
            XCTAssertEqual(draw(&zeroA, logits), 1)
            XCTAssertEqual(draw(&zeroB, logits), 1)
            XCTAssertEqual(draw(&low, logits), 1)  // p(2) = e^-10 at T = 0.01
            highSeen.insert(draw(&high, logits))
        }
        XCTAssertTrue(highSeen.isSuperset(of: [0, 1, 2]))
        var denormal = Sampler(params: SamplingParams(temperature: Float.leastNonzeroMagnitude, seed: 3), vocabularySize: 4)
        XCTAssertEqual(draw(&denormal, logits), 1)
    }

    func testRepetitionPenaltyDividesPositiveAndMultipliesNegative() {
        var sampler = Sampler(params: SamplingParams(temperature: 0, repetitionPenalty: 2, penaltyLastN: 0), vocabularySize: 4)
        var logits: [Float] = [1, 1, -1, 0.8]
        XCTAssertEqual(sampler.sample(logits: &logits, history: [0, 1, 1, 2, 99, -3], generatedCount: 1), 3)
        XCTAssertEqual(logits, [0.5, 0.5, -2, 0.8])  // each id penalized once however often seen
    }

    func testRepetitionPenaltyWindowIsTheLastNTokens() {
        var sampler = Sampler(params: SamplingParams(temperature: 0, repetitionPenalty: 2, penaltyLastN: 2), vocabularySize: 3)
        var logits: [Float] = [1, 1, 1]
        // Window = last two tokens [1, 2]: token 0 (older) is not penalized and wins.
        XCTAssertEqual(sampler.sample(logits: &logits, history: [0, 1, 2], generatedCount: 0), 0)
        XCTAssertEqual(logits, [1, 0.5, 0.5])
        logits = [1, 1, 1]
        XCTAssertEqual(sampler.sample(logits: &logits, history: [0, 2, 1], generatedCount: 0), 0)
        logits = [1, 1, 1]
        XCTAssertEqual(sampler.sample(logits: &logits, history: [1, 2, 0], generatedCount: 0), 1)
    }

    func testPresenceAndFrequencyPenaltiesCountOnlyGeneratedTokens() {
        let params = SamplingParams(temperature: 0, presencePenalty: 0.5, frequencyPenalty: 0.25)
        var sampler = Sampler(params: params, vocabularySize: 4)
        var logits: [Float] = [1, 1, 1, 1]
        // History [3, 0, 1, 1]: token 3 is prompt (no penalty); generated are 0 once, 1 twice.
        XCTAssertEqual(sampler.sample(logits: &logits, history: [3, 0, 1, 1], generatedCount: 3), 2)
        XCTAssertEqual(logits, [0.25, 0, 1, 1])
        // Counts are reset between calls: the same call again gives the same result.
        logits = [1, 1, 1, 1]
        XCTAssertEqual(sampler.sample(logits: &logits, history: [3, 0, 1, 1], generatedCount: 3), 2)
        XCTAssertEqual(logits, [0.25, 0, 1, 1])
        logits = [1, 1, 1, 1]
        XCTAssertEqual(sampler.sample(logits: &logits, history: [3, 0, 1, 1], generatedCount: 0), 0)
        XCTAssertEqual(logits, [1, 1, 1, 1])
    }

    func testEmpiricalDistributionMatchesSoftmax() {
        let logits: [Float] = [0.0, 1.0, 2.0, -0.5]
        let weights = logits.map { exp(Double($0)) }
        let expected = weights.map { $0 / weights.reduce(0, +) }
        var sampler = Sampler(params: SamplingParams(temperature: 1, seed: 1234), vocabularySize: 4)
        var counts = [Int](repeating: 0, count: 4)
        let draws = 20_000
        for _ in 0..<draws { counts[draw(&sampler, logits)] += 1 }
        for i in 0..<4 {
            // Standard error at most ~0.0035; 0.015 absolute is over four of them.
            XCTAssertEqual(Double(counts[i]) / Double(draws), expected[i], accuracy: 0.015, "token \(i)")
        }
    }

    func testTemperatureSharpensTheDistribution() {
        let logits: [Float] = [0.0, 1.0]
        var sampler = Sampler(params: SamplingParams(temperature: 0.5, seed: 77), vocabularySize: 2)
        var ones = 0
        let draws = 20_000
        for _ in 0..<draws where draw(&sampler, logits) == 1 { ones += 1 }
        let expected = exp(2.0) / (1 + exp(2.0))  // logits / 0.5
        XCTAssertEqual(Double(ones) / Double(draws), expected, accuracy: 0.015)
    }

    func testNonFiniteLogitsDoNotTrap() {
        var sampler = Sampler(params: SamplingParams(seed: 1), vocabularySize: 4)
        XCTAssertEqual(draw(&sampler, [-.infinity, -.infinity, -.infinity, -.infinity]), 0)
        XCTAssertEqual(draw(&sampler, [0, .infinity, 1, .infinity]), 1)
        for _ in 0..<100 {
            XCTAssertNotEqual(draw(&sampler, [.nan, 0, 0, -.infinity]), 0)
        }
        var topP = Sampler(params: SamplingParams(topK: 2, topP: 0.9, minP: 0.1, seed: 1), vocabularySize: 4)
        XCTAssertEqual(draw(&topP, [.nan, .nan, .nan, .nan]), 0)
    }

    func testSelectTopMatchesFullSort() {
        let logits = randomLogits(10_000, seed: 5).map { ($0 * 4).rounded() }  // many ties
        let expected = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        var ids = [Int32](repeating: 0, count: logits.count)
        var values = [Float](repeating: 0, count: logits.count)
        for k in [1, 7, 100, 1024, 10_000] {
            logits.withUnsafeBufferPointer { l in
                ids.withUnsafeMutableBufferPointer { i in
                    values.withUnsafeMutableBufferPointer { v in
                        _ = Sampler.selectTop(k, of: l.baseAddress!, n: l.count, ids: i.baseAddress!, values: v.baseAddress!)
                    }
                }
            }
            XCTAssertEqual(ids.prefix(k).map(Int.init), Array(expected.prefix(k)), "k = \(k)")
        }
    }

    func testTopKSpeedOnGemmaSizedVocabulary() {
        let logits = randomLogits(262_144, seed: 8)
        var sampler = Sampler(params: SamplingParams(topK: 40, topP: 0.95, seed: 1), vocabularySize: logits.count)
        var scratch = logits
        let start = Date()
        for _ in 0..<50 {
            scratch.withUnsafeMutableBufferPointer { buffer in
                _ = sampler.sample(logits: buffer, history: [1, 2, 3], generatedCount: 1)
            }
        }
        let perToken = Date().timeIntervalSince(start) / 50
        // A full heap sort of the row takes ~70 ms; the bounded heap ~0.5 ms. The bound is
        // loose because other builds may share the machine's two cores.
        XCTAssertLessThan(perToken, 0.02, "top-k sampling took \(perToken * 1000) ms per token")
    }

    func testCopiesContinueTheSameStreamWithoutSharingScratch() {
        let logits = randomLogits(4000, seed: 30)
        for params in [SamplingParams(seed: 8), SamplingParams(topP: 0.9, repetitionPenalty: 1.3, frequencyPenalty: 0.5, seed: 8)] {
            var original = Sampler(params: params, vocabularySize: logits.count)
            _ = (0..<5).map { _ in draw(&original, logits, history: [1, 2, 3], generated: 2) }
            var copy = original
            let a = (0..<20).map { _ in draw(&original, logits, history: [1, 2, 3], generated: 2) }
            let b = (0..<20).map { _ in draw(&copy, logits, history: [1, 2, 3], generated: 2) }
            XCTAssertEqual(a, b)
        }
    }
}
