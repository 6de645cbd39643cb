#!/usr/bin/env python3
"""A plain numpy forward pass of the GGUF `gemma3` architecture (text only).

The reference the Swift Gemma3Model is checked against. Like numpy_llama.py it
favours clarity over speed: every weight is dequantized once with gguf-py and
the math runs in float64.

It follows llama.cpp's graph (src/models/gemma3.cpp, llm_build_gemma3<iswa>,
and the LLM_ARCH_GEMMA3 hparams in llama-model.cpp), step by step:

  x = token_embd[ids] * sqrt(n_embd)                  # embeddings scaled
  per layer il:
    h = rmsnorm(x) * attn_norm
    q, k, v = h @ Wq.T, h @ Wk.T, h @ Wv.T             # per head: (n_head|n_head_kv, head_dim)
    q = rmsnorm_per_head(q) * attn_q_norm; k likewise with attn_k_norm
    q, k = rope_neox(q), rope_neox(k)                   # base 1e6 global / 10000 local
    q *= f_attention_scale                              # 1/sqrt(head_dim), kq_scale 1 after
    a = softmax(q k^T + mask) v                         # MQA: every head reads kv head 0
    x = x + rmsnorm(a @ Wo.T) * post_attention_norm
    h = rmsnorm(x) * ffn_norm
    x = x + rmsnorm((gelu_tanh(h @ Wgate.T) * (h @ Wup.T)) @ Wdown.T) * post_ffw_norm
  logits = (rmsnorm(x) * output_norm) @ output.T       # output = token_embd (tied)

Details that matter (checked against llama.cpp source):
  * Layer il is sliding-window ("local") unless (il + 1) % 6 == 0
    (hparams.set_swa_pattern(6)); only when the file has
    gemma3.attention.sliding_window > 0, otherwise every layer is global.
  * Local layers use rope base 10000 and scale 1 (rope_freq_base_train_swa,
    not in the file); global layers use gemma3.rope.freq_base (and a linear
    rope.scaling.factor if the file says so).
  * Sliding window (LLAMA_SWA_TYPE_STANDARD): the key at p0 is masked for
    the query at p1 when p1 - p0 >= n_swa, so a query sees n_swa keys,
    itself included.
  * RoPE is NeoX style (llama_model_rope_type: GEMMA3 -> NEOX): rotate the
    pairs (x[i], x[i + n_rot/2]) by pos * base^(-2i/n_rot); n_rot defaults to
    head_dim (256).
  * f_attention_scale = 1/sqrt(head_dim) except for the 27B (62 layers),
    which uses 1/sqrt(n_embd / n_head).
  * The converter already stored Gemma's (1 + w) in every norm weight
    (attn_norm, q/k norms, post norms, output_norm), so weights are used as is.
  * GeGLU: llama.cpp's build_ffn(LLM_FFN_GELU, LLM_FFN_PAR) is
    ggml_geglu_split(gate, up) = gelu_tanh(gate) * up.
  * Final logit soft-capping: llama.cpp applies f_final_logit_softcapping
    only in the non-SWA graph (llm_build_gemma3<false>); the sliding-window
    graph never soft-caps. Gemma 3 files carry no such key anyway; this
    reference follows llama.cpp.

Library use:
    model = Gemma3Model.load(path)
    cache = model.new_cache()
    logits = model.forward(prompt_ids, cache)   # (1, vocab): last position only by default

CLI: python3 numpy_gemma3.py MODEL.gguf --ids 2 818 5279 -n 8  (greedy decode)
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import numpy as np
from gguf import GGUFReader
import gguf.quants

from numpy_llama import KVCache, field_value, rms_norm, round_f16, round_q8_blocks

# llama-model.cpp, LLM_ARCH_GEMMA3: hparams.set_swa_pattern(6), rope_freq_base_train_swa = 10000.
SWA_PATTERN = 6
LOCAL_ROPE_BASE = 10000.0


@dataclass
class Hyper:
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    n_ctx: int
    rope_base: float         # global layers
    rope_scale: float        # global layers (linear scaling factor; 1 = none)
    n_rot: int
    rms_eps: float
    n_swa: int               # 0 = no sliding-window layers
    softcap: float           # final logit soft-capping (0 = off)
    vocab: int

    def is_local(self, il: int) -> bool:
        return self.n_swa > 0 and (il + 1) % SWA_PATTERN != 0

    @property
    def attention_scale(self) -> float:
        if self.n_layer == 62:  # Gemma 3 27B: gemma_pytorch's query_pre_attn_scalar = n_embd / n_head
            return 1.0 / math.sqrt(self.n_embd / self.n_head)
        return 1.0 / math.sqrt(self.head_dim)


@dataclass
class Layer:
    attn_norm: np.ndarray    # (n_embd,)
    wq: np.ndarray           # (n_head * head_dim, n_embd)
    wk: np.ndarray           # (n_head_kv * head_dim, n_embd)
    wv: np.ndarray           # (n_head_kv * head_dim, n_embd)
    q_norm: np.ndarray       # (head_dim,)
    k_norm: np.ndarray       # (head_dim,)
    wo: np.ndarray           # (n_embd, n_head * head_dim)
    post_attn_norm: np.ndarray
    ffn_norm: np.ndarray
    w_gate: np.ndarray       # (n_ff, n_embd)
    w_up: np.ndarray         # (n_ff, n_embd)
    w_down: np.ndarray       # (n_embd, n_ff)
    post_ffn_norm: np.ndarray
    types: dict              # weight name -> ggml type name (for emulate_ggml)


def rope_neox(x: np.ndarray, positions: np.ndarray, n_rot: int, base: float, scale: float = 1.0) -> np.ndarray:
    """ggml rope mode NEOX on x of shape (n_tokens, n_heads, head_dim): the pair
    (x[i], x[i + n_rot/2]) rotates by (pos * scale) * base^(-2i/n_rot)."""
    out = x.copy()
    half = n_rot // 2
    i = np.arange(half, dtype=np.float64)
    inv_freq = base ** (-2.0 * i / n_rot)                                 # (n_rot/2,)
    angles = (positions.astype(np.float64) * scale)[:, None] * inv_freq   # (n_tokens, n_rot/2)
    cos = np.cos(angles)[:, None, :]
    sin = np.sin(angles)[:, None, :]
    x0 = x[..., :half]
    x1 = x[..., half:n_rot]
    out[..., :half] = x0 * cos - x1 * sin
    out[..., half:n_rot] = x0 * sin + x1 * cos
    return out


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GELU, tanh approximation (ggml_gelu, gelu_pytorch_tanh)."""
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu_ggml_f16(x: np.ndarray) -> np.ndarray:
    """ggml CPU's GELU with GGML_GELU_FP16: 0 below -10, identity above 10, else
    the tanh GELU of the fp16-rounded input, rounded to fp16 (its lookup table).
    Diagnostics only (emulate_ggml)."""
    y = round_f16(gelu_tanh(round_f16(x)))
    return np.where(x <= -10.0, 0.0, np.where(x >= 10.0, x, y))


