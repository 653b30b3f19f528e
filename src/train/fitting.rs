//! One `fit` under way: the model, its optimizer and everything the loop carries between
//! batches, with the loop's three moves (an epoch, a step, an evaluation) as methods.
use super::adamw::AdamW;
use super::keeper::{fingerprint, Keeper, Position, Saver, Within};
use super::param_groups::{Rates, Trainability};
use super::progress::Progress;
use super::schedule::Clock;
use super::selection::Selection;
use super::steps::{self, At, Running};
use super::{resume, step_seed, Extras, Pace, StopReason, TrainConfig, Trainee};
use crate::data::batches::{Batch, BatchSource};
use crate::error::{Error, Result};
use std::path::Path;
use std::time::Instant;
use tch::{nn, nn::ModuleT, Tensor};

/// Whether training goes on after a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    Go,
    Stop,
}

pub(super) struct Fitting<'a> {
    label: &'a str,
    model: &'a dyn ModuleT,
    pub(super) vs: &'a mut nn::VarStore,
    cfg: &'a TrainConfig,
    train: &'a dyn BatchSource,
    valid: &'a dyn BatchSource,
    pub(super) trainability: Trainability,
    rates: Rates,
    weights: Option<Tensor>,
    opt: AdamW,
    pace: Pace,
    pub(super) keeper: Keeper<'a>,
    saver: Saver,
    /// Where this invocation started (a snapshot's position, or the beginning), with the step
    /// and example counters kept up to date.
    pub(super) at: Position,
}

/// The batches of an evaluation window trained so far.
struct Window {
    run: Running,
    /// Batches of the epoch done.
    done: usize,
    /// Examples of the epoch seen.
    epoch_seen: usize,
}

impl<'a> Fitting<'a> {
    /// Set the run up, continuing from a snapshot of the same configuration if there is one.
    pub(super) fn start(
        label: &'a str,
        net: Trainee<'a>,
        (train, valid): (&'a dyn BatchSource, &'a dyn BatchSource),
        cfg: &'a TrainConfig,
        checkpoint: &'a Path,
        extras: Extras,
    ) -> Result<Self> {
        let (model, vs) = (net.model, net.vs);
        let trainability = Trainability::new(label, cfg, vs)?;
        let rates = Rates::new(label, cfg, net.groups)?;
        let weights = cfg.class_weights.as_ref().map(|w| Tensor::from_slice(w).to_device(vs.device()));
        let mut opt = AdamW::new(vs, cfg.lr, cfg.weight_decay);
        let pace = Pace::new(train.len(), cfg);
        let progress = Progress::new(label, pace.batches as u64, pace.marks.len() > 1);
        let mut keeper = Keeper::new(label, Selection::new(cfg, pace.marks.len()), progress, cfg.epochs, checkpoint);
        keeper.within = extras.within_seconds.map(Within::new);
        let mut fingerprint = fingerprint(label, cfg, train, valid, vs);
        if let Some(s) = extras.within_seconds {
            fingerprint["within_seconds"] = s.into();
        }
        let mut at = Position::start();
        if let Some(r) = resume::load(checkpoint, &fingerprint)? {
            at = keeper.resume(r, vs, &mut opt)?;
        }
        let saver = Saver { fingerprint, last: Instant::now() };
        Ok(Fitting { label, model, vs, cfg, train, valid, trainability, rates, weights, opt, pace, keeper, saver, at })
    }

