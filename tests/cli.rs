//! End-to-end: the CLI in the smoke profile on the real data, and its error paths.
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_affect-lab"))
}

fn data_root() -> PathBuf {
    let root = affect_lab::testing::data_root();
    assert!(root.join("faces").is_dir(), "set AFFECT_LAB_DATA to the data root (e.g. ../shared/data); {} has no faces/", root.display());
    root
}

fn json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn missing_data_is_one_clear_error_and_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin().args(["all", "--profile", "smoke", "--data-dir"]).arg(dir.path()).arg("--out").arg(dir.path().join("run")).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for what in ["faces", "drug_reviews", "druglib", "imdb", "AFFECT_LAB_DATA"] {
        assert!(err.contains(what), "missing `{what}` in: {err}");
    }
    assert!(!dir.path().join("run/part1/results.json").exists());
}

#[test]
fn bad_device_is_rejected() {
    let out = bin().args(["--device", "tpu", "info"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown device"));
}

#[test]
fn part1_smoke_writes_results_figures_and_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("run");
    let out = bin()
        .args(["--device", "cpu", "part1", "--profile", "smoke", "--seed", "7", "--models", "emotionnet_v3,mobilenet_v2,mobilenet_v2_random", "--data-dir"])
        .arg(data_root())
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("device: Cpu"), "device line missing: {stderr}");
    let r = json(&out_dir.join("part1/results.json"));
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        for key in ["model", "init", "weights_source", "params", "size_bytes", "flops", "latency_ms_b1", "latency_ms_b64", "train_seconds", "epochs", "best_epoch", "test_accuracy", "test_macro_f1", "per_class", "confusion", "seed", "profile", "image_size", "history", "samples"] {
            assert!(!row[key].is_null(), "{key} missing in {}", row["model"]);
        }
        assert_eq!(row["seed"], 7);
        assert_eq!(row["profile"], "smoke");
        assert_eq!(row["samples"].as_array().unwrap().len(), 10);
        let n: u64 = row["confusion"].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64().unwrap())).sum();
        assert_eq!(n, 48, "smoke tests on 48 images");
        let model = row["model"].as_str().unwrap();
        assert!(out_dir.join(format!("part1/checkpoints/{model}.safetensors")).is_file());
        assert!(out_dir.join(format!("part1/figures/{model}_confusion.png")).is_file());
        assert!(out_dir.join(format!("part1/figures/{model}_curves.svg")).is_file());
    }
    let mob = rows.iter().find(|r| r["model"] == "mobilenet_v2").unwrap();
    assert_eq!(mob["init"], "imagenet");
    assert!(mob["weights_source"].as_str().unwrap().contains("mobilenet_v2-b0353104"));
    assert_eq!(rows.iter().find(|r| r["model"] == "mobilenet_v2_random").unwrap()["init"], "random");
    assert!(out_dir.join("part1/figures/benchmark.png").is_file());
    assert!(out_dir.join("config.json").is_file());
    // no temp files left behind by atomic writes
    let leftovers: Vec<_> = walk(&out_dir).into_iter().filter(|p| p.to_string_lossy().ends_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn part2_smoke_writes_six_runs_and_eda() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("run");
    let out = bin().args(["--device", "cpu", "part2", "--profile", "smoke", "--data-dir"]).arg(data_root()).arg("--out").arg(&out_dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let r = json(&out_dir.join("part2/results.json"));
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let mut pairs: Vec<String> = rows.iter().map(|x| format!("{}/{}", x["model"].as_str().unwrap(), x["train_source"].as_str().unwrap())).collect();
    pairs.sort();
    assert_eq!(pairs, ["bilstm/druglib", "bilstm/drugscom", "bilstm/imdb", "minilm/druglib", "minilm/drugscom", "minilm/imdb"]);
    for row in rows {
        assert_eq!(row["test_source"], "drugscom");
        for key in ["init", "params", "train_examples", "epochs", "best_epoch", "train_seconds", "accuracy", "precision", "recall", "f1", "macro_f1", "confusion", "seed", "profile", "max_len"] {
            assert!(!row[key].is_null(), "{key} missing");
        }
    }
    assert_eq!(r["eda"]["correlation"]["names"].as_array().unwrap().len(), 5);
    assert!(out_dir.join("part2/figures/correlation.png").is_file());
    assert!(out_dir.join("part2/figures/comparison.png").is_file());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
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