def round_q8k_blocks(x: np.ndarray) -> np.ndarray:
    """Activation rounding before a K-quant matmul (ggml quantize_row_q8_K): per
    256-value block, the value of largest magnitude maps to -127 (scale kept in
    float32), q = round(x * iscale) clamped to 127. Diagnostics only."""
    shape = x.shape
    b = x.reshape(-1, 256).astype(np.float32)
    idx = np.argmax(np.abs(b), axis=1)
    mx = b[np.arange(b.shape[0]), idx][:, None]
    safe = np.where(mx == 0, np.float32(1), mx)
    iscale = np.float32(-127.0) / safe
    q = np.minimum(np.float32(127), np.rint(iscale * b))
    d = (np.float32(1.0) / iscale).astype(np.float64)
    return np.where(mx == 0, 0.0, q.astype(np.float64) * d).reshape(shape)


def round_blocks_f32_scale(x: np.ndarray, block: int) -> np.ndarray:
    """SwiftLLM's activation rounding (CKernels ck_quantize_q8 / ck_quantize_q8_K):
    per block, d = amax / 127 in float32 (not fp16), q = rint(x * (1/d)).
    Diagnostics only."""
    shape = x.shape
    b = x.reshape(-1, block).astype(np.float32)
    amax = np.abs(b).max(axis=1, keepdims=True)
    d = amax / np.float32(127.0)
    inv = np.where(d != 0, np.float32(1.0) / np.where(d != 0, d, np.float32(1)), np.float32(0))
    q = np.rint(b * inv)
    return (q.astype(np.float64) * d.astype(np.float64)).reshape(shape)


