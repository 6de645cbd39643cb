import Engine
import Foundation
import Prometheus

/// The server's Prometheus metrics. Engine gauges and token counters are brought up to date
/// from `EngineStats` when /metrics is scraped; per-request histograms are recorded as each
/// choice finishes.
final class ServerMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let running: Gauge
    private let waiting: Gauge
    private let kvUsage: Gauge
    private let kvFree: Gauge
    private let kvTotal: Gauge
    private let prefixHit: Gauge
    private let preemptions: Counter
    private let promptTokens: Counter
    private let generationTokens: Counter
    private let ttft: ValueHistogram
    private let tpot: ValueHistogram
    private let e2e: ValueHistogram
    private let queue: ValueHistogram
    private let requestsDescriptor: MetricNameDescriptor
    private let lock = NSLock()
    private var lastPromptTokens = 0
    private var lastGeneratedTokens = 0
    private var lastPreemptions = 0

    init() {
        func d(_ name: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        }
        running = registry.makeGauge(descriptor: d("swiftllm_requests_running", "Sequences in the running batch"))
        waiting = registry.makeGauge(descriptor: d("swiftllm_requests_waiting", "Sequences waiting to be scheduled"))
        kvUsage = registry.makeGauge(descriptor: d("swiftllm_kv_cache_usage_ratio", "Fraction of KV cache blocks in use (0-1)"))
        kvFree = registry.makeGauge(descriptor: d("swiftllm_kv_blocks_free", "KV cache blocks not in use"))
        kvTotal = registry.makeGauge(descriptor: d("swiftllm_kv_blocks_total", "KV cache blocks in the pool"))
        prefixHit = registry.makeGauge(descriptor: d("swiftllm_prefix_cache_hit_ratio", "Prompt tokens found in the prefix cache / prompt tokens looked up"))
        preemptions = registry.makeCounter(descriptor: d("swiftllm_preemptions_total", "Sequences preempted for lack of KV blocks"))
        promptTokens = registry.makeCounter(descriptor: d("swiftllm_prompt_tokens_total", "Prompt tokens computed (prefill)"))
        generationTokens = registry.makeCounter(descriptor: d("swiftllm_generation_tokens_total", "Tokens generated"))
        let latency: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
        let perToken: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5]
        ttft = registry.makeValueHistogram(descriptor: d("swiftllm_time_to_first_token_seconds", "Arrival to first generated token"), buckets: latency)
        tpot = registry.makeValueHistogram(descriptor: d("swiftllm_time_per_output_token_seconds", "Mean time per output token after the first"), buckets: perToken)
        e2e = registry.makeValueHistogram(descriptor: d("swiftllm_e2e_request_latency_seconds", "Arrival to finish"), buckets: latency)
        queue = registry.makeValueHistogram(descriptor: d("swiftllm_request_queue_time_seconds", "Arrival to first scheduling"), buckets: latency)
        requestsDescriptor = d("swiftllm_requests_total", "Finished requests (choices) by finish reason: stop, length, abort, error")
        for reason in ["stop", "length", "abort", "error"] { _ = requestCounter(reason) }
    }

    private func requestCounter(_ reason: String) -> Counter {
        registry.makeCounter(descriptor: requestsDescriptor, labels: [("finish_reason", reason)])
    }

    /// One choice finished normally.
    func finished(reason: FinishReason, timings t: RequestTimings) {
        requestCounter(reason.rawValue).increment()
        ttft.record(t.ttftMs / 1000)
        e2e.record(t.totalMs / 1000)
        queue.record(t.queueMs / 1000)
        if t.generatedTokens > 1 { tpot.record(t.tpotMs / 1000) }
    }

    /// Choices that ended without a finish event: the client left ("abort") or the engine failed.
    func ended(_ reason: String, count: Int) {
        guard count > 0 else { return }
        requestCounter(reason).increment(by: Int64(count))
    }

    /// Brings engine-derived values up to date, then renders the text exposition format.
    func render(stats s: EngineStats) -> String {
        running.set(Double(s.running))
        waiting.set(Double(s.waiting))
        kvUsage.set(s.kvUsage)
        kvFree.set(Double(s.kvBlocksTotal - s.kvBlocksUsed))
        kvTotal.set(Double(s.kvBlocksTotal))
        prefixHit.set(s.prefixHitRate)
        lock.lock()
        if s.promptTokensProcessed > lastPromptTokens { promptTokens.increment(by: Int64(s.promptTokensProcessed - lastPromptTokens)) }
        if s.generatedTokens > lastGeneratedTokens { generationTokens.increment(by: Int64(s.generatedTokens - lastGeneratedTokens)) }
        if s.preemptions > lastPreemptions { preemptions.increment(by: Int64(s.preemptions - lastPreemptions)) }
        lastPromptTokens = max(lastPromptTokens, s.promptTokensProcessed)
        lastGeneratedTokens = max(lastGeneratedTokens, s.generatedTokens)
        lastPreemptions = max(lastPreemptions, s.preemptions)
        lock.unlock()
        return registry.emitToString()
    }
}
