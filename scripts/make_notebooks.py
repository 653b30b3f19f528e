#!/usr/bin/env python3
"""Generate the notebooks (clean, no outputs) from the page-by-page outline below.
Each slide is a markdown heading with one short line, then at most one output (a figure or a table
sized for a 1280x720 slide); code cells become sub-slides or fragments of it. The original deck's
spoken text for the pages a slide covers becomes its speaker notes (a `notes` cell: reveal.js shows
it in the speaker view, the notebook as a plain paragraph), followed where that page makes a claim
about results by the claim's verdict on this run (a `notes` code cell), so that a presenter never
reads out the original's numbers as ours. Cells tagged `no-deck` keep their output in
the notebook and out of the deck (training logs and run summaries).
Run: .venv/bin/python scripts/make_notebooks.py [NARRATIVE.md]  (default ../shared/narrative/slides.md)"""
import json, os, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "notebooks"
NARRATIVE = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
    "AFFECT_LAB_NARRATIVE", ROOT.parent / "shared" / "narrative" / "slides.md"))
# `:opt 0`: evcxr would build every dependency at opt-level 2 (polars alone ~21 min cold on
# 2 cores); the heavy numeric work runs inside libtorch either way.
DEP = ':opt 0\n:dep affect_lab = { path = ".." }'
HEAD = """use affect_lab::experiments::{part1, part2};
use affect_lab::{notebook as nb, report, Profile};
use nb::Columns;
// Profile switch: Smoke | Quick | Full. AFFECT_LAB_PROFILE overrides it (CI runs smoke).
let profile = nb::profile(Profile::Quick);
let run = nb::open_run(profile, 42)?;
println!("profile {profile}, run dir {}", run.config.out.display());"""


def narrative():
    """The original deck's spoken text by page: Part 1's `## Page N` (N an int) and Part 2's untitled
    `## Next section`s (p2-1, p2-2, ...)."""
    if not NARRATIVE.is_file():
        sys.exit(f"make_notebooks: the narrative {NARRATIVE} is missing (its spoken text becomes the speaker "
                 "notes); pass its path as the first argument or set AFFECT_LAB_NARRATIVE")
    pages, key, part2 = {}, None, 0
    for line in NARRATIVE.read_text().splitlines():
        m = re.match(r"## (Page (\d+)|Next section)", line)
        if m:
            if m.group(2):
                key = int(m.group(2))
            else:
                part2 += 1
                key = f"p2-{part2}"
            pages.setdefault(key, [])
        elif key is not None and line.strip():
            pages[key].append(line.strip())
    return {k: " ".join(v) for k, v in pages.items()}


SPOKEN = narrative()


def md(text, slide="slide"):
    return {"cell_type": "markdown", "metadata": {"slideshow": {"slide_type": slide}}, "source": text.strip()}


def code(src, slide="-", deck=True):
    meta = {"slideshow": {"slide_type": slide}}
    if not deck:
        meta["tags"] = ["no-deck"]
    return {"cell_type": "code", "execution_count": None, "metadata": meta, "outputs": [], "source": src.strip()}


def notes(*keys, more=""):
    """Speaker notes: the original deck's words for these pages (labelled as the original's, about its
    own run), then ours."""
    parts = []
    for k in keys:
        label = f"page {k}" if isinstance(k, int) else f"Part 2, section {k[3:]}"
        if SPOKEN.get(k):
            parts.append(f"*The original deck ({label}), about its own run:* {SPOKEN[k]}")
    if more:
        parts.append(more)
    return md("\n\n".join(parts), "notes")


def slide(title, lead, *keys, more="", level="##", kind="slide"):
    """A slide: heading, one short line, speaker notes."""
    cells = [md(f"{level} {title}\n{lead}", kind)]
    if keys or more:
        cells.append(notes(*keys, more=more))
    return cells


def said(part, key):
    """Speaker notes: the original deck's claims on page (or section) `key` with this run's verdicts."""
    return code(f'nb::{part}_said(&res, "{key}")', "notes")


def sub(title, lead=""):
    """A vertical sub-slide under the current one, with its own heading."""
    return md(f"### {title}\n{lead}", "subslide")