K_QUANTS = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"}


def load_tensor_typed(reader: GGUFReader, name: str) -> tuple[np.ndarray, str]:
    """Dequantize one tensor (numpy shape = reversed ggml ne). Returns
    (float64 array, ggml type name). Large tensors stay float32 in memory:
    their values are exact float32 numbers, widened where they are used."""
    for t in reader.tensors:
        if t.name == name:
            values = gguf.quants.dequantize(t.data, t.tensor_type)
            shape = tuple(int(n) for n in reversed(t.shape.tolist()))
            arr = np.asarray(values, dtype=np.float32).reshape(shape)
            if arr.size < 50_000_000:
                arr = arr.astype(np.float64)
            return arr, t.tensor_type.name
    raise KeyError(f"tensor {name} is missing")


class Gemma3Model:
    def __init__(self, hp: Hyper, tok_embd: np.ndarray, tok_embd_type: str, layers: list[Layer],
                 out_norm: np.ndarray, output: np.ndarray, output_type: str):
        self.hp = hp
        # Diagnostics only: mimic ggml CPU rounding (Q8_0 activations before
        # Q4_0/Q5_0/Q8_0 matmuls, Q8_K before K-quant matmuls, fp16 Q/K/V in
        # attention, the fp16 GELU table) to show remaining differences from
        # llama.cpp are rounding.
        self.emulate_ggml = False
        # Diagnostics only: mimic SwiftLLM's rounding instead: int8 activations
        # (float32 block scales) before every matmul of prompt rows, and before
        # K-quant matmuls of decode rows (Q4_0..Q8_0 have float-activation
        # kernels for decode rows); the output head and attention stay float.
        self.emulate_swift = False
        self.tok_embd = tok_embd          # (vocab, n_embd) float32
        self.tok_embd_type = tok_embd_type
        self.layers = layers
        self.out_norm = out_norm
        self.output = output              # (vocab, n_embd) float32, tied to tok_embd here
        self.output_type = output_type
        # Filled by forward(): intermediate values at the last position.
        self.trace: dict = {}

    @staticmethod
    def load(path: str) -> "Gemma3Model":
        r = GGUFReader(path)
        arch = field_value(r, "general.architecture")
        if arch != "gemma3":
            raise ValueError(f"unsupported architecture {arch!r}")

        def meta(key, default=None):
            return field_value(r, f"gemma3.{key}", default)

        n_embd = int(meta("embedding_length"))
        n_head = int(meta("attention.head_count"))
        head_dim = int(meta("attention.key_length", n_embd // n_head))
        tok_embd, tok_type = load_tensor_typed(r, "token_embd.weight")
        scale = 1.0
        if field_value(r, "gemma3.rope.scaling.type") == "linear":
            scale = 1.0 / float(meta("rope.scaling.factor", 1.0))
        hp = Hyper(
            n_layer=int(meta("block_count")),
            n_embd=n_embd,
            n_head=n_head,
            n_head_kv=int(meta("attention.head_count_kv", n_head)),
            head_dim=head_dim,
            n_ff=int(meta("feed_forward_length")),
            n_ctx=int(meta("context_length")),
            rope_base=float(meta("rope.freq_base", 10000.0)),
            rope_scale=scale,
            n_rot=int(meta("rope.dimension_count", head_dim)),
            rms_eps=float(meta("attention.layer_norm_rms_epsilon", 1e-6)),
            n_swa=int(meta("attention.sliding_window", 0)),
            softcap=float(meta("final_logit_softcapping", 0.0)),
            vocab=tok_embd.shape[0],
        )
        layers = []
        for i in range(hp.n_layer):
            p = f"blk.{i}."
            w, types = {}, {}
            for key, name in [("attn_norm", "attn_norm"), ("wq", "attn_q"), ("wk", "attn_k"),
                              ("wv", "attn_v"), ("q_norm", "attn_q_norm"), ("k_norm", "attn_k_norm"),
                              ("wo", "attn_output"), ("post_attn_norm", "post_attention_norm"),
                              ("ffn_norm", "ffn_norm"), ("w_gate", "ffn_gate"), ("w_up", "ffn_up"),
                              ("w_down", "ffn_down"), ("post_ffn_norm", "post_ffw_norm")]:
                w[key], types[key] = load_tensor_typed(r, p + name + ".weight")
            layers.append(Layer(types=types, **w))
        out_norm, _ = load_tensor_typed(r, "output_norm.weight")
        if any(t.name == "output.weight" for t in r.tensors):
            output, out_type = load_tensor_typed(r, "output.weight")
        else:
            output, out_type = tok_embd, tok_type
        return Gemma3Model(hp, tok_embd, tok_type, layers, out_norm, output, out_type)

    def new_cache(self) -> KVCache:
        return KVCache()

    def _project(self, x: np.ndarray, w: np.ndarray, wtype: str, decode: bool = False,
                 head: bool = False) -> np.ndarray:
        """x @ w.T, with ggml's or SwiftLLM's activation rounding when emulating."""
        if self.emulate_ggml:
            x = round_q8k_blocks(x) if wtype in K_QUANTS else round_q8_blocks(x)
        elif self.emulate_swift and not head and wtype != "F32":
            if wtype in K_QUANTS:
                x = round_blocks_f32_scale(x, 256)
            elif not decode:
                x = round_blocks_f32_scale(x, 32)
        if w.dtype == np.float32:  # the big tied head: widen in chunks of rows
            out = np.empty((x.shape[0], w.shape[0]))
            for s in range(0, w.shape[0], 32768):
                out[:, s:s + 32768] = x @ w[s:s + 32768].astype(np.float64).T
            return out
        return x @ w.T

    def forward(self, ids: list[int], cache: KVCache, all_logits: bool = False,
                decode: bool = False) -> np.ndarray:
        """Run len(ids) new tokens at positions n_past.. and return the logits of
        the last one (shape (1, vocab)), or of all of them with all_logits.
        Updates cache in place. `decode` marks generated tokens fed back (only
        emulate_swift rounds them differently)."""
        hp = self.hp
        positions = np.arange(cache.n_past, cache.n_past + len(ids))
        self.trace = {"layer_out_last": [], "q_last": [], "k_last": [], "v_last": [], "attn_last": []}

        x = self.tok_embd[np.asarray(ids, dtype=np.int64)].astype(np.float64)   # (n, n_embd)
        x = x * math.sqrt(hp.n_embd)
        self.trace["embedding_last"] = x[-1].copy()
        for li in range(hp.n_layer):
            x = self.block(li, x, positions, cache, decode)
            self.trace["layer_out_last"].append(x[-1].copy())

        rows = x if all_logits else x[-1:]
        h = rms_norm(rows, self.out_norm, hp.rms_eps)
        self.trace["final_norm_last"] = h[-1].copy()
        logits = self._project(h, self.output, self.output_type, decode, head=True)
        if hp.softcap > 0 and hp.n_swa == 0:  # llama.cpp soft-caps only in the non-SWA graph
            logits = hp.softcap * np.tanh(logits / hp.softcap)
        return logits

    def block(self, li: int, x: np.ndarray, positions: np.ndarray, cache: KVCache,
              decode: bool = False) -> np.ndarray:
        """Layer li on the residual stream x (n, n_embd) of tokens at `positions`
        (the next ones after the cache's); returns the new residual stream and
        appends this layer's keys and values to the cache."""
        hp, L = self.hp, self.layers[li]
        n, hd = x.shape[0], hp.head_dim
        group = hp.n_head // hp.n_head_kv
        local = hp.is_local(li)
        base = LOCAL_ROPE_BASE if local else hp.rope_base
        rscale = 1.0 if local else hp.rope_scale
        f16 = round_f16 if self.emulate_ggml else (lambda a: a)
        gelu = gelu_ggml_f16 if self.emulate_ggml else gelu_tanh
        trace = self.trace

        h = rms_norm(x, L.attn_norm, hp.rms_eps)
        q = self._project(h, L.wq, L.types["wq"], decode).reshape(n, hp.n_head, hd)
        k = self._project(h, L.wk, L.types["wk"], decode).reshape(n, hp.n_head_kv, hd)
        v = self._project(h, L.wv, L.types["wv"], decode).reshape(n, hp.n_head_kv, hd)
        q = rms_norm(q, L.q_norm, hp.rms_eps)       # per head, over head_dim
        k = rms_norm(k, L.k_norm, hp.rms_eps)
        q = rope_neox(q, positions, hp.n_rot, base, rscale)
        k = rope_neox(k, positions, hp.n_rot, base, rscale)
        trace.setdefault("q_last", []).append(q[-1].reshape(-1).copy())
        trace.setdefault("k_last", []).append(k[-1].reshape(-1).copy())
        trace.setdefault("v_last", []).append(v[-1].reshape(-1).copy())
        q = q * hp.attention_scale
        q, k, v = f16(q), f16(k), f16(v)
        if len(cache.k) <= li:
            cache.k.append(k)
            cache.v.append(v)
        else:
            cache.k[li] = np.concatenate([cache.k[li], k], axis=0)
            cache.v[li] = np.concatenate([cache.v[li], v], axis=0)
        keys, values = cache.k[li], cache.v[li]                 # (n_kv_tok, n_head_kv, hd)
        key_pos = np.arange(keys.shape[0])
        # Causal mask, plus the sliding window on local layers.
        mask = key_pos[None, :] > positions[:, None]             # (n, n_kv_tok)
        if local:
            mask |= (positions[:, None] - key_pos[None, :]) >= hp.n_swa
        attn = np.empty((n, hp.n_head, hd))
        for head in range(hp.n_head):
            kvh = head // group
            scores = q[:, head, :] @ keys[:, kvh, :].T            # kq_scale 1: q already scaled
            scores = np.where(mask, -np.inf, scores)
            scores = scores - scores.max(axis=-1, keepdims=True)
            p = np.exp(scores)
            p /= p.sum(axis=-1, keepdims=True)
            attn[:, head, :] = p @ values[:, kvh, :]
        trace.setdefault("attn_last", []).append(attn[-1].reshape(-1).copy())
        a = self._project(attn.reshape(n, hp.n_head * hd), L.wo, L.types["wo"], decode)
        x = x + rms_norm(a, L.post_attn_norm, hp.rms_eps)

        h = rms_norm(x, L.ffn_norm, hp.rms_eps)
        gate = self._project(h, L.w_gate, L.types["w_gate"], decode)
        up = self._project(h, L.w_up, L.types["w_up"], decode)
        ff = self._project(gelu(gate) * up, L.w_down, L.types["w_down"], decode)
        return x + rms_norm(ff, L.post_ffn_norm, hp.rms_eps)

    def greedy(self, prompt_ids: list[int], n_new: int) -> tuple[list[int], np.ndarray]:
        """Greedy-decode n_new tokens (never stopping at EOS). Returns (new ids,
        logits that chose the first one)."""
        cache = self.new_cache()
        logits = self.forward(prompt_ids, cache)[-1]
        first_logits = logits.copy()
        out = []
        for _ in range(n_new):
            tok = int(np.argmax(logits))
            out.append(tok)
            if len(out) == n_new:
                break
            logits = self.forward([tok], cache, decode=True)[-1]
        return out, first_logits


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--ids", type=int, nargs="+", required=True)
    ap.add_argument("-n", type=int, default=8)
    ap.add_argument("--emulate-ggml", action="store_true")
    ap.add_argument("--emulate-swift", action="store_true")
    args = ap.parse_args()
    model = Gemma3Model.load(args.model)
    model.emulate_ggml = args.emulate_ggml
    model.emulate_swift = args.emulate_swift
    print(model.hp)
    ids, logits = model.greedy(args.ids, args.n)
    print("greedy:", ids)
    top = np.argsort(-logits)[:5]
    print("top5 first:", [(int(i), float(logits[i])) for i in top])


if __name__ == "__main__":
    main()
