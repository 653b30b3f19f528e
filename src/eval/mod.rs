//! Measuring models: classification metrics and paired tests, inference benchmarks.
pub mod bench;
pub mod metrics;
pub mod spread;
