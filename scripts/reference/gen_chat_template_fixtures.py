#!/usr/bin/env python3
"""Generate the chat-template golden files in Tests/Fixtures/chat_templates/.

Renders every template on a set of conversations with Python's jinja2 configured exactly as transformers'
`apply_chat_template` configures it (transformers/utils/chat_template_utils.py, `_compile_jinja_template` and
`render_jinja_template`):

  * ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                  extensions=[AssistantTracker, jinja2.ext.loopcontrols])
  * filters["tojson"] = json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
  * globals["raise_exception"] raises jinja2.exceptions.TemplateError(message)
  * globals["strftime_now"] = datetime.now().strftime(format)   (pinned to a fixed date here)
  * render(messages=..., tools=None, documents=None, add_generation_prompt=..., bos_token=..., eos_token=..., **extra)

transformers itself is not needed: this is the same environment. Output files:

  <template>.json   {"name", "source", "template", "bos_token", "eos_token", "now",
                     "cases": [{"name", "messages", "add_generation_prompt", "extra", "expected" | "error"}]}
                    "error" is the message of a raise_exception call.
  snippets.json     {"now", "snippets": [{"template", "context", "expected" | "error" | "error_kind"}]}:
                    small templates probing one language feature each.

Usage: python3 scripts/reference/gen_chat_template_fixtures.py   (needs jinja2 and, for SmolLM2, the gguf package
and the model file in $SWIFTLLM_CACHE or ~/.cache/swiftllm).
"""

import datetime
import json
import os
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE_DIR = os.path.join(ROOT, "scripts", "reference", "chat_templates")
OUT_DIR = os.path.join(ROOT, "Tests", "Fixtures", "chat_templates")

# strftime_now reads this instead of the clock so the goldens are stable; the Swift test pins the same instant.
NOW = datetime.datetime(2025, 3, 9, 14, 5, 7)


