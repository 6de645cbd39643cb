import Foundation
import Hummingbird

/// An error answered with OpenAI's error object: `{"error": {"message", "type", "param", "code"}}`.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    public var headers: HTTPFields = [:]

    public init(status: HTTPResponse.Status, message: String, type: String = "invalid_request_error",
                param: String? = nil, code: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers
    }

    public var description: String { "\(status.code) \(message)" }

    public var body: JSONValue {
        ["error": ["message": .string(message), "type": .string(type),
                   "param": param.map { .string($0) } ?? .null, "code": code.map { .string($0) } ?? .null]]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: body.serialized)))
    }

    // MARK: - The errors the API answers

    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, param: param, code: code)
    }

    static func unsupported(_ param: String, _ why: String = "is not supported by this server") -> APIError {
        APIError(status: .badRequest, message: "'\(param)' \(why)", param: param, code: "unsupported_parameter")
    }

    static func modelNotFound(_ name: String, available: String) -> APIError {
        APIError(status: .notFound, message: "The model '\(name)' does not exist; this server serves '\(available)'",
                 param: "model", code: "model_not_found")
    }

    static func tooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, message: "Request body exceeds the limit of \(limit) bytes", code: "request_too_large")
    }

    static func queueFull(retryAfterSeconds: Int) -> APIError {
        APIError(status: .tooManyRequests, message: "The server is at capacity; retry shortly",
                 type: "rate_limit_error", code: "queue_full", headers: [.retryAfter: String(retryAfterSeconds)])
    }

    static let unauthorized = APIError(status: .unauthorized, message: "Missing or incorrect API key (use 'Authorization: Bearer KEY')",
                                       type: "invalid_request_error", code: "invalid_api_key", headers: [.wwwAuthenticate: "Bearer"])

    static let shuttingDown = APIError(status: .serviceUnavailable, message: "The server is shutting down",
                                       type: "server_error", code: "shutting_down")

    static func notFound(_ path: String) -> APIError {
        APIError(status: .notFound, message: "No route for \(path)", code: "not_found")
    }
}
