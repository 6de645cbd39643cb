#!/usr/bin/env python3
"""Real-browser test of the web chat page served by `swiftllm serve` (headless Chromium over CDP).

Install (Debian; CI does the same):
    apt-get update && apt-get install -y chromium     # provides /usr/bin/chromium
    python3 -m pip install websocket-client           # the only Python dependency (pure Python)

Run from the repository root:
    python3 Tests/e2e/test_webchat.py

Environment:
    SWIFTLLM_SERVE_CMD     command that starts the server (default: .build/release/swiftllm serve --port 0).
                           It must print a line containing http://HOST:PORT once it accepts connections.
                           Against the mock: SWIFTLLM_SERVE_CMD="python3 scripts/dev/mock_openai_server.py --port 0"
    SWIFTLLM_SCREENSHOT    where to write the PNG screenshot (default /tmp/webchat.png)
    SWIFTLLM_API_KEY       API key to enter in the page's settings, if the server was started with one
    SWIFTLLM_E2E_TIMEOUT   seconds to wait for server start and for each reply (default 180)
    SWIFTLLM_COLOR_SCHEME  "light" (default) or "dark": emulated prefers-color-scheme for the screenshot
    CHROMIUM               browser binary (default: chromium, chromium-browser or google-chrome on PATH)

What it checks, as a person would (real mouse clicks and key presses):
  1. the page loads and #model-name shows the id from GET /v1/models;
  2. a two-line message typed into #input (Shift+Enter) and sent with #send gets a streamed assistant reply whose .stats
     shows TTFT, tokens/s and a token count, and the UI returns to the ready state;
  3. a long request (max tokens 500, sent with Enter) is stopped with #stop after its first tokens:
     the reply is marked stopped, has fewer than 500 tokens, and the UI is ready again;
  4. the conversation then goes on (a third message completes), so the server survived the abort;
  5. the page threw no JavaScript exceptions. A screenshot is written at the end.
Exits 0 and prints "1 passed, 0 failed" on success; otherwise prints the reason and exits 1.
"""
import base64
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

try:
    import websocket  # websocket-client
except ImportError:
    print("FAIL: the Python package websocket-client is missing: python3 -m pip install websocket-client", file=sys.stderr)
    print("0 passed, 1 failed")
    sys.exit(1)

TIMEOUT = float(os.environ.get("SWIFTLLM_E2E_TIMEOUT", "180"))
SERVE_CMD = os.environ.get("SWIFTLLM_SERVE_CMD", ".build/release/swiftllm serve --port 0")
SCREENSHOT = os.environ.get("SWIFTLLM_SCREENSHOT", "/tmp/webchat.png")
API_KEY = os.environ.get("SWIFTLLM_API_KEY", "")
COLOR_SCHEME = os.environ.get("SWIFTLLM_COLOR_SCHEME", "light")


class TestFailure(Exception):
    pass


def log(msg):
    print(f"[webchat e2e] {msg}", flush=True)


# ---------------------------------------------------------------- processes

