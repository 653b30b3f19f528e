//! Part 1's plan: budgets and input sizes per profile (`profiles/*.json`), patched by `--plan`,
//! checked before anything runs.
use super::{Arch, Init, ModelSpec, PART};
use crate::config::plan_check::Checks;
use crate::config::run::RunConfig;
use crate::data::augment::AugmentConfig;
use crate::error::Result;
use crate::eval::bench::LatencyConfig;
use crate::experiments::seeds::SeedPlan;
use crate::models::init::ScratchInit;
use crate::train::TrainConfig;
use crate::Profile;
use serde::{Deserialize, Serialize};

/// One row's own learning rate (a list entry rather than a map key, so that a `--plan` patch
/// replaces the list as a whole and a misspelt field is an error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowRate {
    pub row: String,
    pub lr: f64,
}

/// Budgets per profile. Every row of one profile sees the same images at the same size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// Input size of the pretrained backbones and their random-init ablations.
    pub image_size: u32,
    /// Input size of the EmotionNets (from scratch).
    pub custom_image_size: u32,
    /// Candidate input sizes of the EmotionNets, chosen per row on validation (empty: only
    /// `custom_image_size`). The faces are 48x48: a larger input pays for upsampling.
    #[serde(default)]
    pub custom_sizes: Vec<u32>,
    /// Candidate input sizes of the random-init ablations of the pretrained backbones, chosen per
    /// row on validation as the EmotionNets' are (empty: `image_size`, the pretrained rows' own).
    /// They are trained from scratch too, so upsampling must earn its cost (absent in older
    /// results: none).
    #[serde(default)]
    pub ablation_sizes: Vec<u32>,
    /// With several candidate sizes: compare them after this many epochs and train only the
    /// chosen one on (None: every size trains to its own end before the choice).
    #[serde(default)]
    pub size_trial_epochs: Option<usize>,
    pub custom: TrainConfig,
    /// How the EmotionNets draw their first weights (absent in results older than the key:
    /// tch's layer defaults, which they used).
    #[serde(default)]
    pub custom_init: ScratchInit,
    pub transfer: TrainConfig,
    /// Rows that train in bf16 (CPU autocast, their group's memory format kept) where the CPU's
    /// bf16 units pay (`numerics::cpu_has_bf16_units`); elsewhere, and every row not named, in
    /// their group's numerics. A row is named only where validation accuracy stays within noise of
    /// fp32 at two seeds (none yet: docs/recipes.md, "bf16 on AMX"). Absent in older results: none.
    #[serde(default)]
    pub bf16_rows: Vec<String>,
    /// Learning rates of single rows where their group's rate does not train them, each chosen
    /// on validation (docs/recipes.md, "EmotionNet V1's rate"). Absent in older results: none.
    #[serde(default)]
    pub lr_by_row: Vec<RowRate>,
    /// Subsets for smoke runs (None = the whole split).
    pub max_valid: Option<usize>,
    pub max_test: Option<usize>,
    pub augment: AugmentConfig,
    pub latency: LatencyConfig,
    /// Rows also trained at other seeds (absent in older results: none).
    #[serde(default)]
    pub seeds: SeedPlan,
}

impl Plan {
    /// The input sizes a row trains at before validation picks one.
    pub fn sizes_for(&self, spec: &ModelSpec) -> Vec<u32> {
        let candidates: &[u32] = match (spec.arch.is_custom(), spec.init) {
            (true, _) => &self.custom_sizes,
            (false, Init::Random) => &self.ablation_sizes,
            (false, _) => &[],
        };
        if candidates.is_empty() {
            vec![self.size_for(&spec.arch)]
        } else {
            candidates.to_vec()
        }
    }

    pub fn size_for(&self, arch: &Arch) -> u32 {
        if arch.is_custom() {
            self.custom_image_size
        } else {
            self.image_size
        }
    }

    /// The profile's recipe, every row seeded with `seed`.
    pub fn for_profile(profile: Profile, seed: u64) -> Result<Plan> {
        profile.plan(PART, seed, &["custom", "transfer"])
    }
}

/// The profile's plan with the run's `--plan` patch merged over it.
pub fn plan(config: &RunConfig) -> Result<Plan> {
    crate::config::plan_patch::patched(Plan::for_profile(config.profile, config.seed)?, config, PART, Plan::check)
}

/// Smallest input side every Part 1 network runs at (five stride-2 stages leave 1x1 at 32 px).
pub const MIN_IMAGE_SIZE: u32 = 32;

