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
    /// Where a row trains: beside its checkpoint under a hidden name, moved into place by
    /// [`Staged::commit`] only when the row is done, so an interrupted or failed retrain never leaves
    /// new weights under a finished row.
    pub fn staged_checkpoint(&self, part: &str, model: &str) -> Staged {
        let done = self.checkpoint(part, model);
        Staged { training: done.with_file_name(format!(".{model}.training.safetensors")), done }
    }
    /// One of several trainings of row `model` (e.g. one per candidate input size) under its own
    /// hidden name `tag`: the one committed becomes the row's checkpoint, the others are discarded.
    pub fn staged_trial(&self, part: &str, model: &str, tag: &str) -> Staged {
        let done = self.checkpoint(part, model);
        Staged { training: done.with_file_name(format!(".{model}.{tag}.training.safetensors")), done }
    }
    pub fn results_path(&self, part: &str) -> PathBuf {
        self.part_dir(part).join("results.json")
    }

    /// Write `results` as `<part>/results.json`, then the part's manifest and this run's
    /// `config.json` beside it: the config is only replaced by a run that has written results, so
    /// a run that fails before finishing a row leaves a finished run's config alone.
    pub fn write_results<T: Serialize + crate::experiments::reuse::PartResults>(
        &self,
        part: &str,
        results: &T,
    ) -> Result<()> {
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

/// A checkpoint being trained, removed unless committed.
#[derive(Debug)]
pub struct Staged {
    pub training: PathBuf,
    pub done: PathBuf,
}

impl Staged {
    /// Put the trained checkpoint in place of the row's; the row's training snapshot goes.
    pub fn commit(self) -> Result<()> {
        std::fs::rename(&self.training, &self.done).map_err(|e| Error::io(&self.done, e))?;
        crate::train::resume::remove(&self.training);
        let _ = std::fs::remove_file(crate::train::within_path(&self.training));
        Ok(())
    }
}

impl Staged {
    /// Remove the training file and its snapshot: a trial that was not chosen.
    pub fn discard(self) {
        crate::train::resume::remove(&self.training);
        let _ = std::fs::remove_file(&self.training);
        let _ = std::fs::remove_file(crate::train::within_path(&self.training));
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // after a commit the file is gone; otherwise it is an unfinished row's, kept only with
        // the snapshot that continues it
        if !crate::train::resume::exists(&self.training) {
            let _ = std::fs::remove_file(&self.training);
        }
        // a snapshot holds these weights too
        let _ = std::fs::remove_file(crate::train::within_path(&self.training));
    }
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

    #[test]
    fn a_staged_checkpoint_replaces_the_row_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let run =
            Run::new(RunConfig::new(Profile::Smoke, 1, "d".into(), dir.path().join("r"), Device::Cpu), Device::Cpu)
                .unwrap();
        let done = run.checkpoint("part1", "m");
        std::fs::create_dir_all(done.parent().unwrap()).unwrap();
        std::fs::write(&done, "old").unwrap();
        let staged = run.staged_checkpoint("part1", "m");
        std::fs::write(&staged.training, "half-trained").unwrap();
        drop(staged); // an interrupted retrain
        assert_eq!(std::fs::read_to_string(&done).unwrap(), "old");
        assert_eq!(std::fs::read_dir(done.parent().unwrap()).unwrap().count(), 1, "the training file is gone");
        let staged = run.staged_checkpoint("part1", "m");
        std::fs::write(&staged.training, "new").unwrap();
        staged.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&done).unwrap(), "new");
        assert_eq!(std::fs::read_dir(done.parent().unwrap()).unwrap().count(), 1);
    }
}
