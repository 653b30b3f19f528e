//! One row of Part 1: train it (racing its candidate input sizes on validation), score the
//! kept checkpoint on test, at the equal-compute budget where given, and time it.
use super::sizes::{self, SizeTrial};
use super::{EqualCompute, Init, ModelSpec, Plan, Row, Sample, PART};
use crate::config::run::Run;
use crate::data::augment::Transform;
use crate::data::faces::{FaceDataset, FaceItem};
use crate::data::image_source::ImageSource;
use crate::error::Result;
use crate::eval::bench;
use crate::eval::bench_file::Bench;
use crate::eval::metrics;
use crate::experiments::seeds::key_at;
use crate::models::registry;
use crate::numerics::Numerics;
use crate::train::staged::Staged;
use crate::train::{self, Extras, Predictions, TrainConfig, TrainOutcome, Trainee};
use tch::Device;

fn sample(ds: &FaceDataset, items: &[FaceItem], p: &train::Predictions, i: usize) -> Sample {
    Sample {
        path: items[i].path.display().to_string(),
        truth: ds.classes[p.truth[i] as usize].clone(),
        pred: ds.classes[p.pred[i] as usize].clone(),
        confidence: p.confidence[i],
        loss: p.loss[i],
    }
}

/// What every row of one Part 1 run shares.
#[derive(Clone, Copy)]
pub(super) struct Shared<'a> {
    pub(super) run: &'a Run,
    pub(super) ds: &'a FaceDataset,
    pub(super) plan: &'a Plan,
    pub(super) valid_items: &'a [FaceItem],
    pub(super) test_items: &'a [FaceItem],
    pub(super) reference: Option<&'a Bench>,
}

impl Shared<'_> {
    /// Training, validation and test images at `size`, shuffled and augmented by `seed`; training
    /// and validation in the memory format `numerics` runs the model in, test in NCHW (the test
    /// split is scored in fp32, `train::predict`).
    fn sources(&self, size: u32, seed: u64, numerics: Numerics) -> (ImageSource, ImageSource, ImageSource) {
        let (train_tf, eval_tf) = (Transform::train(size, self.plan.augment.clone()), Transform::eval(size));
        let source = |items: Vec<FaceItem>| ImageSource::new(items, train_tf.clone(), eval_tf.clone(), seed);
        (
            source(self.ds.train.clone()).channels_last(numerics.channels_last),
            source(self.valid_items.to_vec()).channels_last(numerics.channels_last),
            source(self.test_items.to_vec()),
        )
    }
}

/// One training of a row at one input size.
struct Trained {
    built: registry::Built,
    outcome: train::TrainOutcome,
    cfg: TrainConfig,
    ckpt: Staged,
    image_size: u32,
    test: ImageSource,
}

/// Train row `key` at `image_size`; `trial`: one of several candidate sizes.
fn train_at(
    part: &Shared,
    spec: &ModelSpec,
    key: &str,
    (image_size, seed): (u32, u64),
    trial: bool,
    extras: Extras,
) -> Result<Trained> {
    let Shared { run, ds, plan, .. } = *part;
    tch::manual_seed(seed as i64);
    let mut built = spec.arch.model()?.build(spec.init, ds.classes.len() as i64, image_size, run.device)?;
    if spec.arch.is_custom() {
        if let Some(start) = plan.custom_init.apply(&built.vs) {
            built.weights_source = format!("random init (seeded, {start})");
        }
    }
    let label = if trial { format!("{key}@{image_size}px") } else { key.to_string() };
    eprintln!("[{label}] {} params, init: {}", train::param_count(&built.vs), built.weights_source);
    let cfg = TrainConfig { seed, ..train_config(spec, plan, built.head_prefix) };
    let ckpt =
        if trial { Staged::trial(run, PART, key, &format!("{image_size}px")) } else { Staged::row(run, PART, key) };
    let (train_src, valid_src, test) = part.sources(image_size, seed, cfg.numerics);
    let trainee = Trainee { model: built.model.as_ref(), vs: &mut built.vs, groups: built.groups };
    let outcome = train::fit_with(&label, trainee, &train_src, &valid_src, &cfg, &ckpt.training, extras)?;
    Ok(Trained { built, outcome, cfg, ckpt, image_size, test })
}

