#!/usr/bin/env bash
# Execute every notebook headless (profile from AFFECT_LAB_PROFILE, default quick; a finished
# run in runs/<profile> is reused, not retrained) and build reveal.js slide decks from them:
# OUT/<name>.slides.html to present (no code, prompts or logs; scripts/deck_template) and
# OUT/with-code/<name>.slides.html to walk through the code.
# Usage: scripts/build_slides.sh [OUT]   (default: runs/<profile>/slides)
# Fails on the first cell error. Notebooks run one after another because they share one
# evcxr build directory (.evcxr/tmp), so the crate and its dependencies compile once.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PROFILE=${AFFECT_LAB_PROFILE:-quick}
export AFFECT_LAB_PROFILE=$PROFILE
OUT=${1:-$ROOT/runs/$PROFILE/slides}
mkdir -p "$OUT/executed"
export JUPYTER_PATH="$ROOT/.venv/share/jupyter"
JUP="$ROOT/.venv/bin/jupyter"
[ -x "$ROOT/.tools/bin/evcxr_jupyter" ] || { echo "evcxr_jupyter missing: run scripts/setup.sh" >&2; exit 1; }
for nb in notebooks/*.ipynb; do
  name=$(basename "$nb" .ipynb)
  t0=$(date +%s)
  echo "[slides] executing $nb (profile $PROFILE)"
  if ! "$JUP" nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=rust \
    --ExecutePreprocessor.timeout=5400 --output-dir "$OUT/executed" --output "$name" "$nb"; then
    echo "[slides] $nb: a cell failed (see above)" >&2
    exit 1
  fi
  .venv/bin/python scripts/deck_outputs.py "$OUT/executed/$name.ipynb" "$OUT/executed/$name.deck.ipynb"
  # the deck to present (no code, no prompts), and a walk-through deck with the code in with-code/
  for variant in present code; do
    flags=(--no-prompt --no-input); dir=$OUT; lib=lib
    [ $variant = code ] && { flags=(--no-prompt); dir=$OUT/with-code; lib=../lib; }
    "$JUP" nbconvert --to slides "$OUT/executed/$name.deck.ipynb" --output-dir "$dir" --output "$name" \
      --TemplateExporter.extra_template_basedirs="$ROOT/scripts/deck_template" --template affect_deck \
      "${flags[@]}" --SlidesExporter.reveal_url_prefix=$lib/reveal.js \
      --SlidesExporter.require_js_url=$lib/require.js \
      --SlidesExporter.jquery_url=$lib/jquery.min.js 2>&1 | grep -v "Native kernel" || true
  done
  echo "[slides] $name done in $(( $(date +%s) - t0 ))s -> $OUT/$name.slides.html"
done
# reveal.js, require.js and jQuery come from the npm registry (setup --with-slides), so the
# decks work offline.
if [ -d "$ROOT/.tools/web" ]; then
  rm -rf "$OUT/lib" && cp -r "$ROOT/.tools/web" "$OUT/lib"
fi
echo "[slides] decks in $OUT"
