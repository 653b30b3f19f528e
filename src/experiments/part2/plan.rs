//! Part 2's plan: sizes, caps, split and both models' training per profile
//! (`profiles/*.json`), patched by `--plan`, checked before anything runs.
use super::PART;
use crate::config::plan_check::Checks;
use crate::config::run::RunConfig;
use crate::data::text::tokenize::Truncation;
use crate::data::text::Fractions;
use crate::error::Result;
use crate::experiments::seeds::SeedPlan;
use crate::train::TrainConfig;
use crate::Profile;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub max_len: usize,
    /// How MiniLM inputs longer than `max_len` are cut (the BiLSTM keeps the first words).
    pub truncation: Truncation,
    /// Caps on training examples per source (None = all), drawn with class shares kept.
    pub max_train: Option<usize>,
    pub max_valid: Option<usize>,
    pub max_test: Option<usize>,
    pub fractions: Fractions,
    pub threshold: f32,
    pub minilm: TrainConfig,
    pub bilstm: TrainConfig,
    pub vocab_min_freq: usize,
    pub vocab_max_size: usize,
    /// MiniLM's hidden and attention dropout while fine-tuning (None: the checkpoint's
    /// config.json, 0.1 for all-MiniLM-L6-v2).
    #[serde(default)]
    pub minilm_dropout: Option<f64>,
    /// MiniLM's encoder matrix products in bfloat16 (see [`minilm::Config::bf16_matmuls`]).
    #[serde(default)]
    pub minilm_bf16: bool,
    /// Also train both models on a seeded random split of Drugs.com with the date split's sizes
    /// (the drift question: does the date split itself cost accuracy?).
    #[serde(default)]
    pub random_split_runs: bool,
    /// Date-split runs also trained at other seeds (absent in older results: none).
    #[serde(default)]
    pub seeds: SeedPlan,
}

impl Plan {
    /// The profile's recipe, every model seeded with `seed`.
    pub fn for_profile(profile: Profile, seed: u64) -> Result<Plan> {
        profile.plan(PART, seed, &["minilm", "bilstm"])
    }
}

/// The profile's plan with the run's `--plan` patch merged over it.
pub fn plan(config: &RunConfig) -> Result<Plan> {
    crate::config::plan_patch::patched(Plan::for_profile(config.profile, config.seed)?, config, PART, Plan::check)
}

impl Plan {
    /// Every value in range before anything runs (see [`crate::config::plan_check`]).
    pub fn check(&self) -> Result<()> {
        let mut c = Checks::default();
        // [CLS], [SEP] and at least one word
        c.at_least("part2.max_len", self.max_len, 3);
        if let Truncation::HeadTail { head } = self.truncation {
            c.that(head + 2 < self.max_len, || format!("part2.truncation.head ({head}) must leave room for the tail within max_len {} minus [CLS] and [SEP]", self.max_len));
        }
        c.cap("part2.max_train", self.max_train);
        c.cap("part2.max_valid", self.max_valid);
        c.cap("part2.max_test", self.max_test);
        c.that(self.fractions.validate().is_ok(), || {
            format!("part2.fractions must be >= 0, train > 0, summing to 1; got {:?}", self.fractions)
        });
        c.within("part2.threshold", self.threshold as f64, 1.0, 10.0);
        self.minilm.check("part2.minilm", &mut c);
        self.bilstm.check("part2.bilstm", &mut c);
        c.at_least("part2.vocab_min_freq", self.vocab_min_freq, 1);
        c.at_least("part2.vocab_max_size", self.vocab_max_size, 3);
        if let Some(p) = self.minilm_dropout {
            c.within("part2.minilm_dropout", p, 0.0, 0.95);
        }
        self.seeds.check("part2.seeds", &super::row_names(), &mut c);
        c.finish("invalid part2 plan")
    }
}

#[cfg(test)]
mod plan_tests {
    use super::*;

    #[test]
    fn profiles_pass_the_checks_and_bad_values_are_named() {
        for p in [Profile::Smoke, Profile::Quick, Profile::Full] {
            Plan::for_profile(p, 1).unwrap().check().unwrap();
        }
        let mut plan = Plan::for_profile(Profile::Quick, 1).unwrap();
        plan.max_len = 2;
        plan.bilstm.batch_size = 0;
        plan.threshold = 11.0;
        plan.fractions.test = 0.5;
        let err = plan.check().unwrap_err().to_string();
        for key in
            ["part2.max_len", "part2.truncation.head", "part2.bilstm.batch_size", "part2.threshold", "part2.fractions"]
        {
            assert!(err.contains(key), "{key} missing: {err}");
        }
    }
}
