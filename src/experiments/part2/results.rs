//! Part 2's results: the EDA numbers, one row per (model, training source), paired comparisons,
//! the plain-text summary.
use super::{run_name, Model, Plan, SourceInfo, MODELS};
use crate::data::eda;
use crate::data::text::Source;
use crate::eval::metrics;
use crate::eval::spread::{self, Predicted, SeedResult, Spread};
use crate::experiments::seeds::run_key;
use crate::train::{EpochRecord, TrainConfig};
use crate::Profile;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Eda {
    /// Over the Drugs.com training split (the data the slides' correlation matrix was drawn on).
    pub correlation: eda::CorrelationMatrix,
    pub rating_distribution: eda::Distribution,
    pub label_distribution: eda::Distribution,
    pub test_label_distribution: eda::Distribution,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub model: Model,
    /// Trained, validated and tested on a seeded random split of Drugs.com (the drift question),
    /// not on the date split; such rows live in [`Results::random_split`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub random_split: bool,
    pub train_source: Source,
    pub valid_source: Source,
    pub test_source: Source,
    pub init: String,
    pub weights_source: String,
    pub params: i64,
    pub train_examples: usize,
    pub test_examples: usize,
    pub epochs: usize,
    pub best_epoch: usize,
    /// Index in `history` of the evaluation whose weights were kept (absent in results written
    /// before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_evaluation: Option<usize>,
    /// Why training ended: validation stopped improving (`plateau`) or a budget ran out
    /// (`epoch_cap`, `time_cap`; the caps are in `train_config`). Absent in older results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<crate::train::StopReason>,
    /// Precision and memory format the row trained with (absent in older results).
    #[serde(default)]
    pub numerics: Option<crate::numerics::Numerics>,
    pub train_seconds: f64,
    pub accuracy: f64,
    /// 95% Wilson interval of `accuracy` over the test reviews.
    #[serde(default)]
    pub accuracy_ci95: [f64; 2],
    /// Positive class.
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub macro_f1: f64,
    pub confusion: Vec<Vec<u64>>,
    pub history: Vec<EpochRecord>,
    pub train_config: TrainConfig,
    pub seed: u64,
    pub profile: Profile,
    pub max_len: usize,
    pub vocab_size: Option<usize>,
    /// Predicted label of every test review, in `Results::test_labels` order (for paired tests).
    #[serde(default)]
    pub test_predictions: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// `run::RESULTS_SCHEMA` of the code that wrote the file (0: before it was recorded).
    #[serde(default)]
    pub schema: u32,
    pub profile: Profile,
    pub seed: u64,
    pub device: String,
    /// CPU model, cores and bf16 units of the machine that ran it (absent in older results).
    #[serde(default)]
    pub machine: String,
    pub plan: Plan,
    /// The `--plan` override this part's plan was patched with, if any (the profile name alone
    /// then does not describe the recipe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_patch: Option<serde_json::Value>,
    pub test_examples: usize,
    pub test_dates: Option<(String, String)>,
    pub sources: Vec<SourceInfo>,
    pub eda: Eda,
    /// True label of every test review (0 negative, 1 positive).
    #[serde(default)]
    pub test_labels: Vec<i64>,
    pub rows: Vec<Row>,
    /// Paired McNemar tests between runs on the same test reviews: is a gap more than noise?
    #[serde(default)]
    pub comparisons: Vec<metrics::PairedTest>,
    /// Both models trained, validated and tested on a seeded random split of the deduplicated
    /// Drugs.com reviews with the date split's sizes (`plan.random_split_runs`): does the date
    /// split itself cost accuracy? Their test reviews differ from `test_labels`.
    #[serde(default)]
    pub random_split: Vec<Row>,
    /// Date-split runs at the plan's other seeds (`plan.seeds`); `rows` holds the run's own seed.
    #[serde(default)]
    pub seed_runs: Vec<Row>,
    /// Test and validation accuracy over seeds of every run with several seeds.
    #[serde(default)]
    pub spread: Vec<Spread>,
}

/// Name suffix of the runs on the random split (`minilm_drugscom_random`).
pub const RANDOM_SUFFIX: &str = "_random";

impl Row {
    pub fn name(&self) -> String {
        let name = run_name(self.model, self.train_source);
        if self.random_split {
            format!("{name}{RANDOM_SUFFIX}")
        } else {
            name
        }
    }
}