class Server:
    """The server under test; its combined stdout/stderr is collected for the ready line and for diagnostics."""

    URL_RE = re.compile(r"http://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(\d+)")

    def __init__(self, cmd):
        self.lines = []
        self.url = None
        self.ready = threading.Event()
        log(f"starting server: {cmd}")
        try:
            self.proc = subprocess.Popen(shlex.split(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, text=True, bufsize=1)
        except FileNotFoundError as e:
            raise TestFailure(f"cannot start the server ({e}); build it first or set SWIFTLLM_SERVE_CMD")
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if self.url is None:
                m = self.URL_RE.search(line)
                if m:
                    host = m.group(1)
                    if host in ("0.0.0.0", "[::]"):
                        host = "127.0.0.1" if host == "0.0.0.0" else "[::1]"
                    self.url = f"http://{host}:{m.group(2)}"
                    self.ready.set()
        self.ready.set()  # EOF: the process ended

    def wait_ready(self, timeout):
        if not self.ready.wait(timeout):
            raise TestFailure(f"server printed no http://HOST:PORT line within {timeout:.0f} s\n" + self.tail())
        if self.url is None:
            raise TestFailure(f"server exited (code {self.proc.wait()}) before printing its URL\n" + self.tail())
        return self.url

    def tail(self, n=30):
        return "server output (last lines):\n  " + "\n  ".join(self.lines[-n:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                log("server did not exit within 15 s of SIGTERM; killing it")
                self.proc.kill()
                self.proc.wait()


def find_chromium():
    cand = os.environ.get("CHROMIUM")
    if cand:
        return cand
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    raise TestFailure("no Chromium found: apt-get update && apt-get install -y chromium (or set CHROMIUM)")


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="webchat-e2e-")
        binary = find_chromium()
        args = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={self.profile}",
                "--window-size=1280,900", "about:blank"]
        log(f"starting browser: {binary}")
        self.stderr = open(os.path.join(self.profile, "chromium.log"), "w+")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.stderr, stdin=subprocess.DEVNULL)
        self.ws = None
        try:
            self._connect()
        except BaseException:
            self.close()
            raise

    def _connect(self):
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise TestFailure(f"Chromium exited with code {self.proc.returncode}:\n{self._log()}")
            if os.path.exists(port_file):
                lines = open(port_file).read().split()
                if lines:
                    self.port = int(lines[0])
                    break
            time.sleep(0.1)
        else:
            raise TestFailure("Chromium did not open its DevTools port within 60 s:\n" + self._log())
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10))
        page = next((t for t in targets if t.get("type") == "page"), None)
        if page is None:
            page = json.load(urllib.request.urlopen(
                urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT"), timeout=10))
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def _log(self):
        try:
            self.stderr.seek(0)
            return self.stderr.read()[-3000:]
        except Exception:
            return ""

    def cdp(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise TestFailure(f"CDP {method} failed: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def js(self, expr):
        r = self.cdp("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise TestFailure(f"JavaScript failed: {expr}\n{json.dumps(r['exceptionDetails'])[:800]}")
        return r.get("result", {}).get("value")

    def wait_for(self, expr, what, timeout=TIMEOUT, interval=0.1, diagnose=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = self.js(expr)
            if v:
                return v
            time.sleep(interval)
        extra = ""
        if diagnose:
            try:
                extra = "\n" + diagnose()
            except Exception as e:  # noqa: BLE001 - diagnostics only
                extra = f"\n(diagnostics failed: {e})"
        raise TestFailure(f"timed out after {timeout:.0f} s waiting for {what}{extra}")

    def click(self, selector):
        rect = self.js(f"""(() => {{ const el = document.querySelector({json.dumps(selector)});
            if (!el) return null; el.scrollIntoView({{block: 'nearest'}}); const r = el.getBoundingClientRect();
            const s = getComputedStyle(el);
            return {{x: r.x + r.width / 2, y: r.y + r.height / 2, w: r.width, h: r.height,
                     visible: s.display !== 'none' && s.visibility !== 'hidden', disabled: !!el.disabled}}; }})()""")
        if not rect:
            raise TestFailure(f"no element {selector} to click")
        if not rect["visible"] or rect["w"] == 0 or rect["h"] == 0:
            raise TestFailure(f"{selector} is not visible, so a person could not click it")
        if rect["disabled"]:
            raise TestFailure(f"{selector} is disabled, so a person could not click it")
        x, y = rect["x"], rect["y"]
        self.cdp("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        self.cdp("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left", clickCount=1)
        self.cdp("Input.dispatchMouseEvent", type="mouseReleased", x=x, y=y, button="left", clickCount=1)

    def type_text(self, text):
        self.cdp("Input.insertText", text=text)

    def press_enter(self, shift=False):
        common = dict(key="Enter", code="Enter", windowsVirtualKeyCode=13, nativeVirtualKeyCode=13,
                      modifiers=8 if shift else 0)
        self.cdp("Input.dispatchKeyEvent", type="keyDown", text="\r", **common)
        self.cdp("Input.dispatchKeyEvent", type="keyUp", **common)

    def screenshot(self, path):
        data = self.cdp("Page.captureScreenshot", format="png")["data"]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def exceptions(self):
        out = []
        for e in self.events:
            if e["method"] == "Runtime.exceptionThrown":
                d = e["params"]["exceptionDetails"]
                out.append((d.get("exception") or {}).get("description") or d.get("text"))
        return out

    def close(self):
        if self.ws is not None:
            try:
                self.ws.close()
            except Exception:
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)


# ---------------------------------------------------------------- the test

LAST_ASSISTANT = "[...document.querySelectorAll('#messages .msg.assistant')].pop()"
STATS_RE = r"/TTFT\s+\d+\s*ms/.test(s) && /\d+(\.\d+)?\s*tok\/s/.test(s) && /\d+\s*tokens?/.test(s)"


def ui_state(b):
    return b.js(f"""(() => {{ const a = {LAST_ASSISTANT};
        return JSON.stringify({{ready: document.body.dataset.state, send_disabled: document.querySelector('#send').disabled,
            stop_disabled: document.querySelector('#stop').disabled, banner: document.querySelector('#banner').textContent,
            model: document.querySelector('#model-name').textContent,
            assistant_state: a ? a.dataset.state : null, assistant_text: a ? a.textContent.slice(0, 300) : null,
            stats: a ? (a.parentElement.querySelector('.stats') || {{}}).textContent : null}}); }})()""")


def set_field(b, selector, value):
    b.js(f"""(() => {{ const el = document.querySelector({json.dumps(selector)});
        el.value = {json.dumps(str(value))}; el.dispatchEvent(new Event('input', {{bubbles: true}}));
        el.dispatchEvent(new Event('change', {{bubbles: true}})); }})()""")


def assistant_count(b):
    return b.js("document.querySelectorAll('#messages .msg.assistant').length")


def wait_reply_done(b, count, what):
    """Waits for assistant message number `count` to finish; returns (text, stats, saw_live_stats)."""
    saw_live = False
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        st = json.loads(b.js(f"""(() => {{ const all = document.querySelectorAll('#messages .msg.assistant');
            if (all.length < {count}) return JSON.stringify(null); const a = all[{count - 1}];
            const s = (a.parentElement.querySelector('.stats') || {{}}).textContent || '';
            return JSON.stringify({{state: a.dataset.state, text: a.textContent, stats: s, ok: {STATS_RE}}}); }})()"""))
        if st:
            if st["state"] == "streaming" and st["text"].strip() and st["ok"]:
                saw_live = True
            if st["state"] == "error":
                raise TestFailure(f"{what}: the server answered with an error: {st['text']}")
            if st["state"] in ("done", "stopped"):
                return st, saw_live
        time.sleep(0.05)
    raise TestFailure(f"{what}: no finished reply within {TIMEOUT:.0f} s; UI: {ui_state(b)}")


def check_ready(b, what):
    b.wait_for("document.body.dataset.state === 'ready' && !document.querySelector('#send').disabled"
               " && document.querySelector('#stop').disabled", f"{what}: the UI to return to the ready state",
               timeout=15, diagnose=lambda: ui_state(b))


def run(server, browser):
    url = server.wait_ready(TIMEOUT)
    log(f"server ready at {url}")

    req = urllib.request.Request(url + "/v1/models", headers={"Authorization": f"Bearer {API_KEY}"} if API_KEY else {})
    try:
        models = json.load(urllib.request.urlopen(req, timeout=30))
        model_id = models["data"][0]["id"]
    except Exception as e:
        raise TestFailure(f"GET /v1/models failed: {e}")

    b = browser
    b.cdp("Runtime.enable")
    b.cdp("Page.enable")
    b.cdp("Emulation.setDeviceMetricsOverride", width=1280, height=860, deviceScaleFactor=1, mobile=False)
    b.cdp("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": COLOR_SCHEME}])
    b.cdp("Page.navigate", url=url + "/")
    b.navigated = True
    b.wait_for("document.readyState === 'complete' && !!document.querySelector('#input')", "the page to load",
               timeout=30)
    if API_KEY:
        set_field(b, "#api-key", API_KEY)

    # 1. model name
    shown = b.wait_for(f"document.querySelector('#model-name').textContent.trim() === {json.dumps(model_id)}",
                       f"#model-name to show {model_id!r} (the id from GET /v1/models)", timeout=30,
                       diagnose=lambda: ui_state(b))
    shown = model_id
    log(f"model shown: {shown}")
    check_ready(b, "page load")

    # 2. a normal message, sent with the Send button
    set_field(b, "#temperature", "0")
    set_field(b, "#max-tokens", "48")
    set_field(b, "#system-prompt", "You are a helpful assistant. Answer briefly.")
    prompt = "Hello!\nIn one sentence, what is a CPU?"
    b.click("#input")
    b.type_text("Hello!")
    b.press_enter(shift=True)  # Shift+Enter: a new line, not a send
    b.type_text("In one sentence, what is a CPU?")
    if assistant_count(b) != 0 or b.js("document.querySelector('#input').value") != prompt:
        raise TestFailure("Shift+Enter did not insert a new line in #input (or it sent the message)")
    b.click("#send")
    user_text = b.wait_for("(() => { const u = [...document.querySelectorAll('#messages .msg.user')].pop();"
                           " return u ? u.textContent : null; })()", "the user message to appear", timeout=10)
    if user_text != prompt:
        raise TestFailure(f"the user bubble shows {user_text!r}, expected {prompt!r}")
    if b.js("document.querySelector('#input').value") != "":
        raise TestFailure("#input was not cleared after sending")
    st, live = wait_reply_done(b, 1, "first reply")
    if st["state"] != "done":
        raise TestFailure(f"first reply ended as {st['state']!r}, expected 'done'")
    if not st["text"].strip():
        raise TestFailure("first reply is empty")
    if not st["ok"]:
        raise TestFailure(f"first reply's .stats lacks TTFT / tok/s / tokens: {st['stats']!r}")
    check_ready(b, "first reply")
    log(f"first reply ({len(st['text'])} chars): {st['text'][:80]!r}…")
    log(f"stats: {st['stats']}  (live stats seen while streaming: {live})")

    # 3. Stop on a long request, sent with Enter
    set_field(b, "#max-tokens", "500")
    b.click("#input")
    b.type_text("Write a long, detailed essay about the history of computing, at least 2000 words.")
    b.press_enter()
    b.wait_for("(() => { const a = document.querySelectorAll('#messages .msg.assistant')[1];"
               " return !!a && (a.dataset.state !== 'streaming' || a.textContent.trim().length > 0); })()",
               "the first tokens of the long reply", diagnose=lambda: ui_state(b))
    time.sleep(0.5)  # let a few more tokens arrive, as a person reading along would
    if b.js("document.querySelectorAll('#messages .msg.assistant')[1].dataset.state") != "streaming":
        raise TestFailure(f"the long reply finished before Stop could be clicked; UI: {ui_state(b)}")
    b.click("#stop")
    st2, _ = wait_reply_done(b, 2, "stopped reply")
    if st2["state"] != "stopped":
        raise TestFailure(f"after clicking Stop the reply ended as {st2['state']!r}, expected 'stopped'")
    check_ready(b, "Stop")
    m = re.search(r"(\d+)\s*tokens?", st2["stats"])
    if not m or int(m.group(1)) >= 500:
        raise TestFailure(f"the stopped reply's stats do not show fewer than 500 tokens: {st2['stats']!r}")
    if "stopped" not in st2["stats"]:
        raise TestFailure(f"the stopped reply is not marked as stopped: {st2['stats']!r}")
    log(f"stopped after {m.group(1)} tokens; stats: {st2['stats']}")

    # 4. the conversation goes on after the abort
    set_field(b, "#max-tokens", "24")
    b.click("#input")
    b.type_text("Thanks! Say goodbye in five words.")
    b.click("#send")
    st3, _ = wait_reply_done(b, 3, "reply after Stop")
    if st3["state"] != "done" or not st3["text"].strip() or not st3["ok"]:
        raise TestFailure(f"the reply after Stop is not a complete reply with stats: {st3}")
    check_ready(b, "reply after Stop")
    log(f"reply after Stop: {st3['text'][:80]!r}; stats: {st3['stats']}")

    time.sleep(0.3)  # let the smooth scroll settle before the screenshot
    b.screenshot(SCREENSHOT)
    log(f"screenshot written to {SCREENSHOT}")

    errors = b.exceptions()
    if errors:
        raise TestFailure("the page threw JavaScript exceptions:\n  " + "\n  ".join(map(str, errors)))
    if any("cancel" in line.lower() or "disconnect" in line.lower() for line in server.lines):
        log("server output mentions the cancelled generation")


def main():
    server = browser = None
    ok = False
    try:
        server = Server(SERVE_CMD)
        browser = Browser()
        run(server, browser)
        ok = True
    except (TestFailure, Exception) as e:
        if not isinstance(e, TestFailure):
            import traceback
            traceback.print_exc()
        print(f"FAIL: {e}", file=sys.stderr)
        if server is not None and server.lines:
            print(server.tail(15), file=sys.stderr)
        if browser is not None and getattr(browser, "navigated", False):
            try:
                browser.screenshot(SCREENSHOT)
                print(f"(screenshot of the failure: {SCREENSHOT})", file=sys.stderr)
            except Exception:
                pass
    finally:
        if browser is not None:
            browser.close()
        if server is not None:
            server.stop()
    print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
