#!/usr/bin/env bash
# Copy a run's built decks into a folder that opens anywhere, offline, with no checkout: the decks
# to present, their PDFs and contact sheets (scripts/check_slides.py --shots/--pdf), the part of
# reveal.js 4.6.1, require.js and jQuery they load (all MIT), and the run's results.json.
# Usage: scripts/publish_decks.sh runs/<profile>/slides figures/decks/<name>
set -euo pipefail
SRC=${1:?the slides folder of a run, e.g. runs/quick/slides}
DEST=${2:?where to put them, e.g. figures/decks/quick-seed42}
RUN=$(dirname "$SRC")
for need in "$SRC"/pdf "$SRC"/shots "$SRC"/lib; do
  [ -d "$need" ] || { echo "publish_decks: $need missing (build_slides.sh, then check_slides.py --shots --pdf)" >&2; exit 1; }
done
rm -rf "$DEST"
mkdir -p "$DEST/lib/reveal.js/dist/theme/fonts" "$DEST/lib/reveal.js/plugin/notes"
cp "$SRC"/0*.slides.html "$SRC"/pdf/*.pdf "$SRC"/shots/*.contact.png "$DEST/"
W=$SRC/lib
cp "$W/require.js" "$W/jquery.min.js" "$DEST/lib/"
cp "$W/reveal.js/dist/reveal.js" "$W/reveal.js/dist/reveal.css" "$DEST/lib/reveal.js/dist/"
cp "$W/reveal.js/dist/theme/white.css" "$DEST/lib/reveal.js/dist/theme/"
cp -r "$W/reveal.js/dist/theme/fonts/source-sans-pro" "$DEST/lib/reveal.js/dist/theme/fonts/"
cp "$W/reveal.js/plugin/notes/notes.js" "$DEST/lib/reveal.js/plugin/notes/"
for part in part1 part2; do
  [ -f "$RUN/$part/results.json" ] && cp "$RUN/$part/results.json" "$DEST/$part.results.json"
done
echo "publish_decks: $(ls "$DEST" | wc -l) files in $DEST ($(du -sh "$DEST" | cut -f1))"
