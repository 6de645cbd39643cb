#!/usr/bin/env python3
"""Write tiny random-weight GGUF models of the llama variants and their numpy
reference outputs, for the Swift architecture tests:

  Tests/Fixtures/models/tiny_qwen2.gguf      qwen2: Q/K/V biases, NeoX RoPE, tied output
  Tests/Fixtures/models/tiny_mistral.gguf    llama + attention.sliding_window (Mistral 7B v0.1
                                             as the converter writes it), untied output
  Tests/Fixtures/models/tiny_arch_reference.json

For each model: a prompt of token ids (no tokenizer: the tests feed ids), the
greedy continuation computed by numpy_llama.py, and the full logits of every
greedy step (step 0 = last prompt position, step i = after feeding greedy
token i-1). The Mistral prompt is several windows long, so the window masks
keys in prefill and in every decode step.

Matrices are F16 (SwiftLLM multiplies F16 weights with float activations, so
the engine should agree with the float64 reference to ~1e-5); norms and biases
F32. Each model is also run with its variant's feature switched off (no biases,
adjacent-pair RoPE, no window) to show the fixture detects each one: those
logits must differ from the reference by far more than the test tolerance.

With --crosscheck, each model is also written to /tmp with a dummy 256-token
vocabulary (llama.cpp will not load a file without one) and decoded greedily by
llama.cpp (llama-server, prompt given as ids). llama.cpp's `llama` graph
ignores attention.sliding_window, so the Mistral model is compared with the
reference run without its window; the window itself rests on the same mask as
the Gemma 3 reference, which was checked against llama.cpp.

Usage: python3 scripts/reference/gen_arch_fixtures.py [--crosscheck]   (gguf 0.19.0, numpy)
Deterministic: the same seeds give byte-identical files.
"""

import argparse
import json
import os
import sys

import numpy as np
import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from numpy_llama import LlamaModel  # noqa: E402

OUT = os.path.abspath(os.path.join(HERE, "..", "..", "Tests", "Fixtures", "models"))
N_NEW = 10
# The Swift test's bound on |logit difference|; the feature-off runs must exceed it 100-fold.
TOLERANCE = 1e-3

# With a tied output a random model tends to repeat whatever token it was fed (its embedding
# sits in the residual); a small embedding, larger block outputs and a larger output norm make
# the Qwen2 model's greedy run vary instead. Seeds were chosen for clear top-2 margins.
MODELS = [
    dict(name="tiny_qwen2", arch="qwen2", seed=4, embd_scale=0.25, block_out_scale=3, out_norm_scale=4,
         rope_base=1e6, eps=1e-6, window=0, tied=True, prompt=16),
    dict(name="tiny_mistral", arch="llama", seed=7, embd_scale=1, block_out_scale=1, out_norm_scale=1,
         rope_base=1e4, eps=1e-5, window=6, tied=False, prompt=20),
]
DIM, HEADS, KV_HEADS, FFN, VOCAB, LAYERS, CTX = 64, 4, 2, 96, 256, 2, 64


