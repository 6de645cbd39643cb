#!/usr/bin/env python3
"""Write Tests/Fixtures/models/gemma3_reference.json: greedy continuations and
first-step logits of Gemma 3 270M (gemma-3-270m-q4_k_m.gguf) computed by the
numpy reference in numpy_gemma3.py.

Gemma 3 270M is a base model and its GGUF has no chat template, so all eight
prompts are raw text. Prompt ids come from llama.cpp's tokenizer
(llama-tokenize) WITH the BOS token, as the GGUF asks (add_bos_token=true), and
special tokens parsed. One prompt is about 700 tokens long so the 512-token
sliding window of the local layers masks part of it.

The logits at the last prompt position are stored for the 2000 ids with the
highest logits only (262144 float16 values per case would be 512 KB):
"first_logits": {"top_ids", "top_logits_f16_b64", "logsumexp"} where
logsumexp is over the full vocabulary (float64), so log-probabilities of the
stored ids can be checked too.

With --crosscheck, the same prompt ids are greedily decoded by llama.cpp
(llama-server on 127.0.0.1, one bounded request per prompt: exact ids) and the
raw prompt text is also run through llama-completion (--temp 0, tokenized by
llama.cpp itself); both are compared with the numpy tokens. llama.cpp rounds
activations (Q8_0/Q8_K) and Q/K/V (fp16), so late tokens may differ at near
ties; --emulate-ggml also reports agreement of numpy with that rounding mimicked.

Usage: python3 scripts/reference/gen_gemma3_reference.py [--crosscheck] [--emulate-ggml]
"""

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGUFReader

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from numpy_gemma3 import Gemma3Model  # noqa: E402
from gen_tokenizer_fixtures import llama_binary  # noqa: E402
from gen_smollm2_reference import LlamaServer, leading_agreement, sha256_file  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CACHE = os.environ.get("SWIFTLLM_CACHE", os.path.expanduser("~/.cache/swiftllm"))
MODEL_NAME = "gemma-3-270m-q4_k_m.gguf"
N_NEW = 24
N_TOP = 2000
# Gemma 3 end-of-generation ids in llama.cpp: <eos> 1, <end_of_turn> 106.
EOG_IDS = {1, 106}

LONG_PROMPT = """The Keeper of Gull Rock

In the spring of 1891, a young woman named Elsbeth Marrow arrived on Gull Rock with two trunks, a canary in a brass cage, and a letter from the Lighthouse Board appointing her assistant keeper. The island was barely a quarter of a mile long, a hump of grey granite in the cold water off the coast of Maine, and the only building on it besides the tower was a squat stone cottage with a slate roof and a cistern that leaked in every storm. The head keeper, an old sailor called Abner Pike, met her at the landing with a lantern even though it was the middle of the afternoon.

"You'll want to learn the lamp first," he said, "and the fog bell second. Everything else can wait."

The lamp was a first-order Fresnel lens, taller than a man, built in Paris from hundreds of curved prisms set in brass frames. It had to be wound by hand every four hours so that the clockwork would keep it turning, and its wick had to be trimmed so that the flame burned clean and white. Soot on the glass meant a dimmer light, and a dimmer light, Abner said, meant a ship on the rocks. Elsbeth learned to polish the prisms with soft linen and rouge, to carry the oil up the one hundred and twelve iron steps without spilling a drop, and to read the barometer each evening before dark.

The fog bell was harder. When the fog came in, which it did on more than one day in three during the summer months, the bell had to be struck twice every thirty seconds, day and night, for as long as the fog lasted. There was a machine for it, driven by a heavy weight on a chain, but the machine jammed so often that the keepers usually rang the bell by hand. Elsbeth's arms ached for weeks. She kept a tally in the logbook of every hour she rang it, and by the end of her first August the tally ran to more than four hundred hours.

In October a storm came out of the northeast that lasted three days. The waves broke over the whole island, filled the cistern with salt water, and tore the door off the oil house. On the second night Abner slipped on the wet steps of the tower and broke his leg. Elsbeth splinted it with a broom handle and strips of a bedsheet, carried him down to the cottage, and then went back up alone to tend the light. She wound the clockwork every four hours for the rest of the storm, and she did not sleep. At dawn on the third day a fishing schooner, the Mary Alden, came limping past the rock with a broken mast. Her captain said afterwards that he had steered all night by the light on Gull Rock, and that without it his crew of nine would have been lost.

When the supply boat finally reached the island a week later, the inspector found the logbook up to date, the lens spotless, and the canary still singing in its brass cage. Abner Pike retired that winter, and the Lighthouse Board, after some argument, made Elsbeth Marrow head keeper of Gull Rock, a post she held for the next thirty-one years.

Questions for discussion:
1. What was the name of the schooner that passed the rock on the morning after the storm, and how many crew did it carry?
Answer:"""

