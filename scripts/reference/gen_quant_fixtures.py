#!/usr/bin/env python3
"""Write Tests/Fixtures/quant/quant_fixtures.json: raw ggml blocks and their
float32 dequantization as computed by gguf-py (gguf.quants.dequantize).

Each case is {"type", "ggml_type", "n_elements", "source", "raw_b64",
"expected_b64"} where expected_b64 holds little-endian float32 values.

Raw blocks are seeded random bytes, except that the fp16 scale/min fields are
overwritten with finite fp16 values (including zero, negative and subnormal
scales). With finite scales every product in the reference dequantizers is
exact in float32 (fp16 mantissa x small integers fits in 24 bits), so a
correct implementation must match bit for bit, FMA or not.

For Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 a second case holds gguf.quants.quantize of
random normal floats, so realistic blocks are covered too.

Usage: python3 scripts/reference/gen_quant_fixtures.py [--out PATH]
"""

import argparse
import base64
import json
import os

import numpy as np
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType
import gguf.quants

# Byte offsets of the fp16 scale (and min) fields inside one block, taken
# from the ggml block structs (block_q4_1 = {d, m, qs[16]}, block_q2_K =
# {scales[16], qs[64], d, dmin}, block_q6_K = {ql, qh, scales, d}, ...).
FP16_FIELDS = {
    "Q8_0": [0],
    "Q4_0": [0],
    "Q4_1": [0, 2],
    "Q5_0": [0],
    "Q5_1": [0, 2],
    "Q2_K": [80, 82],
    "Q3_K": [108],
    "Q4_K": [0, 2],
    "Q5_K": [0, 2],
    "Q6_K": [208],
}

BLOCKS_PER_TYPE = {"Q8_0": 8, "Q4_0": 8, "Q4_1": 8, "Q5_0": 8, "Q5_1": 8,
                   "Q2_K": 4, "Q3_K": 4, "Q4_K": 4, "Q5_K": 4, "Q6_K": 4}

QUANTIZE_TYPES = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def random_scale(rng: np.random.Generator, block: int, field: int) -> np.float16:
    """A finite fp16 scale; block 0 gets zero, block 1 a negative value and
    block 2 a subnormal one, so those paths are always covered."""
    if block == 0 and field == 0:
        return np.float16(0.0)
    if block == 2 and field == 0:
        return np.float16(np.float32(2.0 ** -20) * 3)  # fp16 subnormal
    magnitude = 10.0 ** rng.uniform(-4.0, 0.0)
    sign = -1.0 if (block == 1 or rng.random() < 0.3) else 1.0
    value = np.float16(sign * magnitude)
    assert np.isfinite(value)
    return value


def random_blocks_case(rng: np.random.Generator, name: str) -> dict:
    qtype = GGMLQuantizationType[name]
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    n_blocks = BLOCKS_PER_TYPE[name]
    raw = rng.integers(0, 256, size=n_blocks * type_size, dtype=np.uint8)
    for b in range(n_blocks):
        for f, offset in enumerate(FP16_FIELDS[name]):
            start = b * type_size + offset
            raw[start:start + 2] = np.frombuffer(random_scale(rng, b, f).tobytes(), dtype=np.uint8)
    expected = gguf.quants.dequantize(raw, qtype).astype("<f4").reshape(-1)
    assert expected.size == n_blocks * block_size
    assert np.all(np.isfinite(expected))
    return {"type": name, "ggml_type": int(qtype), "n_elements": int(expected.size),
            "source": "random_bytes", "raw_b64": b64(raw.tobytes()),
            "expected_b64": b64(expected.tobytes())}


def quantized_case(rng: np.random.Generator, name: str) -> dict:
    qtype = GGMLQuantizationType[name]
    block_size, _ = GGML_QUANT_SIZES[qtype]
    n = 8 * block_size
    values = rng.standard_normal(n).astype(np.float32)
    raw = gguf.quants.quantize(values, qtype).astype(np.uint8).reshape(-1)
    expected = gguf.quants.dequantize(raw, qtype).astype("<f4").reshape(-1)
    return {"type": name, "ggml_type": int(qtype), "n_elements": n,
            "source": "quantized_normal", "raw_b64": b64(raw.tobytes()),
            "expected_b64": b64(expected.tobytes())}


def half_case(rng: np.random.Generator, name: str) -> dict:
    """F16 / BF16: random non-NaN bit patterns plus special values."""
    qtype = GGMLQuantizationType[name]
    if name == "F16":
        specials = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF,
                    0x7C00, 0xFC00, 0x3C00, 0xBC00, 0x3555, 0x0200, 0x8200, 0x5640]
        exp_mask, mant_mask = 0x7C00, 0x03FF
    else:
        specials = [0x0000, 0x8000, 0x0001, 0x8001, 0x007F, 0x0080, 0x7F7F, 0xFF7F,
                    0x7F80, 0xFF80, 0x3F80, 0xBF80, 0x3EAB, 0x0040, 0x8040, 0x4049]
        exp_mask, mant_mask = 0x7F80, 0x007F
    bits = list(specials)
    while len(bits) < 64:
        v = int(rng.integers(0, 1 << 16))
        if (v & exp_mask) == exp_mask and (v & mant_mask) != 0:
            continue  # NaN: skip, NaN != NaN would make exact comparison awkward
        bits.append(v)
    raw = np.array(bits, dtype="<u2").view(np.uint8)
    expected = gguf.quants.dequantize(raw, qtype).astype("<f4").reshape(-1)
    assert not np.any(np.isnan(expected))
    return {"type": name, "ggml_type": int(qtype), "n_elements": len(bits),
            "source": "bit_patterns", "raw_b64": b64(raw.tobytes()),
            "expected_b64": b64(expected.tobytes())}


def main() -> None:
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(root, "Tests/Fixtures/quant/quant_fixtures.json"))
    parser.add_argument("--seed", type=int, default=20240611)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    cases = [half_case(rng, "F16"), half_case(rng, "BF16")]
    for name in ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]:
        cases.append(random_blocks_case(rng, name))
    for name in QUANTIZE_TYPES:
        try:
            cases.append(quantized_case(rng, name))
        except NotImplementedError:
            print(f"gguf cannot quantize {name}; skipped")

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases, {os.path.getsize(args.out)} bytes -> {args.out}")


if __name__ == "__main__":
    main()
