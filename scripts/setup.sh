#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv.
# torch is pinned first: an unpinned torch would pull a multi-GB CUDA build on a
# CPU-only machine. Users with a GPU can install their own CUDA build of torch.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_install.sh  # retry, compile_once
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
retry .venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -c "import torch" 2>/dev/null \
    || retry .venv/bin/python -m pip install --quiet "torch==2.13.0"
retry .venv/bin/python -m pip install --quiet -e ".[dev]"
# modules, pooling kernels and librosa's kernels compiled once (_install.sh)
compile_once .venv/bin/python