def write_gguf(path: str, spec: dict, vocab: bool = False) -> None:
    rng = np.random.default_rng(spec["seed"])
    arch = spec["arch"]
    hd = DIM // HEADS

    def mat(rows, cols):  # numpy (out, in) = ggml ne [in, out]
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float16)

    def norm(scale=1):
        return (scale * (1 + 0.1 * rng.standard_normal(DIM))).astype(np.float32)

    def out_mat(rows, cols):  # a block's last projection, into the residual
        return (spec["block_out_scale"] * mat(rows, cols)).astype(np.float16)

    w = gguf.GGUFWriter(path, arch)
    w.add_block_count(LAYERS)
    w.add_context_length(CTX)
    w.add_embedding_length(DIM)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_freq_base(spec["rope_base"])
    w.add_layer_norm_rms_eps(spec["eps"])
    w.add_vocab_size(VOCAB)
    if spec["window"]:
        w.add_sliding_window(spec["window"])
    if vocab:  # only for llama.cpp; the committed files have none
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("default")
        w.add_token_list([f"<{i}>" for i in range(VOCAB)])
        w.add_token_types([gguf.TokenType.NORMAL] * VOCAB)
        w.add_token_merges(["<0> <1>"])
        w.add_eos_token_id(VOCAB - 1)
        w.add_add_bos_token(False)

    w.add_tensor("token_embd.weight", (spec["embd_scale"] * rng.standard_normal((VOCAB, DIM))).astype(np.float16))
    for i in range(LAYERS):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", norm())
        w.add_tensor(p + "attn_q.weight", mat(HEADS * hd, DIM))
        w.add_tensor(p + "attn_k.weight", mat(KV_HEADS * hd, DIM))
        w.add_tensor(p + "attn_v.weight", mat(KV_HEADS * hd, DIM))
        if arch == "qwen2":
            # Large enough that dropping any one of them moves the logits well past the tolerance.
            w.add_tensor(p + "attn_q.bias", (0.5 * rng.standard_normal(HEADS * hd)).astype(np.float32))
            w.add_tensor(p + "attn_k.bias", (0.5 * rng.standard_normal(KV_HEADS * hd)).astype(np.float32))
            w.add_tensor(p + "attn_v.bias", (0.5 * rng.standard_normal(KV_HEADS * hd)).astype(np.float32))
        w.add_tensor(p + "attn_output.weight", out_mat(DIM, HEADS * hd))
        w.add_tensor(p + "ffn_norm.weight", norm())
        w.add_tensor(p + "ffn_gate.weight", mat(FFN, DIM))
        w.add_tensor(p + "ffn_up.weight", mat(FFN, DIM))
        w.add_tensor(p + "ffn_down.weight", out_mat(DIM, FFN))
    w.add_tensor("output_norm.weight", norm(spec["out_norm_scale"]))
    if not spec["tied"]:
        w.add_tensor("output.weight", (4 * mat(VOCAB, DIM)).astype(np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def greedy_steps(model: LlamaModel, prompt: list[int], n_new: int) -> tuple[list[int], list[np.ndarray]]:
    """Greedy ids and the logits each one was chosen from."""
    cache = model.new_cache()
    logits = model.forward(prompt, cache)[-1]
    ids, steps = [], []
    for _ in range(n_new):
        steps.append(logits)
        ids.append(int(np.argmax(logits)))
        logits = model.forward([ids[-1]], cache)[-1]
    return ids, steps


def margin(logits: np.ndarray) -> float:
    top2 = np.sort(logits)[-2:]
    return float(top2[1] - top2[0])


def feature_off_runs(path: str, spec: dict, prompt: list[int]) -> dict[str, np.ndarray]:
    """Last-prompt-position logits with one variant feature removed at a time."""
    runs = {}
    if spec["arch"] == "qwen2":
        for bias in ("bq", "bk", "bv"):
            m = LlamaModel.load(path)
            for L in m.layers:
                setattr(L, bias, np.zeros_like(getattr(L, bias)))
            runs[f"without {bias}"] = m.forward(prompt, m.new_cache())[-1]
        m = LlamaModel.load(path)
        m.hp.rope_neox = False
        runs["adjacent-pair rope"] = m.forward(prompt, m.new_cache())[-1]
    if spec["window"]:
        m = LlamaModel.load(path)
        m.hp.n_swa = 0
        runs["without window"] = m.forward(prompt, m.new_cache())[-1]
        m = LlamaModel.load(path)
        m.hp.n_swa = spec["window"] + 1
        runs["window + 1"] = m.forward(prompt, m.new_cache())[-1]
        m = LlamaModel.load(path)
        m.hp.n_swa = spec["window"] - 1
        runs["window - 1"] = m.forward(prompt, m.new_cache())[-1]
    return runs


def llamacpp_greedy(spec: dict, prompt: list[int], n_new: int, port: int) -> list[int]:
    """Greedy ids of the same model (with a dummy vocabulary) from llama-server."""
    from gen_smollm2_reference import LlamaServer
    path = f"/tmp/{spec['name']}-vocab.gguf"
    write_gguf(path, spec, vocab=True)
    server = LlamaServer(path, port)
    try:
        return server.greedy(prompt, n_new)
    finally:
        server.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crosscheck", action="store_true", help="also decode with llama.cpp (llama-server)")
    ap.add_argument("--port", type=int, default=18733)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    cases = []
    for spec in MODELS:
        path = os.path.join(OUT, spec["name"] + ".gguf")
        write_gguf(path, spec)
        model = LlamaModel.load(path)
        assert model.hp.n_swa == spec["window"], model.hp
        rng = np.random.default_rng(100 + spec["seed"])
        prompt = [int(t) for t in rng.integers(0, VOCAB, spec["prompt"])]
        ids, steps = greedy_steps(model, prompt, N_NEW)
        margins = [margin(s) for s in steps]
        print(f"{spec['name']}: {os.path.getsize(path)} bytes, prompt {len(prompt)} tokens, greedy {ids}, "
              f"smallest top-2 margin {min(margins):.4f}")
        assert min(margins) > 50 * TOLERANCE, "greedy near-tie: pick another seed"
        for what, logits in feature_off_runs(path, spec, prompt).items():
            diff = float(np.max(np.abs(logits - steps[0])))
            print(f"  {what}: max |logit difference| {diff:.3f}")
            assert diff > 100 * TOLERANCE, f"{what} does not change the logits enough"
        if args.crosscheck:
            theirs = llamacpp_greedy(spec, prompt, N_NEW, args.port)
            print(f"  llama.cpp greedy {theirs}")
            if spec["window"]:
                model.hp.n_swa = 0
                unwindowed, _ = greedy_steps(model, prompt, N_NEW)
                print(f"  reference without window {unwindowed}: "
                      f"{'agrees' if unwindowed == theirs else 'DIFFERS'}")
            else:
                print(f"  reference {'agrees' if ids == theirs else 'DIFFERS'}")
        cases.append({
            "model": spec["name"] + ".gguf",
            "architecture": spec["arch"],
            "sliding_window": spec["window"],
            "prompt_ids": prompt,
            "greedy_ids": ids,
            "step_logits": [[round(float(x), 6) for x in s] for s in steps],
        })
    with open(os.path.join(OUT, "tiny_arch_reference.json"), "w") as f:
        json.dump({"generator": "scripts/reference/gen_arch_fixtures.py", "tolerance": TOLERANCE,
                   "cases": cases}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
