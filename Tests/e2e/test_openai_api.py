#!/usr/bin/env python3
"""End-to-end tests of `swiftllm serve` with the real `openai` Python client and raw HTTP.

Install:
    python3 -m pip install openai        # the only dependency; raw HTTP uses the standard library

Run from the repository root:
    python3 Tests/e2e/test_openai_api.py [-k SUBSTRING ...] [-v]

Environment:
    SWIFTLLM_SERVE_CMD     command that starts the server (default: .build/release/swiftllm serve --port 0).
                           Per-test options (--api-key, --ctx-size, --max-num-seqs ...) are appended to it.
                           It must print a line containing http://HOST:PORT once it accepts connections.
    SWIFTLLM_E2E_TIMEOUT   seconds to wait for a server to start and for each request (default 120)

The script starts its own servers (each on port 0):
    main       default options: the client API, raw HTTP, errors, disconnects; stopped with SIGINT
    small      --ctx-size 64 --max-body-size 1KiB: context-length 400s and 413s
    auth       --api-key k: 401s, /health open
    queue      --max-num-seqs 1 --max-queue 1: 429 + Retry-After under load
    shutdown   SIGTERM while a stream runs: the stream finishes, new requests are refused, exit 0
    deadline   --shutdown-timeout 1: a stream outliving the grace period is cut, the process exits 0

Each check prints PASS/FAIL with the reason; the script exits 1 if any failed.
"""
import http.client as httplib
import json
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

try:
    import openai
except ImportError:
    print("FAIL: the Python package openai is missing: python3 -m pip install openai", file=sys.stderr)
    sys.exit(1)

TIMEOUT = float(os.environ.get("SWIFTLLM_E2E_TIMEOUT", "120"))
SERVE_CMD = os.environ.get("SWIFTLLM_SERVE_CMD", ".build/release/swiftllm serve --port 0")
VERBOSE = "-v" in sys.argv
FILTERS = [sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == "-k"]
T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


