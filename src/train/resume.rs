//! Snapshots that let an interrupted `fit` continue exactly where it stopped. Beside the
//! checkpoint being trained (`.<row>.training.safetensors`) a snapshot is two files:
//! `.<row>.training.resume.json` (position, history, running sums, what the run was asked to
//! do) and the tensors it names, `.<row>.training.resume-<step>.safetensors` (current weights and
//! buffers, AdamW moments and step counts, the kept weights). The tensors are written first under
//! a new name, then the JSON that points at them, then older tensor files go: a kill at any
//! moment leaves either the previous snapshot or the new one whole.
use super::steps::RunningState;
use super::EpochRecord;
use crate::config::json_diff;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::{nn, Tensor};

/// Where a `fit` stood.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    /// What the run was asked to do; a snapshot of another configuration is never continued.
    pub fingerprint: Value,
    /// The epoch in progress (1-based) and how many of its batches are done.
    pub epoch: usize,
    pub done: usize,
    /// Optimizer steps so far (the schedule's position).
    pub step: usize,
    pub epoch_seen: usize,
    pub train_examples: usize,
    pub history: Vec<EpochRecord>,
    /// Loss and accuracy sums of the evaluation window in progress.
    pub running: RunningState,
    /// Training seconds before this snapshot (timings are the one thing a resume changes).
    pub seconds: f64,
    /// Training had ended early (plateau or time cap).
    pub stop: Option<super::StopReason>,
    /// The tensor file, beside this JSON.
    pub tensors: String,
}

/// A snapshot read back, its tensors by name.
pub struct Resumed {
    pub snapshot: Snapshot,
    pub tensors: BTreeMap<String, Tensor>,
    pub json: PathBuf,
}

fn json_path(checkpoint: &Path) -> PathBuf {
    checkpoint.with_extension("resume.json")
}

/// Name prefix of the snapshot tensor files of `checkpoint`.
fn tensor_prefix(checkpoint: &Path) -> String {
    let name = checkpoint.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!("{}.resume-", name.strip_suffix(".safetensors").unwrap_or(&name))
}

/// True when `checkpoint` has a snapshot to continue from.
pub fn exists(checkpoint: &Path) -> bool {
    json_path(checkpoint).is_file()
}

/// Remove the snapshot of `checkpoint` (the row finished, or is started over).
pub fn remove(checkpoint: &Path) {
    let _ = std::fs::remove_file(json_path(checkpoint));
    remove_tensor_files(checkpoint, None);
}

fn remove_tensor_files(checkpoint: &Path, keep: Option<&str>) {
    let (Some(dir), prefix) = (checkpoint.parent(), tensor_prefix(checkpoint)) else { return };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && Some(name.as_str()) != keep {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Write a snapshot: `vs`'s variables as `w.<name>`, the optimizer's `state` as given, the kept
/// weights as `best.<name>` and the best within a budget as `within.<name>`.
pub fn save(
    checkpoint: &Path,
    snapshot: &mut Snapshot,
    vs: &nn::VarStore,
    optimizer: Vec<(String, Tensor)>,
    best: Option<&[(String, Tensor)]>,
    within: Option<&[(String, Tensor)]>,
) -> Result<()> {
    let mut named: Vec<(String, Tensor)> =
        vs.variables().into_iter().map(|(n, t)| (format!("w.{n}"), t.shallow_clone())).collect();
    named.extend(optimizer);
    for (prefix, set) in [("best.", best), ("within.", within)] {
        named.extend(set.unwrap_or_default().iter().map(|(n, t)| (format!("{prefix}{n}"), t.shallow_clone())));
    }
    let name = format!("{}{}.safetensors", tensor_prefix(checkpoint), snapshot.step);
    let tensors = checkpoint.with_file_name(&name);
    crate::models::weights::save_named(&named, &tensors)?;
    snapshot.tensors = name.clone();
    crate::atomic::write_json(&json_path(checkpoint), snapshot)?;
    remove_tensor_files(checkpoint, Some(&name));
    Ok(())
}

/// The snapshot of `checkpoint`, if there is one. One written for another configuration is an
/// error that names the file and what differs.
pub fn load(checkpoint: &Path, fingerprint: &Value) -> Result<Option<Resumed>> {
    let json = json_path(checkpoint);
    if !json.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(&json).map_err(|e| Error::io(&json, e))?;
    let snapshot: Snapshot =
        serde_json::from_slice(&bytes).map_err(|e| Error::Json { path: json.clone(), source: e })?;
    if &snapshot.fingerprint != fingerprint {
        let changed = json_diff::changes("", &snapshot.fingerprint, fingerprint);
        let differs = json_diff::first(changed.into_iter().map(|c| c.path).collect(), 6, "values");
        return Err(Error::Config(format!(
            "{}: an interrupted training of another configuration ({}); --fresh starts over",
            json.display(),
            differs.join(", ")
        )));
    }
    let file = checkpoint.with_file_name(&snapshot.tensors);
    let tensors = crate::models::weights::read_safetensors(&file)?.into_iter().collect();
    Ok(Some(Resumed { snapshot, tensors, json }))
}

/// Copy the `w.` tensors into `vs`, every variable exactly once.
pub fn restore_weights(vs: &mut nn::VarStore, tensors: &BTreeMap<String, Tensor>, file: &Path) -> Result<()> {
    tch::no_grad(|| {
        for (name, mut var) in vs.variables() {
            let t = tensors.get(&format!("w.{name}")).filter(|t| t.size() == var.size());
            let t = t.ok_or_else(|| Error::weights(file, format!("snapshot lacks `{name}` or has another shape")))?;
            var.copy_(t);
        }
        Ok(())
    })
}

/// The tensors saved under `prefix` (`best.`: the kept weights, `within.`: the best within a
/// budget) by variable name.
pub fn prefixed(tensors: &BTreeMap<String, Tensor>, prefix: &str) -> Vec<(String, Tensor)> {
    tensors.iter().filter_map(|(k, t)| k.strip_prefix(prefix).map(|n| (n.to_string(), t.shallow_clone()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_files_are_named_beside_the_checkpoint() {
        let ck = Path::new("/r/checkpoints/.v1.training.safetensors");
        assert_eq!(json_path(ck), Path::new("/r/checkpoints/.v1.training.resume.json"));
        assert_eq!(tensor_prefix(ck), ".v1.training.resume-");
    }
}
