import ArgumentParser
import Engine
import Foundation
import Logging
import Server

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model over an OpenAI-compatible HTTP API, with a web chat page at /.",
        discussion: """
        Endpoints: POST /v1/chat/completions, POST /v1/completions (streaming with "stream": true), \
        GET /v1/models, GET /health, GET /metrics (Prometheus), POST /tokenize, POST /detokenize, \
        and the chat page at /. SIGINT/SIGTERM stop accepting requests and let running ones finish \
        within --shutdown-timeout seconds.
        """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Address to bind (loopback by default; 0.0.0.0 exposes the server to the network).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one; the URL is printed when ready).")
    var port = 8080

    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer KEY' on the API (also read from SWIFTLLM_API_KEY).")
    var apiKey: String?

    @Option(name: .customLong("max-queue"), help: "Sequences that may wait beyond --max-num-seqs before requests get 429.")
    var maxQueue = 256

    @Option(name: .customLong("max-body-size"), help: "Largest request body, e.g. 8MiB.")
    var maxBodySize = "8MiB"

    @Option(name: .customLong("served-model-name"), help: "The model id clients use (default: the alias or file name).")
    var servedModelName: String?

    @Option(name: .customLong("chat-template-file"), help: "Use this Jinja chat template instead of the model's.")
    var chatTemplateFile: String?

    @Option(name: [.short, .customLong("ctx-size")], help: "Context size per sequence in tokens (default: the model's, at most 8192).")
    var ctxSize: Int?

    @Option(name: .customLong("shutdown-timeout"), help: "Seconds in-flight requests may run after SIGINT/SIGTERM.")
    var shutdownTimeout = 10.0

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @OptionGroup var engine: EngineOptionsGroup

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535 (got \(port))") }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must be >= 0 (got \(maxQueue))") }
        guard parseByteSize(maxBodySize) != nil else { throw ValidationError("--max-body-size '\(maxBodySize)' is not a size like 8MiB") }
        guard shutdownTimeout >= 0, shutdownTimeout.isFinite else { throw ValidationError("--shutdown-timeout must be >= 0") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
        if let c = ctxSize, c < 2 { throw ValidationError("--ctx-size must be at least 2 (got \(c))") }
        if let key = apiKey, key.isEmpty { throw ValidationError("--api-key must not be empty") }
    }

    func run() throws {
        var logger = Logger(label: "swiftllm.server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let path = try modelOptions.resolvePath()
        let loaded = try modelOptions.load(maxBatchTokens: engine.maxBatchTokens)
        let engineOptions = engine.options(contextSize: ctxSize)
        let llm = try LLMEngine(model: loaded, options: engineOptions)

        var o = ServerOptions()
        o.host = host
        o.port = port
        o.apiKey = apiKey ?? ProcessInfo.processInfo.environment["SWIFTLLM_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        o.maxQueue = maxQueue
        o.maxBodyBytes = parseByteSize(maxBodySize) ?? o.maxBodyBytes
        o.shutdownGraceSeconds = shutdownTimeout
        let fileName = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let alias = modelOptions.model.flatMap { KnownModels.named($0)?.alias } ?? (modelOptions.model == nil ? KnownModels.defaultAlias : nil)
        o.modelID = servedModelName ?? alias ?? fileName
        o.modelAliases = Set([fileName, (path as NSString).lastPathComponent, loaded.file.string("general.name") ?? "", alias ?? ""]
            .filter { !$0.isEmpty && $0 != o.modelID })
        let server = OpenAIServer(engine: llm, options: o, chatTemplateFile: chatTemplateFile, logger: logger)
        let modelID = o.modelID
        let serverLogger = logger
        let kvMiB = Double(llm.kvPoolTokens * loaded.model.kvBytesPerToken(type: engineOptions.kvCacheType)) / 1048576
        printError(String(format: "model %@: context %d tokens, KV pool %d tokens (%.0f MiB, %@), up to %d sequences",
                          modelID, llm.contextSize, llm.kvPoolTokens, kvMiB, engineOptions.kvCacheType.rawValue, engineOptions.maxNumSeqs))
        try blocking {
            try await ServerRunner.run(server, logger: serverLogger) { url in
                writeOut("SwiftLLM is serving '\(modelID)' at \(url)  (web chat: \(url)/, API: \(url)/v1)\n")
            }
        }
    }
}
