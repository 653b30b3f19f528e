#!/usr/bin/env python3
"""Generate the notebooks (clean, no outputs) from the page-by-page outline below.
Markdown cells open a slide (one per narrative page); code cells are sub-slides/fragments of it.
Run: .venv/bin/python scripts/make_notebooks.py"""
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "notebooks"
# `:opt 0`: evcxr would build every dependency at opt-level 2 (polars alone ~21 min cold on
# 2 cores); the heavy numeric work runs inside libtorch either way.
DEP = ':opt 0\n:dep affect_lab = { path = ".." }'
HEAD = """use affect_lab::experiments::{part1, part2};
use affect_lab::{notebook as nb, report, Profile};
// Profile switch: Smoke | Quick | Full. AFFECT_LAB_PROFILE overrides it (CI runs smoke).
let profile = nb::profile(Profile::Quick);
let run = nb::open_run(profile, 42)?;
println!("profile {profile}, run dir {}", run.config.out.display());"""


def md(text, slide="slide"):
    return {"cell_type": "markdown", "metadata": {"slideshow": {"slide_type": slide}}, "source": text.strip()}


def code(src, slide="-"):
    return {"cell_type": "code", "execution_count": None, "metadata": {"slideshow": {"slide_type": slide}}, "outputs": [], "source": src.strip()}


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
    md("# affect-lab: setup\nDevice, versions, and where the data and the pretrained weights were found."),
    code(DEP, "skip"),
    code("affect_lab::notebook::setup_report()"),
    md("The data root comes from `AFFECT_LAB_DATA` (else `data/`); weights from `weights/` and the project's Python environment. "
       "A missing ImageNet ResNet file means those rows are skipped, never run from random weights under a transfer label.", "fragment"),
]