def notebook(cells):
    for i, c in enumerate(cells):
        c["id"] = f"cell-{i:02d}"
        c["source"] = [l + "\n" for l in c["source"].split("\n")]
        c["source"][-1] = c["source"][-1].rstrip("\n")
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Rust (affect-lab)", "language": "rust", "name": "rust"},
            "language_info": {"name": "Rust", "file_extension": ".rs", "mimetype": "text/rust", "codemirror_mode": "rust", "pygment_lexer": "rust", "version": ""},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


setup = [
    *slide("affect-lab: setup", "Device, versions, and where the data and the pretrained weights were found.", level="#",
           more="The data root comes from `AFFECT_LAB_DATA` (else `data/`); weights from `weights/` and the project's Python "
                "environment. A missing ImageNet ResNet file means those rows are skipped, never run from random weights under a "
                "transfer label."),
    code(DEP, "skip"),
    code("affect_lab::notebook::setup_report()"),
]

p1 = [
    *slide("Part 1: training from scratch vs transfer learning",
           "Four ways to build a classifier. Part 1: a network built from scratch against one pretrained on ImageNet and fine-tuned.",
           1, level="#"),
    code(DEP, "skip"),
    code(HEAD, "skip"),
    *slide("Why compare them", "We compare accuracy, speed and compute.\n\n"
           "| | from scratch | transfer |\n|---|---|---|\n"
           "| starting weights | random | ImageNet's (1.3M photos, 1000 classes) |\n"
           "| learned from our faces | every weight | every weight, from ImageNet's; a new 7-class head |\n"
           "| built for | 48x48 grey faces (EmotionNet) | 224x224 colour photos (ResNet, MobileNetV2) |\n"
           "| the ablation | | the same networks from random weights |", 2),
    *slide("The data", "7 face emotions, 3500 train / 1000 valid / 500 test: small, and far from ImageNet's photos.", 3),
    code("""let ds = affect_lab::data::faces::load(&nb::data_root().join("faces"), Default::default())?;
nb::table(&["class", "train", "valid", "test"], &ds.classes.iter().enumerate().map(|(i, c)| vec![c.clone(), ds.class_counts(&ds.train)[i].to_string(), ds.class_counts(&ds.valid)[i].to_string(), ds.class_counts(&ds.test)[i].to_string()]).collect::<Vec<_>>())"""),
    sub("Copies across the splits"),
    code("let copies = affect_lab::data::near_copies::across_splits(&ds)?;\nnb::near_copies_takeaway(&copies)"),
    code("nb::near_copy_pairs(&copies)?"),
    *slide("The plan", "EmotionNet V1-V3 from scratch; ResNet18/50 and MobileNetV2 fine-tuned from ImageNet; ResNet18 and "
           "MobileNetV2 from random init as the ablation.", 4,
           more="The cell below trains every row of the chosen profile, or reuses a finished run; its log stays in the notebook."),
    code("let res = nb::part1(&run, false)?;\nprintln!(\"{}\", part1::summary(&res));", deck=False),
    code("nb::part1_table(&res, Columns::Training)"),
    *slide("Imports", "The Rust crates this lab stands on.\n\n| crate | used for |\n|---|---|\n"
           "| `tch` (libtorch 2.13) | tensors, autograd, every model and optimiser |\n"
           "| `image`, `rayon` | decoding and augmenting the faces, in parallel |\n"
           "| `plotters` | every figure in these slides |\n"
           "| `polars` | the review tables and their statistics (Part 2) |\n"
           "| `tokenizers` | MiniLM's WordPiece tokenizer (Part 2) |\n"
           "| `serde` | plans, results and checkpoint records as JSON |", 5),
    *slide("Device", "CUDA, then Apple MPS, then CPU: the first one this machine has.", 6),
    code("nb::device()"),
    *slide("Augmentation", "Random crop, flip, rotation and colour jitter, on training images only.", 7),
    code("nb::augmentation_examples(96, 42)?"),
    *slide("EmotionNet V1", "A local pathway (small kernels) and a global one (large kernels), concatenated, flattened, and a large "
           "fully connected classifier.", 8, 9, 10),
    code('nb::model_summary(&res, "emotionnet_v1")?'),
    *slide("V1 training curves", "", 11),
    said("part1", "11"),
    code('{ let r = nb::row(&res, "emotionnet_v1")?; nb::curves_takeaway(&r.history, r.best_evaluation, r.stopped_by) }'),
    code('report::part1_curves(nb::row(&res, "emotionnet_v1")?)?'),
    *slide("V1 samples", "", 12),
    code('nb::part1_samples_takeaway(nb::row(&res, "emotionnet_v1")?)'),
    code('report::part1_samples(nb::row(&res, "emotionnet_v1")?)?'),
    *slide("V1 confusion matrix", "", 13),
    said("part1", "13"),
    code('nb::part1_confusion_takeaway(&res, nb::row(&res, "emotionnet_v1")?)'),
    code('report::part1_confusion(&res, nb::row(&res, "emotionnet_v1")?)?'),
    *slide("What V2 changes", "The original deck's remedies for V1, which it read as overfitting (the curves above say how this run's "
           "V1 ended).\n\n| in V1 | V2's remedy |\n|---|---|\n"
           "| no normalisation, little pooling | batch norm and pooling in every block |\n"
           "| a huge dense layer on a flattened map | pooled features and a linear classifier: far fewer parameters |\n"
           "| every part of the face weighted alike | self-attention on the parts that matter |\n"
           "| local and global pathways apart until the end | cross-pathway attention between them |", 14),
    *slide("EmotionNet V2", "Residual blocks, SAGAN self-attention, cross-pathway attention, a fusion module, a linear classifier.",
           15, 16, 17, 18, 19, 20, 21, 22,
           more="Self-attention: Q, K, V as 1x1 convolutions, softmax(QK^T)V, scaled by a learnable gamma that starts at 0 so "
                "attention is phased in."),
    code('nb::model_summary(&res, "emotionnet_v2")?'),
    *slide("V2 training curves", "", 23),
    said("part1", "23"),
    code('{ let r = nb::row(&res, "emotionnet_v2")?; nb::curves_takeaway(&r.history, r.best_evaluation, r.stopped_by) }'),
    code('report::part1_curves(nb::row(&res, "emotionnet_v2")?)?'),
    *slide("V2 samples", "", 24),
    code('nb::part1_samples_takeaway(nb::row(&res, "emotionnet_v2")?)'),
    code('report::part1_samples(nb::row(&res, "emotionnet_v2")?)?'),
    *slide("V2 confusion matrix", "", 25),
    said("part1", "25"),
    code('nb::part1_confusion_takeaway(&res, nb::row(&res, "emotionnet_v2")?)'),
    code('report::part1_confusion(&res, nb::row(&res, "emotionnet_v2")?)?'),
    *slide("Benchmark so far", "", 26, more="V1 and V2 only; every row and the costs follow on the full benchmark."),
    said("part1", "26"),
    code('let so_far = nb::only(&res, &["emotionnet_v1", "emotionnet_v2"]);\nnb::part1_benchmark_takeaway(&so_far)'),
    code("nb::part1_table(&so_far, Columns::Accuracy)"),
    *slide("EmotionNet V3", "A shared stem, a small-kernel local block and a large-kernel global block, CBAM channel and spatial "
           "attention, a final conv block and a tiny head.", 27, 28, 29, 30),
    code('nb::model_summary(&res, "emotionnet_v3")?'),
    *slide("V3 training curves", "", 31, more="Smaller and faster than V2: at what cost in accuracy?"),
    said("part1", "31"),
    code('{ let r = nb::row(&res, "emotionnet_v3")?; nb::curves_takeaway(&r.history, r.best_evaluation, r.stopped_by) }'),
    code('report::part1_curves(nb::row(&res, "emotionnet_v3")?)?'),
    sub("V3 confusion matrix"),
    code('nb::part1_confusion_takeaway(&res, nb::row(&res, "emotionnet_v3")?)'),
    code('report::part1_confusion(&res, nb::row(&res, "emotionnet_v3")?)?'),
    *slide("Less is more?", "Design against parameter count: V3 against V2. Then transfer learning.", 32),
    said("part1", "32"),
    code("nb::part1_less_is_more(&res)"),
    *slide("Transfer learning: the weights", "Build the torchvision network, load the ImageNet weights strictly (every tensor, "
           "the right shape), swap the head for 7 classes.", 33),
    code("nb::pretrained_status(res.image_size)"),
    *slide("Fine-tuned: training curves", "", 34,
           more="ResNet18 where its ImageNet weights are installed, else MobileNetV2 (the pretrained network this machine has)."),
    said("part1", "34"),
    code("""let tl = nb::row(&res, "resnet18").or_else(|_| nb::row(&res, "mobilenet_v2"))?.clone();
nb::curves_takeaway(&tl.history, tl.best_evaluation, tl.stopped_by)"""),
    code("report::part1_curves(&tl)?"),
    *slide("Fine-tuned: samples", "", 35),
    said("part1", "35"),
    code("nb::part1_samples_takeaway(&tl)"),
    code("report::part1_samples(&tl)?"),
    *slide("The hardest test images", "", 36, more="The highest-loss test images: are the mistakes debatable even to a human? FER-2013 also holds "
           "pictures that are no face at all (a warning-triangle placeholder labelled surprise sits in this test set): "
           "a high loss can be the label's fault."),
    code("nb::part1_top_losses_takeaway(&tl)"),
    code("report::part1_top_losses(&tl)?"),
    *slide("Fine-tuned: confusion matrix", "", 37),
    said("part1", "37"),
    code("nb::part1_confusion_takeaway(&res, &tl)"),
    code("report::part1_confusion(&res, &tl)?"),
    *slide("Full benchmark", "Size, compute and latency (median ms per image at batch 1 and 64).", 38),
    said("part1", "38"),
    code("nb::part1_table(&res, Columns::Cost)"),
    sub("Full benchmark: figure"),
    code("nb::part1_benchmark_takeaway(&res)"),
    code("report::part1_benchmark(&res)?"),
    sub("Full benchmark: training", "Input size, epochs and why training ended, seconds per epoch; batch-1 latency against "
        "PyTorch's where its committed benchmark ran on this machine."),
    code("nb::part1_table(&res, Columns::Training)"),
    sub("Without the copies", "A test image that copies a training image measures memory, not generalisation."),
    code("nb::part1_without_near_copies(&res, &ds, &copies)"),
    *slide("Accuracy against compute", "",
           more="Rings: kept checkpoints; dashed: stopped on a cap. Each row trained until validation stopped improving or a cap ended it. Seconds include validation; "
                "FLOPs count three forward passes per training image."),
    code("nb::part1_compute_headline(&res)"),
    code("report::part1_compute(&res)?"),
    sub("At equal compute", "Each from-scratch row within the time the best pretrained row needed for its best, and at its own end."),
    code("nb::part1_compute_takeaway(&res)"),
    code("nb::part1_equal_compute(&res)"),
    sub("Input size, chosen on validation", "Does a from-scratch network gain from upsampled 48x48 faces?"),
    code("nb::part1_size_takeaway(&res)"),
    code("nb::part1_size_table(&res)"),
    *slide("Seed spread", "Rows trained again at other seeds: how much of a gap is the seed alone?"),
    code("nb::part1_spread_takeaway(&res)"),
    code("nb::part1_spread_table(&res)"),
    sub("Seed spread: figure"),
    code("nb::part1_spread(&res)?"),
    *slide("The ablation: what pretraining buys", "What does pretraining itself buy: the same architecture from random init, at the "
           "input size its validation chose. And does a deeper ResNet help, where its weights are installed?", 39, 40, 41),
    said("part1", "39"),
    code("nb::part1_ablation_takeaway(&res)"),
    code("nb::resnet_rows(&res)"),
    *slide("Try it", "The trained checkpoints on test faces, one at a time (`affect-lab predict`)."),
    code('nb::try_faces(&run, &["mobilenet_v2", "emotionnet_v2"], &nb::example_faces(6)?)?'),
    *slide("On faces from elsewhere", "The same checkpoints, not retrained, on other labelled faces (`affect-lab evaluate`).",
           more="Set `AFFECT_LAB_EVAL_FACES` to a folder of labelled faces to fill this slide."),
    code("nb::cross_data(&run, nb::Part::Part1)?"),
    *slide("Conclusions", "Computed from this run's numbers, not copied from the original deck.", 42),
    said("part1", "42"),
    code("nb::part1_conclusions(&res)"),
    *slide("The original deck's claims, checked", "Each claim the original deck made about its results, against this run's numbers."),
    code("nb::part1_claims(&res, 1)"),
    sub("The original deck's claims, checked (continued)"),
    code("nb::part1_claims(&res, 2)"),
]

