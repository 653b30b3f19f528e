#!/usr/bin/env bash
# Register the evcxr Rust kernel in the project-local Jupyter data dir, with the environment
# torch-sys needs baked into kernel.json (build-time LIBTORCH, run-time LD_LIBRARY_PATH) and a
# shared, persistent EVCXR_TMPDIR so tch/polars compile once per machine, not once per notebook.
# evcxr's own installer runs first: it writes version.txt, without which evcxr "updates" the
# kernel at its next start and drops our env block.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export JUPYTER_PATH="$ROOT/.venv/share/jupyter"
KDIR="$JUPYTER_PATH/kernels/rust"
mkdir -p "$KDIR" "$ROOT/.evcxr/tmp"
"$ROOT/.tools/bin/evcxr_jupyter" --install >/dev/null
"$ROOT/.venv/bin/python" - "$KDIR/kernel.json" "$ROOT" <<'PY'
import json, os, sys, tempfile
path, root = sys.argv[1], sys.argv[2]
k = json.load(open(path))
libtorch = f"{root}/.venv/lib/python3.11/site-packages/torch"
k["display_name"] = "Rust (affect-lab)"
k["env"] = {"LIBTORCH": libtorch, "LIBTORCH_CXX11_ABI": "1", "LD_LIBRARY_PATH": f"{libtorch}/lib",
            "EVCXR_TMPDIR": f"{root}/.evcxr/tmp"}
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
with os.fdopen(fd, "w") as f:
    json.dump(k, f, indent=1)
os.replace(tmp, path)
PY
echo "kernel 'rust' registered in $KDIR"
