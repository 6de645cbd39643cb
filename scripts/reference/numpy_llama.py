#!/usr/bin/env python3
"""A plain numpy forward pass of the GGUF `llama` architecture and its variants
(`mistral`, `qwen2`; see VARIANTS).

This is the reference the Swift engine is checked against, so it favours
clarity over speed: every weight is dequantized once with gguf-py and the
math runs in float64 (weights are exact float32 values widened; float64 keeps
accumulation error far below the engine's own).

Conventions that matter (and that were checked against llama.cpp output):
  * A GGUF tensor with ggml shape ne=[in, out] is stored row-major as a numpy
    array of shape (out, in), so a projection is `x @ W.T`.
  * RoPE: the HF->GGUF converter permutes the rows of Q and K so that GGUF
    `llama` uses ggml rope mode 0 ("normal"): rotate ADJACENT pairs
    (x[2i], x[2i+1]) by pos * base^(-2i/n_rot), applied to the first n_rot
    dims of each head (n_rot = llama.rope.dimension_count, default head_dim).
  * GQA: query head h reads key/value head h // (n_head / n_head_kv).
  * The output head is token_embd.weight when output.weight is absent.

Variants (the Swift LlamaVariant mirrors VARIANTS):
  * qwen2 (llama.cpp src/models/qwen2.cpp): Q, K, V get attn_{q,k,v}.bias
    added right after their projections, before RoPE; RoPE is NeoX style
    (llama_model_rope_type: QWEN2 -> NEOX; the converter does not permute Q/K),
    i.e. rotate (x[i], x[i + n_rot/2]). The sliding window is not applied,
    as in llama.cpp's qwen2 graph.
  * Sliding window (llama, mistral): when <arch>.attention.sliding_window = W
    is present, every layer masks keys outside (p - W, p] for the query at p,
    i.e. the key at p0 is masked when p - p0 >= W. This is Hugging Face's
    Mistral mask (masking_utils.sliding_window_overlay: kv_idx > q_idx - W)
    and llama.cpp's LLAMA_SWA_TYPE_STANDARD. llama.cpp's own `llama` graph
    never applies a window (its converter does not write the key for Mistral).

Library use:
    model = LlamaModel.load(path)
    cache = model.new_cache()
    logits = model.forward(prompt_ids, cache)   # (len(prompt_ids), vocab)

CLI: python3 numpy_llama.py MODEL.gguf --ids 1 2 3 -n 8  (greedy decode)
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import numpy as np
from gguf import GGUFReader
import gguf.quants


@dataclass
class Hyper:
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_ctx: int
    rope_base: float
    n_rot: int
    rms_eps: float
    vocab: int
    rope_neox: bool = False
    n_swa: int = 0           # 0 = no sliding window

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


@dataclass
class Layer:
    attn_norm: np.ndarray
    wq: np.ndarray
    wk: np.ndarray
    wv: np.ndarray
    wo: np.ndarray
    ffn_norm: np.ndarray
    w_gate: np.ndarray
    w_up: np.ndarray
    w_down: np.ndarray
    bq: np.ndarray | None = None
    bk: np.ndarray | None = None
    bv: np.ndarray | None = None


@dataclass
class KVCache:
    """Keys (after RoPE) and values per layer, shape (n_past, n_head_kv, head_dim)."""
    k: list = field(default_factory=list)
    v: list = field(default_factory=list)

    @property
    def n_past(self) -> int:
        return 0 if not self.k else self.k[0].shape[0]


def field_value(reader: GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


def load_tensor(reader: GGUFReader, name: str) -> np.ndarray:
    """Dequantize one tensor to float64 with numpy shape = reversed ggml ne."""
    for t in reader.tensors:
        if t.name == name:
            values = gguf.quants.dequantize(t.data, t.tensor_type)
            shape = tuple(int(n) for n in reversed(t.shape.tolist()))
            return np.asarray(values, dtype=np.float32).reshape(shape).astype(np.float64)
    raise KeyError(name)


def has_tensor(reader: GGUFReader, name: str) -> bool:
    return any(t.name == name for t in reader.tensors)


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    mean_sq = np.mean(x * x, axis=-1, keepdims=True)
    return x / np.sqrt(mean_sq + eps) * weight


def rope_normal(x: np.ndarray, positions: np.ndarray, n_rot: int, base: float) -> np.ndarray:
    """ggml rope mode 0 on x of shape (n_tokens, n_heads, head_dim)."""
    out = x.copy()
    i = np.arange(n_rot // 2, dtype=np.float64)
    inv_freq = base ** (-2.0 * i / n_rot)                      # (n_rot/2,)
    angles = positions.astype(np.float64)[:, None] * inv_freq   # (n_tokens, n_rot/2)
    cos = np.cos(angles)[:, None, :]
    sin = np.sin(angles)[:, None, :]
    x0 = x[..., 0:n_rot:2]
    x1 = x[..., 1:n_rot:2]
    out[..., 0:n_rot:2] = x0 * cos - x1 * sin
    out[..., 1:n_rot:2] = x0 * sin + x1 * cos
    return out


def rope_neox(x: np.ndarray, positions: np.ndarray, n_rot: int, base: float) -> np.ndarray:
    """ggml rope mode 2 (NEOX) on x of shape (n_tokens, n_heads, head_dim)."""
    out = x.copy()
    half = n_rot // 2
    i = np.arange(half, dtype=np.float64)
    inv_freq = base ** (-2.0 * i / n_rot)
    angles = positions.astype(np.float64)[:, None] * inv_freq
    cos = np.cos(angles)[:, None, :]
    sin = np.sin(angles)[:, None, :]
    x0 = x[..., 0:half]
    x1 = x[..., half:n_rot]
    out[..., 0:half] = x0 * cos - x1 * sin
    out[..., half:n_rot] = x0 * sin + x1 * cos
    return out


# architecture -> (NeoX RoPE, Q/K/V biases, honours attention.sliding_window)
VARIANTS = {
    "llama": (False, False, True),
    "mistral": (False, False, True),
    "qwen2": (True, True, False),
}


def silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def round_q8_blocks(x: np.ndarray) -> np.ndarray:
    """Round activations the way ggml's CPU backend does before a quantized
    matmul: per 32-value block, d = amax/127 stored as fp16, q = round(x/d).
    Only used by emulate_ggml (diagnostics), never for the fixtures."""
    shape = x.shape
    b = x.reshape(-1, 32)
    amax = np.abs(b).max(axis=1, keepdims=True)
    d = amax / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
    q = np.round(b * inv)
    d16 = d.astype(np.float16).astype(np.float64)
    return (q * d16).reshape(shape)


def round_f16(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float16).astype(np.float64)


class LlamaModel:
    def __init__(self, hp: Hyper, tok_embd: np.ndarray, layers: list[Layer],
                 out_norm: np.ndarray, output: np.ndarray):
        self.hp = hp
        # Diagnostics only: mimic ggml CPU rounding (Q8 activations before
        # quantized matmuls, fp16 Q/K/V in attention) to show that remaining
        # differences from llama.cpp come from that rounding.
        self.emulate_ggml = False
        self.tok_embd = tok_embd
        self.layers = layers
        self.out_norm = out_norm
        self.output = output
        # Filled by forward(): per-step intermediate values at the last position.
        self.trace: dict = {}

    @staticmethod
    def load(path: str) -> "LlamaModel":
        r = GGUFReader(path)
        arch = field_value(r, "general.architecture")
        if arch not in VARIANTS:
            raise ValueError(f"unsupported architecture {arch!r}")
        neox, biases, swa = VARIANTS[arch]

        def meta(key, default=None):
            return field_value(r, f"{arch}.{key}", default)

        n_embd = int(meta("embedding_length"))
        n_head = int(meta("attention.head_count"))
        tok_embd = load_tensor(r, "token_embd.weight")
        hp = Hyper(
            n_layer=int(meta("block_count")),
            n_embd=n_embd,
            n_head=n_head,
            n_head_kv=int(meta("attention.head_count_kv", n_head)),
            n_ff=int(meta("feed_forward_length")),
            n_ctx=int(meta("context_length")),
            rope_base=float(meta("rope.freq_base", 10000.0)),
            n_rot=int(meta("rope.dimension_count", n_embd // n_head)),
            rms_eps=float(meta("attention.layer_norm_rms_epsilon", 1e-5)),
            vocab=tok_embd.shape[0],
            rope_neox=neox,
            n_swa=int(meta("attention.sliding_window", 0)) if swa else 0,
        )
        layers = []
        for i in range(hp.n_layer):
            p = f"blk.{i}."
            layers.append(Layer(
                attn_norm=load_tensor(r, p + "attn_norm.weight"),
                wq=load_tensor(r, p + "attn_q.weight"),
                wk=load_tensor(r, p + "attn_k.weight"),
                wv=load_tensor(r, p + "attn_v.weight"),
                wo=load_tensor(r, p + "attn_output.weight"),
                ffn_norm=load_tensor(r, p + "ffn_norm.weight"),
                w_gate=load_tensor(r, p + "ffn_gate.weight"),
                w_up=load_tensor(r, p + "ffn_up.weight"),
                w_down=load_tensor(r, p + "ffn_down.weight"),
                bq=load_tensor(r, p + "attn_q.bias") if biases else None,
                bk=load_tensor(r, p + "attn_k.bias") if biases else None,
                bv=load_tensor(r, p + "attn_v.bias") if biases else None,
            ))
        out_norm = load_tensor(r, "output_norm.weight")
        output = load_tensor(r, "output.weight") if has_tensor(r, "output.weight") else tok_embd
        return LlamaModel(hp, tok_embd, layers, out_norm, output)

    def new_cache(self) -> KVCache:
        return KVCache()

    def forward(self, ids: list[int], cache: KVCache) -> np.ndarray:
        """Run len(ids) new tokens at positions n_past.. and return their logits
        (float64, shape (len(ids), vocab)). Updates cache in place."""
        hp = self.hp
        n = len(ids)
        hd = hp.head_dim
        group = hp.n_head // hp.n_head_kv
        n_past = cache.n_past
        positions = np.arange(n_past, n_past + n)
        trace: dict = {"layer_out_last": []}

        x = self.tok_embd[np.asarray(ids, dtype=np.int64)]          # (n, n_embd)
        trace["embedding_last"] = x[-1].copy()
        qa = round_q8_blocks if self.emulate_ggml else (lambda a: a)
        f16 = round_f16 if self.emulate_ggml else (lambda a: a)
        for li, L in enumerate(self.layers):
            h = qa(rms_norm(x, L.attn_norm, hp.rms_eps))
            q, k, v = h @ L.wq.T, h @ L.wk.T, h @ L.wv.T
            if L.bq is not None:
                q, k, v = q + L.bq, k + L.bk, v + L.bv
            q = q.reshape(n, hp.n_head, hd)
            k = k.reshape(n, hp.n_head_kv, hd)
            v = v.reshape(n, hp.n_head_kv, hd)
            rope = rope_neox if hp.rope_neox else rope_normal
            q = f16(rope(q, positions, hp.n_rot, hp.rope_base))
            k = f16(rope(k, positions, hp.n_rot, hp.rope_base))
            v = f16(v)
            if len(cache.k) <= li:
                cache.k.append(k)
                cache.v.append(v)
            else:
                cache.k[li] = np.concatenate([cache.k[li], k], axis=0)
                cache.v[li] = np.concatenate([cache.v[li], v], axis=0)
            keys, values = cache.k[li], cache.v[li]                    # (n_kv_tok, n_head_kv, hd)
            n_kv_tok = keys.shape[0]
            # Causal mask: query at position p sees keys at positions <= p,
            # and with a sliding window W only those with p - key < W.
            key_pos = np.arange(n_kv_tok)
            mask = key_pos[None, :] > positions[:, None]              # (n, n_kv_tok)
            if hp.n_swa > 0:
                mask |= (positions[:, None] - key_pos[None, :]) >= hp.n_swa
            attn = np.empty((n, hp.n_head, hd))
            scale = 1.0 / np.sqrt(hd)
            for head in range(hp.n_head):
                kvh = head // group
                scores = (q[:, head, :] @ keys[:, kvh, :].T) * scale   # (n, n_kv_tok)
                scores = np.where(mask, -np.inf, scores)
                scores = scores - scores.max(axis=-1, keepdims=True)
                p = np.exp(scores)
                p /= p.sum(axis=-1, keepdims=True)
                attn[:, head, :] = p @ values[:, kvh, :]
            x = x + qa(attn.reshape(n, hp.n_embd)) @ L.wo.T
            h = qa(rms_norm(x, L.ffn_norm, hp.rms_eps))
            ff = silu(h @ L.w_gate.T) * (h @ L.w_up.T)
            x = x + qa(ff) @ L.w_down.T
            trace["layer_out_last"].append(x[-1].copy())
        h = rms_norm(x, self.out_norm, hp.rms_eps)
        trace["final_norm_last"] = h[-1].copy()
        self.trace = trace
        return qa(h) @ self.output.T

    def greedy(self, prompt_ids: list[int], n_new: int) -> tuple[list[int], np.ndarray]:
        """Greedy-decode n_new tokens. Returns (new ids, logits that chose the first one)."""
        cache = self.new_cache()
        logits = self.forward(prompt_ids, cache)[-1]
        first_logits = logits.copy()
        out = []
        for _ in range(n_new):
            tok = int(np.argmax(logits))
            out.append(tok)
            if len(out) == n_new:
                break
            logits = self.forward([tok], cache)[-1]
        return out, first_logits


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--ids", type=int, nargs="+", required=True)
    ap.add_argument("-n", type=int, default=8)
    args = ap.parse_args()
    model = LlamaModel.load(args.model)
    print(model.hp)
    ids, logits = model.greedy(args.ids, args.n)
    print("greedy:", ids)
    top = np.argsort(-logits)[:5]
    print("top5 first:", [(int(i), float(logits[i])) for i in top])


if __name__ == "__main__":
    main()
