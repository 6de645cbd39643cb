import Engine
import Hummingbird
import Logging
import ServiceLifecycle

/// Runs an OpenAIServer until SIGINT or SIGTERM.
///
/// Shutdown order: new requests get 503 at once, the HTTP server stops accepting connections and
/// lets in-flight responses finish for up to `shutdownGraceSeconds`, after which the remaining
/// ones are cancelled (their KV blocks freed); then the engine thread ends.
public enum ServerRunner {
    /// - Parameter onReady: called with the base URL once the socket is bound (port 0 resolved).
    public static func run(_ server: OpenAIServer, logger: Logger, onReady: @escaping @Sendable (String) -> Void) async throws {
        let o = server.options
        let app = Application(
            router: server.makeRouter(),
            configuration: .init(address: .hostname(o.host, port: o.port), serverName: "swiftllm"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? o.port
                let host = o.host.contains(":") ? "[\(o.host)]" : o.host
                onReady("http://\(host):\(port)")
            },
            logger: logger)
        // Listed last, so it is the first told to shut down (services stop in reverse order).
        let notice = ServiceGroupConfiguration.ServiceConfiguration(service: ShutdownNotice(server: server), successTerminationBehavior: .ignore)
        var config = ServiceGroupConfiguration(services: [.init(service: app), notice],
                                               gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        config.maximumGracefulShutdownDuration = Duration.milliseconds(Int64(o.shutdownGraceSeconds * 1000))
        config.maximumCancellationDuration = Duration.seconds(5)
        do {
            try await ServiceGroup(configuration: config).run()
        } catch {
            // A grace period that ran out cancels the group; that is still an orderly exit.
            logger.info("server stopped: \(error)")
        }
        server.engine.shutdown()
    }
}

/// Marks the server as shutting down (503 for new requests) when the signal arrives.
struct ShutdownNotice: Service {
    let server: OpenAIServer

    func run() async throws {
        try? await gracefulShutdown()
        server.beginShutdown()
        server.logger.info("shutting down: finishing in-flight requests (grace period \(server.options.shutdownGraceSeconds) s)")
    }
}
