#!/usr/bin/env bash
# Build the HTML documentation into docs/_build/html, warnings as errors.
# Runs the gallery examples (a few minutes on two CPU cores); pass
# -D plot_gallery=0 to skip running them, and any other sphinx-build option.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# one torch thread: the examples' networks are small, and idle threads spinning
# on a busy machine cost more than they gain
export MPLBACKEND=Agg OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
exec "$PYTHON" -m sphinx -W --keep-going -b html -j 1 "$@" docs docs/_build/html
