//! One training loop for image and text models: AdamW, a learning-rate schedule, optional class
//! weights, frozen-backbone warm-up and per-group rates, best checkpoint and early stopping, one
//! history record per validation. The pieces live in the submodules; `fit` puts them in order.
pub mod adamw;
pub mod config;
pub mod param_groups;
pub mod predict;
mod progress;
pub mod resume;
pub mod schedule;
pub mod selection;
pub mod steps;

pub use config::{LayerDecay, Monitor, TrainConfig};
pub use predict::{eval_log_probs, param_count, predict, Predictions};
use schedule::Clock;
pub use schedule::Schedule;

use crate::data::batches::BatchSource;
use crate::error::{Error, Result};
use crate::models::groups::Groups;
use crate::numerics::Numerics;
use adamw::AdamW;
use param_groups::{Rates, Trainability};
use progress::Progress;
use selection::Selection;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use steps::{At, Running};
use tch::{nn, nn::ModuleT, Tensor};

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

impl EpochRecord {
    /// The evaluation whose weights a run kept (`best`, its index in `history`): every table,
    /// spread and sentence that quotes "the kept checkpoint" reads it here. None where a result
    /// names none (results from before `best_evaluation` was recorded).
    pub fn kept(history: &[EpochRecord], best: Option<usize>) -> Option<&EpochRecord> {
        history.get(best?)
    }
}

/// Training seconds (validation included) up to and including each evaluation.
pub fn cumulative_seconds(history: &[EpochRecord]) -> Vec<f64> {
    history
        .iter()
        .scan(0.0, |t, r| {
            *t += r.seconds;
            Some(*t)
        })
        .collect()
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

/// Why training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Validation stopped improving for `patience` epochs.
    Plateau,
    /// The last epoch allowed was trained.
    EpochCap,
    /// `max_seconds` of training ran out.
    TimeCap,
}

impl StopReason {
    /// Training ended on a budget, not because validation stopped improving.
    pub fn is_cap(self) -> bool {
        self != StopReason::Plateau
    }

    pub fn name(self) -> &'static str {
        match self {
            StopReason::Plateau => "plateau",
            StopReason::EpochCap => "epoch cap",
            StopReason::TimeCap => "time cap",
        }
    }
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
    pub stop: StopReason,
    /// The numerics the run used (what was asked for, less bf16 where the CPU lacks it).
    pub numerics: Numerics,
    /// The run paused after [`Extras::pause_after`] (its snapshot continues it), not finished.
    #[serde(default)]
    pub paused: bool,
    /// The most accurate evaluation within [`Extras::within_seconds`], when asked for.
    #[serde(default)]
    pub within: Option<WithinBudget>,
}

/// What a `fit` does besides training to its end.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Extras {
    /// Pause once this epoch is done: the snapshot stays, and a later `fit` of the same
    /// configuration continues from it (candidate input sizes race a few epochs first).
    pub pause_after: Option<usize>,
    /// Also keep the weights of the most accurate evaluation reached within this many training
    /// seconds (the compute another row needed), in [`within_path`] of the checkpoint.
    pub within_seconds: Option<f64>,
}

/// The evaluation a budget in training seconds allowed, and where its weights are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithinBudget {
    /// Index into the history.
    pub eval: usize,
    pub seconds: f64,
    pub checkpoint: PathBuf,
}

