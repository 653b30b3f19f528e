#!/usr/bin/env bash
# Speed beside PyTorch, in one invocation on the same threads: our side (affect-lab bench ->
# rust.json) and PyTorch eager (scripts/bench_reference.py -> pytorch.json) taking turns case by
# case, then the pairing (bench.json, *_ratio.png). Keep the machine otherwise idle while it runs.
#   scripts/bench.sh [OUT_DIR] [extra affect-lab bench options]    (default OUT_DIR: runs/bench)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="${1:-runs/bench}"
shift || true
mkdir -p "$OUT"
"$ROOT/scripts/setup.sh" --no-jupyter
# the binary the main job runs (scripts/run.sh): our code at opt-level 1, libtorch as shipped
cargo build --quiet --bin affect-lab
BIN="$ROOT/target/debug/affect-lab"
"$BIN" bench --out "$OUT" --pytorch scripts/bench_reference.py --python .venv/bin/python "$@"
"$BIN" bench --out "$OUT" --report
