//! `<run>/eval/<name>/results.json`: what `affect-lab evaluate` found, model by model, beside
//! the run's own test numbers.
use super::evaluate::Part;
use crate::config::profile::Profile;
use crate::eval::metrics::ClassMetrics;
use serde::{Deserialize, Serialize};

/// Version of the eval results.json layout.
pub const EVAL_SCHEMA: u32 = 1;

/// One example the model got most wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSample {
    /// Image path, or the review text (cut to 300 characters).
    pub input: String,
    pub truth: String,
    pub pred: String,
    pub confidence: f32,
    pub loss: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalRow {
    pub model: String,
    /// The run's own numbers on its test split, for comparison.
    pub run_test_accuracy: f64,
    pub run_test_macro_f1: f64,
    pub accuracy: f64,
    pub accuracy_ci95: [f64; 2],
    /// Averaged over the classes present in the data.
    pub macro_f1: f64,
    /// Classes present in the data only.
    pub per_class: Vec<ClassMetrics>,
    /// Over all of the model's classes (rows of absent classes are zero).
    pub confusion: Vec<Vec<u64>>,
    pub most_confused: Vec<(String, String, u64)>,
    pub top_losses: Vec<EvalSample>,
    /// Predicted class of every example, in `EvalResults::labels` order.
    pub predictions: Vec<i64>,
    /// Probability of the predicted class, per example.
    pub confidences: Vec<f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalResults {
    pub schema: u32,
    pub part: Part,
    pub run: String,
    pub run_profile: Profile,
    pub run_seed: u64,
    pub data: String,
    pub data_description: String,
    pub device: String,
    pub created: String,
    /// The model's classes; labels and predictions index them.
    pub classes: Vec<String>,
    /// Model classes with no example in the data (scored over the rest).
    pub absent_classes: Vec<String>,
    pub class_counts: Vec<u64>,
    pub examples: usize,
    /// Inputs left out with --skip-bad-inputs (`skipped_inputs` lists them, or the first ones).
    pub skipped_count: usize,
    /// How many test examples the run's own numbers were computed over.
    pub run_test_examples: usize,
    pub skipped_inputs: Vec<String>,
    pub duplicates_removed: usize,
    /// True class of every example.
    pub labels: Vec<i64>,
    pub rows: Vec<EvalRow>,
}
