#!/usr/bin/env bash
# The main job: bootstrap what is missing (idempotent), then the whole experiment headless.
# Extra arguments go to `affect-lab all`, e.g. `scripts/run.sh --profile smoke --data-dir /data`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
"$ROOT/scripts/setup.sh" --no-jupyter
exec cargo run --quiet --bin affect-lab -- all "$@"
