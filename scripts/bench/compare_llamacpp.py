#!/usr/bin/env python3
"""Side-by-side prefill and decode speed: swiftllm against llama.cpp's llama-bench.

Same model file, same thread count, runs interleaved in one invocation so both see the same
machine state. Prints a markdown table for docs/PERFORMANCE.md.

    python3 scripts/bench/compare_llamacpp.py [--model PATH] [--threads 2] [--pp 128] [--tg 64] [--reps 3]

llama-bench runs with --repack 0: on machines whose CPU reports AMX but whose kernel does not
grant it (this VM), ggml's AMX path dies with SIGILL, and Q4_1 has no CPU repack anyway.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def llama_bench(path, model, threads, pp, tg):
    out = subprocess.run([path, "-m", model, "-t", str(threads), "-p", str(pp), "-n", str(tg), "-r", "1",
                          "--repack", "0", "-o", "json"], check=True, capture_output=True, text=True).stdout
    rows = json.loads(out)
    pp_ts = next(r["avg_ts"] for r in rows if r["n_prompt"] > 0)
    tg_ts = next(r["avg_ts"] for r in rows if r["n_gen"] > 0)
    return pp_ts, tg_ts


def swiftllm(path, model, threads, pp, tg):
    # " the" is one token in gpt2-style vocabularies: a prompt of exactly pp tokens.
    prompt = "the" + " the" * (pp - 1)
    out = subprocess.run([path, "generate", "-m", model, "-t", str(threads), "-n", str(tg + 1), "--temperature", "0",
                          "--ignore-eos", "--json", prompt], check=True, capture_output=True, text=True).stdout
    t = json.loads(out)["timings"]
    assert t["prompt_tokens"] == pp, f"prompt has {t['prompt_tokens']} tokens, wanted {pp}"
    return t["prompt_tokens"] / (t["prompt_ms"] / 1000), t["decode_tokens_per_second"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.expanduser(os.environ.get("SWIFTLLM_CACHE", "~/.cache/swiftllm")) + "/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pp", type=int, default=128)
    ap.add_argument("--tg", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--swiftllm", default=os.path.join(ROOT, ".build/release/swiftllm"))
    a = ap.parse_args()
    lb = subprocess.run([os.path.join(ROOT, "scripts/reference/llama_bin.sh"), "llama-bench"], check=True,
                        capture_output=True, text=True).stdout.strip()
    ours, theirs = [], []
    for _ in range(a.reps):
        theirs.append(llama_bench(lb, a.model, a.threads, a.pp, a.tg))
        ours.append(swiftllm(a.swiftllm, a.model, a.threads, a.pp, a.tg))
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    print(f"| engine | pp{a.pp} tok/s | tg{a.tg} tok/s |")
    print("|---|---:|---:|")
    print(f"| swiftllm ({a.threads} threads) | {med(ours, 0):.1f} | {med(ours, 1):.1f} |")
    print(f"| llama.cpp llama-bench ({a.threads} threads) | {med(theirs, 0):.1f} | {med(theirs, 1):.1f} |")
    print(f"| ratio swiftllm / llama.cpp | {med(ours, 0) / med(theirs, 0):.2f} | {med(ours, 1) / med(theirs, 1):.2f} |")
    print(f"\nmedian of {a.reps} interleaved runs; raw: swiftllm {ours}, llama.cpp {theirs}", file=sys.stderr)


if __name__ == "__main__":
    main()
