//! Where things live, found at run time: the data root, the datasets inside it, the run
//! directories, and the project checkout (its Python environment and weights) when there is one.
//! A binary copied out of the checkout works given a data root and a weights folder.
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Environment variable that sets the data root when no flag does.
pub const DATA_ENV: &str = "AFFECT_LAB_DATA";
/// Environment variable naming the project checkout (otherwise searched for, see [`project_root`]).
pub const HOME_ENV: &str = "AFFECT_LAB_HOME";

/// The project checkout: `$AFFECT_LAB_HOME`, else the nearest folder holding `profiles/base.json`
/// and `scripts/setup.sh` above the working directory or above the executable. None when run
/// from elsewhere (then only flags and environment variables say where things are).
pub fn project_root() -> Option<PathBuf> {
    if let Some(v) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(v));
    }
    let is_root = |d: &Path| d.join("profiles/base.json").is_file() && d.join("scripts/setup.sh").is_file();
    let starts = [std::env::current_dir().ok(), std::env::current_exe().ok()];
    starts.into_iter().flatten().find_map(|s| s.ancestors().find(|d| is_root(d)).map(Path::to_path_buf))
}

/// `rel` inside the project checkout, if there is one.
pub fn in_project(rel: &str) -> Option<PathBuf> {
    project_root().map(|r| r.join(rel))
}

/// The data root: the flag, else `$AFFECT_LAB_DATA`, else `data/` of the project checkout, else
/// `data/` here. The one rule of the CLI, the notebooks and the tests.
pub fn data_root(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    match std::env::var_os(DATA_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => in_project("data").unwrap_or_else(|| PathBuf::from("data")),
    }
}

/// Where runs go by default: `runs/<profile>` of the project checkout, else `runs/<profile>` here.
pub fn default_run_dir(profile: crate::Profile) -> PathBuf {
    in_project("runs").unwrap_or_else(|| PathBuf::from("runs")).join(profile.name())
}

/// A dataset the experiment needs: its folder under the data root, files that prove it is
/// there, and where to get it.
#[derive(Debug, Clone, Copy)]
pub struct DatasetSpec {
    pub name: &'static str,
    pub dir: &'static str,
    /// Any one of these groups (relative to `dir`) must exist in full.
    pub layouts: &'static [&'static [&'static str]],
    pub how_to_get: &'static str,
}

pub const FACES: DatasetSpec = DatasetSpec {
    name: "face emotions (7 classes, Roboflow classification export)",
    dir: "faces",
    layouts: &[&["train", "valid", "test"]],
    how_to_get: "export a Roboflow face-emotion dataset as 'Folder Structure' or 'Multi-label CSV', or use FER-2013; see data/README.md",
};
pub const DRUGS_COM: DatasetSpec = DatasetSpec {
    name: "Drugs.com reviews (UCI #462)",
    dir: "drug_reviews",
    layouts: &[&["drugsComTrain_raw.csv", "drugsComTest_raw.csv"], &["drugsComTrain_raw.tsv", "drugsComTest_raw.tsv"]],
    how_to_get: "https://archive.ics.uci.edu/dataset/462 (TSV) or Kaggle 'kuc-hackathon-winter-2018' (CSV)",
};
pub const DRUGLIB: DatasetSpec = DatasetSpec {
    name: "Druglib.com reviews (UCI #461)",
    dir: "druglib",
    layouts: &[&["drugLibTrain_raw.tsv", "drugLibTest_raw.tsv"]],
    how_to_get: "https://archive.ics.uci.edu/dataset/461",
};
pub const IMDB: DatasetSpec = DatasetSpec {
    name: "IMDB Large Movie Review Dataset v1.0",
    dir: "imdb",
    layouts: &[&["aclImdb/train/pos", "aclImdb/train/neg"], &["IMDB Dataset.csv"], &["imdb.csv"]],
    how_to_get: "https://ai.stanford.edu/~amaas/data/sentiment/ (aclImdb_v1.tar.gz), or the Kaggle 'IMDB Dataset.csv'",
};

impl DatasetSpec {
    pub fn path(&self, root: &Path) -> PathBuf {
        root.join(self.dir)
    }
    pub fn is_present(&self, root: &Path) -> bool {
        let base = self.path(root);
        self.layouts.iter().any(|files| files.iter().all(|f| base.join(f).exists()))
    }
}

/// Check that every dataset in `specs` is present; one error lists all that are missing.
pub fn require(root: &Path, specs: &[DatasetSpec]) -> Result<()> {
    let missing: Vec<String> = specs
        .iter()
        .filter(|s| !s.is_present(root))
        .map(|s| {
            let want: Vec<String> = s.layouts.iter().map(|l| l.join(" + ")).collect();
            format!(
                "  - {}: looked in {} for one of [{}]\n    get it: {}",
                s.name,
                s.path(root).display(),
                want.join("] or ["),
                s.how_to_get
            )
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingData(format!(
            "{}\n  (data root: {}; set it with --data-dir or {DATA_ENV}; layouts in data/README.md)",
            missing.join("\n"),
            root.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn missing_data_lists_every_dataset_and_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let err = require(dir.path(), &[FACES, DRUGLIB]).unwrap_err().to_string();
        assert!(err.contains("face emotions"), "{err}");
        assert!(err.contains("Druglib"), "{err}");
        assert!(err.contains(&dir.path().join("faces").display().to_string()), "{err}");
        std::fs::create_dir_all(dir.path().join("druglib")).unwrap();
        std::fs::write(dir.path().join("druglib/drugLibTrain_raw.tsv"), "").unwrap();
        std::fs::write(dir.path().join("druglib/drugLibTest_raw.tsv"), "").unwrap();
        let err = require(dir.path(), &[FACES, DRUGLIB]).unwrap_err().to_string();
        assert!(!err.contains("Druglib"), "{err}");
    }
    #[test]
    fn flag_beats_default_and_the_checkout_is_found_from_here() {
        assert_eq!(data_root(Some(Path::new("/x"))), PathBuf::from("/x"));
        // tests run in the package root
        let root = project_root().expect("the checkout");
        assert!(root.join("Cargo.toml").is_file(), "{}", root.display());
        assert!(default_run_dir(crate::Profile::Smoke).ends_with("runs/smoke"));
    }
}