PROMPTS = [
    "Once upon a time, in a small village at the edge of a dark forest, there lived",
    "The Great Wall of China is a series of fortifications that were built across",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Here is a list of five fruits:\n1.",
    "Tom has 3 apples. He buys 5 more and then gives 2 to his sister. "
    "How many apples does Tom have now? Let's think step by step.",
    "The café in München serves crème brûlée and 日本茶, a fusion of",
    "Photosynthesis",
    LONG_PROMPT,
]
LONG_CASE = 7


def tokenize_with_bos(binary: str, model: str, text: str) -> list[int]:
    """llama.cpp tokenization of the exact UTF-8 bytes of text, BOS added as
    the GGUF asks (no --no-bos), special tokens parsed."""
    proc = subprocess.run(
        [binary, "-m", model, "--stdin", "--ids", "--no-escape", "--log-disable"],
        input=text.encode("utf-8"), capture_output=True, check=True)
    lines = [l for l in proc.stdout.decode().splitlines() if l.strip()]
    return json.loads(lines[-1])


class Detokenizer:
    """SentencePiece-style pieces -> bytes, the way llama.cpp prints generated
    text (control tokens print nothing)."""

    def __init__(self, model: str):
        r = GGUFReader(model)
        tokens = r.fields["tokenizer.ggml.tokens"]
        types = r.fields["tokenizer.ggml.token_type"]
        self.pieces = [bytes(tokens.parts[i]) for i in tokens.data]
        self.types = [int(types.parts[i][0]) for i in types.data]

    def piece(self, tid: int) -> bytes:
        p, t = self.pieces[tid], self.types[tid]
        if t == 3:       # control
            return b""
        if t == 6:       # byte: <0xXX>
            return bytes([int(p[3:5], 16)])
        return p.replace("\u2581".encode(), b" ")

    def text(self, ids: list[int]) -> bytes:
        return b"".join(self.piece(i) for i in ids)


def llama_completion(binary: str, model: str, prompt: str, n: int) -> bytes:
    """Greedy continuation text from llama-completion on the raw prompt
    (llama.cpp tokenizes it and adds BOS itself). Stops at EOS."""
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
        # llama.cpp drops one trailing newline of a prompt file; this one is that newline.
        f.write(prompt.encode("utf-8") + b"\n")
        path = f.name
    try:
        # -nr (no repack): the AMX repacked buffers crash with SIGILL here (see README).
        proc = subprocess.run(
            [binary, "-m", model, "-f", path, "-n", str(n), "--temp", "0", "-nr", "-no-cnv",
             "--no-display-prompt", "-t", "2", "-c", "2048", "--no-warmup"],
            capture_output=True, check=True, timeout=600, stdin=subprocess.DEVNULL)
    finally:
        os.unlink(path)
    return proc.stdout


def text_agreement(ours: list[int], text: bytes, detok: Detokenizer) -> int:
    """Leading tokens of ours whose concatenated text is a prefix of text."""
    acc = b""
    for n, tid in enumerate(ours):
        if tid in EOG_IDS:
            return len(ours) if text == acc else n
        acc += detok.piece(tid)
        if not text.startswith(acc):
            return n
    return len(ours)


def first16(v: np.ndarray) -> list[float]:
    return [float(np.float32(x)) for x in v[:16]]


def top_logits(logits: np.ndarray) -> dict:
    top = np.argsort(-logits, kind="stable")[:N_TOP]
    m = logits.max()
    lse = float(m + np.log(np.exp(logits - m).sum()))
    return {
        "top_ids": [int(i) for i in top],
        "top_logits_f16_b64": base64.b64encode(logits[top].astype("<f2").tobytes()).decode("ascii"),
        "logsumexp": lse,
    }


