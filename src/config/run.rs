//! A run directory: `<out>/config.json` (the resolved configuration), and per part
//! `<out>/<part>/{results.json, figures/, checkpoints/}`. Everything is written atomically.
use crate::config::profile::Profile;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Device;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunConfig {
    pub profile: Profile,
    pub seed: u64,
    pub data_root: PathBuf,
    pub out: PathBuf,
    pub device: String,
    pub threads: i32,
    pub skip_bad_inputs: bool,
    /// Part 1 model names to run (empty = all).
    pub models: Vec<String>,
    /// `--plan` overrides of the profile's plans (see [`crate::config::plan_patch`]), kept here so a
    /// run's config.json says how its recipe departs from the profile.
    #[serde(default)]
    pub plan_patch: Option<serde_json::Value>,
    pub version: String,
    pub started: String,
    /// Keep rows an earlier invocation finished in this run directory under the same profile,
    /// seed, plan and test data, instead of training them again.
    #[serde(default)]
    pub reuse: bool,
    /// Clear what an earlier invocation left in this run directory's parts before running.
    #[serde(default)]
    pub fresh: bool,
}

impl RunConfig {
    /// A run of `profile` at `seed` on `data_root`, writing under `out`, on `device`: every row,
    /// the profile's plan unpatched, bad inputs are errors, nothing reused. The one place a
    /// configuration is made (CLI, notebooks and tests set fields on top).
    pub fn new(profile: Profile, seed: u64, data_root: PathBuf, out: PathBuf, device: Device) -> Self {
        RunConfig {
            profile,
            seed,
            data_root,
            out,
            device: format!("{device:?}"),
            threads: tch::get_num_threads(),
            skip_bad_inputs: false,
            models: Vec::new(),
            plan_patch: None,
            version: env!("CARGO_PKG_VERSION").into(),
            started: now_utc(),
            reuse: false,
            fresh: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Run {
    pub config: RunConfig,
    pub device: Device,
}

impl Run {
    pub fn new(config: RunConfig, device: Device) -> Result<Self> {
        std::fs::create_dir_all(&config.out).map_err(|e| Error::io(&config.out, e))?;
        Ok(Run { config, device })
    }

    pub fn part_dir(&self, part: &str) -> PathBuf {
        self.config.out.join(part)
    }
    pub fn figures_dir(&self, part: &str) -> PathBuf {
        self.part_dir(part).join("figures")
    }
    pub fn checkpoint(&self, part: &str, model: &str) -> PathBuf {
        self.part_dir(part).join("checkpoints").join(format!("{model}.safetensors"))
    }
    pub fn results_path(&self, part: &str) -> PathBuf {
        self.part_dir(part).join("results.json")
    }

    /// Write `results` as `<part>/results.json`, then the part's manifest and this run's
    /// `config.json` beside it: the config is only replaced by a run that has written results, so
    /// a run that fails before finishing a row leaves a finished run's config alone.
    pub fn write_results<T: Serialize + PartResults>(&self, part: &str, results: &T) -> Result<()> {
        crate::atomic::write_json(&self.results_path(part), results)?;
        crate::config::manifest::write(&self.part_dir(part), results)?;
        self.write_config(part)
    }

    /// Write `config.json` for this run (merging with an existing one is not attempted: the
    /// last invocation's config describes the files it wrote).
    pub fn write_config(&self, part: &str) -> Result<()> {
        crate::atomic::write_json(&self.part_dir(part).join("config.json"), &self.config)?;
        crate::atomic::write_json(&self.config.out.join("config.json"), &self.config)
    }
}

/// What a part's results.json tells about itself: enough to name its configuration (the
/// manifest's hash), to decide whether an earlier run's rows can be reused, and to find rows.
/// Each experiment implements it for its results.
pub trait PartResults: serde::de::DeserializeOwned {
    type Plan: Serialize;
    type Row: Clone;
    const PART: &'static str;
    fn schema(&self) -> u32;
    fn profile(&self) -> Profile;
    fn seed(&self) -> u64;
    fn plan(&self) -> &Self::Plan;
    fn test_labels(&self) -> &[i64];
    fn device(&self) -> &str;
    /// What the data looked like (classes and split sizes, sources): another data root with the
    /// same test set must not pass for the same run.
    fn data(&self) -> serde_json::Value;
    /// Names of its rows, in order.
    fn row_names(&self) -> Vec<String>;
    fn find_row(&self, name: &str) -> Option<&Self::Row>;
}

/// Read a finished part's results, if present (so notebooks can present without retraining).
pub fn load_results<T: serde::de::DeserializeOwned>(out: &Path, part: &str) -> Result<Option<T>> {
    let path = out.join(part).join("results.json");
    if !path.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Json { path, source: e })
}

/// UTC timestamp without a clock dependency beyond std.
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let date =
        chrono::NaiveDate::from_num_days_from_ce_opt(719_163 + days as i32).map(|d| d.to_string()).unwrap_or_default();
    let s = secs % 86_400;
    format!("{date}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

/// Version of the results.json layout; bumped when fields are added that readers rely on
/// (2: per-sample test predictions, accuracy intervals and paired tests).
pub const RESULTS_SCHEMA: u32 = 2;

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn layout_and_config_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = RunConfig::new(Profile::Smoke, 1, "d".into(), dir.path().join("r"), Device::Cpu);
        let run = Run::new(cfg, Device::Cpu).unwrap();
        run.write_config("part1").unwrap();
        assert_eq!(run.checkpoint("part1", "v1"), dir.path().join("r/part1/checkpoints/v1.safetensors"));
        let back: RunConfig =
            serde_json::from_slice(&std::fs::read(dir.path().join("r/config.json")).unwrap()).unwrap();
        assert_eq!(back.profile, Profile::Smoke);
        assert!(load_results::<serde_json::Value>(&dir.path().join("r"), "part1").unwrap().is_none());
        assert!(now_utc().starts_with("20"));
    }
}