/// Train row `key` at each of `sizes` and keep the one validation prefers (the others'
/// checkpoints go); the trials when there were several. With the plan's `size_trial_epochs`
/// the sizes are compared at that epoch and only the chosen one trains on from there.
fn train_choosing_size(
    part: &Shared,
    spec: &ModelSpec,
    key: &str,
    (sizes, seed): (&[u32], u64),
    within_seconds: Option<f64>,
) -> Result<(Trained, Vec<SizeTrial>)> {
    let trial = sizes.len() > 1;
    let rung = part.plan.size_trial_epochs.filter(|_| trial);
    let extras = Extras { pause_after: rung, within_seconds };
    let mut runs = Vec::new();
    for &size in sizes {
        runs.push(train_at(part, spec, key, (size, seed), trial, extras)?);
    }
    let mut trials: Vec<SizeTrial> =
        runs.iter().map(|t| SizeTrial::of(t.image_size, &t.outcome, &t.cfg, rung)).collect();
    let chosen = sizes::choose(&trials, runs[0].cfg.monitor);
    trials[chosen].chosen = true;
    let mut kept = runs.swap_remove(chosen);
    runs.into_iter().for_each(|t| t.ckpt.discard());
    if !trial {
        return Ok((kept, Vec::new()));
    }
    let said: Vec<String> = trials.iter().map(|t| format!("{} px {:.3}", t.image_size, t.valid_accuracy)).collect();
    let when = rung.map_or(String::new(), |e| format!(" after {e} epochs"));
    eprintln!("[{key}] input {} px chosen on validation{when} ({})", kept.image_size, said.join(", "));
    if kept.outcome.paused {
        // its snapshot is where the race left it: the same configuration continues from there
        let size = kept.image_size;
        drop(kept);
        kept = train_at(part, spec, key, (size, seed), trial, Extras { pause_after: None, ..extras })?;
    }
    Ok((kept, trials))
}

/// The row at the equal-compute budget: its most accurate evaluation within `budget` and the
/// test accuracy of those weights (the kept checkpoint's own when it is that evaluation).
fn at_budget(
    part: &Shared,
    built: &mut registry::Built,
    o: &TrainOutcome,
    (budget_row, budget_seconds): (&str, f64),
    (test, kept_accuracy): (&ImageSource, f64),
) -> Result<EqualCompute> {
    let mut at = EqualCompute {
        budget_row: budget_row.to_string(),
        budget_seconds,
        evaluation: None,
        valid_accuracy: None,
        test_accuracy: None,
    };
    let Some(w) = &o.within else { return Ok(at) };
    let test_accuracy = if w.eval == o.best_eval {
        kept_accuracy
    } else {
        built.vs.load(&w.checkpoint).map_err(|e| crate::error::Error::weights(&w.checkpoint, e.to_string()))?;
        train::predict(built.model.as_ref(), test, part.run.device, 64)?.accuracy()
    };
    let _ = std::fs::remove_file(&w.checkpoint);
    (at.evaluation, at.test_accuracy) = (Some(w.eval), Some(test_accuracy));
    at.valid_accuracy = o.history.get(w.eval).map(|r| r.valid_accuracy);
    Ok(at)
}

/// Train, evaluate and benchmark one model at `seed`, at the input size validation prefers among
/// `sizes`, and at `budget` (the equal-compute row and seconds) where given; FLOPs and PyTorch's
/// latency come from `reference`, the committed bench run (`affect-lab bench`), so the main job
/// starts no Python.
pub(super) fn run_model(
    part: &Shared,
    spec: &ModelSpec,
    (sizes, seed): (&[u32], u64),
    budget: Option<(&str, f64)>,
) -> Result<Row> {
    let Shared { run, ds, plan, test_items, reference, .. } = *part;
    let key = key_at(&spec.name, seed, run.config.seed);
    let (trained, size_trials) = train_choosing_size(part, spec, &key, (sizes, seed), budget.map(|b| b.1))?;
    let Trained { mut built, outcome, cfg, ckpt, image_size, test } = trained;
    let params = train::param_count(&built.vs);
    let preds = train::predict(built.model.as_ref(), &test, run.device, 64)?;
    let report = metrics::report(metrics::confusion(&preds.truth, &preds.pred, ds.classes.len()), &ds.classes);
    let scored = (&test, report.accuracy);
    let equal_compute = budget.map(|b| at_budget(part, &mut built, &outcome, b, scored)).transpose()?;
    built.vs.freeze();
    let (lat1, lat64) = latency(built.model.as_ref(), image_size, plan, run.device);
    let py = |b: usize| reference.and_then(|r| r.pytorch_ms(&spec.arch.0, image_size, b));
    let epochs = outcome.epochs();
    let (samples, top_losses) = examples(ds, test_items, &preds);
    let row = Row {
        model: spec.name.clone(),
        arch: spec.arch.clone(),
        init: spec.init,
        weights_source: built.weights_source,
        params,
        size_bytes: std::fs::metadata(&ckpt.training).map(|m| m.len()).unwrap_or(0),
        flops: reference.and_then(|r| r.flops(&spec.arch.0, image_size)),
        latency_ms_b1: lat1,
        latency_ms_b64: lat64,
        pytorch_latency_ms_b1: py(1),
        pytorch_latency_ms_b64: py(64),
        train_seconds: outcome.train_seconds,
        seconds_per_epoch: outcome.history.iter().map(|h| h.seconds).sum::<f64>() / epochs.max(1) as f64,
        epochs,
        best_epoch: outcome.best_epoch,
        best_evaluation: Some(outcome.best_eval),
        stopped_by: Some(outcome.stop),
        numerics: Some(outcome.numerics),
        test_accuracy: report.accuracy,
        test_accuracy_ci95: metrics::accuracy_ci95(report.accuracy, preds.truth.len()),
        test_macro_f1: report.macro_f1,
        most_confused: named_pairs(&report.confusion, &ds.classes),
        per_class: report.per_class,
        confusion: report.confusion,
        samples,
        top_losses,
        history: outcome.history,
        train_config: cfg,
        seed,
        profile: run.config.profile,
        image_size,
        checkpoint: ckpt.done.display().to_string(),
        test_predictions: preds.pred,
        size_trials,
        equal_compute,
    };
    ckpt.commit()?;
    Ok(row)
}

