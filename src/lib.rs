//! affect-lab: scratch vs transfer learning on face emotions, and direct vs indirect training
//! data for drug-review sentiment, with tch (libtorch).
//!
//! Layers, each using only those above it in this list:
//! `config` (profiles, plans, paths, run directories) -> `data` (datasets, augmentation,
//! batches) -> `models` (one file per network, the registry, weights) -> `train` (the loop and
//! its parts) -> `eval` (metrics, benchmarks) -> `experiments` (Part 1 and Part 2: plans,
//! results, runs) -> `report` (figures, takeaways) -> `trained` (evaluate / predict with a
//! finished run) -> `notebook` and the CLI.
pub mod atomic;
pub mod bench;
pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod eval;
pub mod experiments;
pub mod info;
pub mod interrupt;
pub mod malloc;
pub mod models;
pub mod notebook;
pub mod numerics;
pub mod report;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod train;
pub mod trained;

pub use config::profile::Profile;
pub use error::{Error, Result};
/// Re-exported so notebooks can name tensors and devices without a second `:dep`.
pub use tch;