    /// Train epoch `epoch` (from where a snapshot left it, for the first), validating at the
    /// pace's marks.
    pub(super) fn epoch(&mut self, epoch: usize) -> Result<Flow> {
        let frozen = self.trainability.begin_epoch(self.vs, epoch);
        let first = epoch == self.at.epoch;
        let skip = if first { self.at.done } else { 0 };
        let run = self.at.running.take().map_or_else(Running::start, |s| Running::resume(&s));
        let mut w = Window { run, done: skip, epoch_seen: if first { self.at.epoch_seen } else { 0 } };
        let train = self.train;
        let batches = train.batches_from(epoch as u64, true, self.cfg.batch_size, skip);
        let mut batches = batches.take(self.pace.batches.saturating_sub(skip)).peekable();
        while let Some(batch) = w.run.waiting_for_data(|| batches.next()) {
            let (b, lr) = (batch?, self.cfg.schedule.lr_at(self.cfg.lr, self.clock()));
            self.stop_if_asked(epoch, &w)?;
            self.step(&b, lr, epoch, &mut w)?;
            // the epoch ends at its last batch, even when a source yields fewer than promised
            let fetching = Instant::now();
            let epoch_end = batches.peek().is_none();
            // the batch fetched here is the next window's
            let fetched = fetching.elapsed().as_secs_f64();
            let out_of_time = self.cfg.max_seconds.is_some_and(|cap| self.keeper.seconds() >= cap);
            if !epoch_end && !self.pace.marks.contains(&w.done) && !out_of_time {
                w.run.add_data_time(fetched);
                if self.saver.due() {
                    let here = self.inside(epoch, &w);
                    self.saver.save(&mut self.keeper, &here, self.vs, &self.opt)?;
                }
                continue;
            }
            let fraction = if epoch_end { 1.0 } else { w.done as f64 / self.pace.batches as f64 };
            let at = At { epoch, fraction, lr, backbone_frozen: frozen };
            if self.evaluate(at, &mut w, fetched, (epoch_end, out_of_time))? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        Ok(Flow::Go)
    }

    /// Where the loop stands inside epoch `epoch`, `w`'s batches done: what a snapshot saves.
    fn inside(&self, epoch: usize, w: &Window) -> Position {
        Position { epoch, done: w.done, epoch_seen: w.epoch_seen, running: Some(w.run.state()), ..self.at }
    }

    fn clock(&self) -> Clock {
        let per_epoch = self.pace.batches;
        Clock { step: self.at.step, total: per_epoch * self.cfg.epochs, per_epoch, cuts: self.keeper.cuts(self.cfg) }
    }

    /// A stop asked for (Ctrl-C, SIGTERM): save where the loop is and end with the stop's error.
    fn stop_if_asked(&mut self, epoch: usize, w: &Window) -> Result<()> {
        let Err(stop) = crate::interrupt::check() else { return Ok(()) };
        let here = self.inside(epoch, w);
        self.saver.save(&mut self.keeper, &here, self.vs, &self.opt)?;
        eprintln!(
            "{}: stopped at epoch {epoch}, batch {}/{}; the next run continues here",
            self.label, w.done, self.pace.batches
        );
        Err(stop)
    }

    /// One optimizer step on `b` at rate `lr`.
    fn step(&mut self, b: &Batch, lr: f64, epoch: usize, w: &mut Window) -> Result<()> {
        self.rates.apply(&mut self.opt, lr);
        // every step draws from its own seed (dropout), so a resumed run draws what an
        // uninterrupted one would
        tch::manual_seed(step_seed(self.cfg.seed, self.at.step));
        let device = self.vs.device();
        let loss = steps::train_step(self.model, &mut self.opt, b, device, self.cfg, self.weights.as_ref(), &mut w.run);
        if !loss.is_finite() {
            let why = format!(
                "{}: loss became {loss} at epoch {epoch}, step {}; lower the learning rate",
                self.label, self.at.step
            );
            return Err(Error::Config(why));
        }
        (self.at.step, w.done, w.epoch_seen) = (self.at.step + 1, w.done + 1, w.epoch_seen + b.index.len());
        self.at.train_examples = self.at.train_examples.max(w.epoch_seen);
        self.keeper.progress.tick(format!("loss {:.4}", w.run.mean_loss()));
        Ok(())
    }

    /// Validate at the end of a window, keep or drop the weights, stop on a plateau or the time
    /// cap, and save a snapshot. `end` is (the epoch's end, out of time).
    fn evaluate(
        &mut self,
        at: At,
        w: &mut Window,
        fetched: f64,
        (epoch_end, out_of_time): (bool, bool),
    ) -> Result<Flow> {
        let epoch = at.epoch;
        let rec = steps::validate(self.model, self.valid, self.vs.device(), self.cfg, at, &w.run)?;
        w.run = Running::start();
        w.run.add_data_time(fetched);
        let mut stop = self.keeper.judge(rec, self.vs)?;
        if out_of_time && !stop {
            let (seconds, evaluations) = (self.keeper.seconds(), self.keeper.history.len());
            eprintln!("{}: stopped at its time cap ({seconds:.0} s) after {evaluations} evaluations", self.label);
            (self.keeper.stop, stop) = (Some(StopReason::TimeCap), true);
        }
        let here = if epoch_end {
            Position { epoch: epoch + 1, done: 0, epoch_seen: 0, running: None, ..self.at }
        } else {
            self.inside(epoch, w)
        };
        self.saver.save(&mut self.keeper, &here, self.vs, &self.opt)?;
        Ok(if stop { Flow::Stop } else { Flow::Go })
    }
}
