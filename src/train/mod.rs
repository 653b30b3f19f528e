//! One training loop for image and text models: AdamW, warm-up + cosine or one-cycle learning
//! rate, optional class weights, optional frozen-backbone warm-up, early stopping, best
//! checkpoint as safetensors, per-epoch history.
use crate::data::batches::BatchSource;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{nn, nn::ModuleT, nn::OptimizerConfig, Device, Kind, Reduction, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// Linear warm-up over `warmup_frac` of the steps, then cosine decay to 0.
    WarmupCosine {
        warmup_frac: f64,
    },
    /// One-cycle: cosine rise from lr/25 to lr over `pct_start`, then cosine fall to lr/1e4.
    OneCycle {
        pct_start: f64,
    },
    Constant,
}

impl Schedule {
    /// Learning rate at `step` of `total` for peak rate `lr`.
    pub fn lr_at(&self, lr: f64, step: usize, total: usize) -> f64 {
        let total = total.max(1) as f64;
        let t = step as f64;
        let cos =
            |a: f64, b: f64, frac: f64| b + (a - b) * 0.5 * (1.0 + (std::f64::consts::PI * frac.clamp(0.0, 1.0)).cos());
        match *self {
            Schedule::Constant => lr,
            Schedule::WarmupCosine { warmup_frac } => {
                let warm = (warmup_frac * total).max(1.0);
                if t < warm {
                    lr * (t + 1.0) / warm
                } else {
                    cos(lr, 0.0, (t - warm) / (total - warm).max(1.0))
                }
            }
            Schedule::OneCycle { pct_start } => {
                let up = (pct_start * total).max(1.0);
                if t < up {
                    cos(lr / 25.0, lr, t / up)
                } else {
                    cos(lr, lr / 25.0 / 1e4, (t - up) / (total - up).max(1.0))
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    ValidLoss,
    ValidAccuracy,
}

/// Layer-wise learning-rate decay for a pretrained stack (Howard & Ruder 2018; Clark et al.
/// 2020): the top of `layers` (listed bottom to top, as variable-name prefixes) learns at the
/// base rate, each one below at `decay` times the one above. Variables under none of them
/// keep the base rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerDecay {
    pub decay: f64,
    pub layers: Vec<String>,
}

impl LayerDecay {
    /// Optimizer group of `layers[k]` (0 is the default group, 1 the head).
    fn group(k: usize) -> usize {
        crate::models::transfer::HEAD_GROUP + 1 + k
    }

    /// Rate multiple of `layers[k]`.
    pub fn mult(&self, k: usize) -> f64 {
        self.decay.powi((self.layers.len() - 1 - k) as i32)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub schedule: Schedule,
    /// Per-class loss weights (training split frequencies), or None for plain cross-entropy.
    pub class_weights: Option<Vec<f32>>,
    /// Which validation metric picks the best epoch.
    pub monitor: Monitor,
    /// Stop after this many epochs without improvement of `monitor`.
    pub patience: Option<usize>,
    pub grad_clip_norm: Option<f64>,
    /// Train only the head for this many epochs first (needs `head_prefix`).
    pub freeze_backbone_epochs: usize,
    pub head_prefix: Option<String>,
    /// The head (`head_prefix`) learns at this multiple of `lr`: a freshly initialised head
    /// next to a pretrained body (discriminative fine-tuning). None: one rate for all.
    #[serde(default)]
    pub head_lr_mult: Option<f64>,
    /// Per-layer rates below the base rate for a pretrained stack (None: one rate).
    #[serde(default)]
    pub layer_lr_decay: Option<LayerDecay>,
    /// Variables whose names start with one of these stay at their initial (pretrained) values
    /// for the whole run: no gradient, no optimizer state, no weight decay.
    #[serde(default)]
    pub frozen_prefixes: Vec<String>,
    /// Cap on training batches per epoch (smoke runs).
    pub max_batches_per_epoch: Option<usize>,
    /// Validate this many times per epoch (evenly spaced): a one-epoch fine-tune still gets
    /// learning curves, and the best checkpoint can fall mid-epoch.
    #[serde(default = "one")]
    pub evals_per_epoch: usize,
    pub seed: u64,
}

fn one() -> usize {
    1
}

impl TrainConfig {
    /// Values `fit` cannot train with, named under `key` (e.g. `part1.custom`).
    pub fn check(&self, key: &str, c: &mut crate::config::plan_check::Checks) {
        c.at_least(&format!("{key}.epochs"), self.epochs, 1);
        c.at_least(&format!("{key}.batch_size"), self.batch_size, 1);
        c.at_least(&format!("{key}.evals_per_epoch"), self.evals_per_epoch, 1);
        c.cap(&format!("{key}.max_batches_per_epoch"), self.max_batches_per_epoch);
        c.that(self.lr.is_finite() && self.lr > 0.0, || format!("{key}.lr must be > 0, got {}", self.lr));
        c.within(&format!("{key}.weight_decay"), self.weight_decay, 0.0, 1.0);
        c.that(self.patience != Some(0), || format!("{key}.patience is 0: it would stop after the first evaluation"));
        if let Some(g) = self.grad_clip_norm {
            c.that(g.is_finite() && g > 0.0, || format!("{key}.grad_clip_norm must be > 0, got {g}"));
        }
        if let Some(m) = self.head_lr_mult {
            c.that(m.is_finite() && m >= 0.0, || format!("{key}.head_lr_mult must be >= 0, got {m}"));
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch_size: 32,
            lr: 1e-3,
            weight_decay: 1e-2,
            schedule: Schedule::WarmupCosine { warmup_frac: 0.1 },
            class_weights: None,
            monitor: Monitor::ValidLoss,
            patience: None,
            grad_clip_norm: Some(5.0),
            freeze_backbone_epochs: 0,
            head_prefix: None,
            head_lr_mult: None,
            layer_lr_decay: None,
            frozen_prefixes: Vec::new(),
            max_batches_per_epoch: None,
            evals_per_epoch: 1,
            seed: 42,
        }
    }
}

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

/// Predictions of a model over a whole source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Predictions {
    pub truth: Vec<i64>,
    pub pred: Vec<i64>,
    /// Unweighted cross-entropy of each sample (for top-loss reports).
    pub loss: Vec<f32>,
    /// Softmax probability of the predicted class.
    pub confidence: Vec<f32>,
}

impl Predictions {
    pub fn accuracy(&self) -> f64 {
        let ok = self.truth.iter().zip(&self.pred).filter(|(a, b)| a == b).count();
        ok as f64 / self.truth.len().max(1) as f64
    }
    pub fn mean_loss(&self) -> f64 {
        self.loss.iter().map(|&l| l as f64).sum::<f64>() / self.loss.len().max(1) as f64
    }
    /// Indices of the `k` samples with the highest loss.
    pub fn top_losses(&self, k: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.loss.len()).collect();
        idx.sort_by(|&a, &b| self.loss[b].total_cmp(&self.loss[a]));
        idx.truncate(k);
        idx
    }
}

fn weighted_ce(logits: &Tensor, y: &Tensor, weights: Option<&Tensor>) -> Tensor {
    logits.cross_entropy_loss::<&Tensor>(y, weights, Reduction::Mean, -100, 0.0)
}

/// Number of scalars in the model's weights, excluding BatchNorm running statistics.
pub fn param_count(vs: &nn::VarStore) -> i64 {
    vs.variables()
        .iter()
        .filter(|(n, _)| {
            !(n.ends_with("running_mean") || n.ends_with("running_var") || n.ends_with("num_batches_tracked"))
        })
        .map(|(_, t)| t.numel() as i64)
        .sum()
}

/// Class log-probabilities of input `x` in evaluation mode, as fp32 on the CPU (the caller holds
/// `no_grad`). The one evaluation forward of the crate: test scoring, `evaluate` and `predict`.
pub fn eval_log_probs(model: &dyn ModuleT, x: &Tensor, device: Device) -> Tensor {
    model
        .forward_t(&x.to_device(device), false)
        .to_kind(Kind::Float)
        .to_device(Device::Cpu)
        .log_softmax(-1, Kind::Float)
}

/// Run `model` over `source` without gradients.
pub fn predict(
    model: &dyn ModuleT,
    source: &dyn BatchSource,
    device: Device,
    batch_size: usize,
) -> Result<Predictions> {
    let n = source.len();
    let mut out =
        Predictions { truth: vec![-1; n], pred: vec![-1; n], loss: vec![f32::NAN; n], confidence: vec![f32::NAN; n] };
    tch::no_grad(|| -> Result<()> {
        // sources may batch in any order (text batches are length-sorted): results go back by index
        for batch in source.batches(0, false, batch_size) {
            let b = batch?;
            let logp = eval_log_probs(model, &b.x, device);
            let loss = logp.nll_loss_nd::<Tensor>(&b.y, None, Reduction::None, -100);
            let (conf, pred) = logp.exp().max_dim(-1, false);
            let (y, pred, loss, conf) = (
                Vec::<i64>::try_from(&b.y)?,
                Vec::<i64>::try_from(&pred)?,
                Vec::<f32>::try_from(&loss)?,
                Vec::<f32>::try_from(&conf)?,
            );
            for (k, &i) in b.index.iter().enumerate() {
                (out.truth[i], out.pred[i], out.loss[i], out.confidence[i]) = (y[k], pred[k], loss[k], conf[k]);
            }
        }
        Ok(())
    })?;
    if let Some(i) = out.truth.iter().position(|&t| t < 0) {
        return Err(crate::Error::Config(format!("prediction: sample {i} of {n} was in no evaluation batch")));
    }
    Ok(out)
}

/// Progress reporting: a bar on a terminal, one plain line per epoch otherwise (notebooks, CI logs).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    label: String,
    fractional: bool,
}

impl Progress {
    fn new(label: &str, batches: u64, fractional: bool) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(batches);
            b.set_style(
                indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_prefix(label.to_string());
            b
        });
        Progress { bar, label: label.to_string(), fractional }
    }
    fn tick(&self, msg: String) {
        if let Some(b) = &self.bar {
            b.set_message(msg);
            b.inc(1);
        }
    }
    fn record(&self, r: &EpochRecord, epochs: usize, best: bool) {
        let at = if self.fractional { format!("{:.2}", r.progress) } else { r.epoch.to_string() };
        let line = format!(
            "{} epoch {at}/{}: train loss {:.4} acc {:.3} | valid loss {:.4} acc {:.3} | lr {:.2e} | {:.1}s{}{}",
            self.label,
            epochs,
            r.train_loss,
            r.train_accuracy,
            r.valid_loss,
            r.valid_accuracy,
            r.lr,
            r.seconds,
            if r.backbone_frozen { " (backbone frozen)" } else { "" },
            if best { " *" } else { "" }
        );
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }
    fn next_epoch(&self) {
        if let Some(b) = &self.bar {
            b.reset();
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Validate and turn the running training sums into a history record.
#[allow(clippy::too_many_arguments)]
fn evaluate(
    model: &dyn ModuleT,
    valid: &dyn BatchSource,
    device: Device,
    cfg: &TrainConfig,
    epoch: usize,
    epoch_fraction: f64,
    (loss_sum, correct, seen): (f64, i64, usize),
    lr: f64,
    t0: Instant,
    frozen: bool,
) -> Result<EpochRecord> {
    let v = predict(model, valid, device, cfg.batch_size.max(64))?;
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
        epoch,
        progress: (epoch - 1) as f64 + epoch_fraction,
        train_loss: loss_sum / seen.max(1) as f64,
        train_accuracy: correct as f64 / seen.max(1) as f64,
        valid_loss,
        valid_accuracy: v.accuracy(),
        lr,
        seconds: t0.elapsed().as_secs_f64(),
        backbone_frozen: frozen,
    })
}

