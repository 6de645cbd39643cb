import Engine
import Foundation
import Hummingbird
import NIOCore
import Tokenizers

extension OpenAIServer {
    /// `POST /v1/chat/completions` and `POST /v1/completions`.
    func generate(_ request: Request, context: some RequestContext, kind: GenerationRequest.Kind) async throws -> Response {
        var request = request
        let body = try await readJSON(&request)
        let parsed: GenerationRequest
        switch kind {
        case .chat: parsed = try ChatRequestParser.parse(body, info: info)
        case .completion: parsed = try CompletionRequestParser.parse(body, info: info)
        }
        if !parsed.unknownFields.isEmpty {
            logger.warning("ignoring unknown request fields: \(parsed.unknownFields.joined(separator: ", "))")
        }
        let sequences = parsed.choiceCount
        try admit(sequences)
        let events: AsyncThrowingStream<ChoiceEvent, Error>
        do {
            events = try submitAll(parsed, to: engine)
        } catch {
            release(sequences)
            throw submissionError(error)
        }
        let builder = ResponseBuilder(request: parsed, tokenizer: info.tokenizer)
        // Watching for the client leaving (consumeWithCancellationOnInboundClose) ends the
        // connection's inbound stream, so Hummingbird closes the connection after the response.
        // Say so: a keep-alive client would otherwise send its next request into a closing socket.
        if !parsed.stream {
            defer { release(sequences) }
            // A client that leaves while its request is queued or running cancels it: the
            // inbound close cancels this task, which ends `events` and cancels the engine work.
            let choices = try await request.body.consumeWithCancellationOnInboundClose { _ in
                try await self.collect(events, parsed)
            }
            var response = json(builder.response(choices))
            response.headers[.connection] = "close"
            return response
        }
        let req = request
        let admission = Admission(server: self, sequences: sequences)
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .connection: "close"],
            body: ResponseBody { writer in
                defer { admission.release() }
                try await req.body.consumeWithCancellationOnInboundClose { _ in
                    try await self.stream(events, builder, to: &writer)
                }
                try await writer.finish(nil)
            })
    }

    /// Runs every choice to the end and returns them in index order.
    func collect(_ events: AsyncThrowingStream<ChoiceEvent, Error>, _ request: GenerationRequest) async throws -> [ResponseBuilder.Choice] {
        var choices = [ResponseBuilder.Choice](repeating: .init(), count: request.choiceCount)
        do {
            for try await e in events { apply(e, to: &choices) }
            try Self.checkAllFinished(choices)
        } catch {
            recordUnfinished(choices, error)
            throw submissionError(error)
        }
        return choices
    }

    /// Writes Server-Sent Events: per choice a role chunk (chat) or echo, content deltas, a
    /// finish chunk; then usage (if asked) and `[DONE]`.
    func stream(_ events: AsyncThrowingStream<ChoiceEvent, Error>, _ b: ResponseBuilder,
                to writer: inout any ResponseBodyWriter) async throws {
        let request = b.request
        var choices = [ResponseBuilder.Choice](repeating: .init(), count: request.choiceCount)
        var offsets = [Int](repeating: 0, count: request.choiceCount)
        for i in 0..<request.choiceCount {
            if request.kind == .chat { try await send(b.roleChunk(choice: i), &writer) }
            if let echo = b.echoChunk(choice: i) {
                try await send(echo, &writer)
                offsets[i] = request.promptTexts[i / request.n].utf8.count
            }
        }
        do {
            for try await e in events {
                apply(e, to: &choices)
                switch e.event {
                case .token(let id, let text, _, let lp):
                    if !text.isEmpty || lp != nil {
                        try await send(b.textChunk(choice: e.choice, text: text, logprobs: lp.map { (id, $0) }, offset: offsets[e.choice]), &writer)
                        offsets[e.choice] += info.tokenizer.tokenBytes(id).count
                    }
                case .text(let text, _):
                    try await send(b.textChunk(choice: e.choice, text: text, logprobs: nil, offset: offsets[e.choice]), &writer)
                case .finished(_, let reason, _):
                    try await send(b.finishChunk(choice: e.choice, reason: reason), &writer)
                }
            }
            try Self.checkAllFinished(choices)
        } catch {
            recordUnfinished(choices, error)
            if error is CancellationError { throw error }
            // Headers are out: report the failure in-band, as vLLM does, then end the stream.
            let apiError = submissionError(error) as? APIError ?? APIError(status: .internalServerError, message: "\(error)", type: "server_error")
            try await writer.write(ByteBuffer(string: "data: \(apiError.body.serialized)\n\n"))
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            return
        }
        if request.includeUsage { try await send(b.usageChunk(choices), &writer) }
        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
    }

    /// An AsyncThrowingStream ends quietly (no error) when the consuming task is cancelled, so a
    /// client that left shows up as events that ran out before every choice finished.
    private static func checkAllFinished(_ choices: [ResponseBuilder.Choice]) throws {
        guard choices.contains(where: { $0.finishReason == nil }) else { return }
        if Task.isCancelled { throw CancellationError() }
        throw APIError(status: .internalServerError, message: "The engine ended the request before it finished", type: "server_error")
    }

    private func send(_ chunk: JSONValue, _ writer: inout any ResponseBodyWriter) async throws {
        var s = "data: "
        chunk.write(to: &s)
        s += "\n\n"
        try await writer.write(ByteBuffer(string: s))
    }

    private func apply(_ e: ChoiceEvent, to choices: inout [ResponseBuilder.Choice]) {
        switch e.event {
        case .token(let id, let text, _, let lp):
            choices[e.choice].text += text
            choices[e.choice].tokenCount += 1
            if let lp { choices[e.choice].logprobs.append((id, lp)) }
        case .text(let text, _):
            choices[e.choice].text += text
        case .finished(_, let reason, let timings):
            choices[e.choice].finishReason = reason
            choices[e.choice].timings = timings
            metrics.finished(reason: reason, timings: timings)
        }
    }

    private func recordUnfinished(_ choices: [ResponseBuilder.Choice], _ error: Error) {
        let open = choices.filter { $0.finishReason == nil }.count
        metrics.ended(error is CancellationError ? "abort" : "error", count: open)
        if error is CancellationError { logger.info("client disconnected; cancelled \(open) unfinished choice(s)") }
    }
}
