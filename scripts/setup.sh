#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv.
# torch is pinned first: an unpinned torch would pull a multi-GB CUDA build on a
# CPU-only machine. Users with a GPU can install their own CUDA build of torch.
set -euo pipefail
cd "$(dirname "$0")/.."
# pip tried again, twice, after a failed install: its own retries cover a
# refused connection, not a download cut off half-way (a whole install fails)
retry() { "$@" || { sleep 10 && "$@"; } || { sleep 30 && "$@"; }; }
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
retry .venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -c "import torch" 2>/dev/null \
    || retry .venv/bin/python -m pip install --quiet "torch==2.13.0"
retry .venv/bin/python -m pip install --quiet -e ".[dev]"
# The package's modules compiled once, as pip compiles a package it installs
# (an editable install is left as source): each process that imports the
# package (an mmer command, every worker of a run) reads them compiled, where
# it would otherwise compile them again each time PYTHONDONTWRITEBYTECODE is set.
.venv/bin/python -m compileall -q sklearn_mmer
# The pooling kernels compiled once into numba's cache, likewise: the first
# pooling after an install compiles them (about 20 s in all), and until the
# cache holds them every process that pools compiles them again (each worker
# of a test run or of a first parallel run). librosa's kernels likewise (the
# audio extra's; librosa compiles them at import, about 11 s): each process
# that extracts spectral frames would compile them until the cache held them.
.venv/bin/python -c "from sklearn_mmer.preprocessing._pooling import compile_kernels
compile_kernels()
from sklearn_mmer.extraction._spectral import compile_kernels
compile_kernels()"
