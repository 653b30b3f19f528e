//! What one training run is asked to do: optimiser, schedule, loss, checkpoint selection and
//! fine-tuning policy, as one serialisable record (it is stored with every result).
use super::schedule::Schedule;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    ValidLoss,
    ValidAccuracy,
}

impl Monitor {
    /// (monitored metric, tie-breaker), higher is better: equal accuracies (a few hundred
    /// validation samples make them common) go to the lower loss, and equal losses to the higher
    /// accuracy.
    pub fn score(self, valid_accuracy: f64, valid_loss: f64) -> (f64, f64) {
        match self {
            Monitor::ValidLoss => (-valid_loss, valid_accuracy),
            Monitor::ValidAccuracy => (valid_accuracy, -valid_loss),
        }
    }
}

/// Layer-wise learning-rate decay for a pretrained stack (Howard & Ruder 2018; Clark et al.
/// 2020): the top layer the model declared (`models::groups::layer`) learns at the base rate,
/// each one below at `decay` times the one above. Variables outside the stack keep the base rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerDecay {
    pub decay: f64,
}

impl LayerDecay {
    /// Rate multiple of layer `k` (from the bottom) of a stack of `layers`.
    pub fn mult(&self, k: usize, layers: usize) -> f64 {
        self.decay.powi((layers - 1 - k) as i32)
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
    /// The head the model built in its head optimizer group (`models::groups::HEAD`; `head_prefix`
    /// names the same variables for freezing) learns at this multiple of `lr`: a freshly initialised
    /// head next to a pretrained body (discriminative fine-tuning). None: one rate for all.
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
    /// Stop at the first step past this many seconds of training (validation included), after
    /// one last validation: a wall-clock cap beside the epoch cap.
    #[serde(default)]
    pub max_seconds: Option<f64>,
    /// Memory format and precision of the arithmetic (bf16 only where the CPU has bf16 units).
    #[serde(default)]
    pub numerics: crate::numerics::Numerics,
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
        if let Some(d) = &self.layer_lr_decay {
            c.that(d.decay > 0.0 && d.decay <= 1.0, || {
                format!("{key}.layer_lr_decay.decay must be in (0, 1], got {}", d.decay)
            });
        }
        if let Some(t) = self.max_seconds {
            c.that(t.is_finite() && t > 0.0, || format!("{key}.max_seconds must be > 0, got {t}"));
        }
        if let super::Schedule::Plateau { warmup_epochs, factor, patience } = self.schedule {
            c.that(factor > 0.0 && factor < 1.0, || format!("{key}.schedule.factor must be in (0, 1), got {factor}"));
            c.that(warmup_epochs >= 0.0, || format!("{key}.schedule.warmup_epochs must be >= 0, got {warmup_epochs}"));
            c.at_least(&format!("{key}.schedule.patience"), patience, 1);
            c.that(self.patience.is_none_or(|p| p > patience), || {
                format!(
                    "{key}.patience ({:?}) must be longer than {key}.schedule.patience ({patience}): the rate is never cut before training stops",
                    self.patience
                )
            });
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
            max_seconds: None,
            numerics: Default::default(),
            seed: 42,
        }
    }
}
