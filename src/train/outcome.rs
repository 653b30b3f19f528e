//! What a `fit` leaves: one record per evaluation with where its seconds went, why training
//! ended, and the kept (and within-budget) checkpoints.
use crate::numerics::Numerics;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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

/// An evaluation less than this share of an epoch after the one before it has training numbers
/// over a batch or two: a time cap that stopped training just past an epoch's end leaves one.
pub const STUB_SPAN: f64 = 0.1;

impl EpochRecord {
    /// Whether the training loss and accuracy of `history[i]` cover too little training to read
    /// (under [`STUB_SPAN`] of an epoch since the evaluation before); its validation numbers are
    /// whole. Results from before `progress` was recorded have none.
    pub fn train_is_a_stub(history: &[EpochRecord], i: usize) -> bool {
        let before = if i == 0 { 0.0 } else { history[i - 1].progress };
        history[i].progress > 0.0 && history[i].progress - before < STUB_SPAN
    }

    /// The last evaluation whose training numbers are whole: where "train vs validation at the
    /// end" is read.
    pub fn last_whole(history: &[EpochRecord]) -> Option<&EpochRecord> {
        (0..history.len()).rev().find(|&i| !Self::train_is_a_stub(history, i)).map(|i| &history[i])
    }

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
