//! Figures for finished results: the bridge between `part1`/`part2` results and `plots`.
//! Each function returns a `Figure` (shown inline in a notebook); the `*_figures` functions
//! write the whole set for a run.
pub mod claims;
pub mod compute;
pub mod html;
pub mod names;
pub mod near_copies;
pub mod plots;
pub mod seeds;
pub mod sizes;
pub mod takeaways;

use crate::error::Result;
use crate::experiments::{part1, part2};
pub use compute::{part1_compute, part2_compute};
use names::shown;
use plots::Figure;
use std::path::Path;

/// Loss and accuracy curves of a history, the evaluation whose weights were kept marked.
pub fn curves(title: &str, h: &[crate::train::EpochRecord], kept: Option<usize>) -> Result<Figure> {
    let col = |f: fn(&crate::train::EpochRecord) -> f64| h.iter().map(f).collect::<Vec<f64>>();
    // results written before `progress` existed read it as 0: their records are whole epochs
    let at = col(|r| if r.progress > 0.0 { r.progress } else { r.epoch as f64 });
    // a stub evaluation's training numbers cover a batch or two: left out, not drawn as a jump
    let stub = |i| crate::train::EpochRecord::train_is_a_stub(h, i);
    let whole = |f: fn(&crate::train::EpochRecord) -> f64| {
        h.iter().enumerate().map(|(i, r)| if stub(i) { f64::NAN } else { f(r) }).collect::<Vec<f64>>()
    };
    plots::training_curves_at(
        title,
        &at,
        &whole(|r| r.train_loss),
        &col(|r| r.valid_loss),
        &whole(|r| r.train_accuracy),
        &col(|r| r.valid_accuracy),
        kept,
    )
}

// ---- Part 1 ----

pub fn part1_class_distribution(r: &part1::Results) -> Result<Figure> {
    let series: Vec<(&str, Vec<f64>)> = ["train", "valid", "test"]
        .iter()
        .zip(&r.class_counts)
        .map(|(n, c)| (*n, c.iter().map(|&v| v as f64).collect()))
        .collect();
    plots::bar_chart("Face emotions: images per class", &r.classes, &series, "images")
}

pub fn part1_curves(row: &part1::Row) -> Result<Figure> {
    curves(
        &format!("{}: loss and accuracy ({} px, seed {})", shown(&row.model), row.image_size, row.seed),
        &row.history,
        row.best_evaluation,
    )
}

pub fn part1_confusion(r: &part1::Results, row: &part1::Row) -> Result<Figure> {
    plots::confusion_with_shares(
        &format!("{}: test confusion (acc {:.1}%)", shown(&row.model), row.test_accuracy * 100.0),
        &r.classes,
        &row.confusion,
    )
}

/// The 10 sample test images with true and predicted labels.
pub fn part1_samples(row: &part1::Row) -> Result<Figure> {
    samples_figure(&format!("{}: 10 test samples", shown(&row.model)), &row.samples, false)
}

/// The highest-loss test images, each with the predicted class's probability and the loss.
pub fn part1_top_losses(row: &part1::Row) -> Result<Figure> {
    samples_figure(&format!("{}: highest-loss test images", shown(&row.model)), &row.top_losses, true)
}

/// A face as the image grids show it: decoded and resized to 144 px.
pub(crate) fn face_picture(path: &Path) -> Result<image::RgbImage> {
    let img = crate::data::faces::decode(path)?;
    Ok(image::imageops::resize(&img, 144, 144, image::imageops::FilterType::Triangle))
}

/// Test images captioned with their true and predicted class; with `detail`, the second line
/// also gives the predicted class's probability and the image's loss.
pub fn samples_figure(title: &str, samples: &[part1::Sample], detail: bool) -> Result<Figure> {
    let mut images = Vec::new();
    for s in samples {
        let img = face_picture(Path::new(&s.path))?;
        let (w, h) = img.dimensions();
        images.push((img.into_raw(), w, h));
    }
    if !detail {
        let truth: Vec<String> = samples.iter().map(|s| s.truth.clone()).collect();
        let pred: Vec<String> = samples.iter().map(|s| s.pred.clone()).collect();
        return plots::sample_grid(title, &images, &truth, &pred);
    }
    let right: Vec<bool> = samples.iter().map(|s| s.truth == s.pred).collect();
    let captions: Vec<[String; 2]> = samples
        .iter()
        .zip(&right)
        .map(|(s, ok)| {
            let tick = if *ok { "✓" } else { "✗" };
            let second = format!("{tick} {} {:.0}%, loss {:.2}", s.pred, s.confidence * 100.0, s.loss);
            [format!("true: {}", s.truth), second]
        })
        .collect();
    plots::sample_grid_with(title, &images, &captions, Some(&right))
}