/// The five most confused (truth, prediction) pairs by class name.
fn named_pairs(confusion: &[Vec<u64>], classes: &[String]) -> Vec<(String, String, u64)> {
    let named = |(t, p, c): (usize, usize, u64)| (classes[t].clone(), classes[p].clone(), c);
    metrics::most_confused(confusion, 5).into_iter().map(named).collect()
}

/// The row's sample images (the same 10 for every model: evenly spaced through the
/// class-sorted test split) and its 10 highest-loss test images.
fn examples(ds: &FaceDataset, test_items: &[FaceItem], preds: &Predictions) -> (Vec<Sample>, Vec<Sample>) {
    let step = (test_items.len() / 10).max(1);
    let samples = (0..10.min(test_items.len())).map(|k| sample(ds, test_items, preds, k * step)).collect();
    let top_losses = preds.top_losses(10).into_iter().map(|i| sample(ds, test_items, preds, i)).collect();
    (samples, top_losses)
}

/// The row's training budget. The random-init ablation rows get the pretrained rows' budget
/// (epochs, batch, schedule) so only the initialisation differs, and the from-scratch learning
/// rate, which random weights need.
fn train_config(spec: &ModelSpec, plan: &Plan, head_prefix: Option<&str>) -> TrainConfig {
    let mut cfg = match (spec.arch.is_custom(), spec.init) {
        (true, _) => plan.custom.clone(),
        (false, Init::Imagenet) => plan.transfer.clone(),
        (false, Init::Random) => TrainConfig { lr: plan.custom.lr, ..plan.transfer.clone() },
    };
    if let Some(own) = plan.lr_by_row.iter().find(|r| r.row == spec.name) {
        cfg.lr = own.lr;
    }
    cfg.head_prefix = head_prefix.map(str::to_string);
    // asked for here, taken by `fit` only where the CPU has the units (it says which it used)
    if plan.bf16_rows.contains(&spec.name) {
        cfg.numerics.bf16 = true;
    }
    // nothing to warm a head up for, or nothing pretrained to protect
    if cfg.head_prefix.is_none() || spec.init == Init::Random {
        cfg.freeze_backbone_epochs = 0;
    }
    cfg
}

/// Our latency at batch 1 and 64 (ms/image).
fn latency(model: &dyn tch::nn::ModuleT, image_size: u32, plan: &Plan, device: Device) -> (f64, f64) {
    let size = image_size as i64;
    let at = |b: i64| bench::latency_ms_per_item(model, &bench::image_input(b, size, device), plan.latency);
    (at(1), at(64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::part1::model_specs;

    #[test]
    fn a_rows_budget_is_its_groups_with_the_ablations_rate_and_bf16_and_rates_where_named() {
        let mut plan = Plan::for_profile(crate::Profile::Quick, 1).unwrap();
        plan.bf16_rows = vec!["resnet18_random".into()];
        let rate = |row: &str, lr| super::super::RowRate { row: row.into(), lr };
        plan.lr_by_row = vec![rate("emotionnet_v1", 1.25e-4), rate("mobilenet_v2_random", 7e-4)];
        let spec = |name: &str| model_specs().into_iter().find(|s| s.name == name).unwrap();
        let v1 = train_config(&spec("emotionnet_v1"), &plan, None);
        assert_eq!((v1.lr, v1.epochs), (1.25e-4, plan.custom.epochs), "the rate alone is the row's own");
        let (v2, mobile) = (spec("emotionnet_v2"), spec("mobilenet_v2"));
        let (resnet, mobile_random) = (spec("resnet18_random"), spec("mobilenet_v2_random"));
        assert_eq!(train_config(&v2, &plan, None).lr, plan.custom.lr);
        assert_eq!(train_config(&mobile, &plan, Some("classifier.")).lr, plan.transfer.lr);
        let ablation = train_config(&mobile_random, &plan, Some("classifier."));
        assert_eq!((ablation.lr, ablation.epochs), (7e-4, plan.transfer.epochs));
        plan.lr_by_row.clear();
        let ablation = train_config(&mobile_random, &plan, Some("classifier."));
        assert_eq!((ablation.lr, ablation.epochs), (plan.custom.lr, plan.transfer.epochs));
        assert_eq!(ablation.freeze_backbone_epochs, 0, "nothing pretrained to protect");
        let named = train_config(&resnet, &plan, Some("fc."));
        assert!(named.numerics.bf16, "named in bf16_rows");
        assert_eq!(named.numerics.channels_last, plan.transfer.numerics.channels_last, "memory format kept");
        for other in [&v2, &mobile, &mobile_random] {
            let cfg = train_config(other, &plan, None);
            assert!(!cfg.numerics.bf16, "{} is not named", other.name);
        }
    }
}
