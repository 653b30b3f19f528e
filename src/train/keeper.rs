//! What one `fit` carries from evaluation to evaluation: where the loop stands, the history
//! with its selection of the kept weights, and the snapshots that let a stopped run continue.
use super::adamw::AdamW;
use super::outcome::{within_path, EpochRecord, StopReason, TrainOutcome, WithinBudget};
use super::progress::Progress;
use super::schedule::{self, Schedule};
use super::selection::Selection;
use super::{resume, steps, Monitor, TrainConfig};
use crate::data::batches::BatchSource;
use crate::error::{Error, Result};
use crate::numerics::Numerics;
use std::path::Path;
use tch::{nn, Tensor};

/// Longest stretch of training between two snapshots (evaluations also save one).
pub const SNAPSHOT_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// Where the loop stands: the next batch to train is batch `done` of `epoch`.
#[derive(Debug, Clone)]
pub(super) struct Position {
    pub(super) epoch: usize,
    pub(super) done: usize,
    pub(super) step: usize,
    pub(super) epoch_seen: usize,
    pub(super) train_examples: usize,
    pub(super) running: Option<steps::RunningState>,
}

impl Position {
    pub(super) fn start() -> Self {
        Position { epoch: 1, done: 0, step: 0, epoch_seen: 0, train_examples: 0, running: None }
    }
}

/// What identifies a training run for resuming: the row, its recipe, its data and its variables.
pub(super) fn fingerprint(
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
pub(super) struct Saver {
    pub(super) fingerprint: serde_json::Value,
    pub(super) last: std::time::Instant,
}

impl Saver {
    pub(super) fn due(&self) -> bool {
        self.last.elapsed() >= SNAPSHOT_EVERY
    }

    pub(super) fn save(&mut self, keeper: &mut Keeper, at: &Position, vs: &nn::VarStore, opt: &AdamW) -> Result<()> {
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
pub(super) struct Keeper<'a> {
    pub(super) label: &'a str,
    pub(super) selection: Selection,
    pub(super) history: Vec<EpochRecord>,
    pub(super) progress: Progress,
    pub(super) epochs: usize,
    pub(super) checkpoint: &'a Path,
    pub(super) started: std::time::Instant,
    /// Training seconds of earlier invocations (a resumed run).
    pub(super) before: f64,
    /// The kept weights, by variable name.
    pub(super) best: Option<Vec<(String, Tensor)>>,
    /// Set when training ended before its last epoch.
    pub(super) stop: Option<StopReason>,
    /// Whether each evaluation improved the monitored metric (a plateau schedule's cuts).
    pub(super) gains: Vec<bool>,
    /// The best evaluation within a budget of training seconds, when asked for.
    pub(super) within: Option<Within>,
}

/// The most accurate evaluation (ties to the lower loss) whose cumulative training seconds fit
/// a budget, and its weights.
pub(super) struct Within {
    pub(super) seconds: f64,
    pub(super) spent: f64,
    pub(super) best: Option<(usize, (f64, f64))>,
    pub(super) weights: Option<Vec<(String, Tensor)>>,
}

impl Within {
    pub(super) fn new(seconds: f64) -> Self {
        Within { seconds, spent: 0.0, best: None, weights: None }
    }

    /// Count evaluation `eval`; true when its weights are the best within the budget so far.
    pub(super) fn observe(&mut self, eval: usize, rec: &EpochRecord) -> bool {
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
    pub(super) fn new(
        label: &'a str,
        selection: Selection,
        progress: Progress,
        epochs: usize,
        checkpoint: &'a Path,
    ) -> Self {
        let (history, started) = (Vec::new(), std::time::Instant::now());
        let (before, best, stop, gains, within) = (0.0, None, None, Vec::new(), None);
        Keeper { label, selection, history, progress, epochs, checkpoint, started, before, best, stop, gains, within }
    }

    /// Rate cuts of a plateau schedule so far (0 for the others).
    pub(super) fn cuts(&self, cfg: &TrainConfig) -> usize {
        match cfg.schedule {
            Schedule::Plateau { patience, .. } => {
                schedule::plateau_cuts(&self.gains, patience * self.selection.evals_per_epoch())
            }
            _ => 0,
        }
    }

    pub(super) fn seconds(&self) -> f64 {
        self.before + self.started.elapsed().as_secs_f64()
    }

    /// Take up a snapshot: weights, optimizer state, history (selection replayed over it) and
    /// the kept weights, written back to the checkpoint.
    pub(super) fn resume(&mut self, r: resume::Resumed, vs: &mut nn::VarStore, opt: &mut AdamW) -> Result<Position> {
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
    pub(super) fn judge(&mut self, rec: EpochRecord, vs: &nn::VarStore) -> Result<bool> {
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
    pub(super) fn finish(
        self,
        vs: &mut nn::VarStore,
        train_examples: usize,
        numerics: Numerics,
    ) -> Result<TrainOutcome> {
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