p1 = [
    md("# Part 1: training from scratch vs transfer learning\n*Page 1.* Four ways to build a classifier; this part compares building a network from scratch with fine-tuning one pretrained on ImageNet."),
    code(DEP, "skip"),
    code(HEAD, "skip"),
    md("## Why compare them\n*Page 2.* From scratch: random weights, everything learned from our data. Transfer: start from weights learned on a large dataset and fine-tune. We compare accuracy, speed and compute cost."),
    md("## The data\n*Page 3.* A 7-class face-emotion dataset, 3500 train / 1000 valid / 500 test. Small, and far from ImageNet's domain, so fine-tuning (not frozen features) is needed."),
    code("""let ds = affect_lab::data::faces::load(&nb::data_root().join("faces"), Default::default())?;
nb::table(&["class", "train", "valid", "test"], &ds.classes.iter().enumerate().map(|(i, c)| vec![c.clone(), ds.class_counts(&ds.train)[i].to_string(), ds.class_counts(&ds.valid)[i].to_string(), ds.class_counts(&ds.test)[i].to_string()]).collect::<Vec<_>>())"""),
    md("## The plan\n*Page 4.* Three EmotionNet versions from scratch, then ResNet18 and ResNet50 fine-tuned from ImageNet. We add MobileNetV2 (ImageNet weights that install offline) and, as an ablation, ResNet18 and MobileNetV2 from random init under the same budget. This cell trains everything for the chosen profile, or reuses a finished run."),
    code("let res = nb::part1(&run, false)?;\nprintln!(\"{}\", part1::summary(&res));"),
    md("## Imports\n*Page 5.* In Rust the stack is: `tch` (libtorch) for tensors and models, `image` + `rayon` for decoding and augmentation, `plotters` for figures, `polars` for tables, and the project's own crate for everything else."),
    md("## Device\n*Page 6.* CUDA, then Apple MPS, then CPU; the choice and the thread count are printed."),
    code("affect_lab::device::describe(affect_lab::device::pick())"),
    md("## Augmentation\n*Page 7.* Random resized crop, horizontal flip, rotation and colour jitter, on training images only: the model should be judged on unaltered data."),
    code("nb::augmentation_examples(96, 42)?"),
    md("## EmotionNet V1\n*Pages 8-10.* A local pathway (small kernels) and a global pathway (large kernels), concatenated, flattened, and fed to a large fully connected classifier: a simple model with many parameters."),
    code('nb::model_summary(&res, "emotionnet_v1")?'),
    md("## V1 training curves\n*Page 11.* Early convergence and signs of overfitting?"),
    code('report::part1_curves(nb::row(&res, "emotionnet_v1")?)?'),
    md("## V1 samples\n*Page 12.* Ten test images, true vs predicted label."),
    code('report::part1_samples(nb::row(&res, "emotionnet_v1")?)?'),
    md("## V1 confusion matrix\n*Page 13.* Left the model, right the ideal (all mass on the diagonal)."),
    code('report::part1_confusion(&res, nb::row(&res, "emotionnet_v1")?)?'),
    md("## What V2 must fix\n*Page 14.* Regularisation (batch norm, pooling), far fewer parameters, self-attention to weigh the important parts of the face, and cross-pathway attention so the local and global pathways inform each other."),
    md("## EmotionNet V2\n*Pages 15-22.* Residual blocks; SAGAN self-attention (Q, K, V as 1x1 convolutions, softmax(QK^T)V, scaled by a learnable gamma that starts at 0 so attention is phased in); local and global pathways of residual blocks, max-pooling and self-attention; cross-pathway attention; a fusion module (residual block, self-attention, adaptive average pooling, dropout2d); a linear classifier."),
    code('nb::model_summary(&res, "emotionnet_v2")?'),
    md("## V2 training curves\n*Page 23.*"),
    code('report::part1_curves(nb::row(&res, "emotionnet_v2")?)?'),
    md("## V2 samples\n*Page 24.*"),
    code('report::part1_samples(nb::row(&res, "emotionnet_v2")?)?'),
    md("## V2 confusion matrix\n*Page 25.*"),
    code('report::part1_confusion(&res, nb::row(&res, "emotionnet_v2")?)?'),
    md("## Benchmark so far\n*Page 26.* Parameters, size on disk, inference time, accuracy."),
    code("nb::part1_table(&res)"),
    md("## EmotionNet V3\n*Pages 27-30.* A shared stem, a small-kernel local block and a large-kernel global block, CBAM channel then spatial attention, a final conv block and a tiny head."),
    code('nb::model_summary(&res, "emotionnet_v3")?'),
    md("## V3 results\n*Page 31.* Smaller and faster than V2: at what cost in accuracy?"),
    code('report::part1_curves(nb::row(&res, "emotionnet_v3")?)?'),
    code('report::part1_confusion(&res, nb::row(&res, "emotionnet_v3")?)?', "subslide"),
    md("## Less is more?\n*Page 32.* Design versus parameter count, from the numbers above. Now transfer learning."),
    md("## Transfer learning in two lines\n*Page 33.* Build the torchvision architecture, load the ImageNet weights strictly (every tensor present and the right shape), swap the head for 7 classes."),
    code("""match nb::pretrained("resnet18", res.image_size) {
    Ok(b) => println!("ResNet18 ready: {}", b.weights_source),
    Err(e) => println!("ResNet18 ImageNet weights are not installed here, so that row is skipped:\\n{e}"),
}
{
    let b = nb::pretrained("mobilenet_v2", res.image_size)?;
    println!("MobileNetV2 ready: {}", b.weights_source);
}"""),
    md("## Fine-tuned: training curves\n*Page 34.* ResNet18 where its ImageNet weights are installed, else MobileNetV2 (the pretrained model this machine has)."),
    code("""let tl = nb::row(&res, "resnet18").or_else(|_| nb::row(&res, "mobilenet_v2"))?.clone();
println!("{} ({:?}): {}", tl.model, tl.init, tl.weights_source);
report::part1_curves(&tl)?"""),
    md("## Fine-tuned: samples\n*Page 35.*"),
    code("report::part1_samples(&tl)?"),
    md("## The hardest test images\n*Page 36.* The highest-loss images: are the mistakes debatable even to a human?"),
    code("report::part1_top_losses(&tl)?"),
    md("## Fine-tuned: confusion matrix\n*Page 37.*"),
    code("report::part1_confusion(&res, &tl)?"),
    md("## Full benchmark\n*Page 38.* More parameters need not mean slower inference: cost per parameter differs between architectures. Latency is median ms per image at batch 1 and 64, next to the same torchvision model in PyTorch where one exists."),
    code("nb::part1_table(&res)"),
    code("report::part1_benchmark(&res)?", "subslide"),
    md("## ResNet50\n*Pages 39-41.* Deeper, more capacity: does it help on a small dataset? And what does pretraining itself buy, architecture held fixed?"),
    code("""for m in ["resnet50", "resnet18_random", "mobilenet_v2_random"] {
    match nb::row(&res, m) {
        Ok(r) => println!("{m}: {:.1}% test accuracy ({:?} init)", r.test_accuracy * 100.0, r.init),
        Err(e) => println!("{m}: {e}"),
    }
}"""),
    md("## Try it\nThe trained checkpoints on a few test faces, one at a time, as `affect-lab predict --run R --model M face.jpg` would classify them."),
    code('nb::try_faces(&run, &["mobilenet_v2", "emotionnet_v2"], &nb::example_faces(6)?)?'),
    md("## On faces from elsewhere\nThe same checkpoints, not retrained, on other labelled faces (set `AFFECT_LAB_EVAL_FACES`; `affect-lab evaluate` does the same), beside their own test accuracy."),
    code("nb::cross_data(&run, nb::Part::Part1)?"),
    md("## Conclusions\n*Page 42.* Computed from this run's numbers, not copied from the slides."),
    code("nb::part1_conclusions(&res)"),
]