class CheckFailed(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def expect_eq(actual, wanted, what):
    if actual != wanted:
        raise CheckFailed(f"{what}: expected {wanted!r}, got {actual!r}")


# ---------------------------------------------------------------------------------------------
# Servers

class Server:
    URL_RE = re.compile(r"http://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(\d+)")

    def __init__(self, name, extra_args=()):
        self.name = name
        self.cmd = shlex.split(SERVE_CMD) + list(extra_args)
        self.output = tempfile.NamedTemporaryFile(prefix=f"swiftllm-e2e-{name}-", suffix=".log", delete=False)
        self.url = None
        self.ready = threading.Event()
        self.lines = []
        log(f"starting {name} server: {shlex.join(self.cmd)}")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        threading.Thread(target=self._pump, daemon=True).start()
        if not self.ready.wait(TIMEOUT) or self.url is None:
            self.kill()
            raise CheckFailed(f"{name} server did not print its URL within {TIMEOUT:.0f} s "
                              f"(exit code {self.proc.poll()}); output:\n{self.tail()}")
        u = urllib.parse.urlparse(self.url)
        self.host, self.port = u.hostname, u.port
        log(f"{name} server ready at {self.url}")

    def _pump(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            self.output.write(raw)
            self.output.flush()
            if self.url is None:
                m = self.URL_RE.search(line)
                if m:
                    self.url = f"http://{m.group(1)}:{m.group(2)}"
                    self.ready.set()
        self.ready.set()

    def tail(self, n=25):
        return "".join(self.lines[-n:])

    def client(self, api_key="none", **kw):
        # max_retries=0: a 429 or 5xx must surface, not be retried away.
        return openai.OpenAI(base_url=self.url + "/v1", api_key=api_key, max_retries=0, timeout=TIMEOUT, **kw)

    def signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


# ---------------------------------------------------------------------------------------------
# Raw HTTP

class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise CheckFailed(f"HTTP {self.status} body is not JSON: {self.body[:300]!r}")

    def __repr__(self):
        return f"HTTP {self.status} {self.body[:300]!r}"


def req(server, method, path, body=None, headers=None, raw=None, timeout=None):
    """One request on a fresh connection; `body` is sent as JSON, `raw` as given (bytes or an iterator = chunked)."""
    conn = httplib.HTTPConnection(server.host, server.port, timeout=timeout or TIMEOUT)
    try:
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=h, encode_chunked=data is not None and not isinstance(data, (bytes, str)))
        r = conn.getresponse()
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def expect_api_error(reply, status, param="<any>", code="<any>", what=""):
    """An OpenAI error object {"error": {"message", "type", "param", "code"}} with this status."""
    expect(reply.status == status, f"{what}: expected HTTP {status}, got {reply!r}")
    expect("application/json" in reply.headers.get("content-type", ""),
           f"{what}: error content-type is {reply.headers.get('content-type')!r}")
    doc = reply.json()
    err = doc.get("error") if isinstance(doc, dict) else None
    expect(isinstance(err, dict), f"{what}: no 'error' object in {doc!r}")
    for key in ("message", "type", "param", "code"):
        expect(key in err, f"{what}: error object lacks {key!r}: {err!r}")
    expect(isinstance(err["message"], str) and err["message"], f"{what}: empty message: {err!r}")
    expect(isinstance(err["type"], str) and err["type"], f"{what}: empty type: {err!r}")
    if param != "<any>":
        expect_eq(err["param"], param, f"{what}: error param")
    if code != "<any>":
        expect_eq(err["code"], code, f"{what}: error code")
    return err


def sse_events(data):
    """The `data:` payloads of a Server-Sent Events body."""
    return [line[5:].strip() for line in data.decode("utf-8", "replace").split("\n") if line.startswith("data:")]


class RawStream:
    """A POST over a plain socket whose response is read incrementally (and can be abandoned)."""

    def __init__(self, server, path, body, headers=None):
        self.sock = socket.create_connection((server.host, server.port), timeout=TIMEOUT)
        payload = json.dumps(body).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n")
        for k, v in (headers or {}).items():
            head += f"{k}: {v}\r\n"
        self.sock.sendall(head.encode() + b"\r\n" + payload)
        self.buf = b""
        self.closed = False

    def read_some(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            self.closed = True
        self.buf += chunk
        return chunk

    def status(self):
        while b"\r\n" not in self.buf and not self.closed:
            self.read_some()
        m = re.match(rb"HTTP/1\.[01] (\d+)", self.buf)
        return int(m.group(1)) if m else None

    def data_events(self):
        body = self.buf.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in self.buf else b""
        # Chunked transfer framing lines are not "data:" lines, so they drop out here.
        return [e for e in sse_events(body)]

    def read_until(self, pred, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while not pred() and not self.closed:
            if time.monotonic() > deadline:
                raise CheckFailed("timed out reading the stream")
            self.read_some()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


# ---------------------------------------------------------------------------------------------
# Metrics

METRIC_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")


def metrics(server):
    r = req(server, "GET", "/metrics")
    expect(r.status == 200, f"/metrics: {r!r}")
    values = {}
    for line in r.body.decode().splitlines():
        m = METRIC_RE.match(line.strip())
        if m:
            values[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return r.body.decode(), values


def poll_metrics(server, pred, timeout=2.0):
    """Polls /metrics until pred(values) holds or the time is up; returns (held, values)."""
    deadline = time.monotonic() + timeout
    while True:
        _, v = metrics(server)
        if pred(v) or time.monotonic() > deadline:
            return pred(v), v
        time.sleep(0.05)


def wait_idle(server, timeout=3.0):
    """Polls /metrics until nothing runs or waits and every KV block is free."""
    return poll_metrics(server, lambda v: v.get("swiftllm_requests_running") == 0 and v.get("swiftllm_requests_waiting") == 0
                        and v.get("swiftllm_kv_blocks_free") == v.get("swiftllm_kv_blocks_total"), timeout)


ABORTS = 'swiftllm_requests_total{finish_reason="abort"}'
ERRORS = 'swiftllm_requests_total{finish_reason="error"}'


# ---------------------------------------------------------------------------------------------
# Test registry

CHECKS = []


def check(group):
    def register(fn):
        CHECKS.append((group, fn))
        return fn
    return register


CHAT = [{"role": "user", "content": "Write one sentence about the sea."}]
PROMPT = "The capital of France is"
S = {}  # servers by name


# ---------------------------------------------------------------------------------------------
# 1. The openai client

@check("client")
def chat_non_streaming():
    c = S["main"].client()
    r = c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=16)
    expect_eq(r.object, "chat.completion", "object")
    expect_eq(r.model, S["model"], "model")
    expect(r.id, "empty id")
    expect_eq(len(r.choices), 1, "choices")
    ch = r.choices[0]
    expect_eq(ch.index, 0, "index")
    expect_eq(ch.message.role, "assistant", "role")
    expect(isinstance(ch.message.content, str) and ch.message.content.strip(), f"empty content: {ch.message!r}")
    expect(ch.finish_reason in ("stop", "length"), f"finish_reason {ch.finish_reason!r}")
    u = r.usage
    expect(u.prompt_tokens > 0 and 0 < u.completion_tokens <= 16, f"usage {u!r}")
    expect_eq(u.total_tokens, u.prompt_tokens + u.completion_tokens, "total_tokens")
    if ch.finish_reason == "length":
        expect_eq(u.completion_tokens, 16, "completion_tokens with finish_reason length")


@check("client")
def chat_streaming_with_usage():
    c = S["main"].client()
    chunks = list(c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=12, stream=True,
                                            stream_options={"include_usage": True}, extra_body={"ignore_eos": True}))
    expect(len(chunks) >= 4, f"only {len(chunks)} chunks")
    ids = {ch.id for ch in chunks}
    expect_eq(len(ids), 1, "chunk ids (one per stream)")
    expect(all(ch.object == "chat.completion.chunk" for ch in chunks), "object of a chunk is not chat.completion.chunk")
    first = chunks[0]
    expect(first.choices and first.choices[0].delta.role == "assistant", f"first chunk announces no role: {first!r}")
    choice_chunks = [ch for ch in chunks if ch.choices]
    text = "".join(ch.choices[0].delta.content or "" for ch in choice_chunks)
    expect(text.strip(), "no content deltas")
    content_chunks = [ch for ch in choice_chunks if ch.choices[0].delta.content]
    expect(len(content_chunks) >= 2, f"content came in {len(content_chunks)} delta(s)")
    finishes = [ch for ch in choice_chunks if ch.choices[0].finish_reason is not None]
    expect_eq(len(finishes), 1, "chunks with a finish_reason")
    expect_eq(finishes[0].choices[0].finish_reason, "length", "finish_reason (ignore_eos, max_tokens 12)")
    last = chunks[-1]
    expect(last.choices == [] and last.usage is not None, f"last chunk is not the usage chunk: {last!r}")
    expect_eq(last.usage.completion_tokens, 12, "usage.completion_tokens")
    expect(last.usage.prompt_tokens > 0, "usage.prompt_tokens")
    expect_eq(last.usage.total_tokens, last.usage.prompt_tokens + 12, "usage.total_tokens")
    expect(all(ch.usage is None for ch in chunks[:-1]), "usage set on a chunk before the last")
    expect(chunks.index(finishes[0]) < len(chunks) - 1, "finish chunk after the usage chunk")


@check("client")
def completions_prompt_forms():
    c = S["main"].client()
    r = c.completions.create(model=S["model"], prompt=PROMPT, max_tokens=8)
    expect_eq(r.object, "text_completion", "object")
    expect_eq(len(r.choices), 1, "choices for a string prompt")
    expect(r.choices[0].text, "empty text for a string prompt")
    expect(r.choices[0].finish_reason in ("stop", "length"), f"finish_reason {r.choices[0].finish_reason!r}")
    expect(0 < r.usage.completion_tokens <= 8, f"usage {r.usage!r}")

    r = c.completions.create(model=S["model"], prompt=[PROMPT, "Once upon a time"], max_tokens=6, temperature=0)
    expect_eq([ch.index for ch in r.choices], [0, 1], "indices for a list of two prompts")
    expect(all(ch.text for ch in r.choices), "an empty text for a list of prompts")
    single = c.completions.create(model=S["model"], prompt="Once upon a time", max_tokens=6, temperature=0)
    expect_eq(r.choices[1].text, single.choices[0].text, "second prompt of a list vs the same prompt alone (temperature 0)")

    tok = req(S["main"], "POST", "/tokenize", {"prompt": PROMPT}).json()["tokens"]
    by_ids = c.completions.create(model=S["model"], prompt=tok, max_tokens=6, temperature=0)
    by_text = c.completions.create(model=S["model"], prompt=PROMPT, max_tokens=6, temperature=0)
    expect(by_ids.choices[0].text, "empty text for a token-id prompt")
    expect_eq(by_ids.usage.prompt_tokens, len(tok), "prompt_tokens of a token-id prompt")
    expect_eq(by_ids.choices[0].text, by_text.choices[0].text, "token-id prompt vs the same prompt as text (temperature 0)")


@check("client")
def n_two_choices():
    c = S["main"].client()
    r = c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=8, n=2, temperature=1.0)
    expect_eq([ch.index for ch in r.choices], [0, 1], "chat n=2 indices")
    expect(all(ch.message.content for ch in r.choices), "an empty choice")
    expect(r.usage.completion_tokens <= 16, f"usage {r.usage!r}")
    r = c.completions.create(model=S["model"], prompt=PROMPT, max_tokens=8, n=2)
    expect_eq([ch.index for ch in r.choices], [0, 1], "completions n=2 indices")
    # Streaming: both indices appear, each with its own finish.
    seen, finished = set(), set()
    for ch in c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=6, n=2, stream=True):
        for choice in ch.choices:
            seen.add(choice.index)
            if choice.finish_reason:
                finished.add(choice.index)
    expect_eq(seen, {0, 1}, "streamed choice indices")
    expect_eq(finished, {0, 1}, "streamed choices with a finish_reason")