class AssistantTracker(jinja2.ext.Extension):
    """transformers' {% generation %} tag: renders its body (the tracking only matters for assistant masks)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    def _generation_support(self, caller):
        return caller()


def make_environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = make_environment()

# ---------------------------------------------------------------------------------------------------------------
# Conversations

SYSTEM = "You are a helpful assistant."


def m(role, content, **fields):
    return {"role": role, "content": content, **fields}


CONVERSATIONS = {
    "single_user": [m("user", "Hello!")],
    "system_user": [m("system", SYSTEM), m("user", "What is the capital of France?")],
    "multi_turn": [
        m("user", "Hi, who are you?"),
        m("assistant", "I am an assistant."),
        m("user", "Tell me a joke."),
    ],
    "system_multi_turn": [
        m("system", "Answer briefly."),
        m("user", "What is 2+2?"),
        m("assistant", "4"),
        m("user", "And 3+3?"),
        m("assistant", "6"),
    ],
    "unicode_quotes_newlines": [
        m("system", "Réponds en français. «Guillemets» 😀"),
        m("user", "He said \"hi\" and it's fine.\nSecond line\n\n  indented\ttab"),
        m("assistant", "  padded answer with trailing spaces  \n"),
        m("user", "日本語のテキスト — emoji 🎉 and \\backslash\\ {{ not a tag }} {% neither %}"),
    ],
}

# Roles that do not alternate: templates that check alternation raise.
BAD_ALTERNATION = [m("user", "First"), m("user", "Second")]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}

# A tool schema with nested objects, arrays, enums, defaults and formats, for templates that render schemas.
RICH_TOOL = {
    "type": "function",
    "function": {
        "name": "book_trip",
        "description": "Book a trip",
        "parameters": {
            "type": "object",
            "properties": {
                "destination": {"type": "string", "description": "Where to", "default": "Paris",
                                "examples": ["Rome", "Oslo"]},
                "when": {"oneOf": [{"type": "string", "format": "date"}, {"type": "integer", "format": "unix"}],
                         "description": "Departure."},
                "travellers": {"type": "integer", "minimum": 1, "maximum": 9},
                "rooms": {"type": "array", "items": {"type": "object", "properties": {
                    "beds": {"type": "integer"}, "kind": {"type": "string", "enum": ["single", "double"]}},
                    "required": ["beds"]}},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["quiet", "view"]}},
                "grid": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                "meta": {"type": "object", "properties": {"note": {"type": "string", "nullable": True}}},
                "budget": {"type": ["number", "null"], "description": "In euros"},
            },
            "required": ["destination"],
        },
        "return": {"type": "string", "description": "A booking reference"},
    },
}

TOOL_CONVERSATION = [
    m("system", "You can call tools."),
    m("user", "What's the weather in Paris?"),
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call12345",
                "type": "function",
                "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "{\"temperature\": 21.5}"},
    m("assistant", "It is 21.5 °C in Paris."),
    m("user", "Thanks!"),
]

TWO_TOOL_CALLS = [
    m("user", "Weather in Paris and Rome?"),
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": "call00001", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
            {"id": "call00002", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}},
        ],
    },
]


# Assistant turns with their reasoning inline, as Qwen3-style templates expect.
THINKING_CONVERSATION = [
    m("user", "Q1"),
    m("assistant", "<think>\nreasoning here\n</think>\n\nAnswer 1"),
    m("user", "Q2"),
    m("assistant", "<think>more</think>Answer 2"),
]

# Tool calls whose arguments are a JSON string, as OpenAI-style clients send them.
STRING_ARGUMENT_CONVERSATION = [
    m("user", "Book Rome for two."),
    {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call00003", "type": "function",
         "function": {"name": "book_trip", "arguments": "{\"destination\": \"Rome\", \"travellers\": 2}"}}]},
    {"role": "tool", "tool_call_id": "call00003", "content": "REF-42"},
]


def standard_cases():
    cases = []
    for name, messages in CONVERSATIONS.items():
        for agp in (True, False):
            cases.append({"name": f"{name}/{'gen' if agp else 'nogen'}", "messages": messages,
                          "add_generation_prompt": agp})
    cases.append({"name": "bad_alternation", "messages": BAD_ALTERNATION, "add_generation_prompt": True})
    return cases


def tool_cases(extra_cases=()):
    cases = [
        {"name": "tools/gen", "messages": TOOL_CONVERSATION, "add_generation_prompt": True,
         "extra": {"tools": [WEATHER_TOOL]}},
        {"name": "tool_history_without_tools", "messages": TOOL_CONVERSATION, "add_generation_prompt": False},
    ]
    cases.extend(extra_cases)
    return cases


# name -> (source, bos, eos, extra cases[, context every case gets])
TEMPLATES = {
    "smollm2-135m-instruct": (
        "tokenizer.chat_template of SmolLM2-135M-Instruct.Q4_1.gguf", "<|im_start|>", "<|im_end|>", []),
    "llama-3.1-instruct": (
        "meta-llama/Llama-3.1-8B-Instruct (same text as Llama 3.3 70B; llama.cpp models/templates copy)",
        "<|begin_of_text|>", "<|eot_id|>",
        tool_cases([
            {"name": "tools_in_system_message", "messages": TOOL_CONVERSATION, "add_generation_prompt": True,
             "extra": {"tools": [WEATHER_TOOL], "tools_in_user_message": False}},
            {"name": "builtin_tools_and_date", "messages": CONVERSATIONS["system_user"],
             "add_generation_prompt": True,
             "extra": {"builtin_tools": ["brave_search", "code_interpreter", "wolfram_alpha"],
                       "date_string": "01 Jan 2025"}},
            {"name": "two_tool_calls", "messages": TWO_TOOL_CALLS, "add_generation_prompt": True},
            {"name": "tools_without_user_message", "messages": [m("system", SYSTEM)], "add_generation_prompt": True,
             "extra": {"tools": [WEATHER_TOOL]}},
        ])),
    "llama-3.2-instruct": (
        "meta-llama/Llama-3.2-3B-Instruct (llama.cpp models/templates copy); its date comes from strftime_now",
        "<|begin_of_text|>", "<|eot_id|>",
        tool_cases([{"name": "explicit_date", "messages": CONVERSATIONS["single_user"], "add_generation_prompt": True,
                     "extra": {"date_string": "26 Jul 2024"}}])),
    "mistral-7b-instruct-v0.3": (
        "mistralai/Mistral-7B-Instruct-v0.3 tokenizer_config.json", "<s>", "</s>",
        tool_cases([{"name": "bad_tool_call_id", "add_generation_prompt": False, "messages": [
            m("user", "Weather?"),
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "short", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "X"}}}]},
        ]}])),
    "qwen2.5-instruct": (
        "Qwen/Qwen2.5-7B-Instruct tokenizer_config.json (ChatML with the tools block)", "", "<|im_end|>",
        tool_cases([{"name": "tools_without_system", "messages": TOOL_CONVERSATION[1:],
                     "add_generation_prompt": True, "extra": {"tools": [WEATHER_TOOL]}}])),
    "phi-3-mini-4k-instruct": ("microsoft/Phi-3-mini-4k-instruct tokenizer_config.json", "<s>", "<|endoftext|>", []),
    "phi-3.5-mini-instruct": ("microsoft/Phi-3.5-mini-instruct (llama.cpp models/templates copy)", "<s>",
                              "<|endoftext|>", []),
    "gemma-2-it": ("google/gemma-2-2b-it (llama.cpp models/templates copy); rejects a system role", "<bos>", "<eos>",
                   []),
    "gemma-3-it": ("google/gemma-3-4b-it tokenizer_config.json; the system message joins the first user turn",
                   "<bos>", "<eos>", []),
    "qwen3": (
        "Qwen/Qwen3-0.6B (llama.cpp models/templates copy); reasoning and multi-step tool logic", "", "<|im_end|>",
        tool_cases([
            {"name": "thinking_history", "messages": THINKING_CONVERSATION, "add_generation_prompt": True},
            {"name": "thinking_disabled", "messages": CONVERSATIONS["single_user"], "add_generation_prompt": True,
             "extra": {"enable_thinking": False}},
            {"name": "string_arguments", "messages": STRING_ARGUMENT_CONVERSATION, "add_generation_prompt": True,
             "extra": {"tools": [RICH_TOOL]}},
        ])),
    "hermes-3-llama-3.1-tool-use": (
        "NousResearch/Hermes-3-Llama-3.1-8B tool_use template (llama.cpp models/templates copy); recursive macros",
        "<|begin_of_text|>", "<|im_end|>",
        [{"name": "tool_history", "messages": TOOL_CONVERSATION, "add_generation_prompt": True},
         {"name": "string_arguments", "messages": STRING_ARGUMENT_CONVERSATION, "add_generation_prompt": True}],
        {"tools": [WEATHER_TOOL, {"type": "function", "function": {
            "name": "lookup", "description": "Look something up.", "parameters": {"type": "object", "properties": {
                "query": {"type": "string", "description": "  what to find "},
                "limit": {"type": "integer", "description": "max results"},
                "filters": {"type": "object", "additionalProperties": {"type": "string"}, "description": "filters"}}},
            "return": {"type": "string", "description": "the answer"}}}]}),
    "granite-3.3-instruct": (
        "ibm-granite/granite-3.3-2b-instruct (llama.cpp models/templates copy); date from strftime_now",
        "<|end_of_text|>", "<|end_of_text|>",
        tool_cases([
            {"name": "documents_and_controls", "messages": CONVERSATIONS["multi_turn"], "add_generation_prompt": True,
             "extra": {"documents": [{"doc_id": 1, "text": "Paris is the capital of France."},
                                     {"doc_id": "b", "text": "Rome is in Italy."}],
                       "controls": {"citations": True, "hallucinations": True}}},
            {"name": "thinking", "messages": CONVERSATIONS["single_user"], "add_generation_prompt": True,
             "extra": {"thinking": True}},
        ])),
    "functionary-medium-v3.2": (
        "meetkai/functionary-medium-v3.2 (llama.cpp models/templates copy); renders JSON schemas as TypeScript",
        "<|begin_of_text|>", "<|eot_id|>",
        [{"name": "rich_schema", "messages": STRING_ARGUMENT_CONVERSATION, "add_generation_prompt": True,
          "extra": {"tools": [RICH_TOOL, WEATHER_TOOL, {"type": "code_interpreter"}]}}]),
    "edge-namespace-loops": ("SwiftLLM edge cases", "<s>", "</s>", []),
    "edge-filters": ("SwiftLLM edge cases", "<s>", "</s>", []),
    "edge-whitespace": ("SwiftLLM edge cases", "<s>", "</s>", []),
    "edge-macros": ("SwiftLLM edge cases", "<s>", "</s>", []),
    "edge-strict-roles": ("SwiftLLM edge cases", "<s>", "</s>", [
        {"name": "unknown_role", "messages": [m("user", "hi"), m("robot", "beep")], "add_generation_prompt": True},
        {"name": "late_system", "messages": [m("user", "hi"), m("system", "late")], "add_generation_prompt": True},
        {"name": "empty_message", "messages": [m("user", "  \n ")], "add_generation_prompt": True},
    ]),
}


def smollm2_template():
    import gguf

    cache = os.environ.get("SWIFTLLM_CACHE", os.path.expanduser("~/.cache/swiftllm"))
    reader = gguf.GGUFReader(os.path.join(cache, "SmolLM2-135M-Instruct.Q4_1.gguf"))
    field = reader.fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def render(source, context):
    """('expected', text) or ('error', raise_exception message). Any other failure is a bug in the fixture."""
    try:
        return "expected", ENV.from_string(source).render(**context)
    except jinja2.exceptions.TemplateError as error:
        if type(error) is not jinja2.exceptions.TemplateError:
            raise
        return "error", str(error)


def write_json(name, payload):
    path = os.path.join(OUT_DIR, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return path


def generate_templates():
    for name, (source_note, bos, eos, extra_cases, *rest) in TEMPLATES.items():
        base_extra = rest[0] if rest else {}
        if name.startswith("smollm2"):
            source = smollm2_template()
        else:
            with open(os.path.join(TEMPLATE_DIR, name + ".jinja"), encoding="utf-8") as f:
                source = f.read()
        cases = []
        for case in standard_cases() + list(extra_cases):
            context = {"messages": case["messages"], "tools": None, "documents": None,
                       "add_generation_prompt": case["add_generation_prompt"], "bos_token": bos, "eos_token": eos}
            extra = {**base_extra, **case.get("extra", {})}
            context.update(extra)
            kind, text = render(source, context)
            cases.append({**case, "extra": extra, kind: text})
        errors = sum(1 for case in cases if "error" in case)
        path = write_json(name + ".json", {
            "name": name, "source": source_note, "template": source, "bos_token": bos, "eos_token": eos,
            "now": NOW.isoformat(), "cases": cases,
        })
        print(f"{os.path.relpath(path, ROOT)}: {len(cases)} cases ({errors} raise_exception)")


# ---------------------------------------------------------------------------------------------------------------
# Snippets: one feature each, against a small fixed context.

SNIPPET_CONTEXT = {"messages": [{"role": "user", "content": "hi there"}], "tools": None}

SNIPPETS = [
    # Whitespace control, trim_blocks, lstrip_blocks.
    "a\n{% if true %}\nb\n{% endif %}\nc",
    "a\n  {% if true %}\n  b\n  {% endif %}\nc\n",
    "a\n  {%- if true %}\n  b\n  {%- endif %}\nc\n\n",
    "a\n  {% if true -%}\n  b\n  {% endif -%}\n  c",
    "a\n  {%+ if true %}\n  b\n  {%+ endif %}\nc",
    "a\n  {% if true +%}\n  b\n  {% endif +%}\nc",
    "  {{ 'x' }}  \n  {{- 'y' -}}  \n z",
    "\t {# comment #}\n x {#- c2 -#}  y {#+ c3 +#}\n",
    "{% for i in [1,2] %}\n  {{ i }}\n{% endfor %}\n",
    "{% for i in [1,2] %}\n  {{- i }}\n{%- endfor %}\n",
    "x  {% if true %}y{% endif %}",
    "x\n\t  \t{% if true %}y{% endif %}",
    "{% raw %}{{ not parsed }}{% endraw %}",
    "  {% raw %}\n  {{ x }}\n  {% endraw %}\n  after",
    "a {%- raw -%}  {{x}}  {%- endraw -%} b",
    "line1\r\nline2\r\n{% if true %}\r\nx\r\n{% endif %}\r\n",
    "{%- set x = 1 -%}\n\n  {{ x }}  \n\n",
    "{{ '{{' }} {{ '}}' }} {{ {'a': {'b': 1}} }}",
    "{{ {'a':1}}}",
    "{# multi\nline\ncomment #}\nafter",
    "   {# c #}   x",
    "\n   {# c #}\n   x",
    "{% if true %}\n    \n{% endif %}",
    "a{{- ' ' -}}b",
    "{%- if true %}\n\n{% endif -%}\n\nX",
    "\u00a0 {% if true %}x{% endif %}",
    "{% macro m() -%}\n  inner\n{%- endmacro %}\n[{{ m() }}]",
    "{% set s %}\n  block text\n{% endset %}[{{ s }}]",
    "{% generation %}gen {{ 1 }}{% endgeneration %}",
    # Literals and operators.
    "{{ \"multi\nline string\" }}",
    "{{ 'a\\\nb' }}",
    "{{ 'tab\\there' }} {{ '\\101\\x41\\u0041\\U0001F600' }} {{ 'é' }} {{ 'a' 'b' }} {{ \"\\d\" }}",
    "{{ 1.5e3 }} {{ 1E3 }} {{ 0.5 }} {{ 10_0 }} {{ 0b101 }} {{ 0o17 }} {{ 0x10 }} {{ 2.0e-3 }}",
    "{{ 1e20 }} {{ 1.5e-5 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 100.0 }} {{ -0.0 }}",
    "{{ -1 ** 2 }} {{ (-1) ** 2 }} {{ 2 ** 3 ** 2 }} {{ 2 * 3 + 4 }} {{ 10 - 2 - 3 }} {{ 100 / 10 / 5 }} {{ 7 % 3 * 2 }}",
    "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 3 % -5 }} {{ 5.5 % 2 }} {{ 3.5 // 2 }} {{ 2 ** -1 }} {{ 2 ** 0.5 }}",
    "{{ 'a' ~ 'b' ~ 1 ~ none ~ true ~ 1.0 }} {{ 'ab' * 3 }} {{ [1] * 2 }} {{ [1] + [2] }} {{ 3 * 'x' }}",
    "{{ not true and false }} {{ not (true and false) }} {{ true or false and false }} {{ [] or 'x' }} {{ 'a' and 'b' }} {{ 0 or none }}",
    "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ 'B' < 'a' }} {{ [1,2] < [1,3] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}",
    "{{ 'a' in ['a'] }} {{ 'a' in {'a':1} }} {{ 'b' not in 'abc' }} {{ 1 in [1.0] }} {{ 'x' in messages[0] }}",
    "{{ 1 if 0 else 2 if 0 else 3 }}|{{ 'a' if false }}|{{ none if 1 }}",
    "{{ [1, 2,] }} {{ {'a': 1,} }} {{ [[1]].0.0 }} {{ {'a':{'b':1}}.a.b }}",
    "{{ 'abc'[::2] }} {{ 'abc'[-2:] }} {{ [1,2,3,4][1:3] }} {{ [1,2,3][5:] }} {{ [1,2,3][::-2] }} {{ 'héllo'[1:3] }} {{ 'hello'[-1] }}",
    "{{ none.foo }}|{{ none['x'] }}|{{ 'abc'.foo }}|{{ 'abc'[10] }}|{{ [1,2]['a'] }}",
    "{{ [1,2,3] }} {{ {'a': none, 'b': true, 'c': 1.5, 'd': [1]} }} {{ [\"it's\", 'a\"b', 'x\\ny', 'é', '\\x01'] }}",
    # Variables and scoping.
    "{% set x = 0 %}{% for i in [1,2] %}[{{ x }}]{% set x = i * 10 %}({{ x }}){% endfor %}{{ x }}",
    "{% for i in [1,2] %}[{{ y }}]{% set y = i %}{% endfor %}",
    "{% if true %}{% set y = 5 %}{% endif %}{{ y }}",
    "{% for i in [1] %}{% if true %}{% set y = 5 %}{% endif %}{{ y }}{% endfor %}[{{ y }}]",
    "{% set messages = messages[1:] %}{{ messages|length }}",
    "{% set a, b = 1, 2 %}{{ a }}{{ b }}",
    "{{ x }}{% set x = 1 %}{{ x }}",
    "{% set ns = namespace(found=false) %}{% for m in [1,2,3] %}{% if m == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}",
    "{{ ns }}{% set ns = namespace(a=1) %}{{ ns }}{% set ns.a = 2 %}{{ ns.a }} {{ namespace({'b': 2}).b }}",
    "{% set ns = namespace(items=[]) %}{% set ns.items = ns.items + [1] %}{{ ns.items }}",
    "{% with x = 5, y = 6 %}{{ x + y }}{% endwith %}{{ x }}",
    # Loops.
    "{% for i in [1,2,3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
    "{% for i in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('a','b') }};{% endfor %}",
    "{% for i in [1,2,3] if i > 1 %}{{ loop.index }}/{{ loop.length }}{{ loop.last }} {% endfor %}",
    "{% for x in [1,2] %}{% for y in [3,4] %}{{ loop.depth }}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}",
    "{% for k, v in {'a':1,'b':2}.items() %}{{ k }}={{ v }};{% endfor %}",
    "{% for a, b in [[1,2],[3,4]] %}{{ a }}{{ b }}{% endfor %}",
    "{% for k in {'z':1,'a':2} %}{{ k }}{% endfor %} {% for c in 'héllo' %}{{ c }}|{% endfor %}",
    "{% for x in [] %}a{% else %}empty{% endfor %}",
    "{% for x in [1,2,3] %}{% if x == 2 %}{% continue %}{% endif %}{{ x }}{% if x == 3 %}{% break %}{% endif %}{% endfor %}",
    "{% for x in [1] %}{{ loop.nextitem is defined }}{{ loop.previtem is undefined }}{% endfor %}",
    "{{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }}",
    # Macros and call blocks.
    "{% macro m(a, b='B') %}<{{ a }}{{ b }}>{% endmacro %}{{ m(1) }}{{ m(1, b=2) }}{{ m(b=3, a=4) }}{{ m() }}",
    "{% macro m() %}{{ g }}{% endmacro %}{% set g = 5 %}{{ m() }}",
    "{% set g = 5 %}{% macro m() %}{{ g }}{% set g = 6 %}{{ g }}{% endmacro %}{{ m() }}{{ g }}",
    "{% macro m(x) %}[{{ caller() }}{{ x }}]{% endmacro %}{% call m(1) %}inner{% endcall %}",
    "{% macro list_items(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) list_items([1,2]) %}<{{ x }}>{% endcall %}",
    "{% filter upper %}hello {{ 'world' }}{% endfilter %}",
    "{% set x | upper %}abc{% endset %}{{ x }}",
    # Filters.
    "{{ '  a  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ 'Hello World'|title }}|{{ \"they're bill's-friend (x)\"|title }}|{{ 'hELLo'|capitalize }}",
    "{{ 'a'|upper }}{{ 'A'|lower }} {{ 'abc'|length }} {{ {'a':1}|count }} {{ x|length }} {{ 'abc'|list }} {{ {'a':1}|list }}",
    "{{ x|default('d') }}|{{ ''|default('d') }}|{{ ''|default('d', true) }}|{{ none|default('d') }}|{{ x|d }}",
    "{{ 'abc'|first }}{{ 'abc'|last }}{{ [1,2,3]|first }}{{ [1,2,3]|last }}{{ {'x': 1}|first }}{{ []|first }}",
    "{{ [1, 'a', none]|join('-') }} {{ [{'n':'a'},{'n':'b'}]|join(',', attribute='n') }} {{ ['x','y']|join }}",
    "{{ 'abc' | replace('b', 'X') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'a'.replace('', '-') }}",
    "{{ 3|string + 'x' }} {{ 3.0|string }} {{ true|string }} {{ none|string }} {{ [1]|string }} {{ '<a>'|safe }}",
    "{{ '42'|int }} {{ '4.5'|int }} {{ 'x'|int }} {{ '4.5'|float }} {{ 3|float }} {{ -3|abs }} {{ '0x1A'|int(base=16) }} {{ ' 42 '|int }} {{ '1_000'|int }} {{ 'abc'|float(1.5) }} {{ 1.5|int }} {{ true|int }}",
    "{{ 3|round }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 1.25|round(1) }} {{ 1234|round(-2) }} {{ 1.5|round(0, 'ceil') }} {{ 2.5|round(0, 'floor') }} {{ -1.5|round }}",
    "{{ [3,1,2]|sort }} {{ ['b','A','a']|sort }} {{ ['b','A','a']|sort(case_sensitive=true) }} {{ ['b','a','C']|sort(reverse=true) }} {{ [{'n':2},{'n':1}]|sort(attribute='n')|map(attribute='n')|list }}",
    "{{ 'abc'|reverse }} {{ [1,2]|reverse|list }} {{ ['c','b','a']|reverse|join }}",
    "{{ ['a','A','b']|unique|list }} {{ ['a','A']|unique(case_sensitive=true)|list }} {{ [1,2,3,4,5]|batch(2)|list }} {{ [1,2,3,4]|batch(3, 'x')|list }}",
    "{{ 'a b c'|wordcount }} {{ 'a-b c_d'|wordcount }}",
    "{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'x'|indent }}|{{ 'a\\n\\nb\\n'|indent('> ') }}",
    "{{ [{'r':'u'},{'r':'a'},{'x':1}]|selectattr('r','equalto','u')|list }} {{ [{'r':'u'},{'r':'a'}]|map(attribute='r')|list }} {{ [{'r':'u'},{'r':''}]|selectattr('r')|list }} {{ [{'r':'u'},{'r':'a'}]|rejectattr('r', 'eq', 'u')|list }}",
    "{{ [1,2,3]|select('odd')|list }} {{ ['a','code_interpreter']|reject('equalto','code_interpreter')|join(', ') }} {{ [1,2,3]|select('gt', 1)|list }} {{ [0,1,'',none,'a']|select|list }}",
    "{{ [{'a':{'b':3}}]|map(attribute='a.b')|list }} {{ [[1,2],[3,4]]|map(attribute='0')|list }} {{ [{'x':1},{}]|map(attribute='x', default='D')|list }} {{ ['a','b']|map('upper')|list }} {{ ['1','2']|map('int')|sum }}",
    "{{ [1,2,3]|sum }} {{ [1,2,3]|sum(start=10) }} {{ [{'v':1},{'v':2}]|sum(attribute='v') }} {{ [1,5,3]|max }} {{ [1,5,3]|min }} {{ ['a','B']|max }} {{ []|max }} {{ [{'a':1},{'a':3}]|max(attribute='a') }}",
    "{% for k, v in {'b':1,'a':2}|dictsort %}{{ k }}{{ v }}{% endfor %} {% for k, v in {'b':1,'a':2}|items %}{{ k }}{{ v }}{% endfor %} {% for k, v in {'b': 2, 'a': 1}|dictsort(by='value', reverse=true) %}{{ k }}{% endfor %}",
    "{{ 'Hello'|center(11) }}|{{ 'ab'|center(5) }}|{{ 'abc'.center(6) }}|{{ 'abc'.ljust(5, '*') }}|{{ 'abc'.rjust(5) }}",
    "{{ '<&>\"\\''|e }} {{ '<b>'|escape|length }}",
    "{{ \"%s-%d\" % ('a', 3) }} {{ '%s and %s'|format('a','b') }} {{ '%5.2f|%-5s|%05d|%r' % (3.14159, 'ab', 42, 'q') }}",
    # tojson (transformers' json.dumps).
    "{{ 'x'|tojson }} {{ {'a':[1,{'b':'é\"'}], 'c': none}|tojson }} {{ [1,2]|tojson(indent=2) }} {{ {}|tojson(indent=2) }} {{ {'a':[]}|tojson(indent=2) }}",
    "{{ 1.0|tojson }} {{ 'a\\u2028b\\x00\\x1f\\x7f'|tojson }} {{ '😀'|tojson(ensure_ascii=true) }} {{ {'b':1,'a':2}|tojson(sort_keys=true) }} {{ [1,2]|tojson(separators=(',',':')) }}",
    "{{ true|tojson }} {{ none|tojson }} {{ 'a'|tojson(indent='\\t') }} {{ {'a':1}|tojson(indent='\\t') }} {{ {'a': 1.0, 'b': 1e20, 'c': -0.5}|tojson }} {{ 1e-7|tojson }}",
    "{{ messages|tojson }} {{ messages[0]|tojson(indent=2) }}",
    # Tests.
    "{{ 1 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is sequence }} {{ 'a' is sequence }} {{ {} is sequence }}",
    "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 'a' is in 'abc' }} {{ none is none }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 1 is not string }} {{ x is defined }} {{ x is undefined }}",
    "{{ x is iterable }} {{ x is sequence }} {{ x|length }} {{ 'a' in x }} {{ x == x }} {{ x is none }} {{ x ~ 'a' }}",
    "{{ 1 is eq 1 }} {{ 1 is ne 2 }} {{ 1 is lt 2 }} {{ 2 is gt 1 }} {{ 1 is le 1 }} {{ 1 is ge 2 }} {{ 1 is sameas 1 }} {{ none is sameas none }} {{ true is boolean }} {{ 'a' is lower }} {{ 'A' is upper }}",
    "{{ 'upper' is filter }} {{ 'nope' is filter }} {{ 'defined' is test }} {{ [1,2,3]|length is divisibleby(3) }}",
    "{{ tools is none }} {{ tools is defined }} {% if not tools %}notools{% endif %}",
    "{% if x is defined and x.y is defined %}a{% else %}b{% endif %}",
    # Methods.
    "{{ ' a '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ 'a b  c'.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ '  a b  c  '.split(None, 1) }}",
    "{{ 'abc'.startswith(('x','a')) }} {{ 'abc'.startswith('b', 1) }} {{ 'abc'.endswith('c') }} {{ 'a-b'.replace('-', '+') }} {{ 'abc'.find('c') }} {{ 'aaa'.count('a') }} {{ ','.join(['a','b']) }}",
    "{{ '{} {}'.format(1, 'x') }} {{ '{0} {1} {0}'.format('a', 'b') }} {{ '{x}!'.format(x=1) }} {{ '{:>5}|{:<4}|{:^5}'.format('a','b','c') }} {{ '{:.2f}'.format(1/3) }}",
    "{{ {'a':1}.get('a') }} {{ {'a':1}.get('b') }} {{ {'a':1}.get('b', 2) }} {{ {'a':1}.keys()|list }} {{ {'a':1}.values()|list }} {{ [1,2].index(2) }} {{ [1,2,2].count(2) }}",
    "{{ 'abc'.upper() }} {{ 'ABC'.lower() }} {{ ' x '.lstrip() }}| {{ ' x '.rstrip() }}|{{ 'xay'.lstrip('x') }} {{ \"they're bill's\".title() }} {{ 'hello world'.capitalize() }}",
    "{{ 'a\\nb'.splitlines() }} {{ 'abc'.index('b') }} {{ 'abc'.rfind('c') }} {{ 'a'.zfill(3) }} {{ '1'.isdigit() }} {{ 'a'.isalpha() }} {{ ' '.isspace() }} {{ 'Ab'.swapcase() }} {{ 'abc'.removeprefix('a') }}",
    "{{ messages[0].get('role') }} {{ messages[0].get('missing', 'dflt') }} {{ messages[0].items()|list|length }} {{ messages[0].keys()|list }} {{ messages[0].role.upper() }} {{ messages[0]['content'].startswith('h') }}",
    "{% for k, v in messages[0]|items %}{{ k }}={{ v }};{% endfor %} {% for k, v in messages[0].items() if k != 'role' %}{{ k }}={{ v }};{% endfor %}",
    "{{ dict(a=1, b='x') }} {{ dict(a=1).a }}",
    # strftime_now (pinned date).
    "{{ strftime_now('%d %b %Y') }} {{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j %p %I %y %a %-d %e') }}",
]

# Errors: parse-time, runtime (the message differs from Python's; only that it fails is checked), and raised.
ERROR_SNIPPETS = [
    "{{ x|nosuchfilter }}", "{% if true %}{{ x|nosuchfilter }}{% endif %}", "{{ x is nosuchtest }}", "{% foo %}",
    "{% if true %}", "{% for x in y %}", "{{ 1 + }}", "{{ 'abc }}", "{{ (1 }}", "{% endif %}", "{{ }}",
    "{% set = 1 %}", "{% extends 'x' %}", "{% include 'x' %}", "{# unclosed", "{{ 1", "{% if %}x{% endif %}",
    "{{ 1 +* 2 }}", "{{ a.  }}", "{% for %}{% endfor %}", "{% break %}",
    "{{ x.y }}", "{{ x[0] }}", "{{ x + 1 }}", "{{ x < 1 }}", "{{ 1 / 0 }}", "{{ 1 // 0 }}", "{{ 'a' - 1 }}",
    "{{ [] + 'a' }}", "{{ 'a' + 1 }}", "{{ x() }}", "{{ 'a'.nomethod() }}", "{{ 1() }}", "{{ [1].append(2) }}",
    "{% set xs = [1] %}{% set _ = xs.append(3) %}{{ xs }}", "{{ {}.update({}) }}", "{{ x|tojson }}",
    "{% for a, b in [1] %}{% endfor %}", "{% for a, b in [[1,2,3]] %}{% endfor %}", "{% set d = {} %}{% set d.x = 1 %}",
    "{{ 1 in 1 }}", "{{ 1 in 'abc' }}", "{{ none < 1 }}", "{{ 1 < 'a' }}", "{{ range(1000000)|length }}",
    "{{ 1|length }}", "{{ none|list }}", "{{ foo.bar is defined }}", "{{ u.x }}",
    "{{ raise_exception('boom') }}", "{{ raise_exception('x' ~ 1 ~ messages[0].role) }}",
    "{% if true %}{{ raise_exception('raised in a branch') }}{% endif %}",
]

# Known differences from Python, left out of the goldens on purpose (see ChatTemplate's documentation):
# tuples print as lists ("(1, 2)" vs "[1, 2]"), `dict.items()` prints as a list rather than "dict_items([...])",
# lazy filter results (`reverse`, `batch`, `items` on a non-mapping) are lists rather than generator objects, and
# integers are 64-bit (Python's are unbounded).


# jinja2 only fails on these when rendering (the sandbox has no template loader); SwiftLLM refuses the tags when
# parsing, since a chat template can never load another template.
PARSE_TIME_IN_SWIFTLLM = {"{% extends 'x' %}", "{% include 'x' %}"}


def snippet_case(source):
    if source in PARSE_TIME_IN_SWIFTLLM:
        ENV.from_string(source)
        return {"template": source, "context": SNIPPET_CONTEXT, "error_kind": "syntax"}
    try:
        compiled = ENV.from_string(source)
    except jinja2.exceptions.TemplateSyntaxError:
        return {"template": source, "context": SNIPPET_CONTEXT, "error_kind": "syntax"}
    except (jinja2.exceptions.TemplateError, SyntaxError):
        # Jinja reports unknown filters/tests (TemplateAssertionError) and `break` outside a loop (a Python
        # SyntaxError in the generated code) when compiling; so does SwiftLLM.
        return {"template": source, "context": SNIPPET_CONTEXT, "error_kind": "syntax"}
    try:
        return {"template": source, "context": SNIPPET_CONTEXT, "expected": compiled.render(**SNIPPET_CONTEXT)}
    except jinja2.exceptions.TemplateError as error:
        if type(error) is jinja2.exceptions.TemplateError:
            return {"template": source, "context": SNIPPET_CONTEXT, "error": str(error)}
        return {"template": source, "context": SNIPPET_CONTEXT, "error_kind": "runtime"}
    except Exception:  # TypeError, ZeroDivisionError, ...: a runtime failure in Python too
        return {"template": source, "context": SNIPPET_CONTEXT, "error_kind": "runtime"}


def generate_snippets():
    cases = [snippet_case(source) for source in SNIPPETS]
    bad = [case["template"] for case in cases if "expected" not in case]
    if bad:
        sys.exit(f"snippets meant to render failed in jinja2: {bad}")
    errors = [snippet_case(source) for source in ERROR_SNIPPETS]
    rendered = [case["template"] for case in errors if "expected" in case]
    if rendered:
        sys.exit(f"error snippets rendered in jinja2: {rendered}")
    path = write_json("snippets.json", {"now": NOW.isoformat(), "snippets": cases + errors})
    print(f"{os.path.relpath(path, ROOT)}: {len(cases)} renders, {len(errors)} errors")


if __name__ == "__main__":
    os.makedirs(OUT_DIR, exist_ok=True)
    generate_templates()
    generate_snippets()
