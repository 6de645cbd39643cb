import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
@testable import Server
import XCTest

/// The API through Hummingbird's in-process test client, on the real SmolLM2 model.
final class ServerRouteTests: XCTestCase {
    static var engine: LLMEngine?

    func makeServer(_ configure: (inout ServerOptions) -> Void = { _ in }) throws -> OpenAIServer {
        if Self.engine == nil {
            let path = try ModelStore().resolve("smollm2-135m") { print($0) }.path
            var o = EngineOptions()
            o.kvCacheMemory = 64 << 20
            o.contextSize = 512
            Self.engine = try LLMEngine(model: LoadedModel(path: path), options: o)
        }
        var o = ServerOptions()
        o.modelID = "smollm2-135m"
        o.modelAliases = ["SmolLM2-135M-Instruct.Q4_1.gguf"]
        configure(&o)
        var logger = Logger(label: "test")
        logger.logLevel = .error
        return OpenAIServer(engine: Self.engine!, options: o, logger: logger)
    }

    func app(_ server: OpenAIServer) -> some ApplicationProtocol {
        Application(router: server.makeRouter())
    }

    func post(_ client: some TestClientProtocol, _ uri: String, _ body: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var h = headers
        h[.contentType] = "application/json"
        return try await client.execute(uri: uri, method: .post, headers: h, body: ByteBuffer(string: body))
    }

