//! `<part>/manifest.json`: every file a part's run directory holds (results, checkpoints,
//! figures), tied to the configuration that wrote it by a hash of what defines it (profile,
//! seed, plan, device, training and test data). Written with every results.json and after the
//! figures; a rerun of the same configuration names any file the manifest does not know (left
//! by an invocation that was stopped between two writes).
use crate::config::run::PartResults;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const FILE: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// FNV-1a 64 of the configuration's defining values, in hex.
    pub configuration: String,
    /// Relative path -> what it is.
    pub files: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub bytes: u64,
    /// The row a checkpoint or figure belongs to (its file stem's row), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
}

/// The hash of what makes two results the same configuration (the values `reuse::prior`
/// compares).
pub fn configuration<R: PartResults>(r: &R) -> String {
    let defining = serde_json::json!({
        "part": R::PART,
        "schema": r.schema(),
        "profile": r.profile(),
        "seed": r.seed(),
        "plan": serde_json::to_value(r.plan()).unwrap_or_default(),
        "device": r.device(),
        "data": r.data(),
        "test_labels": r.test_labels(),
    });
    let text = defining.to_string();
    format!("{:016x}", fnv1a(text.bytes().map(u64::from)))
}

/// 64-bit FNV-1a over `items` (one multiply per item): a stable, dependency-free fingerprint for
/// run configurations and label sequences; its values are stored in manifests and snapshots.
pub fn fnv1a(items: impl IntoIterator<Item = u64>) -> u64 {
    items.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, x| (h ^ x).wrapping_mul(0x100_0000_01b3))
}

/// The files under `part_dir` a manifest lists: everything but hidden files (rows in training,
/// snapshots, temporary files) and the manifest itself.
fn listed(part_dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![part_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for e in entries {
            let e = e.map_err(|e| Error::io(&dir, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == FILE {
                continue;
            }
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(part_dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Write the manifest of `part_dir` for `results`.
pub fn write<R: PartResults>(part_dir: &Path, results: &R) -> Result<()> {
    let rows = results.row_names();
    let mut files = BTreeMap::new();
    for rel in listed(part_dir)? {
        let path = part_dir.join(&rel);
        let bytes = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len();
        let stem = Path::new(&rel).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        // figure stems are `<row>_<kind>`: the longest row name that prefixes the stem
        let row =
            rows.iter().filter(|r| stem == **r || stem.starts_with(&format!("{r}_"))).max_by_key(|r| r.len()).cloned();
        files.insert(rel, Entry { bytes, row });
    }
    crate::atomic::write_json(&part_dir.join(FILE), &Manifest { configuration: configuration(results), files })
}

/// The manifest of `part_dir`, if there is one.
pub fn read(part_dir: &Path) -> Result<Option<Manifest>> {
    let path = part_dir.join(FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Json { path, source: e })
}

/// Files in `part_dir` that its manifest does not list (none without a manifest).
pub fn unlisted(part_dir: &Path) -> Result<Vec<String>> {
    let Some(m) = read(part_dir)? else { return Ok(Vec::new()) };
    Ok(listed(part_dir)?.into_iter().filter(|f| !m.files.contains_key(f)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_its_reference_values() {
        // the published FNV-1a 64 test vectors: "" and "a"
        assert_eq!(fnv1a(std::iter::empty()), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a".bytes().map(u64::from)), 0xaf63_dc4c_8601_ec8c);
    }
    use crate::report::fixtures;

    #[test]
    fn lists_every_visible_file_with_its_row_and_names_the_unlisted() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path();
        let r = fixtures::part1();
        for f in ["results.json", "checkpoints/emotionnet_v2.safetensors", "figures/mobilenet_v2_random_curves.png"] {
            std::fs::create_dir_all(part.join(f).parent().unwrap()).unwrap();
            std::fs::write(part.join(f), "12345").unwrap();
        }
        std::fs::write(part.join("checkpoints/.emotionnet_v3.training.safetensors"), "x").unwrap();
        write(part, &r).unwrap();
        let m = read(part).unwrap().unwrap();
        assert_eq!(
            m.files.keys().collect::<Vec<_>>(),
            ["checkpoints/emotionnet_v2.safetensors", "figures/mobilenet_v2_random_curves.png", "results.json"]
        );
        assert_eq!(
            m.files["checkpoints/emotionnet_v2.safetensors"],
            Entry { bytes: 5, row: Some("emotionnet_v2".into()) }
        );
        // the longest row name wins: mobilenet_v2_random, not mobilenet_v2
        assert_eq!(m.files["figures/mobilenet_v2_random_curves.png"].row.as_deref(), Some("mobilenet_v2_random"));
        assert_eq!(m.files["results.json"].row, None);
        assert_eq!(m.configuration, configuration(&r));
        assert!(unlisted(part).unwrap().is_empty());
        std::fs::write(part.join("figures/old.png"), "x").unwrap();
        assert_eq!(unlisted(part).unwrap(), ["figures/old.png"]);
        // another seed is another configuration
        let mut other = r.clone();
        other.seed += 1;
        assert_ne!(configuration(&other), configuration(&r));
    }
}
