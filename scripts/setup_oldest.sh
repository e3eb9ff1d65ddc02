#!/usr/bin/env bash
# Create (or refresh) .venv-oldest: the project with the oldest dependency
# releases it claims to support (scripts/oldest-constraints.txt), so that the
# test suite also runs against them. torch is pinned first, as in setup.sh: an
# unpinned torch would pull a multi-GB CUDA build on a CPU-only machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_install.sh  # retry, compile_once
PYTHON=${PYTHON:-python3}
VENV=.venv-oldest
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
retry "$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -c "import torch" 2>/dev/null \
    || retry "$VENV/bin/python" -m pip install --quiet "torch==2.13.0"
retry "$VENV/bin/python" -m pip install --quiet \
    -c scripts/oldest-constraints.txt -e ".[dev]"
# compiled once, as in setup.sh (numba's cache holds one numba release's
# kernels: this run's pooling kernels replace setup.sh's; librosa's are this
# environment's own)
compile_once "$VENV/bin/python"