p2 = [
    *slide("Part 2: direct vs indirect training data", "Drug reviews: predict the sentiment of a review from its text; the "
           "reviewer's rating is the target.", "p2-1", level="#"),
    code(DEP, "skip"),
    code(HEAD, "skip"),
    *slide("Direct and indirect", "Every model is tested on the same Drugs.com test split: its newest reviews.\n\n"
           "| trained on | | what it is |\n|---|---|---|\n"
           "| Drugs.com, older reviews | direct | the test's own site and task |\n"
           "| Druglib.com | near, indirect | drug reviews from another site, rated 1-10 |\n"
           "| IMDB | far, indirect | movie reviews, labelled positive or negative |", "p2-2"),
    *slide("Two approaches on each side", "A pretrained transformer, fine-tuned, and a recurrent network from scratch.\n\n"
           "| | MiniLM | BiLSTM |\n|---|---|---|\n"
           "| starts from | all-MiniLM-L6-v2's pretrained weights | random weights |\n"
           "| reads | WordPiece tokens, 6 self-attention layers | words of its own vocabulary, both directions |\n"
           "| learns from our reviews | a fine-tune of every layer | everything |", "p2-3"),
    *slide("The models", "MiniLM (6 layers, 384 wide) ported to `tch`, matching PyTorch to 1e-4; a BiLSTM from scratch.", "p2-4",
           more="The cell below trains every run of the profile, or reuses a finished run; its log stays in the notebook."),
    code("let res = nb::part2(&run, false)?;\nprintln!(\"{}\", part2::summary(&res));", deck=False),
    code("nb::part2_table(&res, Columns::Cost)"),
    *slide("Exploratory analysis", "Correlations between the numeric columns of the training split.", "p2-5"),
    said("part2", "EDA"),
    code("report::part2_correlation(&res)?"),
    sub("Ratings", "Ratings 1-6 are binned negative, 7-10 positive; class weights from the training split."),
    code("report::part2_rating_distribution(&res)?"),
    sub("The rating cut", "Real reviews on both sides of the threshold: do 1-6 dwell on harm, 7-10 on benefit?"),
    md("The cut (1-6 negative, 7-10 positive) is the original deck's. Reviews near it (5, 7) often read mixed: the "
       "label is the reviewer's rating, not the tone of the text, which is part of what the models cannot learn. "
       "Reviews with explicit sexual wording are left out of this slide (`data::eda::fit_for_a_screen`), not out "
       "of the data.", "notes"),
    code("nb::rating_examples(&res)?"),
    sub("Labels"),
    code("report::part2_label_distribution(&res)?"),
    *slide("Preprocessing and the split", "HTML entities decoded, whitespace normalised, duplicates removed before splitting; "
           "Drugs.com split by date, oldest to train, newest to test.", "p2-6"),
    code("""nb::table(&["source", "loaded", "duplicates", "train", "valid", "split"], &res.sources.iter().map(|s| vec![s.source.name().to_string(), s.loaded.to_string(), s.duplicates_removed.to_string(), s.train.to_string(), s.valid.to_string(), s.split.clone()]).collect::<Vec<_>>())"""),
    *slide("Time and the labels", "",
           more="Do ratings drift over time, so that a date-sorted split tests on a different mix? The original deck suspects drift as one reason its models seemed to overfit, and keeps the date split because a "
                "deployed model always predicts the future. Left: positive share by month per split; right: test accuracy "
                "by month of the direct runs (months with under 10 reviews left out)."),
    code("nb::part2_drift_takeaway(&res)"),
    code("nb::part2_drift(&run, &res)?"),
    sub("Date split or random split", "Both models again on a seeded random split of the same sizes."),
    code("nb::part2_split_takeaway(&res)"),
    code("nb::part2_split_table(&res)"),
    *slide("Training curves: MiniLM, direct", "", "p2-7"),
    said("part2", "curves"),
    code('nb::part2_takeaway(&res, nb::run2(&res, "minilm", "drugscom")?)'),
    code('report::part2_curves(nb::run2(&res, "minilm", "drugscom")?)?'),
    sub("BiLSTM, direct"),
    code('nb::part2_takeaway(&res, nb::run2(&res, "bilstm", "drugscom")?)'),
    code('report::part2_curves(nb::run2(&res, "bilstm", "drugscom")?)?'),
    sub("MiniLM, indirect (IMDB)"),
    code('nb::part2_takeaway(&res, nb::run2(&res, "minilm", "imdb")?)'),
    code('report::part2_curves(nb::run2(&res, "minilm", "imdb")?)?'),
    sub("BiLSTM, indirect (IMDB)"),
    code('nb::part2_takeaway(&res, nb::run2(&res, "bilstm", "imdb")?)'),
    code('report::part2_curves(nb::run2(&res, "bilstm", "imdb")?)?'),
    sub("MiniLM, indirect (Druglib)"),
    code('nb::part2_takeaway(&res, nb::run2(&res, "minilm", "druglib")?)'),
    code('report::part2_curves(nb::run2(&res, "minilm", "druglib")?)?'),
    sub("BiLSTM, indirect (Druglib)"),
    code('nb::part2_takeaway(&res, nb::run2(&res, "bilstm", "druglib")?)'),
    code('report::part2_curves(nb::run2(&res, "bilstm", "druglib")?)?'),
    *slide("Model comparison", "", "p2-8", more="Accuracy and F1 (positive class) on the Drugs.com test split."),
    said("part2", "comparison"),
    code("nb::part2_comparison_takeaway(&res)"),
    code("nb::part2_table(&res, Columns::Accuracy)"),
    sub("Model comparison: figure"),
    code("nb::part2_comparison_takeaway(&res)"),
    code("report::part2_comparison(&res)?"),
    sub("How long each run trained", "Why each run stopped: validation stopped improving (plateau), or a cap on epochs or "
        "time ended it."),
    code("nb::part2_training_takeaway(&res)"),
    code("nb::part2_table(&res, Columns::Training)"),
    *slide("Accuracy against training time", "Each curve is on its own source's validation split (IMDB, Druglib or "
           "Drugs.com): read a curve against itself, not across sources.",
           more="Rings: kept checkpoints; dashed: stopped on a cap. Only the Drugs.com curves share a validation set.",
           level="###", kind="subslide"),
    code("report::part2_compute(&res)?"),
    sub("Seed spread", "Runs trained again at other seeds: how much of a gap is the seed alone?"),
    code("nb::part2_spread_takeaway(&res)"),
    code("nb::part2_spread_table(&res)"),
    sub("Seed spread: figure"),
    code("nb::part2_spread(&res)?"),
    sub("Confusion matrix: MiniLM, direct"),
    code('nb::part2_takeaway(&res, nb::run2(&res, "minilm", "drugscom")?)'),
    code('report::part2_confusion(nb::run2(&res, "minilm", "drugscom")?)?'),
    *slide("Try it", "Reviews written for this slide, classified by the direct models (`affect-lab predict`)."),
    code('''nb::try_reviews(&run, &["minilm_drugscom", "bilstm_drugscom"], &[
    "This medication stopped my migraines within a week and I had no side effects at all.",
    "Made me dizzy and nauseous, and my anxiety got worse. I stopped after three days.",
    "It helped a little with sleep, but the weight gain was hard to live with.",
])?'''),
    *slide("On reviews from elsewhere", "The same checkpoints, not retrained, on other labelled reviews (`affect-lab evaluate`).",
           more="Set `AFFECT_LAB_EVAL_REVIEWS` to a Drugs.com folder or a CSV with a text and a rating or label column."),
    code("nb::cross_data(&run, nb::Part::Part2)?"),
    *slide("Conclusions", "Computed from this run's numbers."),
    said("part2", "conclusion"),
    code("nb::part2_conclusions(&res)"),
    *slide("The original deck's claims, checked", "Each claim the original deck made about its results, against this run's numbers."),
    code("nb::part2_claims(&res, 1)"),
    sub("The original deck's claims, checked (continued)"),
    code("nb::part2_claims(&res, 2)"),
]

for name, cells in [("00_setup", setup), ("01_part1_scratch_vs_transfer", p1), ("02_part2_direct_vs_indirect", p2)]:
    path = OUT / f"{name}.ipynb"
    path.write_text(json.dumps(notebook(cells), indent=1) + "\n")
    print("wrote", path)
