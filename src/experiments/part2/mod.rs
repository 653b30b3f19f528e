//! Part 2: direct vs indirect training data for drug-review sentiment. MiniLM (pretrained,
//! fine-tuned) and a BiLSTM (from scratch) are trained on Drugs.com (direct), IMDB (far
//! indirect) or Druglib.com (near indirect), and all are tested on the same date-sorted
//! Drugs.com test split.
mod plan;
mod prepare;
mod recipes;
mod results;
mod run;

pub use plan::{plan, Plan};
pub use prepare::{datasets, drugs_com_splits, IndirectSource, SourceInfo, INDIRECT};
pub use recipes::minilm_config;
pub use results::{comparisons, spreads, summary, Eda, Results, Row, RANDOM_SUFFIX};
pub use run::run;

use crate::data::text::Source;
use serde::{Deserialize, Serialize};

pub const PART: &str = "part2";
pub const CLASSES: [&str; 2] = ["negative", "positive"];
/// Every model of the part, in presentation order.
pub const MODELS: [Model; 2] = [Model::MiniLm, Model::BiLstm];
/// Every training source, direct first.
pub const SOURCES: [Source; 1 + INDIRECT.len()] = {
    let mut s = [Source::DrugsCom; 1 + INDIRECT.len()];
    let mut i = 0;
    while i < INDIRECT.len() {
        s[i + 1] = INDIRECT[i].source;
        i += 1;
    }
    s
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    MiniLm,
    BiLstm,
}

impl Model {
    pub fn name(self) -> &'static str {
        match self {
            Model::MiniLm => "minilm",
            Model::BiLstm => "bilstm",
        }
    }

    /// The name as readers know it (figures and slides).
    pub fn label(self) -> &'static str {
        match self {
            Model::MiniLm => "MiniLM",
            Model::BiLstm => "BiLSTM",
        }
    }
}

/// The name of the run of `model` trained on `source` (`minilm_drugscom`): checkpoint and figure
/// stems, `--models` and paired-test labels.
pub fn run_name(model: Model, source: Source) -> String {
    format!("{}_{}", model.name(), source.name())
}

/// Names `--models` accepts: a model (all its sources) or one `model_source` run.
pub fn row_names() -> Vec<String> {
    let mut out = Vec::new();
    for m in MODELS {
        out.push(m.name().to_string());
        out.extend(SOURCES.map(|s| run_name(m, s)));
        out.push(format!("{}{RANDOM_SUFFIX}", run_name(m, Source::DrugsCom)));
    }
    out
}