p2 = [
    md("# Part 2: direct vs indirect training data\nDrug reviews: predict sentiment from the text, with the reviewer's rating as the target."),
    code(DEP, "skip"),
    code(HEAD, "skip"),
    md("## Direct and indirect\nEvery model is tested on the same Drugs.com test split. Direct: trained on Drugs.com. Indirect: trained on another dataset: IMDB movie reviews (far) or, beyond the slides, Druglib.com drug reviews (near)."),
    md("## Two approaches on each side\nA pretrained transformer (MiniLM, fine-tuned) and a BiLSTM from scratch, so direct vs indirect is seen for both transfer and scratch."),
    md("## The models\nMiniLM (all-MiniLM-L6-v2: 6 layers, 384 wide, smaller than DistilBERT) is ported to `tch` and loads the published safetensors strictly; it matches the PyTorch reference to 1e-4 (see `tests/minilm_parity.rs`). This cell trains all runs for the profile, or reuses a finished run."),
    code("let res = nb::part2(&run, false)?;\nprintln!(\"{}\", part2::summary(&res));"),
    md("## Exploratory analysis\nCorrelations between the numeric columns of the training split. usefulCount travels with the rating, so it is not a usable input: when you need to predict a rating you do not have its usefulCount."),
    code("report::part2_correlation(&res)?"),
    code("report::part2_rating_distribution(&res)?", "subslide"),
    md("Ratings 1-6 are binned negative and 7-10 positive (threshold configurable); the imbalance is handled with class weights from the training split.", "fragment"),
    code("report::part2_label_distribution(&res)?"),
    md("## Preprocessing and the split\nHTML entities decoded, whitespace normalised, duplicate texts removed before splitting; Drugs.com is split by date (oldest to train, newest to test), as a deployed model would always predict the future."),
    code("""nb::table(&["source", "loaded", "duplicates", "train", "valid", "split", "class weights"], &res.sources.iter().map(|s| vec![s.source.name().to_string(), s.loaded.to_string(), s.duplicates_removed.to_string(), s.train.to_string(), s.valid.to_string(), s.split.clone(), format!("{:.2?}", s.class_weights)]).collect::<Vec<_>>())"""),
    md("## Training curves\nDirect transformer, then the BiLSTM from scratch (embedding, bidirectional LSTM, fully connected layers), then the indirect runs."),
    code('report::part2_curves(nb::run2(&res, "minilm", "drugscom")?)?'),
    code('report::part2_curves(nb::run2(&res, "bilstm", "drugscom")?)?', "subslide"),
    code('report::part2_curves(nb::run2(&res, "minilm", "imdb")?)?', "subslide"),
    code('report::part2_curves(nb::run2(&res, "bilstm", "imdb")?)?', "subslide"),
    code('report::part2_curves(nb::run2(&res, "minilm", "druglib")?)?', "subslide"),
    code('report::part2_curves(nb::run2(&res, "bilstm", "druglib")?)?', "subslide"),
    md("## Model comparison\nAccuracy, precision, recall and F1 (positive class) on the Drugs.com test split."),
    code("nb::part2_table(&res)"),
    code("report::part2_comparison(&res)?", "subslide"),
    code('report::part2_confusion(nb::run2(&res, "minilm", "drugscom")?)?', "subslide"),
    md("## Try it\nReviews typed into the cell, classified by the direct models (`affect-lab predict --run R --model minilm_drugscom --text \"...\"`)."),
    code('''nb::try_reviews(&run, &["minilm_drugscom", "bilstm_drugscom"], &[
    "This medication stopped my migraines within a week and I had no side effects at all.",
    "Made me dizzy and nauseous, and my anxiety got worse. I stopped after three days.",
    "It helped a little with sleep, but the weight gain was hard to live with.",
])?'''),
    md("## On reviews from elsewhere\nThe same checkpoints, not retrained, on other labelled reviews (set `AFFECT_LAB_EVAL_REVIEWS` to a Drugs.com folder or a CSV with a text and a rating or label column), beside their Drugs.com test accuracy."),
    code("nb::cross_data(&run, nb::Part::Part2)?"),
    md("## Conclusions\nComputed from this run's numbers."),
    code("nb::part2_conclusions(&res)"),
]

for name, cells in [("00_setup", setup), ("01_part1_scratch_vs_transfer", p1), ("02_part2_direct_vs_indirect", p2)]:
    path = OUT / f"{name}.ipynb"
    path.write_text(json.dumps(notebook(cells), indent=1) + "\n")
    print("wrote", path)
