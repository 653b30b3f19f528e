//! The two things the loop does: a training step on one batch, and a validation that closes the
//! running sums into a history record.
use super::adamw::AdamW;
use super::config::TrainConfig;
use super::predict::predict_with;
use super::{EpochRecord, TimeSplit};
use crate::data::batches::{Batch, BatchSource};
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tch::{nn::ModuleT, Device, Kind, Reduction, Tensor};

/// Cross-entropy with optional per-class weights (mean over the batch, weighted as PyTorch does).
pub fn weighted_ce(logits: &Tensor, y: &Tensor, weights: Option<&Tensor>) -> Tensor {
    logits.cross_entropy_loss::<&Tensor>(y, weights, Reduction::Mean, -100, 0.0)
}

/// Training loss and accuracy summed since the last validation, and when that was.
#[derive(Debug)]
pub struct Running {
    loss_sum: f64,
    correct: i64,
    seen: usize,
    since: Instant,
    time: TimeSplit,
}

impl Running {
    pub fn start() -> Self {
        Running { loss_sum: 0.0, correct: 0, seen: 0, since: Instant::now(), time: TimeSplit::default() }
    }
    /// The sums so far, for a snapshot.
    pub fn state(&self) -> RunningState {
        let (loss_sum, correct, seen, time) = (self.loss_sum, self.correct, self.seen, self.time);
        RunningState { loss_sum, correct, seen, seconds: self.since.elapsed().as_secs_f64(), time }
    }

    /// Continue the window a snapshot was taken in.
    pub fn resume(s: &RunningState) -> Self {
        let since =
            Instant::now().checked_sub(std::time::Duration::from_secs_f64(s.seconds)).unwrap_or_else(Instant::now);
        Running { loss_sum: s.loss_sum, correct: s.correct, seen: s.seen, since, time: s.time }
    }

    pub fn add_data_time(&mut self, seconds: f64) {
        self.time.data += seconds;
    }

    /// `f` (which fetches a batch), its time counted as waiting for data.
    pub fn waiting_for_data<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.time.data += t.elapsed().as_secs_f64();
        out
    }
    pub fn mean_loss(&self) -> f64 {
        self.loss_sum / self.seen.max(1) as f64
    }
}

/// [`Running`] as saved in a snapshot.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunningState {
    pub loss_sum: f64,
    pub correct: i64,
    pub seen: usize,
    pub seconds: f64,
    pub time: TimeSplit,
}

/// One optimizer step on `b`, added to `run`. Returns the batch's loss (the caller stops on a
/// non-finite one).
pub fn train_step(
    model: &dyn ModuleT,
    opt: &mut AdamW,
    b: &Batch,
    device: Device,
    cfg: &TrainConfig,
    class_weights: Option<&Tensor>,
    run: &mut Running,
) -> f64 {
    let mut clock = Clock::start(device);
    let (x, y) = (b.x.to_device(device), b.y.to_device(device));
    let logits = crate::numerics::forward(model, &x, true, cfg.numerics);
    let loss = weighted_ce(&logits, &y, class_weights);
    run.time.forward += clock.lap();
    opt.zero_grad();
    loss.backward();
    if let Some(c) = cfg.grad_clip_norm {
        opt.clip_grad_norm(c);
    }
    run.time.backward += clock.lap();
    opt.step();
    run.time.step += clock.lap();
    let n = b.index.len();
    let l = loss.double_value(&[]);
    run.loss_sum += l * n as f64;
    run.correct += logits.argmax(-1, false).eq_tensor(&y).sum(Kind::Int64).int64_value(&[]);
    run.seen += n;
    l
}

/// Seconds between laps; on CUDA it waits for the device first, so a lap is the work's time and
/// not the time to queue it.
struct Clock {
    device: Device,
    last: Instant,
}

impl Clock {
    fn start(device: Device) -> Self {
        Clock { device, last: Instant::now() }
    }
    fn lap(&mut self) -> f64 {
        if let Device::Cuda(i) = self.device {
            tch::Cuda::synchronize(i as i64);
        }
        let now = Instant::now();
        let secs = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        secs
    }
}

/// Where in training a validation falls.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub epoch: usize,
    /// Fraction of the epoch done.
    pub fraction: f64,
    pub lr: f64,
    pub backbone_frozen: bool,
}

/// Validate and turn the running training sums into a history record.
pub fn validate(
    model: &dyn ModuleT,
    valid: &dyn BatchSource,
    device: Device,
    cfg: &TrainConfig,
    at: At,
    run: &Running,
) -> Result<EpochRecord> {
    let started = Instant::now();
    let v = predict_with(model, valid, device, cfg.batch_size.max(64), false, cfg.numerics)?;
    let validation = started.elapsed().as_secs_f64();
    let valid_loss = match &cfg.class_weights {
        // same criterion as training, so the two curves are comparable
        Some(w) => {
            let (num, den) =
                v.truth.iter().zip(&v.loss).fold((0.0, 0.0), |(a, b), (&t, &l)| {
                    (a + w[t as usize] as f64 * l as f64, b + w[t as usize] as f64)
                });
            num / den.max(1e-12)
        }
        None => v.mean_loss(),
    };
    Ok(EpochRecord {
        epoch: at.epoch,
        progress: (at.epoch - 1) as f64 + at.fraction,
        train_loss: run.mean_loss(),
        train_accuracy: run.correct as f64 / run.seen.max(1) as f64,
        valid_loss,
        valid_accuracy: v.accuracy(),
        lr: at.lr,
        seconds: run.since.elapsed().as_secs_f64(),
        backbone_frozen: at.backbone_frozen,
        time: TimeSplit { validation, ..run.time },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_weights_change_the_loss() {
        let logits = Tensor::from_slice(&[2.0f32, 0.0, 0.0, 2.0, 1.0, 0.0]).view([3, 2]);
        let y = Tensor::from_slice(&[0i64, 0, 1]);
        let plain = weighted_ce(&logits, &y, None).double_value(&[]);
        let w = Tensor::from_slice(&[1.0f32, 3.0]);
        let weighted = weighted_ce(&logits, &y, Some(&w)).double_value(&[]);
        // hand-computed: per-sample losses l0=ln(1+e^-2), l1=ln(1+e^2), l2=ln(1+e^1)
        let (l0, l1, l2) = ((1.0 + (-2f64).exp()).ln(), (1.0 + 2f64.exp()).ln(), (1.0 + 1f64.exp()).ln());
        assert!((plain - (l0 + l1 + l2) / 3.0).abs() < 1e-5);
        assert!((weighted - (l0 + l1 + 3.0 * l2) / 5.0).abs() < 1e-5);
    }
}
