#!/usr/bin/env bash
# Register the evcxr Rust kernel in the project-local Jupyter data dir, with the environment
# torch-sys needs baked into kernel.json (build-time LIBTORCH, run-time LD_LIBRARY_PATH) and a
# shared, persistent EVCXR_TMPDIR so tch/polars compile once per machine, not once per notebook.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIBTORCH="$ROOT/.venv/lib/python3.11/site-packages/torch"
KDIR="$ROOT/.venv/share/jupyter/kernels/rust"
mkdir -p "$KDIR" "$ROOT/.evcxr/tmp"
tmp=$(mktemp "$KDIR/kernel.json.XXXX")
cat > "$tmp" <<JSON
{
  "argv": ["$ROOT/.tools/bin/evcxr_jupyter", "--control_file", "{connection_file}"],
  "display_name": "Rust (affect-lab)",
  "language": "rust",
  "interrupt_mode": "message",
  "env": {
    "LIBTORCH": "$LIBTORCH",
    "LIBTORCH_CXX11_ABI": "1",
    "LD_LIBRARY_PATH": "$LIBTORCH/lib",
    "EVCXR_TMPDIR": "$ROOT/.evcxr/tmp"
  }
}
JSON
mv "$tmp" "$KDIR/kernel.json"
echo "kernel 'rust' registered in $KDIR"