@check("client")
def stop_strings():
    c = S["main"].client()
    base = c.completions.create(model=S["model"], prompt=PROMPT, max_tokens=24, temperature=0,
                                extra_body={"ignore_eos": True}).choices[0].text
    words = base.split()
    expect(len(words) >= 4, f"too few words to pick a stop string from: {base!r}")
    stop = words[2]
    cut = base[:base.index(stop)]
    r = c.completions.create(model=S["model"], prompt=PROMPT, max_tokens=24, temperature=0, stop=stop,
                             extra_body={"ignore_eos": True})
    expect_eq(r.choices[0].finish_reason, "stop", f"finish_reason with stop={stop!r}")
    expect_eq(r.choices[0].text, cut, f"text with stop={stop!r} (full text {base!r})")
    stop2 = words[3]
    r = c.completions.create(model=S["model"], prompt=PROMPT, max_tokens=24, temperature=0,
                             stop=["@@never@@", stop2], extra_body={"ignore_eos": True})
    expect_eq(r.choices[0].finish_reason, "stop", "finish_reason with a stop list")
    expect_eq(r.choices[0].text, base[:base.index(stop2)], f"text with stop list [..., {stop2!r}]")
    # Chat, streaming: the stop string never reaches the client.
    full = c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=24, temperature=0,
                                     extra_body={"ignore_eos": True}).choices[0].message.content
    cw = full.split()
    expect(len(cw) >= 3, f"too few words in {full!r}")
    parts = c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=24, temperature=0, stop=[cw[2]],
                                      stream=True, extra_body={"ignore_eos": True})
    chunks = list(parts)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    expect_eq(text, full[:full.index(cw[2])], f"streamed chat text with stop {cw[2]!r}")
    expect_eq([ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason],
              ["stop"], "streamed finish_reason")


@check("client")
def seed_and_temperature_determinism():
    c = S["main"].client()

    def chat(**kw):
        return c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=20, **kw).choices[0].message.content

    a, b = chat(seed=1234, temperature=0.8), chat(seed=1234, temperature=0.8)
    expect_eq(b, a, "same seed + temperature 0.8, second run")
    other = chat(seed=98765, temperature=0.8)
    if other == a and VERBOSE:
        log("  note: another seed gave the same text")
    g1, g2 = chat(temperature=0), chat(temperature=0)
    expect_eq(g2, g1, "temperature 0, second run")
    p = [c.completions.create(model=S["model"], prompt=PROMPT, max_tokens=12, seed=7, temperature=0.8).choices[0].text
         for _ in range(2)]
    expect_eq(p[1], p[0], "completions: same seed + temperature 0.8")


@check("client")
def chat_logprobs():
    c = S["main"].client()
    r = c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=8, logprobs=True, top_logprobs=3,
                                  temperature=0)
    lp = r.choices[0].logprobs
    expect(lp is not None and lp.content, f"no logprobs.content: {r.choices[0]!r}")
    expect_eq(len(lp.content), r.usage.completion_tokens, "logprob entries vs completion_tokens")
    for i, e in enumerate(lp.content):
        expect(isinstance(e.token, str), f"entry {i}: token {e.token!r}")
        expect(e.logprob <= 1e-6, f"entry {i}: logprob {e.logprob} > 0")
        expect_eq(len(e.top_logprobs), 3, f"entry {i}: top_logprobs length")
        tops = [t.logprob for t in e.top_logprobs]
        expect(all(t <= 1e-6 for t in tops), f"entry {i}: a top logprob > 0: {tops}")
        expect(tops == sorted(tops, reverse=True), f"entry {i}: top_logprobs not sorted: {tops}")
        expect(e.bytes is not None and bytes(e.bytes).decode("utf-8", "replace") == e.token, f"entry {i}: bytes {e.bytes!r}")
        # Greedy: the chosen token is the most likely one.
        expect(abs(e.logprob - tops[0]) < 1e-4, f"entry {i}: greedy token logprob {e.logprob} != best {tops[0]}")
    text = "".join(e.token for e in lp.content)
    expect_eq(text, r.choices[0].message.content, "joined logprob tokens vs content")
    # Streamed: logprobs ride on the content chunks.
    n = 0
    for ch in c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=5, logprobs=True, top_logprobs=2,
                                        stream=True):
        if ch.choices and ch.choices[0].logprobs and ch.choices[0].logprobs.content:
            for e in ch.choices[0].logprobs.content:
                expect_eq(len(e.top_logprobs), 2, "streamed top_logprobs length")
                n += 1
    expect(n >= 1, "no logprobs in the stream")