/// The evaluation whose weights are kept, and the last one that improved the monitored metric.
#[derive(Debug, Clone, Copy)]
struct Best {
    eval: usize,
    /// (monitored metric, tie-breaker), higher is better.
    score: (f64, f64),
    last_gain: usize,
}

/// Append `rec` to the history, checkpointing when it beats the best so far.
fn keep_if_best(
    rec: &EpochRecord,
    cfg: &TrainConfig,
    best: &mut Option<Best>,
    history: &mut Vec<EpochRecord>,
    progress: &Progress,
    vs: &nn::VarStore,
    checkpoint: &Path,
) -> Result<()> {
    // the other metric breaks ties: equal accuracies (a few hundred validation samples make
    // them common) go to the lower loss, e.g. an annealed end over a mid-epoch checkpoint
    let score = match cfg.monitor {
        Monitor::ValidLoss => (-rec.valid_loss, rec.valid_accuracy),
        Monitor::ValidAccuracy => (rec.valid_accuracy, -rec.valid_loss),
    };
    let at = history.len();
    let improved = best.is_none_or(|b| score > b.score);
    if improved {
        // patience counts from gains in the monitored metric itself, not from tie-breaks
        let last_gain = match *best {
            Some(b) if score.0 <= b.score.0 => b.last_gain,
            _ => at,
        };
        *best = Some(Best { eval: at, score, last_gain });
        crate::models::weights::save(vs, checkpoint)?;
    }
    progress.record(rec, cfg.epochs, improved);
    history.push(rec.clone());
    Ok(())
}