/// Where the weights of the best evaluation within a budget go, beside `checkpoint`.
pub fn within_path(checkpoint: &Path) -> PathBuf {
    checkpoint.with_extension("within.safetensors")
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

/// Train `net` and leave the best evaluation's weights in its variables. The weights being kept
/// go to `checkpoint`; a snapshot beside it (see [`resume`]) is saved at every evaluation, every
/// [`SNAPSHOT_EVERY`] in between and when a stop is asked for, and a later `fit` of the same
/// configuration continues from it exactly.
pub fn fit(
    label: &str,
    net: Trainee,
    train: &dyn BatchSource,
    valid: &dyn BatchSource,
    cfg: &TrainConfig,
    checkpoint: &Path,
) -> Result<TrainOutcome> {
    fit_with(label, net, train, valid, cfg, checkpoint, Extras::default())
}

/// [`fit`], pausing or keeping a within-budget checkpoint as `extras` asks.
pub fn fit_with(
    label: &str,
    net: Trainee,
    train: &dyn BatchSource,
    valid: &dyn BatchSource,
    cfg: &TrainConfig,
    checkpoint: &Path,
    extras: Extras,
) -> Result<TrainOutcome> {
    check(label, train, valid, cfg)?;
    let (model, vs) = (net.model, net.vs);
    let cfg = &with_numerics_for(label, cfg, vs.device());
    let trainability = Trainability::new(label, cfg, vs)?;
    let rates = Rates::new(label, cfg, net.groups)?;
    let device = vs.device();
    let weights = cfg.class_weights.as_ref().map(|w| Tensor::from_slice(w).to_device(device));
    let mut opt = AdamW::new(vs, cfg.lr, cfg.weight_decay);
    let pace = Pace::new(train.len(), cfg);
    let progress = Progress::new(label, pace.batches as u64, pace.marks.len() > 1);
    let selection = Selection::new(cfg, pace.marks.len());
    let mut keeper = Keeper::new(label, selection, progress, cfg.epochs, checkpoint);
    keeper.within = extras.within_seconds.map(Within::new);
    let mut fingerprint = fingerprint(label, cfg, train, valid, vs);
    if let Some(s) = extras.within_seconds {
        fingerprint["within_seconds"] = s.into();
    }
    let mut at = Position::start();
    if let Some(r) = resume::load(checkpoint, &fingerprint)? {
        at = keeper.resume(r, vs, &mut opt)?;
    }
    let mut saver = Saver { fingerprint, last: std::time::Instant::now() };
    let mut paused = false;
    'epochs: for epoch in at.epoch..=cfg.epochs {
        if keeper.stop.is_some() {
            break;
        }
        if extras.pause_after.is_some_and(|p| epoch > p) {
            paused = true;
            break;
        }
        let frozen = trainability.begin_epoch(vs, epoch);
        let skip = if epoch == at.epoch { at.done } else { 0 };
        let (mut run, mut done) = (at.running.take().map_or_else(Running::start, |s| Running::resume(&s)), skip);
        let mut epoch_seen = if epoch == at.epoch { at.epoch_seen } else { 0 };
        let batches = train.batches_from(epoch as u64, true, cfg.batch_size, skip);
        let mut batches = batches.take(pace.batches.saturating_sub(skip)).peekable();
        while let Some(batch) = run.waiting_for_data(|| batches.next()) {
            let clock = Clock {
                step: at.step,
                total: pace.batches * cfg.epochs,
                per_epoch: pace.batches,
                cuts: keeper.cuts(cfg),
            };
            let (b, lr) = (batch?, cfg.schedule.lr_at(cfg.lr, clock));
            if let Err(stop) = crate::interrupt::check() {
                let here = Position { epoch, done, step: at.step, epoch_seen, running: Some(run.state()), ..at };
                saver.save(&mut keeper, &here, vs, &opt)?;
                eprintln!(
                    "{label}: stopped at epoch {epoch}, batch {done}/{}; the next run continues here",
                    pace.batches
                );
                return Err(stop);
            }
            rates.apply(&mut opt, lr);
            // every step draws from its own seed (dropout), so a resumed run draws what an
            // uninterrupted one would
            tch::manual_seed(step_seed(cfg.seed, at.step));
            let loss = steps::train_step(model, &mut opt, &b, device, cfg, weights.as_ref(), &mut run);
            if !loss.is_finite() {
                let why =
                    format!("{label}: loss became {loss} at epoch {epoch}, step {}; lower the learning rate", at.step);
                return Err(Error::Config(why));
            }
            (at.step, done, epoch_seen) = (at.step + 1, done + 1, epoch_seen + b.index.len());
            at.train_examples = at.train_examples.max(epoch_seen);
            keeper.progress.tick(format!("loss {:.4}", run.mean_loss()));
            // the epoch ends at its last batch, even when a source yields fewer than promised
            let fetching = std::time::Instant::now();
            let epoch_end = batches.peek().is_none();
            // the batch fetched here is the next window's
            let fetched = fetching.elapsed().as_secs_f64();
            let out_of_time = cfg.max_seconds.is_some_and(|cap| keeper.seconds() >= cap);
            if !epoch_end && !pace.marks.contains(&done) && !out_of_time {
                run.add_data_time(fetched);
                if saver.due() {
                    let here = Position { epoch, done, epoch_seen, running: Some(run.state()), ..at };
                    saver.save(&mut keeper, &here, vs, &opt)?;
                }
                continue;
            }
            let fraction = if epoch_end { 1.0 } else { done as f64 / pace.batches as f64 };
            let rec =
                steps::validate(model, valid, device, cfg, At { epoch, fraction, lr, backbone_frozen: frozen }, &run)?;
            run = Running::start();
            run.add_data_time(fetched);
            let mut stop = keeper.judge(rec, vs)?;
            if out_of_time && !stop {
                eprintln!(
                    "{label}: stopped at its time cap ({:.0} s) after {} evaluations",
                    keeper.seconds(),
                    keeper.history.len()
                );
                (keeper.stop, stop) = (Some(StopReason::TimeCap), true);
            }
            let here = if epoch_end {
                Position { epoch: epoch + 1, done: 0, epoch_seen: 0, running: None, ..at }
            } else {
                Position { epoch, done, epoch_seen, running: Some(run.state()), ..at }
            };
            saver.save(&mut keeper, &here, vs, &opt)?;
            if stop {
                break 'epochs;
            }
        }
        keeper.progress.next_epoch();
    }
    trainability.restore(vs);
    let mut outcome = keeper.finish(vs, at.train_examples, cfg.numerics)?;
    outcome.paused = paused;
    Ok(outcome)
}

