#!/usr/bin/env bash
# Installs PyTorch into a venv before the rest of the course, choosing the build the machine can use.
#
#   scripts/install-torch.sh PYTHON            install (PYTHON: the venv's interpreter)
#   scripts/install-torch.sh --dry-run PYTHON  print the pip command it would run (or why none), change nothing
#
# PyPI's default Linux torch bundles the CUDA libraries (about 6 GB installed); a machine without
# an NVIDIA GPU cannot use them. So, in this order:
#   1. TORCH_INDEX_URL set: install torch from that index (empty: from PyPI, pip's default).
#   2. torch already importable by PYTHON: keep it (a re-run never swaps a working torch).
#   3. PIP_CONSTRAINT names torch (as CI's .ci/constraints-cpu.txt does): no step here; the
#      constraint decides, when the course itself is installed.
#   4. Linux with a working `nvidia-smi`: PyPI's default (CUDA) build.
#   5. Linux without one: the CPU build from PyTorch's CPU index (about 0.7 GB for torch).
#   6. macOS and others: PyPI's default, which is already CPU/MPS only.
set -euo pipefail

CPU_INDEX=https://download.pytorch.org/whl/cpu
# Keep in step with the torch requirement in pyproject.toml (tests/test_setup_files.py checks).
REQUIREMENT="torch>=2.2"

dry=0
if [ "${1:-}" = "--dry-run" ]; then dry=1; shift; fi
PY=${1:?usage: scripts/install-torch.sh [--dry-run] PYTHON}

say() { echo "torch: $*" >&2; }

run() {
  printf '%q -m pip install' "$PY"; printf ' %q' "$@"; echo
  if [ $dry -eq 0 ]; then "$PY" -m pip install "$@"; fi
}

if [ -n "${TORCH_INDEX_URL+set}" ]; then
  if [ -n "$TORCH_INDEX_URL" ]; then
    say "from TORCH_INDEX_URL=$TORCH_INDEX_URL"
    run "$REQUIREMENT" --index-url "$TORCH_INDEX_URL"
  else
    say "TORCH_INDEX_URL is empty: PyPI's default build"
    run "$REQUIREMENT"
  fi
  exit 0
fi

if version=$("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null); then
  say "keeping torch $version, already installed"
  exit 0
fi

if [ -n "${PIP_CONSTRAINT:-}" ]; then
  for file in $PIP_CONSTRAINT; do
    if [ -f "$file" ] && grep -Eiq '^[[:space:]]*torch[[:space:]]*([<>=!~]|$)' "$file"; then
      say "PIP_CONSTRAINT ($file) pins torch; installing it with the course"
      exit 0
    fi
  done
fi

if [ "$(uname -s)" != Linux ]; then
  say "$(uname -s): PyPI's default build (no CUDA libraries there)"
  run "$REQUIREMENT"
  exit 0
fi

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  say "an NVIDIA GPU answers to nvidia-smi: PyPI's default build, with CUDA (about 6 GB)"
  run "$REQUIREMENT"
else
  say "no NVIDIA GPU (no working nvidia-smi): the CPU build from $CPU_INDEX (about 0.7 GB);"
  say "  set TORCH_INDEX_URL= (empty) for PyPI's CUDA build instead"
  run "$REQUIREMENT" --index-url "$CPU_INDEX"
fi
