import Engine

/// An engine event tagged with the OpenAI choice index it belongs to.
struct ChoiceEvent: Sendable {
    let choice: Int
    let event: GenerationEvent
}

/// Submits every prompt of a request (each with `n` samples) and merges their event streams.
/// Ending the merged stream early (the client left) cancels the engine requests: cancelling the
/// forwarding task ends each handle's iteration, whose termination handler cancels the request.
func submitAll(_ request: GenerationRequest, to engine: LLMEngine) throws -> AsyncThrowingStream<ChoiceEvent, Error> {
    var handles: [LLMEngine.Handle] = []
    do {
        for prompt in request.prompts {
            handles.append(try engine.submit(tokens: prompt, params: request.params, n: request.n))
        }
    } catch {
        for h in handles { engine.cancel(h.id) }
        throw error
    }
    let n = request.n
    let submitted = handles
    return AsyncThrowingStream { continuation in
        let task = Task {
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (p, handle) in submitted.enumerated() {
                        group.addTask {
                            for try await event in handle.events {
                                continuation.yield(ChoiceEvent(choice: p * n + event.sample, event: event))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in
            task.cancel()
            for h in submitted { engine.cancel(h.id) }
        }
    }
}

extension GenerationEvent {
    var sample: Int {
        switch self {
        case .token(_, _, let s, _), .text(_, let s), .finished(let s, _, _): return s
        }
    }
}