/// Patience counts epochs: `patience` epochs' worth of evaluations without a gain.
fn stop_early(label: &str, cfg: &TrainConfig, evals_per_epoch: usize, best: Option<Best>, evaluated: usize) -> bool {
    let (Some(p), Some(b)) = (cfg.patience, best) else { return false };
    let stop = evaluated - 1 - b.last_gain >= p * evals_per_epoch;
    if stop {
        eprintln!("{label}: early stop after {evaluated} evaluations (best: evaluation {})", b.eval + 1);
    }
    stop
}

/// Train `model` (whose variables live in `vs`) and leave the best evaluation's weights in `vs`.
pub fn fit(
    label: &str,
    model: &dyn ModuleT,
    vs: &mut nn::VarStore,
    train: &dyn BatchSource,
    valid: &dyn BatchSource,
    cfg: &TrainConfig,
    checkpoint: &Path,
) -> Result<TrainOutcome> {
    if train.is_empty() || valid.is_empty() {
        return Err(Error::Config(format!("{label}: empty training or validation set")));
    }
    let mut checks = crate::config::plan_check::Checks::default();
    cfg.check("training config", &mut checks);
    checks.finish(label)?;
    if cfg.freeze_backbone_epochs > 0 && cfg.head_prefix.is_none() {
        return Err(Error::Config(format!("{label}: freeze_backbone_epochs needs head_prefix")));
    }
    let head_lr_mult = match (cfg.head_lr_mult, &cfg.head_prefix) {
        (None, _) => None,
        (Some(_), None) => return Err(Error::Config(format!("{label}: head_lr_mult needs head_prefix"))),
        (Some(_), Some(head)) if crate::models::transfer::move_head_to_group(vs, head) == 0 => {
            return Err(Error::Config(format!("{label}: no trainable variable is named {head}*")));
        }
        (mult, _) => mult,
    };
    if let Some(p) = cfg
        .frozen_prefixes
        .iter()
        .find(|p| crate::models::transfer::set_trainable(vs, std::slice::from_ref(p), true) == 0)
    {
        return Err(Error::Config(format!("{label}: frozen_prefixes: no trainable variable is named {p}*")));
    }
    if let Some(d) = &cfg.layer_lr_decay {
        if !(d.decay > 0.0 && d.decay <= 1.0) {
            return Err(Error::Config(format!("{label}: layer_lr_decay.decay must be in (0, 1], got {}", d.decay)));
        }
        // a layer prefix covering the head would pull it out of its own group
        if let Some((head, p)) = cfg.head_prefix.as_ref().and_then(|h| {
            d.layers.iter().find(|p| h.starts_with(p.as_str()) || p.starts_with(h.as_str())).map(|p| (h, p))
        }) {
            return Err(Error::Config(format!(
                "{label}: layer_lr_decay prefix {p:?} overlaps the head prefix {head:?}"
            )));
        }
        if let Some(p) =
            d.layers.iter().enumerate().find_map(|(k, p)| {
                (crate::models::transfer::move_to_group(vs, p, LayerDecay::group(k)) == 0).then_some(p)
            })
        {
            return Err(Error::Config(format!("{label}: layer_lr_decay: no trainable variable is named {p}*")));
        }
    }
    tch::manual_seed(cfg.seed as i64);
    let device = vs.device();
    let weights = cfg.class_weights.as_ref().map(|w| Tensor::from_slice(w).to_device(device));
    let mut opt =
        nn::AdamW { beta1: 0.9, beta2: 0.999, wd: cfg.weight_decay, eps: 1e-8, amsgrad: false }.build(vs, cfg.lr)?;
    let batches_per_epoch = {
        let n = train.len().div_ceil(cfg.batch_size.max(1));
        cfg.max_batches_per_epoch.map_or(n, |m| n.min(m))
    };
    let total_steps = batches_per_epoch * cfg.epochs;
    let evals = cfg.evals_per_epoch.clamp(1, batches_per_epoch.max(1));
    // batches done in an epoch when each of its evaluations falls; the last is the epoch's end
    let marks: Vec<usize> = (1..=evals).map(|k| (k * batches_per_epoch).div_ceil(evals)).collect();
    let (mut step, mut history, mut best): (usize, Vec<EpochRecord>, Option<Best>) = (0, Vec::new(), None);
    let progress = Progress::new(label, batches_per_epoch as u64, evals > 1);
    let started = Instant::now();
    let mut train_examples = 0;

    'epochs: for epoch in 1..=cfg.epochs {
        let mut t0 = Instant::now();
        let frozen = epoch <= cfg.freeze_backbone_epochs;
        if let Some(head) = &cfg.head_prefix {
            crate::models::transfer::set_backbone_trainable(vs, head, !frozen);
        }
        crate::models::transfer::set_trainable(vs, &cfg.frozen_prefixes, false);
        // running sums since the last evaluation
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0i64, 0usize);
        let (mut done, mut epoch_seen) = (0, 0);
        let mut batches = train.batches(epoch as u64, true, cfg.batch_size).take(batches_per_epoch).peekable();
        while let Some(batch) = batches.next() {
            let b = batch?;
            let lr = cfg.schedule.lr_at(cfg.lr, step, total_steps);
            opt.set_lr(lr);
            if let Some(mult) = head_lr_mult {
                opt.set_lr_group(crate::models::transfer::HEAD_GROUP, lr * mult);
            }
            if let Some(d) = &cfg.layer_lr_decay {
                (0..d.layers.len()).for_each(|k| opt.set_lr_group(LayerDecay::group(k), lr * d.mult(k)));
            }
            let (x, y) = (b.x.to_device(device), b.y.to_device(device));
            let logits = model.forward_t(&x, true);
            let loss = weighted_ce(&logits, &y, weights.as_ref());
            opt.zero_grad();
            loss.backward();
            if let Some(c) = cfg.grad_clip_norm {
                opt.clip_grad_norm(c);
            }
            opt.step();
            let n = b.index.len();
            let l = loss.double_value(&[]);
            if !l.is_finite() {
                return Err(Error::Config(format!(
                    "{label}: loss became {l} at epoch {epoch}, step {step}; lower the learning rate"
                )));
            }
            loss_sum += l * n as f64;
            correct += logits.argmax(-1, false).eq_tensor(&y).sum(Kind::Int64).int64_value(&[]);
            seen += n;
            epoch_seen += n;
            train_examples = train_examples.max(epoch_seen);
            step += 1;
            done += 1;
            progress.tick(format!("loss {:.4}", loss_sum / seen as f64));
            // the epoch ends at its last batch, even when a source yields fewer than promised
            let epoch_end = batches.peek().is_none();
            if !epoch_end && !marks.contains(&done) {
                continue;
            }
            let fraction = if epoch_end { 1.0 } else { done as f64 / batches_per_epoch as f64 };
            let rec = evaluate(model, valid, device, cfg, epoch, fraction, (loss_sum, correct, seen), lr, t0, frozen)?;
            (loss_sum, correct, seen, t0) = (0.0, 0, 0, Instant::now());
            keep_if_best(&rec, cfg, &mut best, &mut history, &progress, vs, checkpoint)?;
            if stop_early(label, cfg, evals, best, history.len()) {
                break 'epochs;
            }
        }
        progress.next_epoch();
    }
    progress.finish();
    if let Some(head) = &cfg.head_prefix {
        crate::models::transfer::set_backbone_trainable(vs, head, true);
    }
    crate::models::transfer::set_trainable(vs, &cfg.frozen_prefixes, true);
    // a checkpoint left by an earlier run must never stand in for this one
    let Some(best_eval) = best.map(|b| b.eval) else {
        return Err(Error::Config(format!(
            "{label}: no training batch was evaluated, so there is no checkpoint of this run"
        )));
    };
    vs.load(checkpoint).map_err(|e| Error::weights(checkpoint, e.to_string()))?;
    Ok(TrainOutcome {
        best_epoch: history.get(best_eval).map_or(0, |r| r.epoch),
        best_eval,
        history,
        train_seconds: started.elapsed().as_secs_f64(),
        train_examples,
        checkpoint: checkpoint.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::batches::TokenSource;

    #[test]
    fn schedules_have_the_right_shape() {
        let s = Schedule::WarmupCosine { warmup_frac: 0.1 };
        assert!((s.lr_at(1.0, 9, 100) - 1.0).abs() < 1e-12, "peak at end of warm-up");
        assert!(s.lr_at(1.0, 0, 100) < 0.2);
        assert!(s.lr_at(1.0, 99, 100) < 0.01);
        assert!(s.lr_at(1.0, 50, 100) < s.lr_at(1.0, 30, 100));
        let o = Schedule::OneCycle { pct_start: 0.3 };
        assert!((o.lr_at(1.0, 0, 100) - 0.04).abs() < 1e-12);
        assert!((o.lr_at(1.0, 30, 100) - 1.0).abs() < 1e-12);
        assert!(o.lr_at(1.0, 100, 100) < 1e-5);
    }

    /// Bag-of-embeddings classifier over token ids: enough to test the loop end to end.
    #[derive(Debug)]
    struct Bag {
        emb: nn::Embedding,
        out: nn::Linear,
    }
    impl ModuleT for Bag {
        fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
            xs.apply(&self.emb).mean_dim(1, false, Kind::Float).apply(&self.out)
        }
    }

    /// A `Bag` with variables `emb.*` (the body) and `out.*` (the head) in `vs`.
    fn bag(vs: &nn::VarStore) -> Bag {
        Bag {
            emb: nn::embedding(vs.root() / "emb", 8, 4, Default::default()),
            out: nn::linear(vs.root() / "out", 4, 2, Default::default()),
        }
    }

    /// `n` samples, class = whether token 3 appears (else token 4).
    fn token_task(n: usize) -> TokenSource {
        let ids: Vec<Vec<i64>> = (0..n).map(|i| if i % 2 == 0 { vec![1, 3, 2] } else { vec![1, 4, 2] }).collect();
        let labels: Vec<i64> = (0..n).map(|i| (i % 2 == 0) as i64).collect();
        TokenSource::new(ids, labels, 0, 1)
    }

    /// Largest absolute change of any element.
    fn max_moved(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    #[test]
    fn predictions_come_back_in_source_order_when_batches_are_length_sorted() {
        // sample i has label i % 3, repeated to a length that does not follow i
        let labels: Vec<i64> = (0..40).map(|i| i % 3).collect();
        let ids: Vec<Vec<i64>> = (0..40).map(|i| vec![labels[i]; 1 + (i * 13) % 17]).collect();
        let src = TokenSource::new(ids, labels.clone(), 0, 1);
        // the first token, one-hot, as logits: predicts the label
        let model = nn::func_t(|x, _| x.select(1, 0).one_hot(3).to_kind(Kind::Float));
        let p = predict(&model, &src, Device::Cpu, 8).unwrap();
        assert_eq!(p.truth, labels);
        assert_eq!(p.pred, labels);
    }

    /// Claims samples but yields no batch (as a data source that fails silently would).
    struct Silent(TokenSource);
    impl BatchSource for Silent {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn labels(&self) -> Vec<i64> {
            self.0.labels()
        }
        fn batches(&self, _: u64, _: bool, _: usize) -> Box<dyn Iterator<Item = Result<crate::data::batches::Batch>>> {
            Box::new(std::iter::empty())
        }
    }

    #[test]
    fn fit_never_reports_a_checkpoint_it_did_not_write() {
        let src = token_task(16);
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = bag(&vs);
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("old.safetensors");
        crate::models::weights::save(&vs, &ckpt).unwrap(); // an earlier run's file
        let err =
            fit("bag", &model, &mut vs, &Silent(token_task(16)), &src, &TrainConfig::default(), &ckpt).unwrap_err();
        assert!(err.to_string().contains("no checkpoint of this run"), "{err}");
        for (cfg, key) in [
            (TrainConfig { epochs: 0, ..Default::default() }, "epochs must be at least 1"),
            (TrainConfig { batch_size: 0, ..Default::default() }, "batch_size must be at least 1"),
            (TrainConfig { max_batches_per_epoch: Some(0), ..Default::default() }, "max_batches_per_epoch is 0"),
            (TrainConfig { lr: -1.0, ..Default::default() }, "lr must be > 0"),
        ] {
            let err = fit("bag", &model, &mut vs, &src, &src, &cfg, &ckpt).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn fit_learns_a_separable_task_keeps_best_and_stops_early() {
        let src = token_task(64);
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = bag(&vs);
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("best.safetensors");
        let cfg = TrainConfig {
            epochs: 30,
            batch_size: 8,
            lr: 0.05,
            patience: Some(3),
            monitor: Monitor::ValidAccuracy,
            ..Default::default()
        };
        let out = fit("bag", &model, &mut vs, &src, &src, &cfg, &ckpt).unwrap();
        assert!(out.history.len() < 30, "accuracy saturates, so patience must stop it early");
        assert!(out.history[0].train_loss > out.history.last().unwrap().train_loss);
        let p = predict(&model, &src, Device::Cpu, 16).unwrap();
        assert_eq!(p.accuracy(), 1.0);
        // patience counts from the first perfect epoch; among perfect epochs the lowest loss is kept
        let first = out.history.iter().position(|r| r.valid_accuracy == 1.0).unwrap();
        assert_eq!(out.history.len(), first + 1 + 3);
        let kept = (first..out.history.len())
            .min_by(|&a, &b| out.history[a].valid_loss.total_cmp(&out.history[b].valid_loss))
            .unwrap();
        assert_eq!(out.best_epoch, kept + 1);
        assert!(ckpt.is_file());
        // per-sample loss is the real cross-entropy: -ln(confidence) for a correct prediction
        assert!((p.loss[0] as f64 - -(p.confidence[0] as f64).ln()).abs() < 1e-5);
    }

    #[test]
    fn several_evaluations_per_epoch_record_fractional_progress() {
        let src = token_task(64);
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = bag(&vs);
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("best.safetensors");
        // 64 examples in batches of 8: 8 batches per epoch, validated after 3, 6 and 8
        let cfg = TrainConfig { epochs: 2, batch_size: 8, lr: 0.05, evals_per_epoch: 3, ..Default::default() };
        let out = fit("bag", &model, &mut vs, &src, &src, &cfg, &ckpt).unwrap();
        let at: Vec<f64> = out.history.iter().map(|r| r.progress).collect();
        assert_eq!(at, [3.0 / 8.0, 6.0 / 8.0, 1.0, 1.0 + 3.0 / 8.0, 1.0 + 6.0 / 8.0, 2.0]);
        assert_eq!(out.history.iter().map(|r| r.epoch).collect::<Vec<_>>(), [1, 1, 1, 2, 2, 2]);
        assert_eq!(out.epochs(), 2);
        assert_eq!(out.train_examples, 64);
        let best = out.history.iter().enumerate().max_by(|a, b| b.1.valid_loss.total_cmp(&a.1.valid_loss)).unwrap().0;
        assert_eq!(out.best_eval, best, "the kept weights are the lowest validation loss");
        assert_eq!(out.best_epoch, out.history[best].epoch);
        // the kept weights reproduce the best evaluation's validation loss
        let p = predict(&model, &src, Device::Cpu, 64).unwrap();
        assert!((p.mean_loss() - out.history[best].valid_loss).abs() < 1e-5);
    }

    #[test]
    fn head_lr_mult_gives_the_head_its_own_rate() {
        let src = token_task(32);
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("best.safetensors");
        // How far each part moves from its initial values in one epoch under a head multiple.
        let moved = |mult: Option<f64>| {
            tch::manual_seed(3);
            let mut vs = nn::VarStore::new(Device::Cpu);
            let model = bag(&vs);
            let before: Vec<Tensor> = [&model.emb.ws, &model.out.ws].iter().map(|t| t.copy()).collect();
            let cfg = TrainConfig {
                epochs: 1,
                batch_size: 8,
                lr: 0.01,
                schedule: Schedule::Constant,
                head_prefix: Some("out.".into()),
                head_lr_mult: mult,
                ..Default::default()
            };
            fit("bag", &model, &mut vs, &src, &src, &cfg, &ckpt).unwrap();
            (max_moved(&model.emb.ws, &before[0]), max_moved(&model.out.ws, &before[1]))
        };
        let (body, head) = moved(Some(0.0));
        assert!(body > 1e-3 && head == 0.0, "mult 0 freezes the head only: body {body}, head {head}");
        let (body1, head1) = moved(None);
        assert!(body1 > 1e-3 && head1 > 1e-3);
        // the head prefix must name something
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = bag(&vs);
        let cfg = TrainConfig {
            epochs: 1,
            head_prefix: Some("classifier.".into()),
            head_lr_mult: Some(10.0),
            ..Default::default()
        };
        assert!(fit("bag", &model, &mut vs, &src, &src, &cfg, &ckpt).unwrap_err().to_string().contains("classifier."));
    }

    #[test]
    fn layer_lr_decay_scales_each_layer_rate() {
        let src = token_task(16);
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("best.safetensors");
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = bag(&vs);
        let before: Vec<Tensor> = [&model.emb.ws, &model.out.ws].iter().map(|t| t.copy()).collect();
        // One Adam step moves every weight with a gradient by its group's rate exactly (no decay).
        let decay = LayerDecay { decay: 0.25, layers: vec!["emb.".into(), "out.".into()] };
        let cfg = TrainConfig {
            epochs: 1,
            batch_size: 16,
            lr: 0.01,
            weight_decay: 0.0,
            schedule: Schedule::Constant,
            layer_lr_decay: Some(decay),
            ..Default::default()
        };
        fit("bag", &model, &mut vs, &src, &src, &cfg, &ckpt).unwrap();
        let (emb, out) = (max_moved(&model.emb.ws, &before[0]), max_moved(&model.out.ws, &before[1]));
        assert!((out - 0.01).abs() < 1e-4 && (emb - 0.0025).abs() < 1e-4, "emb moved {emb}, out {out}");
        let cfg =
            TrainConfig { layer_lr_decay: Some(LayerDecay { decay: 0.5, layers: vec!["embedding.".into()] }), ..cfg };
        assert!(fit("bag", &model, &mut vs, &src, &src, &cfg, &ckpt).unwrap_err().to_string().contains("embedding."));
        let cfg = TrainConfig {
            layer_lr_decay: Some(LayerDecay { decay: 0.5, layers: vec!["emb.".into(), "out.".into()] }),
            head_prefix: Some("out.".into()),
            ..cfg
        };
        assert!(fit("bag", &model, &mut vs, &src, &src, &cfg, &ckpt)
            .unwrap_err()
            .to_string()
            .contains("overlaps the head"));
    }

    #[test]
    fn frozen_prefixes_stay_put_with_a_head_and_come_back_trainable() {
        let src = token_task(32);
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("best.safetensors");
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = bag(&vs);
        let before: Vec<Tensor> = [&model.emb.ws, &model.out.ws].iter().map(|t| t.copy()).collect();
        // head_prefix re-enables the body every epoch: the frozen prefix must win over it.
        let cfg = TrainConfig {
            epochs: 2,
            batch_size: 8,
            lr: 0.05,
            frozen_prefixes: vec!["emb.".into()],
            head_prefix: Some("out.".into()),
            ..Default::default()
        };
        fit("bag", &model, &mut vs, &src, &src, &cfg, &ckpt).unwrap();
        assert_eq!(max_moved(&model.emb.ws, &before[0]), 0.0, "a frozen variable moved (weight decay or a step)");
        assert!(max_moved(&model.out.ws, &before[1]) > 1e-3);
        assert!(model.emb.ws.requires_grad(), "fit must hand the model back trainable");
        let cfg = TrainConfig { frozen_prefixes: vec!["embedding.".into()], ..cfg };
        assert!(fit("bag", &model, &mut vs, &src, &src, &cfg, &ckpt).unwrap_err().to_string().contains("embedding."));
    }

    #[test]
    fn accuracy_ties_go_to_the_lower_loss() {
        let rec = |acc: f64, loss: f64| EpochRecord {
            epoch: 1,
            progress: 1.0,
            train_loss: 0.0,
            train_accuracy: 0.0,
            valid_loss: loss,
            valid_accuracy: acc,
            lr: 0.0,
            seconds: 0.0,
            backbone_frozen: false,
        };
        let vs = nn::VarStore::new(Device::Cpu);
        let _ = nn::linear(vs.root() / "w", 2, 2, Default::default());
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("best.safetensors");
        let progress = Progress::new("t", 1, false);
        let kept = |monitor: Monitor, recs: &[EpochRecord]| {
            let cfg = TrainConfig { monitor, ..Default::default() };
            let (mut best, mut history) = (None, Vec::new());
            for r in recs {
                keep_if_best(r, &cfg, &mut best, &mut history, &progress, &vs, &ckpt).unwrap();
            }
            best.unwrap().eval
        };
        let recs = [rec(0.768, 0.535), rec(0.768, 0.482), rec(0.768, 0.490)];
        assert_eq!(kept(Monitor::ValidAccuracy, &recs), 1);
        assert_eq!(kept(Monitor::ValidAccuracy, &[rec(0.70, 0.3), rec(0.71, 0.9)]), 1, "accuracy first");
        assert_eq!(kept(Monitor::ValidLoss, &[rec(0.70, 0.3), rec(0.71, 0.9)]), 0);
        assert_eq!(kept(Monitor::ValidLoss, &[rec(0.70, 0.3), rec(0.72, 0.3)]), 1, "loss ties go to accuracy");
    }

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
