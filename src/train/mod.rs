//! One training loop for image and text models: AdamW, a learning-rate schedule, optional class
//! weights, frozen-backbone warm-up and per-group rates, best checkpoint and early stopping, one
//! history record per validation. The pieces live in the submodules; `fit` puts them in order.
pub mod config;
pub mod param_groups;
pub mod predict;
mod progress;
pub mod schedule;
pub mod selection;
pub mod steps;

pub use config::{LayerDecay, Monitor, TrainConfig};
pub use predict::{eval_log_probs, param_count, predict, Predictions};
pub use schedule::Schedule;

use crate::data::batches::BatchSource;
use crate::error::{Error, Result};
use crate::models::groups::Groups;
use param_groups::{Rates, Trainability};
use progress::Progress;
use selection::Selection;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use steps::{At, Running};
use tch::{nn, nn::ModuleT, nn::OptimizerConfig, Tensor};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch this evaluation falls in.
    pub epoch: usize,
    /// Epochs completed at this evaluation (`epoch` itself with one evaluation per epoch).
    #[serde(default)]
    pub progress: f64,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub valid_loss: f64,
    pub valid_accuracy: f64,
    pub lr: f64,
    pub seconds: f64,
    pub backbone_frozen: bool,
    /// Where `seconds` went.
    #[serde(default)]
    pub time: TimeSplit,
}

/// Seconds of one evaluation window by activity: waiting for batches, forward pass and loss,
/// backward pass (with gradient clipping), optimizer step, and the validation pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSplit {
    pub data: f64,
    pub forward: f64,
    pub backward: f64,
    pub step: f64,
    pub validation: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOutcome {
    /// One record per evaluation.
    pub history: Vec<EpochRecord>,
    /// 1-based epoch whose weights were kept.
    pub best_epoch: usize,
    /// Index into `history` of the evaluation whose weights were kept.
    pub best_eval: usize,
    pub train_seconds: f64,
    pub train_examples: usize,
    pub checkpoint: PathBuf,
}

impl TrainOutcome {
    /// Epochs trained (the last record's epoch; evaluations per epoch do not count).
    pub fn epochs(&self) -> usize {
        self.history.last().map_or(0, |r| r.epoch)
    }
}

/// A model to train: its forward, its variables, and the optimizer groups it built them in.
pub struct Trainee<'a> {
    pub model: &'a dyn ModuleT,
    pub vs: &'a mut nn::VarStore,
    pub groups: Groups,
}

/// How an epoch is paced: batches per epoch, and the batch counts after which it validates
/// (evenly spaced; the last is the epoch's end).
#[derive(Debug, Clone, PartialEq)]
struct Pace {
    batches: usize,
    marks: Vec<usize>,
}

impl Pace {
    fn new(train_len: usize, cfg: &TrainConfig) -> Self {
        let n = train_len.div_ceil(cfg.batch_size.max(1));
        let batches = cfg.max_batches_per_epoch.map_or(n, |m| n.min(m));
        let evals = cfg.evals_per_epoch.clamp(1, batches.max(1));
        Pace { batches, marks: (1..=evals).map(|k| (k * batches).div_ceil(evals)).collect() }
    }
}