/// `cfg` with the numerics `device` can run, said in one line (bf16 falls back to fp32 where the
/// CPU has no bf16 units).
fn with_numerics_for(label: &str, cfg: &TrainConfig, device: tch::Device) -> TrainConfig {
    let (numerics, why) = cfg.numerics.resolve(device);
    match why {
        Some(why) => eprintln!("{label}: numerics {} ({why})", numerics.label()),
        None => eprintln!("{label}: numerics {}", numerics.label()),
    }
    TrainConfig { numerics, ..cfg.clone() }
}

/// Longest stretch of training between two snapshots (evaluations also save one).
pub const SNAPSHOT_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// Seed of the torch generator for optimizer step `step` of a run seeded `seed`.
fn step_seed(seed: u64, step: usize) -> i64 {
    (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (step as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9)) as i64 >> 1
}

/// Where the loop stands: the next batch to train is batch `done` of `epoch`.
#[derive(Debug, Clone)]
struct Position {
    epoch: usize,
    done: usize,
    step: usize,
    epoch_seen: usize,
    train_examples: usize,
    running: Option<steps::RunningState>,
}

impl Position {
    fn start() -> Self {
        Position { epoch: 1, done: 0, step: 0, epoch_seen: 0, train_examples: 0, running: None }
    }
}

/// What identifies a training run for resuming: the row, its recipe, its data and its variables.
fn fingerprint(
    label: &str,
    cfg: &TrainConfig,
    train: &dyn BatchSource,
    valid: &dyn BatchSource,
    vs: &nn::VarStore,
) -> serde_json::Value {
    let labels = |s: &dyn BatchSource| {
        let h = crate::config::manifest::fnv1a(s.labels().iter().map(|&l| l as u64));
        format!("{}:{h:016x}", s.len())
    };
    let mut vars: Vec<(String, Vec<i64>)> = vs.variables().into_iter().map(|(n, t)| (n, t.size())).collect();
    vars.sort();
    serde_json::json!({
        "row": label,
        "config": cfg,
        "train": labels(train),
        "valid": labels(valid),
        "variables": vars,
    })
}

