import Foundation

/// Steps 2 to 8 of the sampling chain, as functions on raw buffers.
extension Sampler {
    /// Index of the largest logit, the lowest index among equals; NaN never wins.
    static func argmax(_ logits: UnsafePointer<Float>, n: Int) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<n where logits[i] > bestValue {
            best = i
            bestValue = logits[i]
        }
        return best
    }

    /// Largest logit, ignoring NaN; -inf if there is none.
    static func maxLogit(_ logits: UnsafePointer<Float>, n: Int) -> Float {
        var best = -Float.infinity
        for i in 0..<n {
            let l = logits[i]
            best = l > best ? l : best
        }
        return best
    }

    /// Steps 3 to 8 over `logits[0..<n]`; `u` is the uniform draw in [0, 1).
    ///
    /// Candidates live in `scratch.ids`/`scratch.values`, except while `identity` holds: then
    /// candidate i is token i with logit `logits[i]`, and no pass has copied the row.
    static func filterAndDraw(
        _ logits: UnsafePointer<Float>, n: Int, scratch: SamplerScratch, params: SamplingParams, u: Double
    ) -> Int {
        guard let ids = scratch.ids.baseAddress, let values = scratch.values.baseAddress,
              scratch.ids.count >= n, scratch.values.count >= n
        else { return argmax(logits, n: n) }

        // 3. top-k.
        let topK = params.topK > 0 && params.topK < n ? params.topK : 0
        var count = n
        var sorted = false
        var identity = false
        let maxValue: Float
        if topK > 0 {
            count = selectTop(topK, of: logits, n: n, ids: ids, values: values)
            sorted = true
            maxValue = values[0]
        } else {
            maxValue = maxLogit(logits, n: n)
            identity = true
        }
        // All -inf or NaN, or some +inf: there is no distribution to draw from; take the argmax.
        guard maxValue.isFinite else { return argmax(logits, n: n) }

        // 4. top-p.
        let topP = Double(params.topP)
        if topP > 0 && topP < 1 {
            if sorted {
                var total = 0.0
                for i in 0..<count { total += Double(FastExp.exp(values[i] - maxValue)) }
                count = topPPrefix(values, count: count, maxValue: maxValue, massBefore: 0, goal: topP * total) ?? count
            } else {
                count = topPUnsorted(logits, n: n, maxValue: maxValue, p: topP, scratch: scratch)
                identity = false
            }
        }

        // 5. min-p: p_i >= minP * p_max  <=>  logit_i >= max_logit + ln(minP), no softmax needed.
        let minP = params.minP
        if minP > 0 && minP <= 1 {
            let threshold = maxValue + Foundation.log(minP)
            var kept = 0
            if sorted {
                while kept < count && values[kept] >= threshold { kept += 1 }
            } else if identity {
                for i in 0..<n where logits[i] >= threshold {  // NaN fails
                    ids[kept] = Int32(i)
                    values[kept] = logits[i]
                    kept += 1
                }
                identity = false
            } else {
                for i in 0..<count where values[i] >= threshold {
                    ids[kept] = ids[i]
                    values[kept] = values[i]
                    kept += 1
                }
            }
            count = max(kept, 1)  // the maximum always passes; this only guards rounding
        }

        // 6, 7. Temperature and softmax: weights exp((l - max) / T); the draw normalizes.
        FastExp.exponentiate(identity ? logits : UnsafePointer(values), into: values, count: count,
                             shift: maxValue, scale: 1 / params.temperature)
        // 8. Draw.
        let index = drawIndex(values, count: count, u: u)
        return identity ? index : Int(ids[index])
    }

    /// Index i where the cumulative weight first exceeds `u` times the total, skipping whole
    /// blocks by their sums; weights of 0 are never picked.
    static func drawIndex(_ weights: UnsafePointer<Float>, count: Int, u: Double) -> Int {
        let target = u * blockedSum(weights, count: count)
        var cumulative = 0.0
        var blockStart = 0
        while blockStart < count {
            let blockEnd = min(blockStart + sumBlockSize, count)
            let blockTotal = blockSum(weights, from: blockStart, to: blockEnd)
            if cumulative + blockTotal > target {
                var inner = cumulative
                var lastPositive = blockStart
                for i in blockStart..<blockEnd where weights[i] > 0 {
                    inner += Double(weights[i])
                    lastPositive = i
                    if inner > target { return i }
                }
                return lastPositive  // rounding put the target at the block's very end
            }
            cumulative += blockTotal
            blockStart = blockEnd
        }
        // u * total rounded up to the total: take the last token with any weight.
        var last = max(count - 1, 0)
        while last > 0 && !(weights[last] > 0) { last -= 1 }
        return last
    }

    // MARK: - Top-p

    /// How many of the most likely tokens top-p tries before bucketing the whole row.
    static let topPShortcutCount = 1024

    /// Top-p over the whole row without sorting it; fills `scratch.ids`/`values` with the kept
    /// tokens and returns their count.
    ///
    /// First the 1024 most likely tokens (a bounded heap, as top-k): an LLM's distribution is
    /// peaked enough that they nearly always hold the top-p mass. Otherwise it buckets the
    /// tokens by how far their logit is below the maximum (4096 buckets over ln(n) + 20 nats;
    /// anything lower, whose mass is below e^-20 of the total, shares the last bucket), finds
    /// the bucket where the cumulative mass reaches `p`, keeps every token of the buckets
    /// above it and sorts only that bucket's tokens to place the exact cut.
    /// The kept tokens are unsorted, except the cut bucket's, which come last.
    static func topPUnsorted(
        _ logits: UnsafePointer<Float>, n: Int, maxValue: Float, p: Double, scratch: SamplerScratch
    ) -> Int {
        guard let ids = scratch.ids.baseAddress, let values = scratch.values.baseAddress,
              let weights = scratch.weights.baseAddress, scratch.weights.count >= n, scratch.ids.count >= n,
              let mass = scratch.bucketMass.baseAddress, let size = scratch.bucketSize.baseAddress
        else { return copyAll(logits, n: n, scratch: scratch) }
        let buckets = SamplerScratch.bucketCount
        let lastBucket = Float(buckets - 1)
        let scale = lastBucket / (Foundation.log(Float(n)) + 20)
        @inline(__always) func bucket(_ l: Float) -> Int {
            let d = (maxValue - l) * scale  // >= 0; +inf for -inf, NaN for NaN: both to the last bucket
            return d < lastBucket ? Int(d) : buckets - 1
        }

        FastExp.exponentiate(logits, into: weights, count: n, shift: maxValue, scale: 1)
        let goal = p * blockedSum(weights, count: n)
        if n > 2 * topPShortcutCount {
            let top = selectTop(topPShortcutCount, of: logits, n: n, ids: ids, values: values)
            if let cut = topPPrefix(values, count: top, maxValue: maxValue, massBefore: 0, goal: goal) { return cut }
        }

        scratch.bucketMass.update(repeating: 0)
        scratch.bucketSize.update(repeating: 0)
        for i in 0..<n {
            let b = bucket(logits[i])
            mass[b] += Double(weights[i])
            size[b] &+= 1
        }

        var massAbove = 0.0
        var cut = buckets - 1
        var countAbove = 0
        for b in 0..<buckets {
            if massAbove + mass[b] >= goal {
                cut = b
                break
            }
            massAbove += mass[b]
            countAbove += Int(size[b])
        }
        // Cut in the last bucket: only rounding gets here; its tokens weigh nothing, keep all.
        if cut == buckets - 1 { return copyAll(logits, n: n, scratch: scratch) }

        // One pass: tokens above the cut bucket to the front, the cut bucket's right after them.
        var above = 0
        var inCut = countAbove
        for i in 0..<n {
            let l = logits[i]
            let b = bucket(l)
            if b < cut {
                ids[above] = Int32(i)
                values[above] = l
                above += 1
            } else if b == cut {
                ids[inCut] = Int32(i)
                values[inCut] = l
                inCut += 1
            }
        }
        let cutCount = inCut - countAbove
        heapSortDescending(cutCount, ids: ids + countAbove, values: values + countAbove)
        let taken = topPPrefix(values + countAbove, count: cutCount, maxValue: maxValue,
                               massBefore: massAbove, goal: goal) ?? cutCount
        return countAbove + taken
    }

    /// Every token as a candidate (NaN as -inf); returns n.
    private static func copyAll(_ logits: UnsafePointer<Float>, n: Int, scratch: SamplerScratch) -> Int {
        guard let ids = scratch.ids.baseAddress, let values = scratch.values.baseAddress else { return 0 }
        for i in 0..<n {
            let l = logits[i]
            ids[i] = Int32(i)
            values[i] = l.isNaN ? -Float.infinity : l
        }
        return n
    }

    /// Length of the shortest prefix of the descending `values` at which `massBefore` plus the
    /// prefix's mass exp(l - maxValue) reaches `goal`; nil if the whole `count` does not.
    static func topPPrefix(_ values: UnsafePointer<Float>, count: Int, maxValue: Float, massBefore: Double, goal: Double) -> Int? {
        var cumulative = massBefore
        for i in 0..<count {
            cumulative += Double(FastExp.exp(values[i] - maxValue))
            if cumulative >= goal { return i + 1 }
        }
        return nil
    }

    // MARK: - Sums

    /// Elements summed per block: float within a block, double across blocks.
    static let sumBlockSize = 256

    /// Sum of `values[0..<count]`, block by block exactly as the draw walks them.
    static func blockedSum(_ values: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let end = min(start + sumBlockSize, count)
            total += blockSum(values, from: start, to: end)
            start = end
        }
        return total
    }

    /// Sum of one block with eight independent float accumulators (so it vectorizes).
    @inline(__always)
    static func blockSum(_ values: UnsafePointer<Float>, from start: Int, to end: Int) -> Double {
        var lanes = SIMD8<Float>()
        var i = start
        while i + 8 <= end {
            lanes += UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = Double(lanes.sum())
        while i < end {
            total += Double(values[i])
            i += 1
        }
        return total
    }

    // MARK: - Top-k selection

    /// Writes the `k` largest of `logits[0..<n]` (NaN counted as -inf) to `ids`/`values`,
    /// sorted descending with ties by ascending id; returns `k` (clamped to n).
    ///
    /// A min-heap of the best k seen so far: each further logit costs one comparison with the
    /// heap's worst unless it enters, and a final heapsort orders the k in place.
    static func selectTop(
        _ k: Int, of logits: UnsafePointer<Float>, n: Int,
        ids: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>
    ) -> Int {
        let k = min(k, n)
        guard k > 0 else { return 0 }
        for i in 0..<k {
            ids[i] = Int32(i)
            let l = logits[i]
            values[i] = l.isNaN ? -Float.infinity : l
        }
        buildHeap(k, ids: ids, values: values)
        // A later index has a higher id, so on a tie it is the worse one: strict > is exact.
        for j in k..<n where logits[j] > values[0] {
            values[0] = logits[j]
            ids[0] = Int32(j)
            siftDown(0, size: k, ids: ids, values: values)
        }
        sortHeap(k, ids: ids, values: values)
        return k
    }

    /// Sorts `count` entries descending by value, ties by ascending id, in place.
    static func heapSortDescending(_ count: Int, ids: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>) {
        guard count > 1 else { return }
        buildHeap(count, ids: ids, values: values)
        sortHeap(count, ids: ids, values: values)
    }

    /// Heap order: the root is the worst entry (lowest value, then highest id).
    private static func buildHeap(_ count: Int, ids: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>) {
        var i = count / 2 - 1
        while i >= 0 {
            siftDown(i, size: count, ids: ids, values: values)
            i -= 1
        }
    }

    /// Repeatedly moves the worst entry to the end: the heap becomes a descending array.
    private static func sortHeap(_ count: Int, ids: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>) {
        var end = count - 1
        while end > 0 {
            swapEntries(0, end, ids: ids, values: values)
            siftDown(0, size: end, ids: ids, values: values)
            end -= 1
        }
    }

    @inline(__always)
    private static func isWorse(_ a: Int, than b: Int, ids: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>) -> Bool {
        values[a] < values[b] || (values[a] == values[b] && ids[a] > ids[b])
    }

    @inline(__always)
    static func swapEntries(_ a: Int, _ b: Int, ids: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>) {
        let id = ids[a]
        ids[a] = ids[b]
        ids[b] = id
        let value = values[a]
        values[a] = values[b]
        values[b] = value
    }

    private static func siftDown(_ start: Int, size: Int, ids: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>) {
        var i = start
        while true {
            let left = 2 * i + 1
            guard left < size else { return }
            var worst = left
            if left + 1 < size && isWorse(left + 1, than: left, ids: ids, values: values) { worst = left + 1 }
            guard isWorse(worst, than: i, ids: ids, values: values) else { return }
            swapEntries(i, worst, ids: ids, values: values)
            i = worst
        }
    }
}