pub fn part1_benchmark(r: &part1::Results) -> Result<Figure> {
    let rows = &r.rows;
    let names: Vec<String> = rows.iter().map(|x| format!("{}, {} px", shown(&x.model), x.image_size)).collect();
    plots::benchmark_chart(
        &names,
        &rows.iter().map(|x| x.init == part1::Init::Imagenet).collect::<Vec<_>>(),
        &rows.iter().map(|x| x.params as f64).collect::<Vec<_>>(),
        &rows.iter().map(|x| x.size_bytes as f64 / 1e6).collect::<Vec<_>>(),
        &rows.iter().map(|x| x.latency_ms_b1).collect::<Vec<_>>(),
        &rows.iter().map(|x| x.test_accuracy).collect::<Vec<_>>(),
    )
}

/// Part 1's figures under `<part_dir>/figures`, then the part's manifest, which lists and hashes
/// them and so comes after them: every caller that draws a part's figures goes through here.
pub fn part1_outputs(part_dir: &Path, r: &part1::Results) -> Result<()> {
    part1_figures(&part_dir.join("figures"), r)?;
    crate::config::manifest::write(part_dir, r)
}

pub fn part1_figures(dir: &Path, r: &part1::Results) -> Result<()> {
    part1_class_distribution(r)?.save(dir, "class_distribution")?;
    for row in &r.rows {
        part1_curves(row)?.save(dir, &format!("{}_curves", row.model))?;
        part1_confusion(r, row)?.save(dir, &format!("{}_confusion", row.model))?;
        part1_samples(row)?.save(dir, &format!("{}_samples", row.model))?;
        part1_top_losses(row)?.save(dir, &format!("{}_top_losses", row.model))?;
    }
    if !r.rows.is_empty() {
        part1_benchmark(r)?.save(dir, "benchmark")?;
        compute::part1_compute(r)?.save(dir, "compute")?;
    }
    if let Some(f) = seeds::part1_spread(r)? {
        f.save(dir, "seed_spread")?;
    }
    Ok(())
}

// ---- Part 2 ----

pub fn part2_correlation(r: &part2::Results) -> Result<Figure> {
    plots::correlation_heatmap(
        "Drugs.com training split: Pearson correlation",
        &r.eda.correlation.names,
        &r.eda.correlation.values,
    )
}

/// Reviews per rating, the cut between negative and positive marked (ratings are 1..=10, so the
/// first positive rating `t` sits at category index `t - 1`).
pub fn part2_rating_distribution(r: &part2::Results) -> Result<Figure> {
    let d = &r.eda.rating_distribution;
    let t = r.plan.threshold.ceil() as usize;
    let label = format!("positive from {t}");
    plots::bar_chart_with_cut(
        "Drugs.com training split: reviews per rating (before binning)",
        &d.labels,
        &[("reviews", d.counts.iter().map(|&c| c as f64).collect())],
        (t.saturating_sub(1), &label),
        ("rating (1-10)", "reviews"),
    )
}

pub fn part2_label_distribution(r: &part2::Results) -> Result<Figure> {
    let d = &r.eda.label_distribution;
    let t = &r.eda.test_label_distribution;
    let frac = |c: &[u64]| {
        let n: u64 = c.iter().sum();
        c.iter().map(|&v| v as f64 / n.max(1) as f64).collect::<Vec<f64>>()
    };
    bar_fractions(
        "Drugs.com: class share after binning (1-6 negative, 7-10 positive)",
        &d.labels,
        &[("train", frac(&d.counts)), ("test", frac(&t.counts))],
    )
}

fn bar_fractions(title: &str, labels: &[String], series: &[(&str, Vec<f64>)]) -> Result<Figure> {
    plots::bar_chart(title, labels, series, "share")
}