/// Snapshots at evaluations, on a stop, and every [`SNAPSHOT_EVERY`].
struct Saver {
    fingerprint: serde_json::Value,
    last: std::time::Instant,
}

impl Saver {
    fn due(&self) -> bool {
        self.last.elapsed() >= SNAPSHOT_EVERY
    }

    fn save(&mut self, keeper: &mut Keeper, at: &Position, vs: &nn::VarStore, opt: &AdamW) -> Result<()> {
        let mut snapshot = resume::Snapshot {
            fingerprint: self.fingerprint.clone(),
            epoch: at.epoch,
            done: at.done,
            step: at.step,
            epoch_seen: at.epoch_seen,
            train_examples: at.train_examples,
            history: keeper.history.clone(),
            running: at.running.clone().unwrap_or_default(),
            seconds: keeper.seconds(),
            stop: keeper.stop,
            tensors: String::new(),
        };
        let within = keeper.within.as_ref().and_then(|w| w.weights.as_deref());
        resume::save(keeper.checkpoint, &mut snapshot, vs, opt.state(), keeper.best.as_deref(), within)?;
        self.last = std::time::Instant::now();
        Ok(())
    }
}

/// The history, the kept weights and progress lines of one `fit`.
struct Keeper<'a> {
    label: &'a str,
    selection: Selection,
    history: Vec<EpochRecord>,
    progress: Progress,
    epochs: usize,
    checkpoint: &'a Path,
    started: std::time::Instant,
    /// Training seconds of earlier invocations (a resumed run).
    before: f64,
    /// The kept weights, by variable name.
    best: Option<Vec<(String, Tensor)>>,
    /// Set when training ended before its last epoch.
    stop: Option<StopReason>,
    /// Whether each evaluation improved the monitored metric (a plateau schedule's cuts).
    gains: Vec<bool>,
    /// The best evaluation within a budget of training seconds, when asked for.
    within: Option<Within>,
}

/// The most accurate evaluation (ties to the lower loss) whose cumulative training seconds fit
/// a budget, and its weights.
struct Within {
    seconds: f64,
    spent: f64,
    best: Option<(usize, (f64, f64))>,
    weights: Option<Vec<(String, Tensor)>>,
}

impl Within {
    fn new(seconds: f64) -> Self {
        Within { seconds, spent: 0.0, best: None, weights: None }
    }

    /// Count evaluation `eval`; true when its weights are the best within the budget so far.
    fn observe(&mut self, eval: usize, rec: &EpochRecord) -> bool {
        self.spent += rec.seconds;
        let score = Monitor::ValidAccuracy.score(rec.valid_accuracy, rec.valid_loss);
        let better = self.spent <= self.seconds && self.best.is_none_or(|(_, b)| score > b);
        if better {
            self.best = Some((eval, score));
        }
        better
    }
}

impl<'a> Keeper<'a> {
    fn new(label: &'a str, selection: Selection, progress: Progress, epochs: usize, checkpoint: &'a Path) -> Self {
        let (history, started) = (Vec::new(), std::time::Instant::now());
        let (before, best, stop, gains, within) = (0.0, None, None, Vec::new(), None);
        Keeper { label, selection, history, progress, epochs, checkpoint, started, before, best, stop, gains, within }
    }

    /// Rate cuts of a plateau schedule so far (0 for the others).
    fn cuts(&self, cfg: &TrainConfig) -> usize {
        match cfg.schedule {
            Schedule::Plateau { patience, .. } => {
                schedule::plateau_cuts(&self.gains, patience * self.selection.evals_per_epoch())
            }
            _ => 0,
        }
    }

    fn seconds(&self) -> f64 {
        self.before + self.started.elapsed().as_secs_f64()
    }