@check("client")
def completion_logprobs():
    c = S["main"].client()
    r = c.completions.create(model=S["model"], prompt=PROMPT, max_tokens=6, logprobs=2, extra_body={"ignore_eos": True})
    lp = r.choices[0].logprobs
    expect(lp is not None, "no logprobs")
    expect_eq(len(lp.tokens), 6, "tokens")
    expect_eq(len(lp.token_logprobs), 6, "token_logprobs")
    expect_eq(len(lp.top_logprobs), 6, "top_logprobs")
    expect_eq(len(lp.text_offset), 6, "text_offset")
    expect(all(v <= 1e-6 for v in lp.token_logprobs), f"a logprob > 0: {lp.token_logprobs}")
    expect(all(1 <= len(t) <= 2 for t in lp.top_logprobs), f"top_logprobs sizes {[len(t) for t in lp.top_logprobs]}")
    expect(lp.text_offset == sorted(lp.text_offset), f"text_offset not increasing: {lp.text_offset}")
    if not any("\ufffd" in t for t in lp.tokens):  # a token holding part of a UTF-8 character shows as U+FFFD
        expect_eq("".join(lp.tokens), r.choices[0].text, "joined tokens vs text")


@check("client")
def max_completion_tokens_and_penalties():
    c = S["main"].client()
    r = c.chat.completions.create(model=S["model"], messages=CHAT, max_completion_tokens=5, extra_body={"ignore_eos": True})
    expect_eq(r.usage.completion_tokens, 5, "completion_tokens with max_completion_tokens 5")
    expect_eq(r.choices[0].finish_reason, "length", "finish_reason")
    r = c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=8, presence_penalty=0.5, frequency_penalty=0.5)
    expect(r.choices[0].message.content, "empty content with penalties")
    r = c.completions.create(model=S["model"], prompt=PROMPT, max_tokens=8, presence_penalty=-0.5, frequency_penalty=1.5)
    expect(r.choices[0].text, "empty completion with penalties")


@check("client")
def extensions_via_extra_body():
    c = S["main"].client()
    r = c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=8,
                                  extra_body={"top_k": 5, "min_p": 0.1, "repetition_penalty": 1.1})
    expect(r.choices[0].message.content, "empty content with top_k/min_p/repetition_penalty")
    r = c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=40, extra_body={"ignore_eos": True})
    expect_eq(r.usage.completion_tokens, 40, "chat completion_tokens with ignore_eos, max_tokens 40")
    expect_eq(r.choices[0].finish_reason, "length", "finish_reason with ignore_eos")
    r = c.completions.create(model=S["model"], prompt=PROMPT, max_tokens=40, extra_body={"ignore_eos": True, "top_k": 1})
    expect_eq(r.usage.completion_tokens, 40, "completions completion_tokens with ignore_eos, max_tokens 40")
    # top_k 1 is greedy whatever the temperature.
    g = c.completions.create(model=S["model"], prompt=PROMPT, max_tokens=10, temperature=0).choices[0].text
    k1 = c.completions.create(model=S["model"], prompt=PROMPT, max_tokens=10, temperature=1.5,
                              extra_body={"top_k": 1}).choices[0].text
    expect_eq(k1, g, "top_k 1 at temperature 1.5 vs temperature 0")


@check("client")
def models_list():
    c = S["main"].client()
    ids = [m.id for m in c.models.list()]
    expect(S["model"] in ids, f"{S['model']!r} not in {ids}")
    m = c.models.retrieve(S["model"])
    expect_eq(m.id, S["model"], "models.retrieve id")
    try:
        c.models.retrieve("no-such-model")
        raise CheckFailed("models.retrieve('no-such-model') succeeded")
    except openai.NotFoundError:
        pass


@check("client")
def client_error_classes():
    c = S["main"].client()
    try:
        c.chat.completions.create(model="no-such-model", messages=CHAT, max_tokens=4)
        raise CheckFailed("unknown model accepted")
    except openai.NotFoundError as e:
        expect_eq(e.status_code, 404, "status")
        expect(isinstance(e.body, dict) and e.body.get("code") == "model_not_found", f"error body {e.body!r}")
    try:
        c.chat.completions.create(model=S["model"], messages=CHAT, max_tokens=4, temperature=5)
        raise CheckFailed("temperature 5 accepted")
    except openai.BadRequestError as e:
        expect(isinstance(e.body, dict) and e.body.get("param") == "temperature", f"error body {e.body!r}")


# ---------------------------------------------------------------------------------------------
# 2. Raw HTTP: health, metrics, tokenizer endpoints

@check("http")
def health():
    r = req(S["main"], "GET", "/health")
    expect_eq(r.status, 200, "GET /health status")


@check("http")
def metrics_names():
    text, v = metrics(S["main"])
    for name in ["swiftllm_requests_running", "swiftllm_requests_waiting", "swiftllm_kv_cache_usage_ratio",
                 "swiftllm_kv_blocks_free", "swiftllm_kv_blocks_total", "swiftllm_prefix_cache_hit_ratio",
                 "swiftllm_prompt_tokens_total", "swiftllm_generation_tokens_total"]:
        expect(name in v, f"/metrics lacks a sample of {name}")
    for reason in ["stop", "length", "abort"]:
        expect(f'swiftllm_requests_total{{finish_reason="{reason}"}}' in v,
               f'/metrics lacks swiftllm_requests_total{{finish_reason="{reason}"}}')
    for h in ["swiftllm_time_to_first_token_seconds", "swiftllm_time_per_output_token_seconds",
              "swiftllm_e2e_request_latency_seconds"]:
        expect(re.search(rf"^# TYPE {h} histogram$", text, re.M), f"{h} is not declared a histogram")
        expect(re.search(rf'^{h}_bucket\{{le="\+Inf"\}} ', text, re.M), f"{h} has no +Inf bucket")
        expect(f"{h}_sum" in v and f"{h}_count" in v, f"{h} lacks _sum/_count")
    # The earlier tests generated: counters and histograms moved.
    expect(v["swiftllm_prompt_tokens_total"] > 0, "swiftllm_prompt_tokens_total is 0 after requests")
    expect(v["swiftllm_generation_tokens_total"] > 0, "swiftllm_generation_tokens_total is 0 after requests")
    expect(v["swiftllm_time_to_first_token_seconds_count"] > 0, "TTFT histogram count is 0 after requests")
    expect(v['swiftllm_requests_total{finish_reason="length"}'] > 0, "no finish_reason=length counted")
    expect(v["swiftllm_kv_blocks_total"] > 0, "swiftllm_kv_blocks_total is 0")
    expect(0 <= v["swiftllm_kv_cache_usage_ratio"] <= 1, "swiftllm_kv_cache_usage_ratio outside [0, 1]")
    # Counters grow by what a request generates.
    before = v["swiftllm_generation_tokens_total"]
    S["main"].client().completions.create(model=S["model"], prompt=PROMPT, max_tokens=7, extra_body={"ignore_eos": True})
    _, v2 = metrics(S["main"])
    expect_eq(v2["swiftllm_generation_tokens_total"] - before, 7.0, "swiftllm_generation_tokens_total increase for 7 tokens")


