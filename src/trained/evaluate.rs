//! `affect-lab evaluate`: score a finished run's checkpoints on another data root's test split
//! (or a labelled folder or review file) without training, beside the run's own test numbers.
//! Output goes to `<run>/eval/<name>/` all at once, or not at all.
use super::eval_data::{self, FaceSet, ReviewColumns, ReviewSet};
use super::eval_report::figures;
pub use super::eval_report::summary;
pub use super::eval_results::{EvalResults, EvalRow, EvalSample, EVAL_SCHEMA};
use super::loaded::{FaceModel, RunDir, TextModel, EVAL_BATCH};
use crate::config::profile::Profile;
use crate::config::{paths, run};
use crate::data::faces::FaceItem;
use crate::error::{Error, Result};
use crate::eval::metrics::{self, ClassMetrics};
use crate::experiments::{part1, part2};
use crate::train::{self, Predictions};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Device;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    Part1,
    Part2,
}

impl Part {
    pub fn name(self) -> &'static str {
        match self {
            Part::Part1 => part1::PART,
            Part::Part2 => part2::PART,
        }
    }
}

#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub run: PathBuf,
    pub data: PathBuf,
    /// None: every part of the run that the data has.
    pub part: Option<Part>,
    /// Empty: every trained row of the part.
    pub models: Vec<String>,
    /// Output folder name under `<run>/eval/` (default: the data folder's name and the part).
    pub name: Option<String>,
    pub columns: ReviewColumns,
    pub skip_bad_inputs: bool,
    pub figures: bool,
    pub device: Device,
}

/// Evaluate, then write each part's results and figures under `<run>/eval/`. Returns the
/// folders written, with their results.
pub fn evaluate(opts: &EvalOptions) -> Result<Vec<(PathBuf, EvalResults)>> {
    let run = RunDir::open(&opts.run)?;
    let parts = parts_to_score(&run, opts)?;
    let mut done = Vec::new();
    for part in &parts {
        let res = match part {
            Part::Part1 => score_faces(&run, opts)?,
            Part::Part2 => score_reviews(&run, opts)?,
        };
        let dir = output_dir(&run.root, opts, *part, parts.len() > 1);
        let label = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let figures = if opts.figures { figures(&res, &label)? } else { Vec::new() };
        done.push((dir, res, figures));
    }
    // every part scored before anything is written: a failure leaves the run untouched
    let mut written = Vec::new();
    for (dir, res, figures) in done {
        crate::atomic::write_dir(&dir, |tmp| {
            crate::atomic::write_json(&tmp.join("results.json"), &res)?;
            figures.iter().try_for_each(|(stem, f)| f.save(tmp, stem).map(|_| ()))
        })?;
        written.push((dir, res));
    }
    Ok(written)
}

fn has_faces(d: &Path) -> bool {
    d.join(paths::FACES.dir).is_dir() || d.join("test").is_dir() || (d.is_dir() && !has_reviews(d))
}

fn has_reviews(d: &Path) -> bool {
    d.is_file()
        || d.join(paths::DRUGS_COM.dir).is_dir()
        || paths::DRUGS_COM.layouts.iter().any(|l| l.iter().all(|f| d.join(f).is_file()))
}

/// `--part`, or each part the run trained and the data holds.
fn parts_to_score(run: &RunDir, opts: &EvalOptions) -> Result<Vec<Part>> {
    if !opts.data.exists() {
        return Err(Error::data(&opts.data, None, "evaluation data not found"));
    }
    let trained = |p: Part| match p {
        Part::Part1 => run.part1.is_some(),
        Part::Part2 => run.part2.is_some(),
    };
    if let Some(p) = opts.part {
        if !trained(p) {
            return Err(Error::data(
                run.root.join(p.name()).join("results.json"),
                None,
                "this run did not finish that part",
            ));
        }
        return Ok(vec![p]);
    }
    let named = |p: Part| !opts.models.is_empty() && opts.models.iter().all(|m| run_has(run, p, m));
    let parts: Vec<Part> = if let Some(p) = [Part::Part1, Part::Part2].into_iter().find(|&p| named(p)) {
        vec![p]
    } else {
        let data_has = |p: Part| if p == Part::Part1 { has_faces(&opts.data) } else { has_reviews(&opts.data) };
        [Part::Part1, Part::Part2].into_iter().filter(|&p| trained(p) && data_has(p)).collect()
    };
    if parts.is_empty() {
        return Err(Error::data(
            &opts.data,
            None,
            format!(
                "holds nothing this run's models can be scored on (run parts: {}); name the part with --part",
                trained_names(run)
            ),
        ));
    }
    Ok(parts)
}