impl Plan {
    /// Every value in range before anything runs (see [`crate::config::plan_check`]).
    pub fn check(&self) -> Result<()> {
        let mut c = Checks::default();
        c.within("part1.image_size", self.image_size as f64, MIN_IMAGE_SIZE as f64, 1024.0);
        c.within("part1.custom_image_size", self.custom_image_size as f64, MIN_IMAGE_SIZE as f64, 1024.0);
        for &s in &self.custom_sizes {
            c.within("part1.custom_sizes", s as f64, MIN_IMAGE_SIZE as f64, 1024.0);
        }
        for &s in &self.ablation_sizes {
            c.within("part1.ablation_sizes", s as f64, MIN_IMAGE_SIZE as f64, 1024.0);
        }
        c.cap("part1.size_trial_epochs", self.size_trial_epochs);
        c.cap("part1.max_valid", self.max_valid);
        c.cap("part1.max_test", self.max_test);
        self.custom.check("part1.custom", &mut c);
        self.transfer.check("part1.transfer", &mut c);
        self.augment.check("part1.augment", &mut c);
        c.at_least("part1.latency.repeats", self.latency.repeats, 1);
        let rows: Vec<String> = super::model_specs().into_iter().map(|s| s.name).collect();
        self.seeds.check("part1.seeds", &rows, &mut c);
        for r in &self.bf16_rows {
            c.that(rows.contains(r), || format!("part1.bf16_rows names `{r}`, which is no row of this part"));
        }
        for RowRate { row, lr } in &self.lr_by_row {
            c.that(rows.contains(row), || format!("part1.lr_by_row names `{row}`, which is no row of this part"));
            c.within(&format!("part1.lr_by_row.{row}"), *lr, 1e-8, 1.0);
        }
        let mut named: Vec<&str> = self.lr_by_row.iter().map(|r| r.row.as_str()).collect();
        named.sort_unstable();
        c.that(named.windows(2).all(|w| w[0] != w[1]), || "part1.lr_by_row names a row twice".to_string());
        c.finish("invalid part1 plan")
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
        let mut plan = Plan::for_profile(Profile::Smoke, 1).unwrap();
        plan.augment.rotate_deg = -5.0;
        plan.augment.crop_scale = (1.0, 0.5);
        plan.custom.epochs = 0;
        plan.transfer.batch_size = 0;
        plan.image_size = 16;
        plan.max_test = Some(0);
        plan.bf16_rows = vec!["resnet18_random".into(), "resnet19".into()];
        plan.ablation_sizes = vec![48, 8];
        let rate = |row: &str, lr| RowRate { row: row.into(), lr };
        plan.lr_by_row = vec![rate("emotionnet_v1", 0.0), rate("emotionnet_v9", 1e-3), rate("emotionnet_v9", 2e-3)];
        let err = plan.check().unwrap_err().to_string();
        for key in [
            "part1.augment.rotate_deg",
            "part1.augment.crop_scale",
            "part1.custom.epochs",
            "part1.transfer.batch_size",
            "part1.image_size",
            "part1.max_test",
            "part1.bf16_rows names `resnet19`",
            "part1.ablation_sizes",
            "part1.lr_by_row.emotionnet_v1",
            "part1.lr_by_row names `emotionnet_v9`",
            "part1.lr_by_row names a row twice",
        ] {
            assert!(err.contains(key), "{key} missing: {err}");
        }
        assert!(!err.contains("`resnet18_random`"), "a real row is accepted: {err}");
    }

    #[test]
    fn each_kind_of_row_races_its_own_candidate_sizes() {
        let mut plan = Plan::for_profile(Profile::Smoke, 1).unwrap();
        (plan.image_size, plan.custom_image_size) = (96, 64);
        (plan.custom_sizes, plan.ablation_sizes) = (vec![48, 64], vec![40, 56]);
        let sizes = |plan: &Plan, name: &str| {
            let spec = super::super::model_specs().into_iter().find(|s| s.name == name).unwrap();
            plan.sizes_for(&spec)
        };
        assert_eq!(sizes(&plan, "emotionnet_v2"), vec![48, 64]);
        assert_eq!(sizes(&plan, "resnet18_random"), vec![40, 56]);
        assert_eq!(sizes(&plan, "mobilenet_v2_random"), vec![40, 56]);
        assert_eq!(sizes(&plan, "mobilenet_v2"), vec![96], "a pretrained row keeps the size its weights know");
        (plan.custom_sizes, plan.ablation_sizes) = (Vec::new(), Vec::new());
        assert_eq!(sizes(&plan, "emotionnet_v2"), vec![64]);
        assert_eq!(
            sizes(&plan, "resnet18_random"),
            vec![96],
            "without candidates the ablation runs at its backbone's size"
        );
    }
}
