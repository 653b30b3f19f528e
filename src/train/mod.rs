//! One training loop for image and text models: AdamW, a learning-rate schedule, optional class
//! weights, frozen-backbone warm-up and per-group rates, best checkpoint and early stopping, one
//! history record per validation. The pieces live in the submodules; `fit` puts them in order.
pub mod adamw;
pub mod config;
mod fitting;
mod keeper;
pub mod outcome;
pub mod param_groups;
pub mod predict;
mod progress;
pub mod resume;
pub mod schedule;
pub mod selection;
pub mod staged;
pub mod steps;

pub use config::{LayerDecay, Monitor, TrainConfig};
pub use keeper::SNAPSHOT_EVERY;
pub use outcome::{cumulative_seconds, within_path, EpochRecord, StopReason, TimeSplit, TrainOutcome, WithinBudget};
pub use predict::{eval_log_probs, param_count, predict, Predictions};
pub use schedule::Schedule;

use crate::data::batches::BatchSource;
use crate::error::{Error, Result};
use crate::models::groups::Groups;
use fitting::{Fitting, Flow};
use std::path::Path;
use tch::{nn, nn::ModuleT};

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
    let cfg = &with_numerics_for(label, cfg, net.vs.device());
    let mut f = Fitting::start(label, net, (train, valid), cfg, checkpoint, extras)?;
    let mut paused = false;
    for epoch in f.at.epoch..=cfg.epochs {
        if f.keeper.stop.is_some() {
            break;
        }
        if extras.pause_after.is_some_and(|p| epoch > p) {
            paused = true;
            break;
        }
        if f.epoch(epoch)? == Flow::Stop {
            break;
        }
        f.keeper.progress.next_epoch();
    }
    f.trainability.restore(f.vs);
    let mut outcome = f.keeper.finish(f.vs, f.at.train_examples, cfg.numerics)?;
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

/// Seed of the torch generator for optimizer step `step` of a run seeded `seed`.
fn step_seed(seed: u64, step: usize) -> i64 {
    (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (step as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9)) as i64 >> 1
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
