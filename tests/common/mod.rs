//! Helpers shared by the CLI integration tests.
#![allow(dead_code)] // each test crate uses its own subset
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_affect-lab"))
}

pub fn data_root() -> PathBuf {
    let root = affect_lab::testing::data_root();
    assert!(
        root.join("faces").is_dir(),
        "set AFFECT_LAB_DATA to the data root (e.g. ../shared/data); {} has no faces/",
        root.display()
    );
    root
}

/// The project venv's python (torch, torchvision, safetensors, transformers), which the parity
/// and benchmark tests run; they fail loudly without it.
pub fn venv_python() -> PathBuf {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        py.is_file(),
        "this test needs the project venv's python at {} (create it with scripts/setup.sh)",
        py.display()
    );
    py
}

/// `affect-lab --device cpu <part> --profile smoke --data-dir <root> --out <out> <args>`:
/// (success, stderr).
pub fn smoke(part: &str, out: &Path, args: &[&str]) -> (bool, String) {
    let o = bin()
        .args(["--device", "cpu", part, "--profile", "smoke", "--data-dir"])
        .arg(data_root())
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    (o.status.success(), String::from_utf8_lossy(&o.stderr).into_owned())
}

pub fn json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// Every file under `dir` (recursively).
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
