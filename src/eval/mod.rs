//! Measuring models: classification metrics and paired tests, timing, inference benchmarks and
//! the committed comparison with PyTorch.
pub mod bench;
pub mod bench_file;
pub mod measure;
pub mod metrics;
pub mod spread;
