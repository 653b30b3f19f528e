//! affect-lab: scratch vs transfer learning on face emotions, and direct vs indirect training
//! data for drug-review sentiment, with tch (libtorch).
pub mod atomic;
pub mod bench;
pub mod data;
pub mod device;
pub mod error;
pub mod info;
pub mod malloc;
pub mod metrics;
pub mod models;
pub mod nb;
pub mod part1;
pub mod part2;
pub mod paths;
pub mod plan_check;
pub mod plan_patch;
pub mod plots;
pub mod profile;
pub mod report;
pub mod run;
#[doc(hidden)]
pub mod testing;
pub mod train;
pub mod trained;
pub mod weights;

pub use error::{Error, Result};
pub use profile::Profile;
/// Re-exported so notebooks can name tensors and devices without a second `:dep`.
pub use tch;