impl crate::config::run::PartResults for Results {
    type Plan = Plan;
    type Row = Row;
    const PART: &'static str = super::PART;
    fn schema(&self) -> u32 {
        self.schema
    }
    fn profile(&self) -> Profile {
        self.profile
    }
    fn seed(&self) -> u64 {
        self.seed
    }
    fn plan(&self) -> &Plan {
        &self.plan
    }
    fn test_labels(&self) -> &[i64] {
        &self.test_labels
    }
    fn device(&self) -> &str {
        &self.device
    }
    fn data(&self) -> serde_json::Value {
        serde_json::json!({"sources": self.sources, "test_examples": self.test_examples, "test_dates": self.test_dates})
    }
    fn find_row(&self, name: &str) -> Option<&Row> {
        self.row(name).or_else(|| self.seed_runs.iter().find(|r| run_key(&r.name(), r.seed) == name))
    }
    fn row_names(&self) -> Vec<String> {
        let extra = self.seed_runs.iter().map(|r| run_key(&r.name(), r.seed));
        self.rows.iter().chain(&self.random_split).map(Row::name).chain(extra).collect()
    }
}

impl Results {
    /// The accuracy of always answering the test split's majority class: chance for these runs.
    pub fn majority_share(&self) -> f64 {
        let counts = &self.eda.test_label_distribution.counts;
        counts.iter().copied().max().unwrap_or(0) as f64 / self.test_examples.max(1) as f64
    }

    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().chain(&self.random_split).find(|r| r.name() == name)
    }
}

impl Results {
    /// Every date-split run of (model, source) with test predictions: the run's seed first.
    pub fn runs(&self, m: Model, s: Source) -> Vec<&Row> {
        let scored = |x: &&Row| x.test_predictions.len() == self.test_labels.len() && !self.test_labels.is_empty();
        self.rows.iter().chain(&self.seed_runs).filter(|x| x.model == m && x.train_source == s).filter(scored).collect()
    }
}

/// The spread over seeds of every date-split run with more than one seed.
pub fn spreads(r: &Results) -> Vec<Spread> {
    spread::spreads(
        r.rows
            .iter()
            .chain(&r.seed_runs)
            .map(|x| (x.name(), SeedResult::kept(x.seed, x.accuracy, &x.history, x.best_evaluation))),
    )
}

/// Per model, direct vs each indirect source; then the two models on direct data. Pooled over
/// seeds where a run has several.
pub fn comparisons(r: &Results) -> Vec<metrics::PairedTest> {
    let pair = |a: (Model, Source), b: (Model, Source)| {
        let predicted = |(m, s): (Model, Source)| -> Vec<Predicted> {
            r.runs(m, s).into_iter().map(|x| Predicted { seed: x.seed, pred: &x.test_predictions }).collect()
        };
        let (na, nb) = (run_name(a.0, a.1), run_name(b.0, b.1));
        spread::pooled_test(&na, &nb, &r.test_labels, &predicted(a), &predicted(b))
    };
    let mut out = Vec::new();
    for m in MODELS {
        for s in [Source::Imdb, Source::Druglib] {
            out.extend(pair((m, Source::DrugsCom), (m, s)));
        }
    }
    out.extend(pair((Model::MiniLm, Source::DrugsCom), (Model::BiLstm, Source::DrugsCom)));
    out
}

pub fn summary(r: &Results) -> String {
    let patched = if r.plan_patch.is_some() { " patched by --plan" } else { "" };
    let mut s = format!(
        "Part 2 ({} profile{patched}, seed {}, {}; test: {} Drugs.com reviews {:?})\n",
        r.profile, r.seed, r.device, r.test_examples, r.test_dates
    );
    s += &format!(
        "{:<8} {:<9} {:>10} {:>7} {:>9} {:>13} {:>7} {:>7} {:>8} {:>8}\n",
        "model", "train on", "init", "n", "accuracy", "95% CI", "prec", "recall", "F1", "macroF1"
    );
    for row in &r.rows {
        let [lo, hi] = row.accuracy_ci95;
        s += &format!(
            "{:<8} {:<9} {:>10} {:>7} {:>9.3} {:>13} {:>7.3} {:>7.3} {:>8.3} {:>8.3}\n",
            row.model.name(),
            row.train_source.name(),
            row.init,
            row.train_examples,
            row.accuracy,
            format!("{lo:.3}-{hi:.3}"),
            row.precision,
            row.recall,
            row.f1,
            row.macro_f1
        );
    }
    for c in &r.comparisons {
        s += &format!("{c}\n");
    }
    s
}
