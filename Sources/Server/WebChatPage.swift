/// The web chat page served at "/": one self-contained HTML document (no network beyond this server).
///
/// It talks to this server's own OpenAI-compatible API (same origin): `GET /v1/models` for the
/// model name and a streaming `POST /v1/chat/completions`. Model output is rendered with
/// `textContent` only. Element ids (`#input`, `#send`, `#stop`, `#messages`, `#model-name`,
/// `#temperature`, `#max-tokens`, `#system-prompt`, `#api-key`) and the classes `msg assistant`
/// and `stats` are relied on by Tests/e2e/test_webchat.py.
enum WebChatPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>SwiftLLM Chat</title>
<link rel="icon" href="data:,">
<style>
:root {
  --bg: #f6f7f9; --panel: #ffffff; --panel-2: #f0f2f5; --border: #e1e4e9; --text: #1c1f24;
  --muted: #6a717d; --accent: #e8553b; --accent-text: #ffffff; --accent-soft: #fdeae6;
  --user-bg: #e8553b; --user-text: #ffffff; --assistant-bg: #ffffff; --error-bg: #fdecec;
  --error-border: #f1b5b5; --error-text: #9b1c1c; --ok: #1f9d55; --warn: #c98a00;
  --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 1px 3px rgba(16, 24, 40, .08);
  --radius: 14px; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #121418; --panel: #1a1d23; --panel-2: #22262e; --border: #2e333c; --text: #e7e9ee;
    --muted: #9099a8; --accent: #f26b52; --accent-text: #ffffff; --accent-soft: #3a2420;
    --user-bg: #c94a33; --user-text: #ffffff; --assistant-bg: #1f232a; --error-bg: #3a1d1d;
    --error-border: #6e2c2c; --error-text: #ffb4b4; --ok: #3ccf7a; --warn: #e0a82e;
    --shadow: 0 1px 2px rgba(0, 0, 0, .4);
  }
}
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body {
  background: var(--bg); color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "DejaVu Sans", Arial, sans-serif;
  -webkit-font-smoothing: antialiased;
}
button, input, textarea { font: inherit; color: inherit; }
.app { display: flex; flex-direction: column; height: 100vh; height: 100dvh; }
header {
  display: flex; align-items: center; gap: 12px; padding: 10px 16px;
  background: var(--panel); border-bottom: 1px solid var(--border); flex: none;
}
.brand { display: flex; align-items: center; gap: 8px; font-weight: 650; font-size: 16px; white-space: nowrap; }
.logo {
  width: 26px; height: 26px; border-radius: 7px; background: linear-gradient(135deg, #f58a3d, #e8553b 60%, #d6336c);
  display: grid; place-items: center; color: #fff; font-size: 14px; font-weight: 800;
}
.model {
  display: flex; align-items: center; gap: 7px; min-width: 0; padding: 4px 10px; border-radius: 999px;
  background: var(--panel-2); border: 1px solid var(--border); font-size: 13px; color: var(--muted);
}
.model #model-name { color: var(--text); font-family: var(--mono); font-size: 12.5px;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 40vw; }
.dot { width: 8px; height: 8px; border-radius: 50%; background: var(--muted); flex: none; }
.dot.ok { background: var(--ok); } .dot.bad { background: #e5484d; } .dot.busy { background: var(--warn); animation: pulse 1s infinite; }
@keyframes pulse { 50% { opacity: .35; } }
.spacer { flex: 1; }
.btn {
  display: inline-flex; align-items: center; justify-content: center; gap: 6px; height: 34px; padding: 0 12px;
  border-radius: 9px; border: 1px solid var(--border); background: var(--panel); cursor: pointer; font-size: 14px;
  white-space: nowrap;
}
.btn:hover { background: var(--panel-2); }
.btn:focus-visible, textarea:focus-visible, input:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.btn svg { width: 16px; height: 16px; }
.btn.icon { width: 34px; padding: 0; }
.btn[aria-pressed="true"] { background: var(--accent-soft); border-color: var(--accent); }
.main { flex: 1; display: flex; min-height: 0; }
.chat { flex: 1; display: flex; flex-direction: column; min-width: 0; }
#messages { flex: 1; overflow-y: auto; padding: 24px 16px 8px; scroll-behavior: smooth; }
.thread { max-width: 820px; margin: 0 auto; display: flex; flex-direction: column; gap: 14px; }
.turn { display: flex; flex-direction: column; gap: 4px; }
.turn.user { align-items: flex-end; }
.turn.assistant { align-items: flex-start; }
.who { font-size: 12px; color: var(--muted); padding: 0 4px; }
.msg {
  max-width: min(680px, 92%); padding: 10px 14px; border-radius: var(--radius); white-space: pre-wrap;
  overflow-wrap: anywhere; word-break: break-word; box-shadow: var(--shadow);
}
.msg.user { background: var(--user-bg); color: var(--user-text); border-bottom-right-radius: 4px; }
.msg.assistant { background: var(--assistant-bg); border: 1px solid var(--border); border-bottom-left-radius: 4px; }
.msg.assistant.pending::after {
  content: ""; display: inline-block; width: 8px; height: 1.05em; margin-left: 2px; vertical-align: text-bottom;
  background: var(--accent); border-radius: 2px; animation: blink 1s steps(2) infinite;
}
@keyframes blink { 50% { opacity: 0; } }
.msg.assistant.stopped .note, .msg.assistant .note { color: var(--muted); font-style: italic; }
.msg.assistant.error { background: var(--error-bg); border-color: var(--error-border); color: var(--error-text); }
.msg.assistant.error strong { display: block; margin-bottom: 2px; }
.msg.assistant.error .retry { display: flex; margin-top: 8px; height: 30px; font-size: 13px; color: var(--text); }
.msg.user.failed { opacity: .55; }
.stats {
  display: flex; flex-wrap: wrap; align-items: center; gap: 2px 0; padding: 0 4px; font-size: 12px; color: var(--muted);
  font-family: var(--mono); font-variant-numeric: tabular-nums; min-height: 18px;
}
.stats:empty { min-height: 0; }
.stats b { font-weight: 600; color: var(--text); }
.stats .sep { opacity: .5; white-space: pre; }
.stats .tag { margin-left: 8px; padding: 0 6px; border-radius: 6px; background: var(--panel-2); border: 1px solid var(--border); }
.empty { max-width: 560px; margin: 10vh auto 0; text-align: center; color: var(--muted); }
.empty h1 { font-size: 24px; color: var(--text); margin: 12px 0 6px; font-weight: 650; }
.empty .logo { width: 48px; height: 48px; border-radius: 13px; font-size: 26px; margin: 0 auto; }
.chips { display: flex; flex-wrap: wrap; gap: 8px; justify-content: center; margin-top: 18px; }
.chip { border: 1px solid var(--border); background: var(--panel); border-radius: 999px; padding: 6px 12px;
  cursor: pointer; font-size: 13.5px; color: var(--text); }
.chip:hover { border-color: var(--accent); }
.composer-wrap { padding: 8px 16px 14px; flex: none; }
.composer {
  max-width: 820px; margin: 0 auto; display: flex; align-items: flex-end; gap: 8px; padding: 8px;
  background: var(--panel); border: 1px solid var(--border); border-radius: 16px; box-shadow: var(--shadow);
}
.composer:focus-within { border-color: var(--accent); }
#input {
  flex: 1; resize: none; border: 0; outline: none !important; background: transparent; padding: 7px 8px;
  min-height: 38px; max-height: 200px; line-height: 1.45;
}
.send, .stop { height: 38px; border-radius: 11px; border: 0; padding: 0 16px; font-weight: 600; cursor: pointer; }
.send { background: var(--accent); color: var(--accent-text); }
.send:disabled { opacity: .45; cursor: not-allowed; }
.stop { background: var(--text); color: var(--bg); display: none; }
.busy .stop { display: inline-flex; align-items: center; gap: 6px; }
.busy .send { display: none; }
.stop::before { content: ""; width: 10px; height: 10px; border-radius: 2px; background: currentColor; }
.hint { max-width: 820px; margin: 6px auto 0; font-size: 12px; color: var(--muted); text-align: center; }
kbd { font-family: var(--mono); font-size: 11px; padding: 1px 5px; border: 1px solid var(--border);
  border-bottom-width: 2px; border-radius: 5px; background: var(--panel); }
.settings {
  width: 320px; flex: none; background: var(--panel); border-left: 1px solid var(--border); overflow-y: auto;
  padding: 16px; display: none;
}
.settings.open { display: block; }
.settings-head { display: flex; align-items: center; justify-content: space-between; margin-bottom: 12px; }
.settings h2 { font-size: 14px; margin: 0; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
.field { margin-bottom: 16px; }
.field label { display: flex; justify-content: space-between; font-size: 13px; font-weight: 600; margin-bottom: 6px; }
.field label span { font-weight: 400; color: var(--muted); }
.field input[type=number], .field input[type=password], .field input[type=text], .field textarea {
  width: 100%; padding: 8px 10px; border: 1px solid var(--border); border-radius: 9px; background: var(--bg);
}
.field textarea { resize: vertical; min-height: 90px; }
.row { display: flex; gap: 10px; align-items: center; }
.row input[type=range] { flex: 1; accent-color: var(--accent); }
.row input[type=number] { width: 80px; flex: none; }
.help { font-size: 12px; color: var(--muted); margin-top: 5px; }
.banner { display: none; max-width: 820px; margin: 0 auto 10px; padding: 8px 12px; border-radius: 10px;
  background: var(--error-bg); border: 1px solid var(--error-border); color: var(--error-text); font-size: 13.5px; }
.banner.show { display: block; }
.scrim { display: none; }
@media (max-width: 860px) {
  .settings { position: fixed; top: 0; right: 0; bottom: 0; width: min(340px, 88vw); z-index: 20; box-shadow: -8px 0 24px rgba(0,0,0,.2); }
  .scrim.show { display: block; position: fixed; inset: 0; background: rgba(0,0,0,.3); z-index: 10; }
  .btn .label { display: none; }
  .btn:not(.icon) { width: 34px; padding: 0; }
  .model #model-name { max-width: 34vw; }
  .brand .name { display: none; }
  #messages { padding: 16px 10px 8px; }
  .msg { max-width: 94%; }
  .hint { display: none; }
}
</style>
</head>
<body>
<div class="app">
  <header>
    <div class="brand"><div class="logo" aria-hidden="true">S</div><span class="name">SwiftLLM</span></div>
    <div class="model" title="Model served by this server"><span id="status-dot" class="dot busy"></span><span id="model-name"></span></div>
    <div class="spacer"></div>
    <button id="new-chat" class="btn" type="button" title="Start a new conversation">
      <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><path d="M12 5v14M5 12h14"/></svg><span class="label">New chat</span>
    </button>
    <button id="settings-toggle" class="btn" type="button" aria-pressed="false" aria-controls="settings" title="Settings">
      <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><path d="M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0"/><circle cx="16" cy="6" r="2"/><circle cx="10" cy="12" r="2"/><circle cx="18" cy="18" r="2"/></svg><span class="label">Settings</span>
    </button>
  </header>
  <div class="main">
    <section class="chat">
      <div id="messages" aria-live="polite">
        <div class="thread" id="thread"></div>
      </div>
      <div class="composer-wrap">
        <div id="banner" class="banner" role="alert"></div>
        <form id="composer" class="composer" autocomplete="off">
          <textarea id="input" rows="1" placeholder="Message the model…" aria-label="Message"></textarea>
          <button id="stop" class="stop" type="button" disabled title="Stop generating (Esc)">Stop</button>
          <button id="send" class="send" type="submit" title="Send (Enter)">Send</button>
        </form>
        <div class="hint"><kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line · <kbd>Esc</kbd> stops</div>
      </div>
    </section>
    <div id="scrim" class="scrim"></div>
    <aside id="settings" class="settings" aria-label="Settings">
      <div class="settings-head"><h2>Settings</h2><button id="settings-close" class="btn icon" type="button" title="Close settings" aria-label="Close settings">
        <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><path d="M6 6l12 12M18 6L6 18"/></svg></button></div>
      <div class="field">
        <label for="temperature">Temperature <span>0 = greedy</span></label>
        <div class="row">
          <input id="temperature-range" type="range" min="0" max="2" step="0.05" aria-label="Temperature slider">
          <input id="temperature" type="number" min="0" max="2" step="0.05">
        </div>
      </div>
      <div class="field">
        <label for="max-tokens">Max tokens <span>per reply</span></label>
        <input id="max-tokens" type="number" min="1" step="1" placeholder="server default">
      </div>
      <div class="field">
        <label for="system-prompt">System prompt <span>optional</span></label>
        <textarea id="system-prompt" placeholder="e.g. You are a concise, helpful assistant."></textarea>
      </div>
      <div class="field">
        <label for="api-key">API key <span>if the server needs one</span></label>
        <input id="api-key" type="password" placeholder="sent as Authorization: Bearer …" spellcheck="false">
        <div class="help">Kept in this browser only (localStorage).</div>
      </div>
      <div class="row">
        <button id="new-chat-2" class="btn" type="button">New chat</button>
        <button id="reset-settings" class="btn" type="button">Reset settings</button>
      </div>
      <p class="help" style="margin-top:16px">TTFT: time from Send to the first token. tok/s: tokens after the first ÷ time since the first token (decode speed).</p>
    </aside>
  </div>
</div>
<script>
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const els = {
    messages: $("messages"), thread: $("thread"), input: $("input"), send: $("send"), stop: $("stop"),
    composer: $("composer"), modelName: $("model-name"), dot: $("status-dot"), banner: $("banner"),
    temperature: $("temperature"), temperatureRange: $("temperature-range"), maxTokens: $("max-tokens"),
    systemPrompt: $("system-prompt"), apiKey: $("api-key"), settings: $("settings"),
    settingsToggle: $("settings-toggle"), scrim: $("scrim"),
  };
  const STORE = "swiftllm.webchat.settings";
  const DEFAULTS = { temperature: "0.7", maxTokens: "512", systemPrompt: "", apiKey: "", settingsOpen: null };

  let modelId = null;
  let history = [];          // [{role, content}] sent to the API (without the system prompt)
  let controller = null;     // AbortController of the request in flight

  // ---------- settings ----------
  function loadSettings() {
    let s = {};
    try { s = JSON.parse(localStorage.getItem(STORE) || "{}") || {}; } catch (_) { s = {}; }
    return Object.assign({}, DEFAULTS, s);
  }
  function saveSettings() {
    const s = {
      temperature: els.temperature.value, maxTokens: els.maxTokens.value,
      systemPrompt: els.systemPrompt.value, apiKey: els.apiKey.value,
      settingsOpen: els.settings.classList.contains("open"),
    };
    try { localStorage.setItem(STORE, JSON.stringify(s)); } catch (_) { /* storage may be disabled */ }
  }
  function applySettings(s) {
    els.temperature.value = s.temperature; els.temperatureRange.value = s.temperature || 0;
    els.maxTokens.value = s.maxTokens; els.systemPrompt.value = s.systemPrompt; els.apiKey.value = s.apiKey;
  }
  function setSettingsOpen(open) {
    els.settings.classList.toggle("open", open);
    els.settingsToggle.setAttribute("aria-pressed", String(open));
    els.scrim.classList.toggle("show", open && window.matchMedia("(max-width: 860px)").matches);
  }
  const initial = loadSettings();
  applySettings(initial);
  // The panel starts open on wide screens (as last left); on narrow ones it is a drawer that starts closed.
  const wide = window.matchMedia("(min-width: 861px)").matches;
  setSettingsOpen(wide && (initial.settingsOpen === null ? window.matchMedia("(min-width: 1100px)").matches : initial.settingsOpen));

  els.temperatureRange.addEventListener("input", () => { els.temperature.value = els.temperatureRange.value; saveSettings(); });
  els.temperature.addEventListener("input", () => { els.temperatureRange.value = els.temperature.value || 0; saveSettings(); });
  for (const el of [els.maxTokens, els.systemPrompt]) el.addEventListener("input", saveSettings);
  els.apiKey.addEventListener("input", saveSettings);
  els.apiKey.addEventListener("change", () => { saveSettings(); loadModel(); });
  els.settingsToggle.addEventListener("click", () => { setSettingsOpen(!els.settings.classList.contains("open")); saveSettings(); });
  els.scrim.addEventListener("click", () => { setSettingsOpen(false); saveSettings(); });
  $("settings-close").addEventListener("click", () => { setSettingsOpen(false); saveSettings(); });
  $("reset-settings").addEventListener("click", () => {
    const key = els.apiKey.value;
    applySettings(Object.assign({}, DEFAULTS, { apiKey: key })); saveSettings();
  });

  function headers(json) {
    const h = {};
    if (json) h["Content-Type"] = "application/json";
    const key = els.apiKey.value.trim();
    if (key) h["Authorization"] = "Bearer " + key;
    return h;
  }

  // ---------- banner / errors ----------
  function showBanner(text) { els.banner.textContent = text; els.banner.classList.add("show"); }
  function hideBanner() { els.banner.textContent = ""; els.banner.classList.remove("show"); }

  async function errorFromResponse(res) {
    let text = "";
    try { text = await res.text(); } catch (_) { /* ignore */ }
    let message = text.trim() || res.statusText || "request failed";
    let type = "";
    try {
      const body = JSON.parse(text);
      if (body && body.error) {
        if (typeof body.error === "string") message = body.error;
        else { message = body.error.message || message; type = body.error.type || body.error.code || ""; }
      }
    } catch (_) { /* not JSON */ }
    return { status: res.status, message, type };
  }

  // ---------- model ----------
  async function loadModel() {
    els.dot.className = "dot busy";
    els.modelName.textContent = "connecting…";
    try {
      const res = await fetch("/v1/models", { headers: headers(false) });
      if (!res.ok) {
        const err = await errorFromResponse(res);
        els.dot.className = "dot bad";
        if (res.status === 401) {
          els.modelName.textContent = "API key required";
          showBanner("This server requires an API key: enter it in Settings → API key.");
          setSettingsOpen(true);
          els.apiKey.focus();
        } else {
          els.modelName.textContent = "unavailable";
          showBanner("Could not list models (HTTP " + err.status + "): " + err.message);
        }
        return;
      }
      const body = await res.json();
      const first = body && Array.isArray(body.data) && body.data[0];
      modelId = first ? String(first.id) : null;
      els.modelName.textContent = modelId || "(no model)";
      els.modelName.title = modelId || "";
      els.dot.className = modelId ? "dot ok" : "dot bad";
      document.title = modelId ? modelId + " · SwiftLLM Chat" : "SwiftLLM Chat";
      hideBanner();
      renderEmpty();
    } catch (e) {
      els.dot.className = "dot bad";
      els.modelName.textContent = "server unreachable";
      showBanner("Cannot reach the server: " + (e && e.message ? e.message : e));
    }
  }

  // ---------- rendering ----------
  function renderEmpty() {
    if (els.thread.querySelector(".turn")) return;
    els.thread.textContent = "";
    const box = document.createElement("div"); box.className = "empty";
    const logo = document.createElement("div"); logo.className = "logo"; logo.textContent = "S";
    const h = document.createElement("h1"); h.textContent = "What can I help with?";
    const p = document.createElement("div");
    p.textContent = modelId ? "Chatting with " + modelId + ", running on this machine's CPU." : "Running on this machine's CPU.";
    const chips = document.createElement("div"); chips.className = "chips";
    for (const s of ["Explain KV caching in two sentences.", "Write a haiku about Swift.", "List three uses of a hash map."]) {
      const c = document.createElement("button"); c.type = "button"; c.className = "chip"; c.textContent = s;
      c.addEventListener("click", () => { els.input.value = s; autosize(); els.input.focus(); });
      chips.appendChild(c);
    }
    box.append(logo, h, p, chips);
    els.thread.appendChild(box);
  }

  function nearBottom() {
    const m = els.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  }
  function scrollToBottom(force) {
    if (force || stick) els.messages.scrollTop = els.messages.scrollHeight;
  }
  let stick = true;
  els.messages.addEventListener("scroll", () => { stick = nearBottom(); });

  function addTurn(role) {
    const empty = els.thread.querySelector(".empty");
    if (empty) empty.remove();
    const turn = document.createElement("div"); turn.className = "turn " + role;
    const who = document.createElement("div"); who.className = "who";
    who.textContent = role === "user" ? "You" : (modelId || "Assistant");
    const msg = document.createElement("div"); msg.className = "msg " + role;
    turn.append(who, msg);
    els.thread.appendChild(turn);
    return { turn, msg };
  }

  function fmt(n, digits) { return Number.isFinite(n) ? n.toFixed(digits) : "–"; }

  function renderStats(st, el) {
    el.textContent = "";
    const part = (label, value, unit) => {
      if (el.firstChild) { const d = document.createElement("span"); d.className = "sep"; d.textContent = " · "; el.appendChild(d); }
      const s = document.createElement("span");
      if (label) s.append(label + " ");
      const b = document.createElement("b"); b.textContent = value; s.appendChild(b);
      if (unit) s.append(" " + unit);
      el.appendChild(s);
    };
    const now = performance.now();
    if (st.tFirst === null) {
      if (st.state === "streaming") part("waiting for first token", fmt((now - st.tSend) / 1000, 1), "s");
    } else {
      part("TTFT", String(Math.round(st.tFirst - st.tSend)), "ms");
      const tokens = st.usageTokens !== null ? st.usageTokens : st.chunks;
      const genSec = (st.tLast - st.tFirst) / 1000;
      let rate;
      if (tokens > 1 && genSec > 0) rate = (tokens - 1) / genSec;
      else rate = tokens / Math.max((st.tLast - st.tSend) / 1000, 1e-3);
      part("", fmt(rate, 1), "tok/s");
      part("", String(tokens), tokens === 1 ? "token" : "tokens");
    }
    let tag = null;
    if (st.state === "stopped") tag = "stopped";
    else if (st.finish === "length") tag = "max tokens reached";
    else if (st.finish && st.finish !== "stop") tag = st.finish;
    if (tag) {
      if (el.firstChild) el.append(" ");
      const t = document.createElement("span"); t.className = "tag"; t.textContent = tag; el.appendChild(t);
    }
  }

  // ---------- sending ----------
  function setBusy(busy) {
    els.composer.classList.toggle("busy", busy);
    els.stop.disabled = !busy;
    els.send.disabled = busy;
    document.body.dataset.state = busy ? "busy" : "ready";
    els.dot.className = busy ? "dot busy" : (modelId ? "dot ok" : els.dot.className);
  }

  function autosize() {
    els.input.style.height = "auto";
    els.input.style.height = Math.min(els.input.scrollHeight, 200) + "px";
  }
  els.input.addEventListener("input", autosize);
  els.input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && controller) stop(); });
  els.composer.addEventListener("submit", (e) => { e.preventDefault(); send(); });
  els.stop.addEventListener("click", () => stop());
  $("new-chat").addEventListener("click", newChat);
  $("new-chat-2").addEventListener("click", newChat);

  function stop() { if (controller) controller.abort(); }

  function newChat() {
    stop();
    history = [];
    els.thread.textContent = "";
    renderEmpty();
    els.input.focus();
  }

  async function send(retryText) {
    const text = typeof retryText === "string" ? retryText : els.input.value;
    if (!text.trim() || controller) return;
    hideBanner();
    if (typeof retryText !== "string") { els.input.value = ""; autosize(); }

    const u = addTurn("user"); u.msg.textContent = text;
    history.push({ role: "user", content: text });
    const a = addTurn("assistant");
    a.msg.classList.add("pending");
    a.msg.dataset.state = "streaming";
    const statsEl = document.createElement("div"); statsEl.className = "stats"; a.turn.appendChild(statsEl);
    stick = true; scrollToBottom(true);

    const messages = [];
    const sys = els.systemPrompt.value.trim();
    if (sys) messages.push({ role: "system", content: sys });
    for (const m of history) messages.push(m);
    const body = { messages, stream: true, stream_options: { include_usage: true } };
    if (modelId) body.model = modelId;
    const temp = parseFloat(els.temperature.value);
    if (Number.isFinite(temp)) body.temperature = temp;
    const maxTokens = parseInt(els.maxTokens.value, 10);
    if (Number.isFinite(maxTokens) && maxTokens > 0) body.max_tokens = maxTokens;

    const st = { tSend: performance.now(), tFirst: null, tLast: null, chunks: 0, usageTokens: null, finish: null, state: "streaming" };
    let content = "";
    const textNode = document.createTextNode("");
    a.msg.appendChild(textNode);
    const ticker = setInterval(() => renderStats(st, statsEl), 200);
    renderStats(st, statsEl);

    controller = new AbortController();
    setBusy(true);
    let failure = null;
    try {
      const res = await fetch("/v1/chat/completions", {
        method: "POST", headers: headers(true), body: JSON.stringify(body), signal: controller.signal,
      });
      if (!res.ok) {
        failure = await errorFromResponse(res);
      } else {
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        let done = false;
        const handleData = (data) => {
          if (data === "[DONE]") { done = true; return; }
          let chunk;
          try { chunk = JSON.parse(data); } catch (_) { return; }
          if (chunk.error) {
            const e = chunk.error;
            failure = { status: 0, message: typeof e === "string" ? e : (e.message || "error"), type: e.type || "" };
            return;
          }
          const choice = Array.isArray(chunk.choices) && chunk.choices[0];
          if (choice) {
            const piece = choice.delta && typeof choice.delta.content === "string" ? choice.delta.content : "";
            if (piece) {
              const now = performance.now();
              if (st.tFirst === null) st.tFirst = now;
              st.tLast = now;
              st.chunks += 1;
              content += piece;
              textNode.data = content;
            }
            if (choice.finish_reason) st.finish = choice.finish_reason;
          }
          if (chunk.usage && Number.isFinite(chunk.usage.completion_tokens)) st.usageTokens = chunk.usage.completion_tokens;
          renderStats(st, statsEl);
          scrollToBottom(false);
        };
        while (!done) {
          const { value, done: eof } = await reader.read();
          if (eof) break;
          buffer += decoder.decode(value, { stream: true });
          let nl;
          while ((nl = buffer.indexOf("\n")) >= 0) {
            let line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (line.endsWith("\r")) line = line.slice(0, -1);
            if (line.startsWith("data:")) handleData(line.slice(5).trim());
            if (done) break;
          }
        }
        if (!done && buffer.startsWith("data:")) handleData(buffer.slice(5).trim());
        if (done) { try { await reader.cancel(); } catch (_) { /* finished anyway */ } }
      }
      if (!failure) st.state = "done";
    } catch (e) {
      if (e && e.name === "AbortError") st.state = "stopped";
      else failure = { status: 0, message: "Network error: " + (e && e.message ? e.message : e), type: "" };
    } finally {
      clearInterval(ticker);
      controller = null;
    }

    a.msg.classList.remove("pending");
    if (failure) {
      st.state = "error";
      a.msg.classList.add("error");
      a.msg.textContent = "";
      const title = document.createElement("strong");
      title.textContent = failure.status ? "Error " + failure.status + (failure.type ? " · " + failure.type : "") : "Error" + (failure.type ? " · " + failure.type : "");
      const msgText = document.createElement("span"); msgText.textContent = failure.message;
      a.msg.append(title, msgText);
      if (content) { const partial = document.createElement("div"); partial.className = "note"; partial.textContent = "Partial reply: " + content; a.msg.appendChild(partial); }
      // The failed exchange is not part of the conversation sent next time; Retry sends it again.
      history.pop();
      u.msg.classList.add("failed");
      u.msg.title = "Not sent: the server answered with an error";
      const retry = document.createElement("button");
      retry.type = "button"; retry.className = "btn retry"; retry.textContent = "Retry";
      retry.addEventListener("click", () => {
        if (controller) return;
        u.turn.remove(); a.turn.remove();
        send(text);
      });
      a.msg.appendChild(retry);
      statsEl.textContent = "";
    } else {
      if (content) history.push({ role: "assistant", content });
      else if (st.state === "stopped") { history.pop(); const n = document.createElement("span"); n.className = "note"; n.textContent = "(stopped before the first token)"; a.msg.appendChild(n); }
      else { const n = document.createElement("span"); n.className = "note"; n.textContent = "(empty reply)"; a.msg.appendChild(n); history.push({ role: "assistant", content: "" }); }
      if (st.tLast === null) st.tLast = performance.now();
      renderStats(st, statsEl);
    }
    a.msg.classList.toggle("stopped", st.state === "stopped");
    a.msg.dataset.state = st.state;
    setBusy(false);
    scrollToBottom(false);
    els.input.focus();
  }

  setBusy(false);
  renderEmpty();
  loadModel();
  els.input.focus();
})();
</script>
</body>
</html>
"""#
}
