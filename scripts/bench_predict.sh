#!/usr/bin/env bash
# Benchmark of `affect-lab predict` (not a test): model load + first prediction, and 100 inputs
# at batch 1, for a Part 1 and a Part 2 model at the quick profile's input sizes. Each figure is
# repeated (default 5) and reported as min / median / max seconds.
# Usage: scripts/bench_predict.sh [OUT_JSON] [REPEATS]   (default: figures/bench/predict.json, 5)
# Needs the data root ($AFFECT_LAB_DATA, default data/) and a built binary (cargo build --release
# is not needed: the dev profile is what the README's commands use).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${1:-$ROOT/figures/bench/predict.json}
REPEATS=${2:-5}
DATA=${AFFECT_LAB_DATA:-$ROOT/data}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cargo build --quiet --bin affect-lab
BIN="$ROOT/target/debug/affect-lab"

# A run with quick-profile input sizes (96 px for the transfer rows, 64 px for the EmotionNets,
# 128 MiniLM tokens) trained for one batch: prediction cost does not depend on how well the
# weights were trained. The size race is off: on one batch it would pick a size by chance. The
# sizes the run used are read back from its results into the JSON.
cat > "$WORK/plan.json" <<'EOF'
{"part1": {"transfer": {"max_batches_per_epoch": 1, "epochs": 1}, "custom": {"max_batches_per_epoch": 1, "epochs": 1}, "max_valid": 32, "max_test": 32, "custom_sizes": [], "custom_image_size": 64},
 "part2": {"minilm": {"max_batches_per_epoch": 1, "evals_per_epoch": 1}, "bilstm": {"max_batches_per_epoch": 1, "epochs": 1}, "max_valid": 32, "max_test": 32}}
EOF
echo "[bench] training one batch per model (quick sizes) into $WORK/run"
"$BIN" --device cpu part1 --profile quick --no-figures --models mobilenet_v2,emotionnet_v2 --data-dir "$DATA" --out "$WORK/run" --plan "$WORK/plan.json" >"$WORK/train.log" 2>&1
"$BIN" --device cpu part2 --profile quick --no-figures --models minilm_drugscom,bilstm_drugscom --data-dir "$DATA" --out "$WORK/run" --plan "$WORK/plan.json" >>"$WORK/train.log" 2>&1

# 100 test faces and 100 test reviews as inputs
find "$DATA/faces/test" -type f \( -name '*.jpg' -o -name '*.png' \) | sort | awk 'NR % 5 == 1' | head -100 > "$WORK/images.txt"
"$ROOT/.venv/bin/python" - "$DATA/drug_reviews" "$WORK/reviews.txt" <<'EOF'
import csv, html, re, sys, pathlib
d = pathlib.Path(sys.argv[1])
f = next(p for p in [d / "drugsComTest_raw.csv", d / "drugsComTest_raw.tsv"] if p.exists())
rows = csv.DictReader(open(f, newline="", encoding="utf-8"), delimiter="\t" if f.suffix == ".tsv" else ",")
texts = [re.sub(r"\s+", " ", html.unescape(r["review"])).strip().strip('"') for r in rows]
pathlib.Path(sys.argv[2]).write_text("\n".join([t for t in texts if t][:100]) + "\n")
EOF

# `predict` reports "model loaded in X s; N predictions in Y s" on stderr
# plus the wall time of the whole command (process start, libtorch init, exit)
measure() { # model, then the input arguments
  local model=$1; shift
  local t0 t1 line
  t0=$(date +%s.%N)
  line=$("$BIN" --device cpu predict --run "$WORK/run" --model "$model" "$@" 2>&1 >/dev/null | sed -n 's/.*loaded in \([0-9.]*\) s; \([0-9]*\) predictions* in \([0-9.]*\) s.*/\1 \2 \3/p')
  t1=$(date +%s.%N)
  echo "$line $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')"
}
{
  for model in mobilenet_v2 emotionnet_v2; do
    first=$(head -1 "$WORK/images.txt")
    mapfile -t imgs < "$WORK/images.txt"
    for r in $(seq "$REPEATS"); do
      echo "$model one $(measure "$model" "$first")"
      echo "$model hundred $(measure "$model" "${imgs[@]}")"
    done
  done
  for model in minilm_drugscom bilstm_drugscom; do
    head -1 "$WORK/reviews.txt" > "$WORK/one.txt"
    for r in $(seq "$REPEATS"); do
      echo "$model one $(measure "$model" --file "$WORK/one.txt")"
      echo "$model hundred $(measure "$model" --file "$WORK/reviews.txt")"
    done
  done
} > "$WORK/raw.txt"

mkdir -p "$(dirname "$OUT")"
"$ROOT/.venv/bin/python" - "$WORK/raw.txt" "$OUT" "$REPEATS" "$WORK/run" <<'EOF'
import json, statistics, sys, platform, os
raw, out, repeats, run = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
p1, p2 = (json.load(open(f"{run}/{p}/results.json")) for p in ("part1", "part2"))
inputs = {x["model"]: f"{x['image_size']} px" for x in p1["rows"]}
inputs.update({"minilm_drugscom": f"{p2['plan']['max_len']} tokens", "bilstm_drugscom": f"{p2['plan']['max_len']} words"})
res = {}
for line in open(raw):
    model, kind, load, n, secs, wall = line.split()
    r = res.setdefault(model, {"load_plus_first_s": [], "whole_command_one_input_s": [], "hundred_at_batch1_s": []})
    if kind == "one":
        r["load_plus_first_s"].append(float(load) + float(secs))
        r["whole_command_one_input_s"].append(float(wall))
    else:
        assert int(n) == 100, line
        r["hundred_at_batch1_s"].append(float(secs))
def mmm(v):
    return {"min": min(v), "median": statistics.median(v), "max": max(v), "n": len(v)}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
doc = {"what": "affect-lab predict, CPU, batch 1, quick-profile input sizes; seconds. load_plus_first: in-process, from opening the run to the first prediction; whole_command: the process end to end (libtorch start-up included)", "cpu": cpu, "cores": os.cpu_count(), "repeats": repeats,
       "targets": {"load_plus_first_s": 3.0, "hundred_at_batch1_s": 5.0},
       "models": {m: {"input": inputs[m], **{k: mmm(v) for k, v in r.items()}} for m, r in res.items()}}
json.dump(doc, open(out, "w"), indent=1)
cols = [("load_plus_first_s", "load+first"), ("whole_command_one_input_s", "whole command, 1 input"), ("hundred_at_batch1_s", "100 inputs at batch 1")]
print(f"{'seconds, min / median / max':<30}" + "".join(f"{t:>28}" for _, t in cols))
for m, r in doc["models"].items():
    print(f"{m + ' (' + r['input'] + ')':<30}" + "".join(f"{r[k]['min']:>10.2f}{r[k]['median']:>9.2f}{r[k]['max']:>9.2f}" for k, _ in cols))
print("written to", out)
EOF