@check("http")
def keep_alive_honoured():
    # A response either says "Connection: close" or the connection serves the next request too.
    m = S["main"]
    cases = [("GET", "/v1/models", None), ("POST", "/tokenize", {"prompt": "hi"}),
             ("POST", "/v1/completions", {"prompt": PROMPT, "max_tokens": 2}),
             ("POST", "/v1/completions", {"prompt": PROMPT, "max_tokens": 2, "stream": True}),
             ("POST", "/v1/chat/completions", {"messages": CHAT, "max_tokens": 2}),
             ("POST", "/v1/chat/completions", {"messages": CHAT, "max_tokens": 999999})]  # a 400
    for method, path, body in cases:
        conn = httplib.HTTPConnection(m.host, m.port, timeout=TIMEOUT)
        try:
            for i in range(2):
                data = json.dumps(body).encode() if body is not None else None
                conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
                r = conn.getresponse()
                r.read()
                if (r.getheader("connection") or "").lower() == "close":
                    break
                time.sleep(0.1)  # the second request goes on the kept-alive connection
        except (ConnectionError, httplib.HTTPException) as e:
            raise CheckFailed(f"{method} {path} {'(stream) ' if body and body.get('stream') else ''}"
                              f"request {i + 1} on a kept-alive connection failed: {e!r} "
                              "(the server closed a connection it did not mark 'Connection: close')")
        finally:
            conn.close()


@check("http")
def tokenize_round_trip():
    text = "Hello world, this is SwiftLLM!"
    r = req(S["main"], "POST", "/tokenize", {"prompt": text, "add_special_tokens": False})
    expect_eq(r.status, 200, f"/tokenize status ({r!r})")
    doc = r.json()
    expect(isinstance(doc.get("tokens"), list) and doc["tokens"], f"/tokenize answer {doc!r}")
    expect_eq(doc.get("count"), len(doc["tokens"]), "/tokenize count")
    r = req(S["main"], "POST", "/detokenize", {"tokens": doc["tokens"]})
    expect_eq(r.status, 200, f"/detokenize status ({r!r})")
    expect_eq(r.json().get("prompt"), text, "/detokenize text")
    # messages go through the chat template and match the chat endpoint's prompt_tokens
    r = req(S["main"], "POST", "/tokenize", {"messages": CHAT})
    expect_eq(r.status, 200, f"/tokenize messages status ({r!r})")
    usage = S["main"].client().chat.completions.create(model=S["model"], messages=CHAT, max_tokens=1).usage
    expect_eq(r.json()["count"], usage.prompt_tokens, "/tokenize messages count vs chat prompt_tokens")
    expect_api_error(req(S["main"], "POST", "/detokenize", {"tokens": [-1]}), 400, param="tokens", what="/detokenize [-1]")


# ---------------------------------------------------------------------------------------------
# 3. Errors

def chat_body(**kw):
    body = {"model": S["model"], "messages": CHAT, "max_tokens": 4}
    body.update(kw)
    return body


def post_chat(server, body, headers=None):
    return req(server, "POST", "/v1/chat/completions", body, headers=headers)


@check("errors")
def malformed_json():
    r = req(S["main"], "POST", "/v1/chat/completions", raw=b'{"model": "x", "messages": [')
    expect_api_error(r, 400, what="malformed JSON")
    r = req(S["main"], "POST", "/v1/completions", raw=b'[1, 2, 3]')
    expect_api_error(r, 400, what="a JSON array as body")
    r = req(S["main"], "POST", "/v1/completions", raw=b'')
    expect_api_error(r, 400, what="an empty body")


@check("errors")
def wrong_types_and_ranges():
    m = S["main"]
    cases = [
        ({"temperature": "hot"}, "temperature"),
        ({"max_tokens": -5}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"temperature": -1}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"n": 0}, "n"),
        ({"stream": "yes"}, "stream"),
        ({"messages": "hi"}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"presence_penalty": 3}, "presence_penalty"),
    ]
    for extra, param in cases:
        expect_api_error(post_chat(m, chat_body(**extra)), 400, param=param, what=f"chat {extra}")
    for extra, param in [({"prompt": 5}, "prompt"), ({"prompt": [10 ** 9]}, "prompt"), ({"prompt": []}, "prompt"),
                         ({"logprobs": 50}, "logprobs"), ({"max_tokens": -1}, "max_tokens")]:
        body = {"model": S["model"], "prompt": PROMPT, "max_tokens": 4}
        body.update(extra)
        expect_api_error(req(m, "POST", "/v1/completions", body), 400, param=param, what=f"completions {extra}")
    r = req(m, "POST", "/v1/completions", {"model": S["model"], "max_tokens": 4})
    expect_api_error(r, 400, param="prompt", what="completions without prompt")


@check("errors")
def unknown_model():
    expect_api_error(post_chat(S["main"], chat_body(model="gpt-9")), 404, param="model", code="model_not_found",
                     what="unknown model (chat)")
    r = req(S["main"], "POST", "/v1/completions", {"model": "gpt-9", "prompt": "x"})
    expect_api_error(r, 404, param="model", what="unknown model (completions)")


@check("errors")
def unsupported_fields():
    m = S["main"]
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]
    expect_api_error(post_chat(m, chat_body(tools=tools)), 400, param="tools", what="tools")
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    expect_api_error(post_chat(m, chat_body(response_format=schema)), 400, param="response_format", what="json_schema")
    expect_api_error(post_chat(m, chat_body(logit_bias={"42": -100})), 400, param="logit_bias", what="logit_bias")
    r = req(m, "POST", "/v1/completions", {"prompt": "x", "logit_bias": {"42": 5}})
    expect_api_error(r, 400, param="logit_bias", what="logit_bias (completions)")
    # Accepted no-ops: an empty logit_bias, response_format text, an empty tools list.
    for extra in [{"logit_bias": {}}, {"response_format": {"type": "text"}}, {"tools": []}]:
        r = post_chat(m, chat_body(**extra))
        expect_eq(r.status, 200, f"chat with {extra} ({r!r})")


@check("errors")
def unknown_fields_ignored():
    r = post_chat(S["main"], chat_body(some_future_field={"a": 1}, another=True))
    expect_eq(r.status, 200, f"unknown fields ({r!r})")
    expect(r.json()["choices"][0]["message"]["content"] is not None, "no content")