fn run_name(row: &part2::Row) -> String {
    shown(&row.name())
}

pub fn part2_curves(row: &part2::Row) -> Result<Figure> {
    curves(
        &format!(
            "{} trained on {} (validated on {})",
            row.model.label(),
            row.train_source.label(),
            row.valid_source.label()
        ),
        &row.history,
        row.best_evaluation,
    )
}

pub fn part2_confusion(row: &part2::Row) -> Result<Figure> {
    let names: Vec<String> = part2::CLASSES.iter().map(|s| s.to_string()).collect();
    plots::confusion_with_shares(
        &format!("{}: Drugs.com test (acc {:.1}%)", run_name(row), row.accuracy * 100.0),
        &names,
        &row.confusion,
    )
}

/// Where a training source sits relative to the test data: the direct source first, then the
/// near and the far indirect ones.
fn distance(s: crate::data::text::Source) -> (u8, &'static str) {
    use crate::data::text::Source;
    match s {
        Source::DrugsCom => (0, "direct"),
        Source::Druglib => (1, "near"),
        Source::Imdb => (2, "far"),
    }
}

pub fn part2_comparison(r: &part2::Results) -> Result<Figure> {
    let mut rows: Vec<&part2::Row> = r.rows.iter().collect();
    rows.sort_by_key(|x| (distance(x.train_source).0, x.model.name()));
    let names: Vec<String> = rows
        .iter()
        .map(|x| format!("{}\n{}\n{}", x.model.label(), distance(x.train_source).1, x.train_source.label()))
        .collect();
    let col = |f: fn(&part2::Row) -> f64| rows.iter().map(|x| f(x)).collect::<Vec<f64>>();
    // whiskers: 95% Wilson intervals of accuracy (results from before they were recorded have none)
    let ci = rows.iter().all(|x| x.accuracy_ci95[1] > 0.0).then(|| rows.iter().map(|x| x.accuracy_ci95).collect());
    let acc = if ci.is_some() { "accuracy (95% CI)" } else { "accuracy" };
    let majority = r.majority_share();
    plots::bar_chart_with_reference(
        "Tested on Drugs.com: direct vs indirect training data",
        &names,
        &[(acc, col(|x| x.accuracy)), ("macro-F1", col(|x| x.macro_f1))],
        &[ci],
        (&format!("always the majority class ({})", crate::report::html::pct(majority)), majority),
        "score",
    )
}

/// Part 2's figures, then its manifest (see [`part1_outputs`]).
pub fn part2_outputs(part_dir: &Path, r: &part2::Results) -> Result<()> {
    part2_figures(&part_dir.join("figures"), r)?;
    crate::config::manifest::write(part_dir, r)
}

pub fn part2_figures(dir: &Path, r: &part2::Results) -> Result<()> {
    part2_correlation(r)?.save(dir, "correlation")?;
    part2_rating_distribution(r)?.save(dir, "rating_distribution")?;
    part2_label_distribution(r)?.save(dir, "label_distribution")?;
    for row in &r.rows {
        let stem = row.name();
        part2_curves(row)?.save(dir, &format!("{stem}_curves"))?;
        part2_confusion(row)?.save(dir, &format!("{stem}_confusion"))?;
    }
    if !r.rows.is_empty() {
        part2_comparison(r)?.save(dir, "comparison")?;
        compute::part2_compute(r)?.save(dir, "compute")?;
    }
    if let Some(f) = seeds::part2_spread(r)? {
        f.save(dir, "seed_spread")?;
    }
    Ok(())
}

/// The committed quick runs' results, for tests: real rows, every field filled the way a run
/// fills it.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::experiments::{part1, part2};

    pub fn part1() -> part1::Results {
        serde_json::from_str(include_str!("../../figures/quick-seed42-part1/results.json")).unwrap()
    }

    pub fn part2() -> part2::Results {
        serde_json::from_str(include_str!("../../figures/quick-seed42-part2/results.json")).unwrap()
    }

    /// An `n` x `n` confusion matrix (rows: truth, columns: prediction) with `count(truth, pred)`.
    pub fn confusion(n: usize, count: impl Fn(usize, usize) -> u64) -> Vec<Vec<u64>> {
        (0..n).map(|i| (0..n).map(|j| count(i, j)).collect()).collect()
    }
}
