import Crypto
import Hummingbird

/// Bearer-token check. Keys are compared as SHA-256 digests, whose equality is constant-time,
/// so response timing does not reveal how much of a guessed key was right.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let expected: [UInt8]

    init(key: String) {
        expected = Array(SHA256.hash(data: Array(key.utf8)))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        // The page, health and metrics stay open (as vLLM's do); the API needs the key.
        guard path.hasPrefix("/v1/") || path == "/tokenize" || path == "/detokenize" else {
            return try await next(request, context)
        }
        guard let auth = request.headers[.authorization], auth.hasPrefix("Bearer "),
              Self.constantTimeEqual(Array(SHA256.hash(data: Array(auth.dropFirst(7).utf8))), expected) else {
            throw APIError.unauthorized
        }
        return try await next(request, context)
    }

    /// Equal-length digests compared without an early exit.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
