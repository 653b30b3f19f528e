#!/usr/bin/env bash
# The test command: bootstrap what is missing (idempotent), then the library's tests, then
# (where the Jupyter kernel is installed) the notebooks in the smoke profile.
# Data: $AFFECT_LAB_DATA, default data/ (CI points it at ../shared/data).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
"$ROOT/scripts/setup.sh" "$@"
if [ -z "${AFFECT_LAB_DATA:-}" ]; then
  export AFFECT_LAB_DATA="$ROOT/data"
fi
echo "[test] data root: $AFFECT_LAB_DATA"
log=$(mktemp)
set +e
cargo test --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
echo
echo "================ test summary ================"
grep -E "^test result:|Running |FAILED|panicked" "$log" | grep -v "^test .* ok$" || true
passed=$(grep -Eo "[0-9]+ passed" "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo "[0-9]+ failed" "$log" | awk '{s+=$1} END {print s+0}')
ignored=$(grep -Eo "[0-9]+ ignored" "$log" | awk '{s+=$1} END {print s+0}')
echo "TOTAL: $passed passed, $failed failed, $ignored ignored (cargo exit $status)"
rm -f "$log"
exit "$status"
