#!/usr/bin/env python3
"""Write Tests/Fixtures/models/smollm2_reference.json: greedy continuations
and first-step logits of SmolLM2-135M-Instruct (Q4_1 GGUF) computed by the
numpy reference in numpy_llama.py.

Prompt ids come from llama.cpp's tokenizer (llama-tokenize, no BOS since the
GGUF says add_bos_token=false, special tokens parsed), exactly as in the
tokenizer fixture. No chat template is applied; one prompt carries a
hand-written ChatML conversation.

With --crosscheck, the same prompt ids are also decoded greedily by llama.cpp
(a llama-server on 127.0.0.1, one bounded request per prompt) and stored as
"llamacpp_greedy_ids" with the count of leading tokens that agree. llama.cpp
quantizes activations to Q8 for its quantized matmuls, so late tokens may
differ; early ones must not.

Usage: python3 scripts/reference/gen_smollm2_reference.py [--crosscheck]
"""

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from numpy_llama import LlamaModel  # noqa: E402
from gen_tokenizer_fixtures import llama_binary, tokenize  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CACHE = os.environ.get("SWIFTLLM_CACHE", os.path.expanduser("~/.cache/swiftllm"))
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
N_NEW = 24
# SmolLM2 end-of-generation ids: <|endoftext|>, <|im_end|>.
EOG_IDS = {0, 2}

PROMPTS = [
    "Once upon a time, in a small village at the edge of a dark forest, there lived",
    "Question: What is the boiling point of water at sea level in degrees Celsius?\nAnswer:",
    "def is_prime(n):\n    \"\"\"Return True if n is a prime number.\"\"\"\n",
    "Here is a list of five fruits:\n1.",
    "Tom has 3 apples. He buys 5 more and then gives 2 to his sister. "
    "How many apples does Tom have now? Let's think step by step.",
    "The café in München serves crème brûlée and 日本茶, a fusion of",
    "The",
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
]


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def first16(v: np.ndarray) -> list[float]:
    return [float(np.float32(x)) for x in v[:16]]


class LlamaServer:
    """A llama-server on loopback, used only for bounded greedy requests."""

    def __init__(self, model: str, port: int):
        self.url = f"http://127.0.0.1:{port}"
        binary = llama_binary("llama-server")
        self.proc = subprocess.Popen(
            [binary, "-m", model, "--host", "127.0.0.1", "--port", str(port),
             "-c", "2048", "-np", "1", "-t", "2", "--no-warmup",
             # --no-repack: the AMX repacked buffers crash with SIGILL here (see README).
             "--no-repack"],
            stdout=subprocess.DEVNULL, stderr=open("/tmp/llama-server-crosscheck.log", "w"))
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception:
                time.sleep(0.5)
        self.close()
        raise RuntimeError("llama-server did not become healthy in 120 s")

    def greedy(self, prompt_ids: list[int], n: int) -> list[int]:
        """Greedy ids from llama.cpp; shorter than n if it stopped at an
        end-of-generation token (which is then not included)."""
        body = {"prompt": prompt_ids, "n_predict": n, "temperature": 0.0, "top_k": 1,
                "samplers": ["top_k"], "cache_prompt": False, "return_tokens": True,
                "stream": False}
        # No ignore_eos: llama.cpp implements it by masking end-of-generation
        # logits, which would change the argmax; it stops at EOS instead.
        req = urllib.request.Request(self.url + "/completion", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return [int(t) for t in json.load(r)["tokens"]]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def leading_agreement(ours: list[int], ref: list[int], eog: set[int]) -> int:
    """Leading tokens that agree. llama.cpp stops right after emitting an
    end-of-generation token; if ours emitted the same one there, both
    decoders have ended and the rest counts as agreeing."""
    n = 0
    for x, y in zip(ours, ref):
        if x != y:
            return n
        n += 1
    if n == len(ref) < len(ours) and ref and ref[-1] in eog:
        return len(ours)
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(CACHE, MODEL_NAME))
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests/Fixtures/models/smollm2_reference.json"))
    ap.add_argument("--crosscheck", action="store_true", help="also decode with llama.cpp (llama-server)")
    ap.add_argument("--emulate-ggml", action="store_true",
                    help="with --crosscheck, also report agreement of numpy with ggml-like rounding")
    ap.add_argument("--port", type=int, default=18731)
    args = ap.parse_args()

    tokenizer = llama_binary("llama-tokenize")
    model = LlamaModel.load(args.model)
    server = LlamaServer(args.model, args.port) if args.crosscheck else None

    cases = []
    debug = {}
    try:
        for ci, prompt in enumerate(PROMPTS):
            prompt_ids = tokenize(tokenizer, args.model, prompt)
            greedy_ids, first_logits = model.greedy(prompt_ids, N_NEW)
            if ci == 0:
                # model.trace holds the last forward call; redo the prompt pass for its trace.
                logits = model.forward(prompt_ids, model.new_cache())[-1]
                t = model.trace
                top5 = np.argsort(-logits)[:5]
                debug = {
                    "case": 0,
                    "embedding_last_pos_first16": first16(t["embedding_last"]),
                    "layer_out_last_pos_first16": [first16(v) for v in t["layer_out_last"]],
                    "final_norm_last_pos_first16": first16(t["final_norm_last"]),
                    "top5_first_logits": [[int(i), float(logits[i])] for i in top5],
                }
            case = {
                "prompt": prompt,
                "prompt_ids": prompt_ids,
                "greedy_ids": greedy_ids,
                "first_logits_f16_b64": base64.b64encode(
                    first_logits.astype("<f2").tobytes()).decode("ascii"),
            }
            if server is not None:
                ref = server.greedy(prompt_ids, N_NEW)
                case["llamacpp_greedy_ids"] = ref
                case["llamacpp_leading_agreement"] = leading_agreement(greedy_ids, ref, EOG_IDS)
                line = (f"case {ci}: numpy vs llama.cpp agree on first "
                        f"{case['llamacpp_leading_agreement']}/{N_NEW} tokens")
                if args.emulate_ggml:
                    model.emulate_ggml = True
                    emulated, _ = model.greedy(prompt_ids, N_NEW)
                    model.emulate_ggml = False
                    line += (f"; with ggml rounding emulated: "
                             f"{leading_agreement(emulated, ref, EOG_IDS)}/{N_NEW}")
                print(line)
            else:
                print(f"case {ci}: {greedy_ids}")
            cases.append(case)
    finally:
        if server is not None:
            server.close()

    doc = {
        "model": os.path.basename(args.model),
        "sha256": sha256_file(args.model),
        "n_generated": N_NEW,
        "notes": "prompt_ids from llama.cpp tokenizer, no BOS, special tokens parsed; "
                 "greedy_ids and logits from scripts/reference/numpy_llama.py (float64 math on "
                 "dequantized weights); debug values are float32 roundings of case 0 at the last "
                 "prompt position; final_norm is after multiplying by output_norm.weight.",
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