@check("errors")
def unknown_route():
    expect_api_error(req(S["main"], "GET", "/v1/nope"), 404, what="GET /v1/nope")
    expect_api_error(req(S["main"], "POST", "/v2/chat/completions", {"x": 1}), 404, what="POST /v2/chat/completions")


@check("errors")
def context_length():
    small = S["small"]
    long_prompt = "hello " * 80  # > 64 tokens, < 1 KiB
    r = req(small, "POST", "/v1/completions", {"prompt": long_prompt, "max_tokens": 4})
    err = expect_api_error(r, 400, param="prompt", what="prompt over --ctx-size 64")
    expect_eq(err["code"], "context_length_exceeded", "code")
    r = post_chat(small, {"messages": [{"role": "user", "content": long_prompt}], "max_tokens": 4})
    expect_api_error(r, 400, param="messages", what="chat prompt over --ctx-size 64")
    r = req(small, "POST", "/v1/completions", {"prompt": "hello", "max_tokens": 500})
    expect_api_error(r, 400, param="max_tokens", what="max_tokens over --ctx-size 64")
    # Without max_tokens a completion fills the rest of the context at most.
    r = req(small, "POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "ignore_eos": True})
    expect_eq(r.status, 200, f"chat without max_tokens on a 64-token context ({r!r})")
    u = r.json()["usage"]
    expect_eq(u["total_tokens"], 64, "prompt + completion without max_tokens on a 64-token context")


@check("errors")
def body_size_limit():
    small = S["small"]
    big = {"prompt": "x" * 2048, "max_tokens": 1}
    expect_api_error(req(small, "POST", "/v1/completions", big), 413, what="2 KiB body with Content-Length, 1 KiB limit")
    payload = json.dumps(big).encode()
    r = req(small, "POST", "/v1/completions", raw=iter([payload[i:i + 256] for i in range(0, len(payload), 256)]))
    expect_api_error(r, 413, what="2 KiB chunked body, 1 KiB limit")
    r = req(small, "POST", "/v1/completions", {"prompt": "hi", "max_tokens": 2})
    expect_eq(r.status, 200, f"a small body still works ({r!r})")


@check("errors")
def api_key():
    a = S["auth"]
    body = {"messages": CHAT, "max_tokens": 2}
    for headers, what in [({}, "no Authorization"), ({"Authorization": "Bearer wrong"}, "wrong key"),
                          ({"Authorization": "k"}, "no Bearer prefix"), ({"Authorization": "Bearer kk"}, "longer key")]:
        expect_api_error(post_chat(a, body, headers), 401, what=f"chat with {what}")
        expect_api_error(req(a, "GET", "/v1/models", headers=headers), 401, what=f"/v1/models with {what}")
        expect_api_error(req(a, "POST", "/tokenize", {"prompt": "x"}, headers=headers), 401, what=f"/tokenize with {what}")
    ok = {"Authorization": "Bearer k"}
    expect_eq(post_chat(a, body, ok).status, 200, "chat with the right key")
    expect_eq(req(a, "GET", "/health").status, 200, "/health without a key")
    expect_eq(req(a, "GET", "/metrics").status, 200, "/metrics without a key")
    try:
        a.client(api_key="wrong").models.list()
        raise CheckFailed("openai client with a wrong key succeeded")
    except openai.AuthenticationError:
        pass
    ids = [m.id for m in a.client(api_key="k").models.list()]
    expect(ids, "models.list() empty with the right key")
    r = a.client(api_key="k").chat.completions.create(model=ids[0], messages=CHAT, max_tokens=3)
    expect(r.choices[0].message.content is not None, "chat with the right key via the client")


# ---------------------------------------------------------------------------------------------
# 4. Queue limit

@check("queue")
def queue_limit_429():
    q = S["queue"]
    results = [None] * 6
    barrier = threading.Barrier(len(results))

    def one(i):
        try:
            barrier.wait()
            st = RawStream(q, "/v1/completions", {"prompt": PROMPT, "max_tokens": 64, "stream": True,
                                                   "ignore_eos": True})
            st.read_until(lambda: b"data: [DONE]" in st.buf or (b"\r\n\r\n" in st.buf and not st.buf.startswith(b"HTTP/1.1 200")
                                                                 and st.buf.rstrip().endswith(b"}")))
            status = st.status()
            head = st.buf.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            retry = re.search(r"(?im)^retry-after:\s*(\S+)", head)
            results[i] = (status, retry.group(1) if retry else None, st.buf)
            st.close()
        except Exception as e:  # noqa: BLE001
            results[i] = ("exception", repr(e), b"")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    statuses = [r[0] for r in results]
    expect(all(s in (200, 429) for s in statuses), f"statuses {statuses} (want only 200 and 429): "
           + "; ".join(repr(r[:2]) for r in results if r and r[0] not in (200, 429)))
    expect(statuses.count(429) >= 1, f"no 429 among {statuses}")
    expect(statuses.count(200) >= 1, f"no 200 among {statuses}")
    for status, retry, buf in results:
        if status == 429:
            expect(retry is not None and retry.isdigit() and int(retry) >= 1, f"429 without a Retry-After (got {retry!r})")
            body = buf.split(b"\r\n\r\n", 1)[1]
            doc = json.loads(body[body.index(b"{"):body.rindex(b"}") + 1])
            expect(doc.get("error", {}).get("type") == "rate_limit_error", f"429 body {doc!r}")
        else:
            expect(b"data: [DONE]" in buf, "an admitted stream did not end with [DONE]")
            expect(b'"finish_reason":"length"' in buf, "an admitted stream has no finish_reason length")
    log(f"  statuses: {statuses}")
    expect(q.proc.poll() is None, "queue server died")
    idle, v = wait_idle(q)
    expect(idle, f"queue server not idle afterwards: {v}")
    r = req(q, "POST", "/v1/completions", {"prompt": PROMPT, "max_tokens": 3})
    expect_eq(r.status, 200, f"a request after the burst ({r!r})")
    # The openai client sees a RateLimitError (max_retries=0): one stream runs, one waits (its
    # 200 head is out, no data yet), a third request finds the queue full.
    st = RawStream(q, "/v1/completions", {"prompt": PROMPT, "max_tokens": 150, "stream": True, "ignore_eos": True})
    st2 = None
    try:
        st.read_until(lambda: b"data:" in st.buf)
        st2 = RawStream(q, "/v1/completions", {"prompt": PROMPT, "max_tokens": 150, "stream": True, "ignore_eos": True})
        expect_eq(st2.status(), 200, "status of the queued stream")
        ok, v = poll_metrics(q, lambda v: v["swiftllm_requests_running"] == 1 and v["swiftllm_requests_waiting"] == 1)
        expect(ok,
               f"expected 1 running + 1 waiting, got {v['swiftllm_requests_running']} + {v['swiftllm_requests_waiting']}")
        try:
            q.client().completions.create(model=S["model"], prompt=PROMPT, max_tokens=2)
            raise CheckFailed("a third request was admitted with max-num-seqs 1 + max-queue 1")
        except openai.RateLimitError as e:
            expect(e.response.headers.get("retry-after"), "RateLimitError without retry-after")
    finally:
        st.close()
        if st2:
            st2.close()
    # Both left (one running, one still queued): everything is released.
    idle, v = wait_idle(q, timeout=2.5)
    expect(idle, f"queue server not idle after its running and queued clients left: {v}")
    r = req(q, "POST", "/v1/completions", {"prompt": PROMPT, "max_tokens": 2})
    expect_eq(r.status, 200, f"a request after the queued client left ({r!r})")


# ---------------------------------------------------------------------------------------------
# 5. Client disconnects

def wait_released(server, before, aborts, timeout=2.5):
    """After a disconnect: within `timeout` nothing runs, every KV block is free and the abort
    counter grew by `aborts`. Returns the metric values."""
    def done(v):
        return (v["swiftllm_requests_running"] == 0 and v["swiftllm_requests_waiting"] == 0
                and v["swiftllm_kv_blocks_free"] == v["swiftllm_kv_blocks_total"] and v[ABORTS] - before[ABORTS] >= aborts)
    ok, v = poll_metrics(server, done, timeout)
    expect(ok, f"{timeout} s after the disconnect: running={v['swiftllm_requests_running']:.0f} "
               f"waiting={v['swiftllm_requests_waiting']:.0f} kv_blocks_free={v['swiftllm_kv_blocks_free']:.0f} "
               f"kv_blocks_total={v['swiftllm_kv_blocks_total']:.0f} aborts +{v[ABORTS] - before[ABORTS]:.0f} (want +{aborts}), "
               f"errors +{v[ERRORS] - before[ERRORS]:.0f}")
    expect_eq(v[ABORTS] - before[ABORTS], float(aborts), "abort counter increase")
    return v


@check("disconnect")
def streaming_disconnect_frees_blocks():
    m = S["main"]
    idle, v0 = wait_idle(m)
    expect(idle, f"server not idle before the test: {v0}")
    st = RawStream(m, "/v1/completions", {"model": S["model"], "prompt": PROMPT, "max_tokens": 2000, "ignore_eos": True,
                                          "stream": True})
    st.read_until(lambda: len(st.data_events()) >= 5)
    expect_eq(st.status(), 200, "stream status")
    _, mid = metrics(m)
    expect(mid["swiftllm_requests_running"] + mid["swiftllm_requests_waiting"] >= 1, f"nothing running mid-stream: {mid}")
    expect(mid["swiftllm_kv_blocks_free"] < mid["swiftllm_kv_blocks_total"], "no KV block in use mid-stream")
    st.close()
    t = time.monotonic()
    v = wait_released(m, v0, aborts=1)
    gen = v["swiftllm_generation_tokens_total"] - v0["swiftllm_generation_tokens_total"]
    expect(gen < 1000, f"{gen} tokens generated: the request was not cancelled")
    log(f"  freed {time.monotonic() - t:.2f} s after the disconnect ({gen:.0f} tokens generated)")


@check("disconnect")
def non_streaming_disconnect_frees_blocks():
    m = S["main"]
    idle, v0 = wait_idle(m)
    expect(idle, f"server not idle before the test: {v0}")
    st = RawStream(m, "/v1/chat/completions", {"messages": CHAT, "max_tokens": 2000, "ignore_eos": True})
    time.sleep(0.5)
    _, mid = metrics(m)
    expect(mid["swiftllm_requests_running"] + mid["swiftllm_requests_waiting"] >= 1, f"nothing running after 0.5 s: {mid}")
    st.close()
    v = wait_released(m, v0, aborts=1)
    gen = v["swiftllm_generation_tokens_total"] - v0["swiftllm_generation_tokens_total"]
    expect(gen < 1000, f"{gen} tokens generated: the request was not cancelled")


@check("disconnect")
def n_two_stream_disconnect():
    m = S["main"]
    _, v0 = metrics(m)
    st = RawStream(m, "/v1/chat/completions", {"messages": CHAT, "max_tokens": 2000, "ignore_eos": True, "n": 2,
                                               "stream": True})
    st.read_until(lambda: len(st.data_events()) >= 6)
    st.close()
    wait_released(m, v0, aborts=2)
    r = m.client().chat.completions.create(model=S["model"], messages=CHAT, max_tokens=3)
    expect(r.choices[0].message.content is not None, "server answers after the disconnects")


@check("disconnect")
def disconnect_right_after_sending():
    # Clients that reset the connection (SO_LINGER 0) within a few ms of sending, some before the
    # response head can be written. On the queue server (room for 2 sequences) a leaked admission
    # slot turns every later request into a 429, so a request afterwards must get 200.
    q = S["queue"]
    idle, v0 = wait_idle(q)
    expect(idle, f"server not idle before the test: {v0}")
    for stream in (True, False):
        for delay in [0, 0.0005, 0.001, 0.002, 0.004, 0.05] * 2:
            st = RawStream(q, "/v1/completions", {"prompt": PROMPT, "max_tokens": 2000, "ignore_eos": True, "stream": stream})
            if delay:
                time.sleep(delay)
            st.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            st.sock.close()
    ok, v = wait_idle(q, timeout=3)
    gen = v["swiftllm_generation_tokens_total"] - v0["swiftllm_generation_tokens_total"]
    expect(ok, f"still busy 3 s after 24 reset clients (running={v['swiftllm_requests_running']:.0f}, "
               f"waiting={v['swiftllm_requests_waiting']:.0f}, {gen:.0f} tokens generated)")
    expect(gen < 1000, f"{gen:.0f} tokens generated for clients that had reset")
    r = req(q, "POST", "/v1/completions", {"prompt": PROMPT, "max_tokens": 2})
    expect_eq(r.status, 200, f"a request after 24 reset clients (a 429 means leaked admission slots) ({r!r})")


# ---------------------------------------------------------------------------------------------
# 6. Graceful shutdown

@check("shutdown")
def sigterm_finishes_running_stream():
    srv = Server("shutdown", ["--shutdown-timeout", "10"])
    S["shutdown"] = srv
    st = None
    try:
        st = RawStream(srv, "/v1/chat/completions", {"messages": CHAT, "max_tokens": 100, "ignore_eos": True,
                                                     "stream": True, "stream_options": {"include_usage": True}})
        st.read_until(lambda: len(st.data_events()) >= 3)
        t = time.monotonic()
        srv.signal(signal.SIGTERM)
        time.sleep(0.15)
        refused = None
        try:
            r = req(srv, "POST", "/v1/chat/completions", {"messages": CHAT, "max_tokens": 2}, timeout=5)
            refused = f"HTTP {r.status}"
            expect_api_error(r, 503, what="a new request after SIGTERM")
        except (ConnectionRefusedError, ConnectionResetError, httplib.RemoteDisconnected) as e:
            refused = type(e).__name__
        still_streaming = b"data: [DONE]" not in st.buf
        st.read_until(lambda: b"data: [DONE]" in st.buf, timeout=15)
        t_done = time.monotonic() - t
        events = [e for e in st.data_events() if e != "[DONE]"]
        expect(b"data: [DONE]" in st.buf, "the running stream did not end with [DONE]")
        docs = [json.loads(e) for e in events]
        expect(all("error" not in d for d in docs), "an error event in the stream")
        finish = [c["finish_reason"] for d in docs for c in d["choices"] if c.get("finish_reason")]
        expect_eq(finish, ["length"], "finish_reason of the stream cut by nothing")
        expect_eq(docs[-1]["usage"]["completion_tokens"], 100, "completion_tokens of the stream")
        expect(still_streaming, "the stream had already finished when the new request was tried; make it longer")
        code = srv.wait_exit(15)
        expect(code is not None, "the process did not exit within 15 s of SIGTERM (grace period 10 s)")
        expect_eq(code, 0, "exit code after SIGTERM")
        log(f"  new request during shutdown: {refused}; stream done {t_done:.2f} s and process exited "
            f"{time.monotonic() - t:.2f} s after SIGTERM")
    finally:
        if st:
            st.close()
        srv.kill()


@check("shutdown")
def sigterm_grace_period_runs_out():
    srv = Server("deadline", ["--shutdown-timeout", "1"])
    S["deadline"] = srv
    st = None
    try:
        st = RawStream(srv, "/v1/completions", {"prompt": PROMPT, "max_tokens": 3000, "ignore_eos": True, "stream": True})
        st.read_until(lambda: len(st.data_events()) >= 3)
        t = time.monotonic()
        srv.signal(signal.SIGTERM)
        code = srv.wait_exit(10)
        expect(code is not None, "the process did not exit within 10 s of SIGTERM (grace period 1 s)")
        took = time.monotonic() - t
        expect_eq(code, 0, "exit code when the grace period runs out")
        expect(took < 8, f"exit took {took:.1f} s with a 1 s grace period")
        log(f"  exited {took:.2f} s after SIGTERM with a stream still running")
    finally:
        if st:
            st.close()
        srv.kill()


@check("shutdown")
def sigint_exits_zero():
    # Runs last: the main server, after everything else, stopped with SIGINT.
    m = S["main"]
    expect(m.proc.poll() is None, f"the main server died earlier (exit {m.proc.poll()})")
    m.signal(signal.SIGINT)
    code = m.wait_exit(15)
    expect(code is not None, "no exit within 15 s of SIGINT")
    expect_eq(code, 0, "exit code after SIGINT")
    try:
        req(m, "GET", "/health", timeout=3)
        raise CheckFailed("the server still answers after exiting")
    except (ConnectionRefusedError, ConnectionResetError):
        pass


# ---------------------------------------------------------------------------------------------

SERVERS = {
    "main": [],
    "small": ["--ctx-size", "64", "--max-body-size", "1KiB"],
    "auth": ["--api-key", "k"],
    "queue": ["--max-num-seqs", "1", "--max-queue", "1"],
}
NEEDS = {"client": ["main"], "http": ["main"], "errors": ["main", "small", "auth"], "queue": ["main", "queue"],
         "disconnect": ["main", "queue"], "shutdown": ["main"]}


def main():
    selected = [(g, fn) for g, fn in CHECKS if not FILTERS or any(f in f"{g}.{fn.__name__}" for f in FILTERS)]
    needed = sorted({s for g, _ in selected for s in NEEDS[g]}, key=list(SERVERS).index)
    passed, failed = [], []
    try:
        for name in needed:
            S[name] = Server(name, SERVERS[name])
        S["model"] = S["main"].client().models.list().data[0].id
        log(f"model id: {S['model']}")
        for group, fn in selected:
            name = f"{group}.{fn.__name__}"
            t = time.monotonic()
            try:
                fn()
                passed.append(name)
                log(f"PASS {name} ({time.monotonic() - t:.1f} s)")
            except CheckFailed as e:
                failed.append(name)
                log(f"FAIL {name}: {e}")
            except Exception as e:  # noqa: BLE001 - a crash in a check is a failure of that check
                failed.append(name)
                log(f"FAIL {name}: {type(e).__name__}: {e}")
                if VERBOSE:
                    traceback.print_exc()
    except CheckFailed as e:
        log(f"FAIL setup: {e}")
        failed.append("setup")
    finally:
        for name, srv in S.items():
            if isinstance(srv, Server) and srv.proc.poll() is None:
                srv.signal(signal.SIGTERM)
                code = srv.wait_exit(15)
                if code != 0:
                    log(f"FAIL {name} server exit code after SIGTERM: {code}")
                    failed.append(f"{name}.exit")
                srv.kill()
        for name, srv in S.items():
            if not isinstance(srv, Server):
                continue
            if failed:
                print(f"--- {name} server output ({srv.output.name}), last lines:\n{srv.tail()}", file=sys.stderr)
            else:
                os.unlink(srv.output.name)
    print(f"{len(passed)} passed, {len(failed)} failed in {time.monotonic() - T0:.1f} s"
          + (f": {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
