//! End-to-end: the CLI in the smoke profile on the real data, and its error paths.

mod common;
use common::{bin, data_root, json, walk};

#[test]
fn missing_data_is_one_clear_error_and_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["all", "--profile", "smoke", "--data-dir"])
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("run"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for what in ["faces", "drug_reviews", "druglib", "imdb", "AFFECT_LAB_DATA"] {
        assert!(err.contains(what), "missing `{what}` in: {err}");
    }
    assert!(!dir.path().join("run/part1/results.json").exists());
}

#[test]
fn unknown_model_names_are_rejected_with_the_known_ones() {
    // resnet18 is a Part 1 row: `part2` does not offer it
    let out =
        bin().args(["part2", "--models", "minilm_drugscom,resnet18", "--data-dir", "/nonexistent"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown model `resnet18`") && err.contains("bilstm_imdb"), "{err}");
}

/// `part` in the smoke profile with `plan` as its --plan file: it must fail before any work.
fn rejected_plan(part: &str, plan_json: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    std::fs::write(&plan, plan_json).unwrap();
    let out = bin()
        .args(["--device", "cpu", part, "--profile", "smoke", "--data-dir"])
        .arg(data_root())
        .arg("--out")
        .arg(dir.path().join("run"))
        .arg("--plan")
        .arg(&plan)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    assert!(!dir.path().join("run").exists(), "nothing written: {err}");
    err
}

#[test]
fn a_plan_key_the_plan_lacks_is_rejected_before_any_work() {
    let err = rejected_plan("part2", r#"{"part2": {"minilm": {"learning_rate": 1e-3}}}"#);
    assert!(err.contains("part2.minilm.learning_rate"), "{err}");
}

#[test]
fn a_plan_value_out_of_range_is_rejected_before_any_work() {
    let err = rejected_plan("part1", r#"{"part1": {"augment": {"rotate_deg": -5}, "custom": {"epochs": 0}}}"#);
    assert!(err.contains("part1.augment.rotate_deg") && err.contains("part1.custom.epochs"), "{err}");
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
    // two candidate sizes (both among those the committed bench counts FLOPs at) raced for one
    // epoch: the chosen one trains on to its second; the EmotionNet starts from PyTorch's layer defaults
    let plan = dir.path().join("plan.json");
    let patch =
        r#"{"custom_sizes": [32, 48], "size_trial_epochs": 1, "custom": {"epochs": 2}, "custom_init": "pytorch"}"#;
    std::fs::write(&plan, format!(r#"{{"part1": {patch}}}"#)).unwrap();
    let out = bin()
        .args([
            "--device",
            "cpu",
            "part1",
            "--profile",
            "smoke",
            "--seed",
            "7",
            "--models",
            "emotionnet_v3,mobilenet_v2,mobilenet_v2_random",
            "--data-dir",
        ])
        .arg(data_root())
        .arg("--out")
        .arg(&out_dir)
        .arg("--plan")
        .arg(&plan)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("device: Cpu"), "device line missing: {stderr}");
    let r = json(&out_dir.join("part1/results.json"));
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        for key in [
            "model",
            "init",
            "weights_source",
            "params",
            "size_bytes",
            "flops",
            "latency_ms_b1",
            "latency_ms_b64",
            "train_seconds",
            "epochs",
            "best_epoch",
            "test_accuracy",
            "test_macro_f1",
            "per_class",
            "confusion",
            "seed",
            "profile",
            "image_size",
            "history",
            "samples",
        ] {
            assert!(!row[key].is_null(), "{key} missing in {}", row["model"]);
        }
        assert_eq!(row["seed"], 7);
        assert_eq!(row["profile"], "smoke");
        assert_eq!(row["samples"].as_array().unwrap().len(), 10);
        let n: u64 = row["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
            .sum();
        assert_eq!(n, 48, "smoke tests on 48 images");
        let model = row["model"].as_str().unwrap();
        assert!(out_dir.join(format!("part1/checkpoints/{model}.safetensors")).is_file());
        assert!(out_dir.join(format!("part1/figures/{model}_confusion.png")).is_file());
        assert!(out_dir.join(format!("part1/figures/{model}_curves.svg")).is_file());
    }
    // trained pretrained-first, listed in presentation order
    let names: Vec<&str> = rows.iter().map(|r| r["model"].as_str().unwrap()).collect();
    assert_eq!(names, ["emotionnet_v3", "mobilenet_v2", "mobilenet_v2_random"]);
    let v3 = &rows[0];
    let trials = v3["size_trials"].as_array().unwrap();
    assert_eq!(trials.len(), 2, "{v3}");
    assert!(trials.iter().all(|t| t["compared_at_epoch"] == 1 && t["epochs"] == 1), "{trials:?}");
    assert_eq!(trials.iter().filter(|t| t["chosen"] == true).count(), 1);
    assert_eq!(v3["epochs"], 2, "the chosen size continued past the comparison");
    assert!(stderr.contains("chosen on validation after 1 epochs"), "{stderr}");
    // the from-scratch rows are scored at the pretrained row's time to its best as well
    for row in [v3, &rows[2]] {
        let e = &row["equal_compute"];
        assert_eq!(e["budget_row"], "mobilenet_v2", "{row}");
        assert!(e["budget_seconds"].as_f64().unwrap() > 0.0);
        if let Some(t) = e["test_accuracy"].as_f64() {
            assert!((0.0..=1.0).contains(&t) && e["evaluation"].as_u64().is_some(), "{e}");
        }
    }
    assert!(rows[1]["equal_compute"].is_null());
    // only the finished rows' checkpoints stay: no trial, snapshot or within-budget files
    let mut left: Vec<String> = std::fs::read_dir(out_dir.join("part1/checkpoints"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["emotionnet_v3.safetensors", "mobilenet_v2.safetensors", "mobilenet_v2_random.safetensors"]);
    let mob = rows.iter().find(|r| r["model"] == "mobilenet_v2").unwrap();
    assert_eq!(mob["init"], "imagenet");
    assert!(mob["weights_source"].as_str().unwrap().contains("mobilenet_v2-b0353104"));
    let random = rows.iter().find(|r| r["model"] == "mobilenet_v2_random").unwrap();
    assert_eq!(random["init"], "random");
    // the plan's init reaches the EmotionNet only: torchvision's networks start as torchvision starts them
    assert_eq!(r["plan"]["custom_init"], "pytorch");
    assert_eq!(v3["weights_source"], "random init (seeded, PyTorch's layer defaults)");
    assert_eq!(random["weights_source"], "random init (seeded)");
    check_scoring(&r, rows, "test_accuracy", "test_accuracy_ci95");
    let pairs: Vec<(&str, &str)> = r["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["a"].as_str().unwrap(), c["b"].as_str().unwrap()))
        .collect();
    assert!(pairs.contains(&("mobilenet_v2", "mobilenet_v2_random")), "{pairs:?}");
    assert!(pairs.contains(&("mobilenet_v2", "emotionnet_v3")), "{pairs:?}");
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
    // a --plan override reaches the run and is recorded with it
    let plan = dir.path().join("plan.json");
    std::fs::write(&plan, r#"{"part2": {"max_test": 48, "minilm": {"head_lr_mult": 5.0}}}"#).unwrap();
    let out = bin()
        .args(["--device", "cpu", "part2", "--profile", "smoke", "--data-dir"])
        .arg(data_root())
        .arg("--out")
        .arg(&out_dir)
        .arg("--plan")
        .arg(&plan)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let r = json(&out_dir.join("part2/results.json"));
    assert_eq!((r["test_examples"].as_u64(), r["plan"]["max_test"].as_u64()), (Some(48), Some(48)));
    assert_eq!(r["plan_patch"]["minilm"]["head_lr_mult"], 5.0);
    assert_eq!(json(&out_dir.join("config.json"))["plan_patch"]["part2"]["max_test"], 48);
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let mut pairs: Vec<String> = rows
        .iter()
        .map(|x| format!("{}/{}", x["model"].as_str().unwrap(), x["train_source"].as_str().unwrap()))
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        ["bilstm/druglib", "bilstm/drugscom", "bilstm/imdb", "minilm/druglib", "minilm/drugscom", "minilm/imdb"]
    );
    for row in rows {
        assert_eq!(row["test_source"], "drugscom");
        for key in [
            "init",
            "params",
            "train_examples",
            "epochs",
            "best_epoch",
            "train_seconds",
            "accuracy",
            "precision",
            "recall",
            "f1",
            "macro_f1",
            "confusion",
            "seed",
            "profile",
            "max_len",
        ] {
            assert!(!row[key].is_null(), "{key} missing");
        }
    }
    check_scoring(&r, rows, "accuracy", "accuracy_ci95");
    assert_eq!(
        r["comparisons"].as_array().unwrap().len(),
        5,
        "direct vs IMDB and vs Druglib per model, MiniLM vs BiLSTM"
    );
    assert_eq!(r["eda"]["correlation"]["names"].as_array().unwrap().len(), 5);
    assert!(out_dir.join("part2/figures/correlation.png").is_file());
    assert!(out_dir.join("part2/figures/comparison.png").is_file());
}

/// Accuracy, its interval and the paired tests agree with the per-sample predictions.
fn check_scoring(r: &serde_json::Value, rows: &[serde_json::Value], acc_key: &str, ci_key: &str) {
    let truth: Vec<i64> = r["test_labels"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    let correct = |row: &serde_json::Value| -> Vec<bool> {
        let pred = row["test_predictions"].as_array().unwrap();
        assert_eq!(pred.len(), truth.len(), "one prediction per test sample");
        pred.iter().zip(&truth).map(|(p, t)| p.as_i64().unwrap() == *t).collect()
    };
    let n = truth.len() as f64;
    for row in rows {
        let acc = row[acc_key].as_f64().unwrap();
        assert!((correct(row).iter().filter(|&&c| c).count() as f64 / n - acc).abs() < 1e-9);
        let (lo, hi) = (row[ci_key][0].as_f64().unwrap(), row[ci_key][1].as_f64().unwrap());
        assert!(lo <= acc && acc <= hi && 0.0 <= lo && hi <= 1.0, "{lo} {acc} {hi}");
    }
    // Part 1 names rows by model, Part 2 by model and training source
    let name = |x: &serde_json::Value| {
        let m = x["model"].as_str().unwrap();
        x["train_source"].as_str().map_or(m.to_string(), |s| format!("{m}_{s}"))
    };
    let by_name = |n: &str| rows.iter().find(|x| name(x) == n).unwrap_or_else(|| panic!("no row {n}"));
    for c in r["comparisons"].as_array().unwrap() {
        let (a, b) = (correct(by_name(c["a"].as_str().unwrap())), correct(by_name(c["b"].as_str().unwrap())));
        let only_a = a.iter().zip(&b).filter(|(x, y)| **x && !**y).count() as u64;
        let only_b = a.iter().zip(&b).filter(|(x, y)| !**x && **y).count() as u64;
        assert_eq!((c["only_a"].as_u64().unwrap(), c["only_b"].as_u64().unwrap()), (only_a, only_b));
        let p = c["p_value"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
    }
}

#[test]
fn copies_lists_a_test_face_that_copies_a_training_face_under_another_label() {
    let dir = tempfile::tempdir().unwrap();
    let save = |rel: &str, img: image::GrayImage| {
        let path = dir.path().join("faces").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        img.save(path).unwrap();
    };
    use affect_lab::testing::block_picture;
    save("train/calm/0.png", block_picture(1, 0));
    save("train/glad/1.png", block_picture(2, 0));
    save("valid/calm/2.png", block_picture(3, 0));
    save("test/glad/3.png", block_picture(1, 40)); // train/calm/0.png, brighter
    save("test/calm/4.png", block_picture(4, 0));
    let out = bin().args(["copies", "--data-dir"]).arg(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: Vec<&str> = text.lines().filter(|l| l.starts_with("test\t") || l.starts_with("valid\t")).collect();
    assert_eq!(listed.len(), 1, "{text}");
    assert!(listed[0].starts_with("test\tglad\t") && listed[0].contains("3.png\tcalm\t"), "{text}");
    assert!(listed[0].contains("0.png\t1.000") || listed[0].contains("0.png\t0.99"), "{text}");
    assert!(text.contains("test: 1 copy a training face (r >= 0.95), 1 under another label"), "{text}");
    assert!(text.contains("valid: 0 copy"), "{text}");

    let missing = bin().args(["copies", "--data-dir"]).arg(dir.path().join("nowhere")).output().unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nowhere"), "names the path");
}