fn trained_names(run: &RunDir) -> String {
    [run.part1.as_ref().map(|_| "part1"), run.part2.as_ref().map(|_| "part2")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

fn run_has(run: &RunDir, part: Part, model: &str) -> bool {
    match part {
        Part::Part1 => run.part1_row(model).is_ok(),
        Part::Part2 => run.part2_row(model).is_ok(),
    }
}

fn output_dir(run_root: &Path, opts: &EvalOptions, part: Part, several: bool) -> PathBuf {
    let base = match &opts.name {
        Some(n) if !several => return run_root.join("eval").join(sanitise(n)),
        Some(n) => n.clone(),
        None => opts
            .data
            .canonicalize()
            .unwrap_or_else(|_| opts.data.clone())
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "data".into()),
    };
    run_root.join("eval").join(format!("{}-{}", sanitise(&base), part.name()))
}

fn sanitise(s: &str) -> String {
    let out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if out.is_empty() || out.chars().all(|c| c == '_') {
        "data".into()
    } else {
        out
    }
}

/// The rows to score: `--models` (each must be a trained row of this part) or all of them.
fn wanted(opts: &EvalOptions, all: Vec<String>, run: &RunDir) -> Result<Vec<String>> {
    if opts.models.is_empty() {
        return Ok(all);
    }
    if let Some(m) = opts.models.iter().find(|m| !all.contains(m)) {
        return Err(Error::data(
            &run.root,
            None,
            format!("no trained model `{m}` in this part of the run; it has: {}", all.join(", ")),
        ));
    }
    Ok(opts.models.clone())
}

fn score_faces(run: &RunDir, opts: &EvalOptions) -> Result<EvalResults> {
    let res = run.part1.as_ref().ok_or_else(|| Error::Config("the run has no part 1".into()))?;
    let set = eval_data::load_faces(&opts.data, opts.skip_bad_inputs)?;
    let map = eval_data::match_classes(&set.classes, &res.classes, &set.path)?;
    let items: Vec<FaceItem> =
        set.items.iter().map(|it| FaceItem { path: it.path.clone(), label: map[it.label as usize] as i64 }).collect();
    let inputs: Vec<String> = items.iter().map(|it| it.path.display().to_string()).collect();
    let mut out = header(
        Part::Part1,
        run,
        (res.profile, res.seed, res.test_labels.len()),
        &res.classes,
        &items.iter().map(|i| i.label).collect::<Vec<_>>(),
        opts,
    );
    let FaceSet { description, skipped, .. } = set;
    (out.data_description, out.skipped_count, out.skipped_inputs) = (description, skipped.len(), skipped);
    for name in wanted(opts, res.rows.iter().map(|r| r.model.clone()).collect(), run)? {
        let row = res.rows.iter().find(|r| r.model == name).expect("checked by wanted");
        let model = FaceModel::load(run, &name, opts.device)?;
        let preds = train::predict(model.net(), &model.source(items.clone()), opts.device, EVAL_BATCH)?;
        out.rows.push(score(&name, (row.test_accuracy, row.test_macro_f1), &preds, &res.classes, &inputs));
    }
    Ok(out)
}

fn score_reviews(run: &RunDir, opts: &EvalOptions) -> Result<EvalResults> {
    let res = run.part2.as_ref().ok_or_else(|| Error::Config("the run has no part 2".into()))?;
    let set = eval_data::load_reviews(
        &opts.data,
        &opts.columns,
        res.plan.fractions,
        res.plan.threshold,
        opts.skip_bad_inputs,
    )?;
    let classes: Vec<String> = part2::CLASSES.iter().map(|s| s.to_string()).collect();
    let mut out = header(Part::Part2, run, (res.profile, res.seed, res.test_labels.len()), &classes, &set.labels, opts);
    let ReviewSet { description, texts, labels, duplicates_removed, skipped_bad_rows, skipped, .. } = set;
    out.data_description = description;
    out.duplicates_removed = duplicates_removed;
    (out.skipped_count, out.skipped_inputs) = (skipped_bad_rows, skipped);
    let inputs: Vec<String> = texts.iter().map(|t| t.chars().take(300).collect()).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for name in wanted(opts, res.rows.iter().map(part2::Row::name).collect(), run)? {
        let row = res.rows.iter().find(|r| r.name() == name).expect("checked by wanted");
        let model = TextModel::load(run, &name, opts.device)?;
        let preds = train::predict(model.net(), &model.source(&refs, labels.clone())?, opts.device, EVAL_BATCH)?;
        out.rows.push(score(&name, (row.accuracy, row.macro_f1), &preds, &classes, &inputs));
    }
    Ok(out)
}

fn header(
    part: Part,
    run: &RunDir,
    (profile, seed, run_test_examples): (Profile, u64, usize),
    classes: &[String],
    labels: &[i64],
    opts: &EvalOptions,
) -> EvalResults {
    let mut counts = vec![0u64; classes.len()];
    labels.iter().for_each(|&l| counts[l as usize] += 1);
    EvalResults {
        schema: EVAL_SCHEMA,
        part,
        run: run.root.display().to_string(),
        run_profile: profile,
        run_seed: seed,
        data: opts.data.display().to_string(),
        data_description: String::new(),
        device: format!("{:?}", opts.device),
        created: run::now_utc(),
        classes: classes.to_vec(),
        absent_classes: classes.iter().zip(&counts).filter(|(_, &n)| n == 0).map(|(c, _)| c.clone()).collect(),
        class_counts: counts,
        examples: labels.len(),
        skipped_count: 0,
        run_test_examples,
        skipped_inputs: Vec::new(),
        duplicates_removed: 0,
        labels: labels.to_vec(),
        rows: Vec::new(),
    }
}

/// Metrics as the run computed them for its test split; with classes absent from the data,
/// per-class rows and the macro average cover the present classes only.
pub fn score(
    model: &str,
    (run_acc, run_f1): (f64, f64),
    preds: &Predictions,
    classes: &[String],
    inputs: &[String],
) -> EvalRow {
    let report = metrics::report(metrics::confusion(&preds.truth, &preds.pred, classes.len()), classes);
    let present: Vec<ClassMetrics> = report.per_class.iter().filter(|c| c.support > 0).cloned().collect();
    let macro_f1 = if present.len() == report.per_class.len() {
        report.macro_f1
    } else {
        present.iter().map(|c| c.f1).sum::<f64>() / present.len().max(1) as f64
    };
    let sample = |i: usize| EvalSample {
        input: inputs[i].clone(),
        truth: classes[preds.truth[i] as usize].clone(),
        pred: classes[preds.pred[i] as usize].clone(),
        confidence: preds.confidence[i],
        loss: preds.loss[i],
    };
    EvalRow {
        model: model.to_string(),
        run_test_accuracy: run_acc,
        run_test_macro_f1: run_f1,
        accuracy: report.accuracy,
        accuracy_ci95: metrics::accuracy_ci95(report.accuracy, preds.truth.len()),
        macro_f1,
        per_class: present,
        most_confused: metrics::most_confused(&report.confusion, 5)
            .into_iter()
            .map(|(t, p, c)| (classes[t].clone(), classes[p].clone(), c))
            .collect(),
        confusion: report.confusion,
        top_losses: preds.top_losses(10).into_iter().map(sample).collect(),
        predictions: preds.pred.clone(),
        confidences: preds.confidence.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preds(truth: &[i64], pred: &[i64]) -> Predictions {
        let n = truth.len();
        Predictions {
            truth: truth.to_vec(),
            pred: pred.to_vec(),
            loss: (0..n).map(|i| i as f32).collect(),
            confidence: vec![0.5; n],
        }
    }

    #[test]
    fn absent_classes_are_left_out_of_the_macro_average() {
        let classes: Vec<String> = ["angry", "happy", "sad"].iter().map(|s| s.to_string()).collect();
        let inputs: Vec<String> = (0..4).map(|i| format!("img{i}")).collect();
        // no `sad` in the data; the model predicts it once
        let row = score("m", (0.5, 0.4), &preds(&[0, 0, 1, 1], &[0, 2, 1, 1]), &classes, &inputs);
        assert_eq!(row.accuracy, 0.75);
        assert_eq!(row.per_class.iter().map(|c| c.class.as_str()).collect::<Vec<_>>(), ["angry", "happy"]);
        // angry: p 1, r 0.5 -> 2/3; happy: p 1, r 1 -> 1
        assert!((row.macro_f1 - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12, "{}", row.macro_f1);
        assert_eq!(row.confusion[0], vec![1, 0, 1]);
        assert_eq!(row.top_losses[0].input, "img3");
        assert_eq!(row.most_confused, vec![("angry".to_string(), "sad".to_string(), 1)]);
        // all classes present: exactly the run's report
        let full = score("m", (0.0, 0.0), &preds(&[0, 1, 2], &[0, 2, 2]), &classes, &inputs);
        let rep = metrics::report(metrics::confusion(&[0, 1, 2], &[0, 2, 2], 3), &classes);
        assert_eq!((full.macro_f1, full.per_class), (rep.macro_f1, rep.per_class));
    }

    #[test]
    fn output_names_are_plain() {
        assert_eq!(sanitise("my lab/set"), "my_lab_set");
        assert_eq!(sanitise("../"), "data");
        let opts = EvalOptions {
            run: "r".into(),
            data: "/x/KDEF faces".into(),
            part: None,
            models: vec![],
            name: None,
            columns: Default::default(),
            skip_bad_inputs: false,
            figures: false,
            device: Device::Cpu,
        };
        assert_eq!(output_dir(Path::new("r"), &opts, Part::Part1, false), Path::new("r/eval/KDEF_faces-part1"));
        let named = EvalOptions { name: Some("kdef".into()), ..opts };
        assert_eq!(output_dir(Path::new("r"), &named, Part::Part1, false), Path::new("r/eval/kdef"));
        assert_eq!(output_dir(Path::new("r"), &named, Part::Part2, true), Path::new("r/eval/kdef-part2"));
    }
}