    func json(_ r: TestResponse) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(String(buffer: r.body).utf8))
    }

    func testHealthModelsAndPage() async throws {
        try await app(try makeServer()).test(.router) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(health.status, .ok)
            let models = try self.json(try await client.execute(uri: "/v1/models", method: .get))
            XCTAssertEqual(models["data"], .array([models["data"].flatMap { if case .array(let a) = $0 { return a.first } else { return nil } }!]))
            XCTAssertEqual(models["object"], "list")
            let page = try await client.execute(uri: "/", method: .get)
            XCTAssertEqual(page.headers[.contentType], "text/html; charset=utf-8")
            XCTAssertTrue(String(buffer: page.body).contains("<html") || String(buffer: page.body).contains("<!doctype html"))
            let missing = try await client.execute(uri: "/v2/nothing", method: .get)
            XCTAssertEqual(missing.status, .notFound)
            XCTAssertEqual(try self.json(missing)["error"]?["code"], "not_found")
        }
    }

    func testChatCompletionGreedyMatchesTheEngine() async throws {
        let server = try makeServer()
        try await app(server).test(.router) { client in
            let r = try await self.post(client, "/v1/chat/completions",
                                        #"{"model": "smollm2-135m", "messages": [{"role": "user", "content": "Name a color."}], "max_tokens": 8, "temperature": 0}"#)
            XCTAssertEqual(r.status, .ok, String(buffer: r.body))
            let v = try self.json(r)
            XCTAssertEqual(v["object"], "chat.completion")
            guard case .string(let content)? = v["choices"].flatMap({ if case .array(let a) = $0 { return a.first } else { return nil } })?["message"]?["content"] else {
                return XCTFail("no content in \(v.serialized)")
            }
            // The same prompt straight through the engine.
            let chat = try XCTUnwrap(server.info.chatPrompt)
            let ids = chat.tokenize(try chat.render([.init(role: "user", content: "Name a color.")]), with: server.info.tokenizer)
            let direct = try await server.engine.generate(tokens: ids, params: SamplingParams(temperature: 0, maxTokens: 8))
            XCTAssertEqual(content, direct.text)
            XCTAssertEqual(v["usage"]?["prompt_tokens"], .int(ids.count))
        }
    }

    func testStreamingCompletionIsWellFormedSSE() async throws {
        try await app(try makeServer()).test(.router) { client in
            let r = try await self.post(client, "/v1/completions",
                                        #"{"prompt": "Once upon a time", "max_tokens": 4, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}, "logprobs": 2}"#)
            XCTAssertEqual(r.headers[.contentType], "text/event-stream")
            let events = String(buffer: r.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
            XCTAssertEqual(events.last, "data: [DONE]")
            let chunks = try events.dropLast().map { e -> JSONValue in
                XCTAssertTrue(e.hasPrefix("data: "))
                return try JSONDecoder().decode(JSONValue.self, from: Data(e.dropFirst(6).utf8))
            }
            XCTAssertEqual(chunks.count, 6, "4 tokens, a finish chunk and a usage chunk")
            XCTAssertEqual(chunks.last?["usage"]?["completion_tokens"], .int(4))
            if case .array(let c)? = chunks[0]["choices"], let lp = c.first?["logprobs"] {
                guard case .array(let top)? = lp["top_logprobs"], case .object(let alts)? = top.first else { return XCTFail("top_logprobs") }
                XCTAssertEqual(alts.count, 2)
            } else { XCTFail("choices") }
        }
    }

    func testErrorsAreOpenAIErrorObjects() async throws {
        try await app(try makeServer { $0.maxBodyBytes = 2048 }).test(.router) { client in
            let cases: [(String, String, HTTPResponse.Status, String?)] = [
                ("/v1/chat/completions", "{not json", .badRequest, nil),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}"#, .badRequest, "temperature"),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": -1}"#, .badRequest, "max_tokens"),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "top_p": 1.5}"#, .badRequest, "top_p"),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "n": 0}"#, .badRequest, "n"),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]}"#, .badRequest, "tools"),
                ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_schema"}}"#, .badRequest, "response_format"),
                ("/v1/chat/completions", #"{"messages": []}"#, .badRequest, "messages"),
                ("/v1/chat/completions", #"{"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}"#, .notFound, "model"),
                ("/v1/completions", #"{"prompt": "hi", "max_tokens": 600}"#, .badRequest, "max_tokens"),
                ("/v1/completions", #"{"prompt": [1, 2, 99999999]}"#, .badRequest, "prompt"),
                ("/v1/completions", "{\"prompt\": \"" + String(repeating: "x", count: 4000) + "\"}", .contentTooLarge, nil),
            ]
            for (uri, body, status, param) in cases {
                let r = try await self.post(client, uri, body)
                XCTAssertEqual(r.status, status, "\(body.prefix(80)): \(String(buffer: r.body))")
                let e = try self.json(r)["error"]
                XCTAssertNotNil(e?["message"], body)
                XCTAssertEqual(e?["param"], param.map { .string($0) } ?? .null, body)
            }
        }
    }

    func testAPIKeyGuardsTheAPIButNotHealth() async throws {
        try await app(try makeServer { $0.apiKey = "sekrit" }).test(.router) { client in
            let body = #"{"prompt": "a", "max_tokens": 1}"#
            let none = try await self.post(client, "/v1/completions", body)
            let wrong = try await self.post(client, "/v1/completions", body, headers: [.authorization: "Bearer nope"])
            let right = try await self.post(client, "/v1/completions", body, headers: [.authorization: "Bearer sekrit"])
            let health = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(none.status, .unauthorized)
            XCTAssertEqual(wrong.status, .unauthorized)
            XCTAssertEqual(right.status, .ok)
            XCTAssertEqual(health.status, .ok)
        }
    }

    func testAdmissionAnswers429WhenFullAnd503WhenShuttingDown() throws {
        let server = try makeServer { $0.maxQueue = 0 }
        let capacity = server.engine.options.maxNumSeqs
        try server.admit(capacity)
        XCTAssertThrowsError(try server.admit(1)) { XCTAssertEqual(($0 as? APIError)?.status, .tooManyRequests) }
        server.release(capacity)
        try server.admit(1)
        server.release(1)
        server.beginShutdown()
        XCTAssertThrowsError(try server.admit(1)) { XCTAssertEqual(($0 as? APIError)?.status, .serviceUnavailable) }
    }

    func testMetricsExposeTheContractNames() async throws {
        try await app(try makeServer()).test(.router) { client in
            _ = try await self.post(client, "/v1/completions", #"{"prompt": "Hello", "max_tokens": 3}"#)
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            for name in ["swiftllm_requests_running", "swiftllm_requests_waiting", "swiftllm_kv_cache_usage_ratio",
                         "swiftllm_kv_blocks_free", "swiftllm_kv_blocks_total", "swiftllm_prefix_cache_hit_ratio",
                         "swiftllm_prompt_tokens_total", "swiftllm_generation_tokens_total", "swiftllm_requests_total{finish_reason=\"length\"}",
                         "swiftllm_time_to_first_token_seconds_bucket", "swiftllm_time_per_output_token_seconds_sum",
                         "swiftllm_e2e_request_latency_seconds_count"] {
                XCTAssertTrue(text.contains(name), "missing \(name)")
            }
        }
    }

    func testTokenizeRoundTrip() async throws {
        try await app(try makeServer()).test(.router) { client in
            let t = try self.json(try await self.post(client, "/tokenize", #"{"prompt": "Hello, world!"}"#))
            guard case .array(let ids)? = t["tokens"] else { return XCTFail("tokens") }
            XCTAssertEqual(t["count"], .int(ids.count))
            let d = try self.json(try await self.post(client, "/detokenize", JSONValue.object(["tokens": .array(ids)]).serialized))
            XCTAssertEqual(d["prompt"], "Hello, world!")
        }
    }
}
