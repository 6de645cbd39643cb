#!/usr/bin/env python3
"""A tiny stand-in for `swiftllm serve`, for developing the web chat page (stdlib only).

Serves:
  GET  /                      the HTML of Sources/Server/WebChatPage.swift (between #\"\"\" and \"\"\"#)
  GET  /v1/models             one fake model
  POST /v1/chat/completions   streamed (SSE) or not; fake tokens echoing the last user message
  GET  /health

Usage: python3 scripts/dev/mock_openai_server.py [--port 0] [--host 127.0.0.1] [--api-key KEY] [--delay 0.03]
Prints "swiftllm mock server listening on http://127.0.0.1:PORT" once ready (the same form as the real server).
The page is re-read on every GET /, so edits show up on reload.

Special prompts: a message containing "long" streams until max_tokens; "error400" gets a 400 error body, "error500" a 500.
"""
import argparse
import json
import os
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(ROOT, "Sources", "Server", "WebChatPage.swift")
MODEL = "mock-model-q8_0"

FILLER = ("This is a streamed reply from the mock server. It sends one word at a time so that the page "
          "can show time to first token, tokens per second and the token count while it streams. "
          "Lines are kept:\n  - indented items\n  - and <b>markup</b> that must appear as plain text.\n").split(" ")


def page_html():
    with open(PAGE, encoding="utf-8") as f:
        src = f.read()
    start = src.index('#"""') + len('#"""')
    end = src.index('"""#', start)
    html = src[start:end]
    # A Swift multi-line literal drops the newline after the opening delimiter and before the closing one.
    if html.startswith("\n"):
        html = html[1:]
    if html.endswith("\n"):
        html = html[:-1]
    return html


def error_body(message, type_="invalid_request_error", param=None, code=None):
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "swiftllm-mock"

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write("mock: " + (fmt % args) + "\n")

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorized(self):
        key = self.server.api_key
        if key is None:
            return True
        if self.headers.get("Authorization", "") == "Bearer " + key:
            return True
        self.send_json(401, error_body("Missing or incorrect API key (use 'Authorization: Bearer KEY')",
                                       "authentication_error", code="invalid_api_key"))
        return False

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/":
            data = page_html().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif path == "/health":
            self.send_json(200, {"status": "ok"})
        elif path == "/v1/models":
            if self.authorized():
                self.send_json(200, {"object": "list", "data": [
                    {"id": MODEL, "object": "model", "created": int(time.time()), "owned_by": "swiftllm", "max_model_len": 4096}]})
        else:
            self.send_json(404, error_body("No route for " + path, code="not_found"))

    def do_POST(self):
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path != "/v1/chat/completions":
            self.send_json(404, error_body("No route for " + path, code="not_found"))
            return
        if not self.authorized():
            return
        try:
            req = json.loads(raw or b"null")
            assert isinstance(req, dict)
        except Exception:
            self.send_json(400, error_body("The request body is not valid JSON"))
            return
        messages = req.get("messages")
        if not isinstance(messages, list) or not messages:
            self.send_json(400, error_body("'messages' must be a non-empty array", param="messages"))
            return
        if req.get("model") not in (None, MODEL):
            self.send_json(404, error_body(f"The model '{req.get('model')}' does not exist; this server serves '{MODEL}'",
                                           param="model", code="model_not_found"))
            return
        last = str(messages[-1].get("content", ""))
        if "error400" in last:
            self.send_json(400, error_body("'temperature' must be between 0 and 2 (mock error)", param="temperature"))
            return
        if "error500" in last:
            self.send_json(500, error_body("Mock internal failure", "server_error"))
            return
        max_tokens = req.get("max_tokens") or 256
        words = ["You", " said:", " \u201c" + last.strip()[:200] + "\u201d.\n\n"]
        natural = 10**9 if "long" in last.lower() else len(words) + len(FILLER)
        i = 0
        while len(words) < min(max_tokens, natural):
            words.append((" " if not words[-1].endswith("\n") else "") + FILLER[i % len(FILLER)])
            i += 1
        finish = "length" if len(words) >= max_tokens else "stop"
        words = words[:max_tokens]
        cid = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        if not req.get("stream"):
            text = "".join(words)
            self.send_json(200, {"id": cid, "object": "chat.completion", "created": created, "model": MODEL,
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                              "finish_reason": finish}],
                                 "usage": {"prompt_tokens": 10, "completion_tokens": len(words), "total_tokens": 10 + len(words)}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def chunk(choices, usage=None):
            obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL, "choices": choices}
            if usage is not None:
                obj["usage"] = usage
            self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
            self.wfile.flush()

        sent = 0
        try:
            time.sleep(self.server.delay * 4)  # "prefill"
            chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
            for w in words:
                time.sleep(self.server.delay)
                chunk([{"index": 0, "delta": {"content": w}, "finish_reason": None}])
                sent += 1
            chunk([{"index": 0, "delta": {}, "finish_reason": finish}])
            if (req.get("stream_options") or {}).get("include_usage"):
                chunk([], {"prompt_tokens": 10, "completion_tokens": sent, "total_tokens": 10 + sent})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            sys.stderr.write(f"mock: client disconnected; cancelled generation after {sent} tokens\n")
            sys.stderr.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--delay", type=float, default=0.03, help="seconds between tokens")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    page_html()  # fail early if the Swift file cannot be parsed
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    srv.api_key, srv.delay, srv.verbose = args.api_key, args.delay, args.verbose
    host, port = srv.server_address[:2]
    print(f"swiftllm mock server listening on http://{host}:{port}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