    /// Take up a snapshot: weights, optimizer state, history (selection replayed over it) and
    /// the kept weights, written back to the checkpoint.
    fn resume(&mut self, r: resume::Resumed, vs: &mut nn::VarStore, opt: &mut AdamW) -> Result<Position> {
        let s = r.snapshot;
        let file = r.json.with_file_name(&s.tensors);
        resume::restore_weights(vs, &r.tensors, &file)?;
        opt.load_state(&r.tensors, &file)?;
        for (i, rec) in s.history.iter().enumerate() {
            self.gains.push(self.selection.observe(rec).gain);
            if let Some(w) = self.within.as_mut() {
                w.observe(i, rec);
            }
        }
        if let Some(w) = self.within.as_mut().filter(|w| w.best.is_some()) {
            let weights = resume::prefixed(&r.tensors, "within.");
            if weights.is_empty() {
                return Err(Error::weights(&file, "snapshot lacks the within-budget weights; --fresh starts over"));
            }
            w.weights = Some(weights);
        }
        let best = resume::prefixed(&r.tensors, "best.");
        if !best.is_empty() {
            crate::models::weights::save_named(&best, self.checkpoint)?;
            self.best = Some(best);
        }
        (self.history, self.before, self.stop) = (s.history, s.seconds, s.stop);
        eprintln!(
            "{}: continuing from a snapshot at epoch {}, batch {} (step {}, {} evaluations done): {}",
            self.label,
            s.epoch,
            s.done,
            s.step,
            self.history.len(),
            r.json.display()
        );
        let (epoch, done, step, epoch_seen, train_examples) = (s.epoch, s.done, s.step, s.epoch_seen, s.train_examples);
        let running = (s.running.seen > 0 || s.done > 0).then_some(s.running);
        Ok(Position { epoch, done, step, epoch_seen, train_examples, running })
    }

    /// Record an evaluation, checkpointing `vs` when it is the best; true when training stops.
    fn judge(&mut self, rec: EpochRecord, vs: &nn::VarStore) -> Result<bool> {
        let verdict = self.selection.observe(&rec);
        self.gains.push(verdict.gain);
        if verdict.keep {
            crate::models::weights::save(vs, self.checkpoint)?;
            self.best = Some(vs.variables().into_iter().map(|(n, t)| (n, t.copy())).collect());
        }
        if let Some(w) = self.within.as_mut() {
            if w.observe(self.history.len(), &rec) {
                // an evaluation kept by both shares one copy (neither is ever written in place)
                w.weights = Some(match (&self.best, verdict.keep) {
                    (Some(best), true) => best.iter().map(|(n, t)| (n.clone(), t.shallow_clone())).collect(),
                    _ => vs.variables().into_iter().map(|(n, t)| (n, t.copy())).collect(),
                });
            }
        }
        self.progress.record(&rec, self.epochs, verdict.keep);
        self.history.push(rec);
        if verdict.stop {
            let best = self.selection.best_eval().map_or(0, |e| e + 1);
            eprintln!("{}: early stop after {} evaluations (best: evaluation {best})", self.label, self.history.len());
            self.stop = Some(StopReason::Plateau);
        }
        Ok(verdict.stop)
    }

    /// Load the kept weights back into `vs`.
    fn finish(self, vs: &mut nn::VarStore, train_examples: usize, numerics: Numerics) -> Result<TrainOutcome> {
        self.progress.finish();
        // a checkpoint left by an earlier run must never stand in for this one
        let Some(best_eval) = self.selection.best_eval() else {
            let why = format!("{}: no training batch was evaluated, so there is no checkpoint of this run", self.label);
            return Err(Error::Config(why));
        };
        vs.load(self.checkpoint).map_err(|e| Error::weights(self.checkpoint, e.to_string()))?;
        let train_seconds = self.seconds();
        let within = match self.within {
            Some(Within { seconds, best: Some((eval, _)), weights: Some(w), .. }) => {
                let checkpoint = within_path(self.checkpoint);
                crate::models::weights::save_named(&w, &checkpoint)?;
                Some(WithinBudget { eval, seconds, checkpoint })
            }
            _ => None,
        };
        Ok(TrainOutcome {
            best_epoch: self.history.get(best_eval).map_or(0, |r| r.epoch),
            best_eval,
            train_seconds,
            history: self.history,
            train_examples,
            checkpoint: self.checkpoint.to_path_buf(),
            stop: self.stop.unwrap_or(StopReason::EpochCap),
            numerics,
            paused: false,
            within,
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
