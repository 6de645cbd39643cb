/// Settings of the HTTP layer (the engine has its own EngineOptions).
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Bearer token required on /v1/* and the tokenizer endpoints; nil = open.
    public var apiKey: String?
    /// Sequences that may wait beyond the engine's running batch before requests get 429.
    public var maxQueue = 256
    /// Largest accepted request body.
    public var maxBodyBytes = 8 << 20
    /// The model id clients name (`model` field, /v1/models).
    public var modelID = "default"
    /// Other names accepted in the `model` field (file name, GGUF general.name).
    public var modelAliases: Set<String> = []
    /// SIGINT/SIGTERM: how long in-flight requests may run before they are cancelled.
    public var shutdownGraceSeconds = 10.0

    public init() {}
}