def trace_debug(model: Gemma3Model, prompt_ids: list[int], case: int) -> dict:
    logits = model.forward(prompt_ids, model.new_cache())[-1]
    t = model.trace
    top5 = np.argsort(-logits)[:5]
    return {
        "case": case,
        "n_prompt": len(prompt_ids),
        "embedding_last_pos_first16": first16(t["embedding_last"]),
        "layer_out_last_pos_first16": [first16(v) for v in t["layer_out_last"]],
        "final_norm_last_pos_first16": first16(t["final_norm_last"]),
        "top5_first_logits": [[int(i), float(logits[i])] for i in top5],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(CACHE, MODEL_NAME))
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests/Fixtures/models/gemma3_reference.json"))
    ap.add_argument("--crosscheck", action="store_true", help="also decode with llama.cpp")
    ap.add_argument("--emulate-ggml", action="store_true",
                    help="with --crosscheck, also report agreement of numpy with ggml-like rounding")
    ap.add_argument("--port", type=int, default=18732)
    args = ap.parse_args()

    tokenizer = llama_binary("llama-tokenize")
    model = Gemma3Model.load(args.model)
    detok = Detokenizer(args.model)
    server = LlamaServer(args.model, args.port) if args.crosscheck else None
    completion = llama_binary("llama-completion") if args.crosscheck else None

    cases = []
    debug = {}
    try:
        for ci, prompt in enumerate(PROMPTS):
            prompt_ids = tokenize_with_bos(tokenizer, args.model, prompt)
            assert prompt_ids[0] == 2, "expected BOS"
            greedy_ids, first_logits = model.greedy(prompt_ids, N_NEW)
            if ci == 0:
                debug["case0"] = trace_debug(model, prompt_ids, ci)
            if ci == LONG_CASE:
                debug["long"] = trace_debug(model, prompt_ids, ci)
                # How much the sliding window matters here: the same prompt with every layer global.
                n_swa = model.hp.n_swa
                model.hp.n_swa = 0
                no_window = model.forward(prompt_ids, model.new_cache())[-1]
                model.hp.n_swa = n_swa
                cos = float(first_logits @ no_window / np.linalg.norm(first_logits) / np.linalg.norm(no_window))
                debug["long"]["no_window_cosine"] = cos
                debug["long"]["no_window_argmax"] = int(np.argmax(no_window))
                print(f"case {ci}: {len(prompt_ids)} prompt tokens; without the sliding window the first "
                      f"logits have cosine {cos:.4f}, argmax {int(np.argmax(no_window))} vs {greedy_ids[0]}")
            case = {
                "prompt": prompt,
                "prompt_ids": prompt_ids,
                "greedy_ids": greedy_ids,
                "greedy_text": detok.text(greedy_ids).decode("utf-8", errors="replace"),
                "first_logits": top_logits(first_logits),
            }
            if server is not None:
                ref = server.greedy(prompt_ids, N_NEW)
                case["llamacpp_greedy_ids"] = ref
                case["llamacpp_leading_agreement"] = leading_agreement(greedy_ids, ref, EOG_IDS)
                text = llama_completion(completion, args.model, prompt, N_NEW)
                case["llamacpp_completion_text"] = text.decode("utf-8", errors="replace")
                case["llamacpp_completion_agreement"] = text_agreement(greedy_ids, text, detok)
                line = (f"case {ci}: numpy vs llama.cpp agree on first "
                        f"{case['llamacpp_leading_agreement']}/{N_NEW} tokens (server ids), "
                        f"{case['llamacpp_completion_agreement']}/{N_NEW} (llama-completion text)")
                if args.emulate_ggml:
                    model.emulate_ggml = True
                    emulated, _ = model.greedy(prompt_ids, N_NEW)
                    model.emulate_ggml = False
                    case["emulated_ggml_agreement"] = leading_agreement(emulated, ref, EOG_IDS)
                    line += f"; with ggml rounding emulated: {case['emulated_ggml_agreement']}/{N_NEW}"
                if case["llamacpp_leading_agreement"] < N_NEW:
                    k = case["llamacpp_leading_agreement"]
                    logits = model.forward(prompt_ids + greedy_ids[:k], model.new_cache())[-1]
                    margin = float(logits[greedy_ids[k]] - logits[ref[k]]) if k < len(ref) else float("nan")
                    case["first_divergence_margin"] = margin
                    line += f"; numpy margin at the divergence {margin:.3f}"
                print(line, flush=True)
            else:
                print(f"case {ci}: {greedy_ids}", flush=True)
            cases.append(case)
    finally:
        if server is not None:
            server.close()

    doc = {
        "model": os.path.basename(args.model),
        "sha256": sha256_file(args.model),
        "n_generated": N_NEW,
        "n_top_logits": N_TOP,
        "notes": "prompt_ids from llama.cpp tokenizer WITH BOS (add_bos_token=true), special tokens parsed; "
                 "greedy_ids (never stopping at EOS) and logits from scripts/reference/numpy_gemma3.py "
                 "(float64 math on dequantized weights); first_logits keeps the 2000 highest logits at the "
                 "last prompt position (float16) and the full-vocabulary logsumexp; debug values are float32 "
                 "roundings at the last prompt position of case 0 and of the long case; layer_out is the "
                 "residual stream after each layer; final_norm is after multiplying by output_norm.weight.",
        "cases": cases,
        "debug": debug,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
