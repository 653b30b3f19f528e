//! `figures/bench/bench.json`, the committed comparison with PyTorch: what was measured (cases),
//! on both sides (min / median / max), the speed issue's targets, and PyTorch's FLOP counts. Part 1
//! cites it for FLOPs and PyTorch's latency; `affect-lab bench` (crate::bench) writes it.
use super::measure::{Repeats, Stats};
use crate::models::registry::image_model;
use crate::numerics::Numerics;
use serde::{Deserialize, Serialize};

/// One measurement. Speeds are items per second (`train`, `minilm_train` count tokens,
/// `bilstm_train` reviews, `data` images); `infer` is milliseconds per image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Case {
    /// One optimizer step of an image network on random images (forward, loss, backward, clip, AdamW).
    Train { arch: String, size: u32, batch: usize, numerics: Numerics },
    /// Eval-mode forward passes without gradients.
    Infer { arch: String, size: u32, batch: usize, numerics: Numerics },
    /// A MiniLM fine-tuning step (pretrained encoder, mean pooling, two-class head) on `batch` x `seq` tokens.
    MinilmTrain { batch: usize, seq: usize, numerics: Numerics },
    /// A BiLSTM training step on `batch` reviews of `seq` tokens.
    BilstmTrain { batch: usize, seq: usize, numerics: Numerics },
    /// The image pipeline alone: decode, augment and batch the training faces.
    Data { size: u32, batch: usize },
    /// `batches` training batches of the real faces, end to end: the data pipeline feeding
    /// optimizer steps, as a training epoch spends them (PyTorch: a DataLoader with one worker).
    Epoch { arch: String, size: u32, batch: usize, numerics: Numerics, batches: usize },
}

impl Case {
    /// Unit of the value measured.
    pub fn unit(&self) -> &'static str {
        match self {
            Case::Infer { .. } => "ms/image",
            Case::Train { .. } | Case::Data { .. } | Case::Epoch { .. } => "images/s",
            Case::MinilmTrain { .. } => "tokens/s",
            Case::BilstmTrain { .. } => "reviews/s",
        }
    }

    /// Whether the two sides take this case's timed rounds in turn, one by one. Not for inference
    /// and the data pipeline: a round of those is a few milliseconds, less than the other
    /// process's threads take to fall quiet and ours to wake (batch-1 inference read 40-50%
    /// slower on both sides so), and a whole side of such a case is over within a second.
    pub fn rounds_in_turn(&self) -> bool {
        !matches!(self, Case::Infer { .. } | Case::Data { .. })
    }

    /// Whether a larger value is better (speeds) or worse (latencies).
    pub fn higher_is_better(&self) -> bool {
        !matches!(self, Case::Infer { .. })
    }

    /// A short name for tables and figures: `train resnet18 96px b64 bf16+cl`.
    pub fn label(&self) -> String {
        match self {
            Case::Train { arch, size, batch, numerics } => {
                format!("train {} {size}px b{batch} {}", short_name(arch), numerics.label())
            }
            Case::Infer { arch, size, batch, numerics } => {
                format!("infer {} {size}px b{batch} {}", short_name(arch), numerics.label())
            }
            Case::MinilmTrain { batch, seq, numerics } => format!("train MiniLM {batch}x{seq} {}", numerics.label()),
            Case::BilstmTrain { batch, seq, numerics } => format!("train BiLSTM {batch}x{seq} {}", numerics.label()),
            Case::Data { size, batch } => format!("data pipeline {size}px b{batch}"),
            Case::Epoch { arch, size, batch, numerics, .. } => {
                format!("epoch {} {size}px b{batch} {}", short_name(arch), numerics.label())
            }
        }
    }
}

/// The network's name in tables and figures (the registry's label; an unknown name as it is).
pub fn short_name(arch: &str) -> String {
    image_model(arch).map_or(arch, |m| m.label).to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flops {
    pub arch: String,
    pub size: u32,
    /// Forward FLOPs for one image (a multiply-add counts 2).
    pub flops: f64,
}

/// One case on both sides.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pair {
    pub label: String,
    pub case: Case,
    pub unit: String,
    pub rust: Stats,
    pub pytorch: Option<Stats>,
    /// How many times faster ours is, from the medians (above 1: faster than PyTorch).
    pub speedup: Option<f64>,
    /// The same, round by round, where the two sides took their timed rounds in turn
    /// (`paired_rounds`): repeat k of ours against repeat k of PyTorch's, seconds apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_speedup: Option<Stats>,
    /// An epoch case's bare training step at its numerics on each side, timed in rounds
    /// alternating with that side's epoch (absent in runs before 2026-12-06 evening).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_bare: Option<Stats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pytorch_bare: Option<Stats>,
}

/// A goal of the speed issue, measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub what: String,
    /// The ratio: the median of `rounds` where there are rounds, else the ratio of two medians.
    pub value: f64,
    /// The ratio round by round, where both of its values come from one case whose two sides took
    /// their timed rounds in turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds: Option<Stats>,
    pub goal: f64,
    pub met: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bench {
    pub machine: String,
    pub threads: i64,
    pub rust: String,
    pub pytorch: String,
    pub repeats: Repeats,
    /// Whether the two sides took turns case by case (else all of ours, then all of PyTorch's).
    #[serde(default)]
    pub interleaved: bool,
    /// Whether they took their timed rounds in turn, one by one (absent before 2026-12-06's last runs).
    #[serde(default)]
    pub paired_rounds: bool,
    pub pairs: Vec<Pair>,
    pub targets: Vec<Target>,
    pub flops: Vec<Flops>,
}

/// Where the bench result for the project's machine kind is committed (relative to the checkout).
pub const COMMITTED: &str = "figures/bench/bench.json";

impl Bench {
    /// The committed result, where the checkout has one that reads.
    pub fn committed() -> Option<Bench> {
        let path = crate::config::paths::in_project(COMMITTED)?;
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
    }

    /// Forward FLOPs per image of `arch` at `size` (PyTorch's count).
    pub fn flops(&self, arch: &str, size: u32) -> Option<f64> {
        self.flops.iter().find(|f| f.arch == arch && f.size == size).map(|f| f.flops)
    }

    /// PyTorch's fp32 inference time (ms/image) of `arch` at `size` and `batch`.
    pub fn pytorch_ms(&self, want_arch: &str, want_size: u32, want_batch: usize) -> Option<f64> {
        self.pairs.iter().find_map(|p| match &p.case {
            Case::Infer { arch, size, batch, numerics }
                if arch == want_arch && *size == want_size && *batch == want_batch && *numerics == Numerics::FP32 =>
            {
                p.pytorch.as_ref().map(|s| s.median)
            }
            _ => None,
        })
    }

    /// One line naming the file and what it measured, for results and tables.
    pub fn source(&self) -> String {
        format!("{COMMITTED}: {} on {}, {} threads", self.pytorch, self.machine, self.threads)
    }
}