/// Train `net` and leave the best evaluation's weights in its variables.
pub fn fit(
    label: &str,
    net: Trainee,
    train: &dyn BatchSource,
    valid: &dyn BatchSource,
    cfg: &TrainConfig,
    checkpoint: &Path,
) -> Result<TrainOutcome> {
    check(label, train, valid, cfg)?;
    let (model, vs) = (net.model, net.vs);
    let trainability = Trainability::new(label, cfg, vs)?;
    let rates = Rates::new(label, cfg, net.groups)?;
    tch::manual_seed(cfg.seed as i64);
    let device = vs.device();
    let weights = cfg.class_weights.as_ref().map(|w| Tensor::from_slice(w).to_device(device));
    let mut opt =
        nn::AdamW { beta1: 0.9, beta2: 0.999, wd: cfg.weight_decay, eps: 1e-8, amsgrad: false }.build(vs, cfg.lr)?;
    let pace = Pace::new(train.len(), cfg);
    let progress = Progress::new(label, pace.batches as u64, pace.marks.len() > 1);
    let mut keeper = Keeper::new(label, Selection::new(cfg, pace.marks.len()), progress, cfg.epochs, checkpoint);
    let (mut step, mut train_examples) = (0, 0);
    'epochs: for epoch in 1..=cfg.epochs {
        let frozen = trainability.begin_epoch(vs, epoch);
        let (mut run, mut done, mut epoch_seen) = (Running::start(), 0, 0);
        let mut batches = train.batches(epoch as u64, true, cfg.batch_size).take(pace.batches).peekable();
        while let Some(batch) = run.waiting_for_data(|| batches.next()) {
            let (b, lr) = (batch?, cfg.schedule.lr_at(cfg.lr, step, pace.batches * cfg.epochs));
            rates.apply(&mut opt, lr);
            crate::interrupt::check()?;
            let loss = steps::train_step(model, &mut opt, &b, device, cfg, weights.as_ref(), &mut run);
            if !loss.is_finite() {
                let why = format!("{label}: loss became {loss} at epoch {epoch}, step {step}; lower the learning rate");
                return Err(Error::Config(why));
            }
            (step, done, epoch_seen) = (step + 1, done + 1, epoch_seen + b.index.len());
            train_examples = train_examples.max(epoch_seen);
            keeper.progress.tick(format!("loss {:.4}", run.mean_loss()));
            // the epoch ends at its last batch, even when a source yields fewer than promised
            let fetching = std::time::Instant::now();
            let epoch_end = batches.peek().is_none();
            // the batch fetched here is the next window's
            let fetched = fetching.elapsed().as_secs_f64();
            if !epoch_end && !pace.marks.contains(&done) {
                run.add_data_time(fetched);
                continue;
            }
            let fraction = if epoch_end { 1.0 } else { done as f64 / pace.batches as f64 };
            let at = At { epoch, fraction, lr, backbone_frozen: frozen };
            let rec = steps::validate(model, valid, device, cfg, at, &run)?;
            run = Running::start();
            run.add_data_time(fetched);
            if keeper.judge(rec, vs)? {
                break 'epochs;
            }
        }
        keeper.progress.next_epoch();
    }
    trainability.restore(vs);
    keeper.finish(vs, train_examples)
}

/// The history, the best checkpoint and progress lines of one `fit`.
struct Keeper<'a> {
    label: &'a str,
    selection: Selection,
    history: Vec<EpochRecord>,
    progress: Progress,
    epochs: usize,
    checkpoint: &'a Path,
    started: std::time::Instant,
}

impl<'a> Keeper<'a> {
    fn new(label: &'a str, selection: Selection, progress: Progress, epochs: usize, checkpoint: &'a Path) -> Self {
        let (history, started) = (Vec::new(), std::time::Instant::now());
        Keeper { label, selection, history, progress, epochs, checkpoint, started }
    }

    /// Record an evaluation, checkpointing `vs` when it is the best; true when training stops.
    fn judge(&mut self, rec: EpochRecord, vs: &nn::VarStore) -> Result<bool> {
        let verdict = self.selection.observe(&rec);
        if verdict.keep {
            crate::models::weights::save(vs, self.checkpoint)?;
        }
        self.progress.record(&rec, self.epochs, verdict.keep);
        self.history.push(rec);
        if verdict.stop {
            let best = self.selection.best_eval().map_or(0, |e| e + 1);
            eprintln!("{}: early stop after {} evaluations (best: evaluation {best})", self.label, self.history.len());
        }
        Ok(verdict.stop)
    }

    /// Load the kept weights back into `vs`.
    fn finish(self, vs: &mut nn::VarStore, train_examples: usize) -> Result<TrainOutcome> {
        self.progress.finish();
        // a checkpoint left by an earlier run must never stand in for this one
        let Some(best_eval) = self.selection.best_eval() else {
            let why = format!("{}: no training batch was evaluated, so there is no checkpoint of this run", self.label);
            return Err(Error::Config(why));
        };
        vs.load(self.checkpoint).map_err(|e| Error::weights(self.checkpoint, e.to_string()))?;
        Ok(TrainOutcome {
            best_epoch: self.history.get(best_eval).map_or(0, |r| r.epoch),
            best_eval,
            history: self.history,
            train_seconds: self.started.elapsed().as_secs_f64(),
            train_examples,
            checkpoint: self.checkpoint.to_path_buf(),
        })
    }
}

/// What `fit` refuses before it starts.
fn check(label: &str, train: &dyn BatchSource, valid: &dyn BatchSource, cfg: &TrainConfig) -> Result<()> {
    if train.is_empty() || valid.is_empty() {
        return Err(Error::Config(format!("{label}: empty training or validation set")));
    }
    let mut checks = crate::config::plan_check::Checks::default();
    cfg.check("training config", &mut checks);
    checks.finish(label)
}

#[cfg(test)]
mod tests;
