//! The commands of the `affect-lab` binary, each a thin layer over the library.
pub mod args;
mod parts;
mod tools;
mod use_models;

pub use parts::{figures, run_parts};
pub use tools::{bench, copies, fetch_weights};
pub use use_models::{evaluate, predict};
