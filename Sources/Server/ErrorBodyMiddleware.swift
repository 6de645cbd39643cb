import Hummingbird
import Logging

/// Gives every error OpenAI's JSON error body (Hummingbird's own, e.g. an unknown route, have
/// none) and logs one line per request.
struct ErrorBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            logger.info("\(request.method) \(request.uri.path) \(response.status.code) \(ContinuousClock.now - start)")
            return response
        } catch let e as APIError {
            logger.info("\(request.method) \(request.uri.path) \(e.status.code) \(e.message)")
            throw e
        } catch let e as HTTPResponseError {
            let status = e.status
            let message = status == .notFound ? "No route for \(request.method) \(request.uri.path)" : (status.reasonPhrase)
            logger.info("\(request.method) \(request.uri.path) \(status.code)")
            throw APIError(status: status, message: message, type: status.code >= 500 ? "server_error" : "invalid_request_error",
                           code: status == .notFound ? "not_found" : nil)
        } catch is CancellationError {
            // The client left (see OpenAIServer.generate); there is no one to answer.
            logger.info("\(request.method) \(request.uri.path) client disconnected")
            throw CancellationError()
        } catch {
            logger.error("\(request.method) \(request.uri.path) 500 \(error)")
            throw APIError(status: .internalServerError, message: "Internal error: \(error)", type: "server_error")
        }
    }
}
