import Engine
import Foundation
import Hummingbird
import Logging
import NIOCore
import Tokenizers

/// The OpenAI-compatible HTTP API over one LLMEngine: routes, admission control and the
/// translation between requests, engine events and response bodies.
public final class OpenAIServer: @unchecked Sendable {
    public let engine: LLMEngine
    public let options: ServerOptions
    let metrics = ServerMetrics()
    let info: RequestContextInfo
    let logger: Logger
    private let lock = NSLock()
    private var admittedSequences = 0
    private var shuttingDown = false
    let started = Int(Date().timeIntervalSince1970)

    /// - Parameter chatTemplateFile: overrides the model's chat template (as llama.cpp allows).
    public init(engine: LLMEngine, options: ServerOptions, chatTemplateFile: String? = nil, logger: Logger) {
        self.engine = engine
        self.options = options
        self.logger = logger
        let model = engine.model
        var chat: ChatPrompt?
        var chatError: String?
        do {
            chat = try ChatPrompt(file: model.file, tokenizer: model.tokenizer, templateFile: chatTemplateFile)
        } catch {
            chatError = "\(error)"
        }
        info = RequestContextInfo(modelID: options.modelID, modelAliases: options.modelAliases, contextSize: engine.contextSize,
                                  tokenizer: model.tokenizer, chatPrompt: chat, chatTemplateError: chatError)
    }

    /// The server's routes.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        // Middleware applies only to routes added after it.
        router.add(middleware: ErrorBodyMiddleware(logger: logger))
        if let key = options.apiKey { router.add(middleware: APIKeyMiddleware(key: key)) }
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: WebChatPage.html)))
        }
        router.get("/health") { [self] _, _ in
            if isShuttingDown { throw APIError.shuttingDown }
            return json(["status": "ok"])
        }
        router.get("/metrics") { [self] _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.render(stats: engine.stats))))
        }
        router.get("/v1/models") { [self] _, _ in json(["object": "list", "data": [modelCard]]) }
        router.get("/v1/models/:id") { [self] _, context in
            let id = context.parameters.get("id") ?? ""
            guard id == info.modelID || info.modelAliases.contains(id) else { throw APIError.modelNotFound(id, available: info.modelID) }
            return json(modelCard)
        }
        router.post("/v1/chat/completions") { [self] request, context in
            try await generate(request, context: context, kind: .chat)
        }
        router.post("/v1/completions") { [self] request, context in
            try await generate(request, context: context, kind: .completion)
        }
        router.post("/tokenize") { [self] request, context in try await tokenize(request, context: context) }
        router.post("/detokenize") { [self] request, context in try await detokenize(request, context: context) }
        return router
    }

    var modelCard: JSONValue {
        ["id": .string(info.modelID), "object": "model", "created": .int(started), "owned_by": "swiftllm",
         "max_model_len": .int(info.contextSize)]
    }

    // MARK: - Lifecycle

    var isShuttingDown: Bool {
        lock.lock(); defer { lock.unlock() }
        return shuttingDown
    }

    /// New requests get 503 from now on; running ones continue.
    public func beginShutdown() {
        lock.lock(); shuttingDown = true; lock.unlock()
    }

    /// Admits `sequences` more sequences or answers 429 (503 while shutting down).
    func admit(_ sequences: Int) throws {
        lock.lock(); defer { lock.unlock() }
        if shuttingDown { throw APIError.shuttingDown }
        let capacity = engine.options.maxNumSeqs + options.maxQueue
        guard admittedSequences + sequences <= capacity || admittedSequences == 0 else {
            throw APIError.queueFull(retryAfterSeconds: 1)
        }
        admittedSequences += sequences
    }

    func release(_ sequences: Int) {
        lock.lock(); admittedSequences -= sequences; lock.unlock()
    }

    /// A streaming request's admitted sequences, given back exactly once: when its body ends, or
    /// when Hummingbird drops a body it never ran because the client was gone before the head
    /// could be written (the dropped events stream cancels the engine work by itself).
    final class Admission: @unchecked Sendable {
        private let server: OpenAIServer
        private let sequences: Int
        private let lock = NSLock()
        private var released = false

        init(server: OpenAIServer, sequences: Int) {
            self.server = server
            self.sequences = sequences
        }

        func release() {
            lock.lock()
            let first = !released
            released = true
            lock.unlock()
            if first { server.release(sequences) }
        }

        deinit { release() }
    }

    // MARK: - Bodies

    /// Collects the body into the request (`collectBody`, not `body.collect`): the request then
    /// remembers that its body ended, which `consumeWithCancellationOnInboundClose` needs. A body
    /// read with `body.collect` leaves that function's inbound-close watcher without the `.end`
    /// part, and a client that disconnects then crashes the process (an unfinished NIO source).
    func readJSON(_ request: inout Request) async throws -> JSONValue {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > options.maxBodyBytes {
            throw APIError.tooLarge(limit: options.maxBodyBytes)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: options.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge(limit: options.maxBodyBytes)
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.invalid("The request body is not valid JSON: \(Self.describe(error))")
        }
    }

    static func describe(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let c) = error {
            return (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? c.debugDescription
        }
        return "\(error)"
    }

    func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: value.serialized)))
    }

    /// Maps engine submission errors to 400s.
    func submissionError(_ error: Error) -> Error {
        switch error {
        case let e as APIError: return e
        case let e as SamplingParamsError: return APIError.invalid(e.message)
        case let e as GenerationError:
            if case .promptTooLong = e { return APIError.invalid(e.description, param: "prompt", code: "context_length_exceeded") }
            return APIError.invalid(e.description, param: "prompt")
        case let e as EngineError:
            if case .shutDown = e { return APIError.shuttingDown }
            return APIError.invalid(e.description, param: "prompt", code: "context_length_exceeded")
        default: return error
        }
    }
}
