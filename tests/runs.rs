//! Runs that outlive their checkout or their first invocation: a copied binary, `--reuse`, a stop
//! asked for by SIGTERM, and a SIGKILL followed by a resume.
use std::path::Path;

mod common;
use common::{bin, data_root, json, walk};

/// `part1 --profile smoke --models <models>` into `out` with `extra` flags: (success, stderr).
fn try_part1(out: &Path, models: &str, extra: &[&str]) -> (bool, String) {
    common::smoke("part1", out, &[&["--no-figures", "--models", models], extra].concat())
}

fn part1(out: &Path, models: &str, extra: &[&str]) -> String {
    let (ok, err) = try_part1(out, models, extra);
    assert!(ok, "{err}");
    err
}

fn row_names(results: &serde_json::Value) -> Vec<String> {
    results["rows"].as_array().unwrap().iter().map(|x| x["model"].as_str().unwrap().to_string()).collect()
}

#[test]
fn one_configuration_per_run_directory_and_its_finished_rows_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let results = out.join("part1/results.json");
    part1(&out, "emotionnet_v1", &[]);
    let first = json(&results)["rows"][0].clone();
    // the manifest ties the row's files to this configuration
    let manifest = json(&out.join("part1/manifest.json"));
    let configuration = manifest["configuration"].clone();
    assert_eq!(manifest["files"]["checkpoints/emotionnet_v1.safetensors"]["row"], "emotionnet_v1", "{manifest}");
    assert!(manifest["files"]["results.json"]["bytes"].as_u64().unwrap() > 0, "{manifest}");

    // --reuse: the finished row is taken as it is, the new one trained
    let err = part1(&out, "emotionnet_v1,emotionnet_v3", &["--reuse"]);
    assert!(err.contains("[emotionnet_v1] reused from"), "{err}");
    assert!(!err.contains("[emotionnet_v3] reused"), "{err}");
    let r = json(&results);
    assert_eq!(row_names(&r), ["emotionnet_v1", "emotionnet_v3"]);
    // the end-of-run latency pass times every network again, in turns: only its two numbers move
    let relatency = |mut row: serde_json::Value| {
        for k in ["latency_ms_b1", "latency_ms_b64"] {
            assert!(row[k].as_f64().unwrap() > 0.0, "{row}");
            row.as_object_mut().unwrap().remove(k);
        }
        row
    };
    let first = relatency(first);
    assert_eq!(relatency(r["rows"][0].clone()), first, "a reused row is the earlier row, timings and all");
    assert_eq!(r["latency_rounds"], 3, "every run ends with the latency pass");
    let manifest = json(&out.join("part1/manifest.json"));
    assert_eq!(manifest["configuration"], configuration, "the same configuration hashes the same");
    assert_eq!(manifest["files"]["checkpoints/emotionnet_v3.safetensors"]["row"], "emotionnet_v3");

    // a row not asked for this time stays (same configuration); the asked one is trained again
    let err = part1(&out, "emotionnet_v3", &[]);
    assert!(!err.contains("reused"), "{err}");
    let r = json(&results);
    assert_eq!(row_names(&r), ["emotionnet_v1", "emotionnet_v3"]);
    assert_eq!(relatency(r["rows"][0].clone()), first);

    // another seed is refused, naming the difference, and nothing changes
    let (ok, err) = try_part1(&out, "emotionnet_v1", &["--seed", "7"]);
    assert!(!ok && err.contains("seed 42 -> 7") && err.contains("--fresh") && !err.contains("panicked"), "{err}");
    assert_eq!(json(&results), r);
    assert_eq!(json(&out.join("config.json"))["seed"], 42, "a refused run leaves the config alone");

    // --fresh starts over there
    part1(&out, "emotionnet_v1", &["--seed", "7", "--fresh"]);
    let r = json(&results);
    assert_eq!((row_names(&r), r["seed"].clone()), (vec!["emotionnet_v1".to_string()], 7.into()));
    assert!(!out.join("part1/checkpoints/emotionnet_v3.safetensors").exists(), "--fresh clears old checkpoints");
    let manifest = json(&out.join("part1/manifest.json"));
    assert_ne!(manifest["configuration"], configuration, "another seed is another configuration");
    assert!(manifest["files"].get("checkpoints/emotionnet_v3.safetensors").is_none(), "{manifest}");
}

#[test]
fn a_binary_copied_out_of_the_checkout_runs_given_a_data_root() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("bin/affect-lab");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_affect-lab"), &exe).unwrap();
    let o = std::process::Command::new(&exe)
        .current_dir(dir.path())
        .env_remove("AFFECT_LAB_HOME")
        .env_remove("AFFECT_LAB_DATA")
        .args(["--device", "cpu", "part1", "--profile", "smoke", "--no-figures", "--models", "emotionnet_v1"])
        .arg("--data-dir")
        .arg(data_root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    // the recipe is compiled in; the run goes to ./runs/<profile>, as there is no checkout here
    let r = json(&dir.path().join("runs/smoke/part1/results.json"));
    assert_eq!(r["rows"][0]["model"], "emotionnet_v1");
    assert_eq!(r["plan"]["custom"]["epochs"], 1);
    // no checkout, so no committed bench result to take FLOPs from: recorded as unknown, not guessed
    assert!(r["rows"][0]["flops"].is_null(), "{}", r["rows"][0]["flops"]);
}

#[test]
fn sigterm_stops_cleanly_keeps_finished_rows_and_reuse_picks_them_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let plan = dir.path().join("plan.json");
    // a second row long enough to be stopped in the middle of its training
    std::fs::write(&plan, r#"{"part1": {"transfer": {"epochs": 400}}}"#).unwrap();
    let args = |models: &str| {
        let mut c = bin();
        c.args(["--device", "cpu", "part1", "--profile", "smoke", "--no-figures", "--models", models])
            .arg("--data-dir")
            .arg(data_root())
            .arg("--out")
            .arg(&out)
            .arg("--plan")
            .arg(&plan);
        c
    };
    let child = args("emotionnet_v1,resnet18_random").stderr(std::process::Stdio::piped()).spawn().unwrap();
    let results = out.join("part1/results.json");
    let t0 = std::time::Instant::now();
    while !(results.is_file() && json(&results)["rows"].as_array().is_some_and(|r| r.len() == 1)) {
        assert!(t0.elapsed().as_secs() < 300, "the first row never finished");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let pid = child.id();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(128 + libc::SIGTERM), "{err}");
    assert!(err.contains("interrupted (signal 15)") && err.contains("--resume") && !err.contains("panicked"), "{err}");
    // the finished row and its config are intact; nothing half-written or stray
    let r = json(&results);
    assert_eq!(r["rows"].as_array().unwrap().len(), 1);
    assert_eq!(json(&out.join("config.json"))["seed"], 42);
    assert!(!std::env::temp_dir().join(format!("affect-lab-trace-{pid}")).exists());
    // file names, not paths: the temp folder has `.tmp` in its own name
    let stray: Vec<String> = walk(&out)
        .into_iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| n.contains(".tmp") || n.contains(&format!(".{pid}.")))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    // the row in training saved where it stood
    assert!(out.join("part1/checkpoints/.resnet18_random.training.resume.json").is_file(), "{err}");
    assert!(err.contains("resnet18_random: stopped at epoch"), "{err}");
    // the same command with --reuse keeps the finished row
    let o = args("emotionnet_v1").arg("--reuse").output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.contains("[emotionnet_v1] reused from"), "{err}");
}

/// Results without what a resume may change (timings, latencies measured after training) or
/// what names the run directory.
fn untimed(mut v: serde_json::Value) -> serde_json::Value {
    const TIMINGS: [&str; 12] = [
        "checkpoint",
        "seconds",
        "time",
        "train_seconds",
        "seconds_per_epoch",
        "latency_ms_b1",
        "latency_ms_b64",
        "pytorch_latency_ms_b1",
        "pytorch_latency_ms_b64",
        "started",
        "eval_seconds",
        "tokens_per_second",
    ];
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                o.retain(|k, _| !TIMINGS.contains(&k.as_str()));
                o.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// Run `part` (smoke, `--plan plan`) for `row` uninterrupted, then again into another directory
/// killed with SIGKILL once the row has saved its first training snapshot, and rerun: the
/// rerun continues from the snapshot and ends with the same results.
fn killed_and_resumed_equals_uninterrupted(part: &str, row: &str, plan: &str) {
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.json");
    std::fs::write(&plan_file, plan).unwrap();
    let cmd = |out: &Path| {
        let mut c = bin();
        c.args(["--device", "cpu", part, "--profile", "smoke", "--no-figures", "--models", row, "--data-dir"])
            .arg(data_root())
            .arg("--out")
            .arg(out)
            .arg("--plan")
            .arg(&plan_file)
            .stderr(std::process::Stdio::piped());
        c
    };
    let whole = dir.path().join("whole");
    let o = cmd(&whole).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let out = dir.path().join("killed");
    let snapshot = out.join(part).join("checkpoints").join(format!(".{row}.training.resume.json"));
    let mut child = cmd(&out).spawn().unwrap();
    let t0 = std::time::Instant::now();
    while !snapshot.is_file() {
        assert!(t0.elapsed().as_secs() < 300, "no snapshot was written");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its first snapshot was seen");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.join(part).join("results.json").is_file(), "the row finished before the kill");

    let o = cmd(&out).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains(&format!("{row}: continuing from a snapshot at epoch")), "{err}");
    let (a, b) = (json(&whole.join(part).join("results.json")), json(&out.join(part).join("results.json")));
    assert_eq!(untimed(a["rows"].clone()), untimed(b["rows"].clone()), "{row}: resumed results differ");
    // the finished row's snapshot is gone; nothing stray is left
    let left: Vec<String> = walk(&out)
        .into_iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| n.contains(".resume") || n.contains(".training.") || n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn part1_killed_mid_training_resumes_to_the_same_results() {
    // dropout (the EmotionNets have it) draws from torch's generator: the resumed run must too
    let plan = r#"{"part1": {"custom_image_size": 48, "max_valid": 16,
        "custom": {"epochs": 4, "max_batches_per_epoch": 40, "evals_per_epoch": 2}}}"#;
    killed_and_resumed_equals_uninterrupted("part1", "emotionnet_v2", plan);
}

#[test]
fn part2_killed_mid_training_resumes_to_the_same_results() {
    let plan = r#"{"part2": {"max_train": 1200, "max_valid": 16,
        "bilstm": {"epochs": 3, "max_batches_per_epoch": 30, "evals_per_epoch": 2}}}"#;
    killed_and_resumed_equals_uninterrupted("part2", "bilstm_drugscom", plan);
}

#[test]
fn a_full_disk_fails_the_row_with_its_file_named_and_leaves_nothing_half_written() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut c = bin();
    c.args(["--device", "cpu", "part1", "--profile", "smoke", "--no-figures", "--models", "emotionnet_v2"])
        .arg("--data-dir")
        .arg(data_root())
        .arg("--out")
        .arg(&out);
    // A file-size limit stands in for a full disk: JSON files fit, the 2.5 MB checkpoint does not
    // (writes past the limit fail with EFBIG once SIGXFSZ is ignored).
    // SAFETY: only async-signal-safe calls between fork and exec
    unsafe {
        c.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 1 << 20, rlim_max: 1 << 20 };
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = c.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("emotionnet_v2") && err.contains("safetensors") && !err.contains("panicked"), "{err}");
    let left: Vec<String> = walk(&out)
        .into_iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".safetensors") || n.contains(".tmp") || n.contains(".resume"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(!out.join("part1/results.json").is_file());
}

/// The main job starts no Python: with `python`, `python3` and the project venv's python all
/// replaced by traps that leave a mark, a Part 1 run succeeds, leaves no mark, and takes FLOPs
/// and PyTorch's latency from the checkout's committed bench result.
#[test]
fn part1_starts_no_python_and_cites_the_committed_bench() {
    let dir = tempfile::tempdir().unwrap();
    let (home, trap_bin, mark) = (dir.path().join("home"), dir.path().join("bin"), dir.path().join("python-ran"));
    let trap = format!("#!/bin/sh\necho \"$0 $*\" >> {}\nexit 1\n", mark.display());
    for exe in [
        home.join(".venv/bin/python"),
        home.join(".venv/bin/python3"),
        trap_bin.join("python"),
        trap_bin.join("python3"),
    ] {
        std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
        std::fs::write(&exe, &trap).unwrap();
        std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(home.join("scripts")).unwrap();
    std::fs::copy(root.join("scripts/setup.sh"), home.join("scripts/setup.sh")).unwrap();
    std::fs::create_dir_all(home.join("profiles")).unwrap();
    for p in std::fs::read_dir(root.join("profiles")).unwrap() {
        let p = p.unwrap().path();
        std::fs::copy(&p, home.join("profiles").join(p.file_name().unwrap())).unwrap();
    }
    let stats = |v: f64| serde_json::json!({"min": v, "median": v, "max": v, "repeats": [v]});
    let infer = |batch: u32, ms: f64| {
        serde_json::json!({
            "label": "x", "unit": "ms/image", "rust": stats(1.0), "pytorch": stats(ms), "speedup": ms,
            "case": {"kind": "infer", "arch": "emotion_net_v2", "size": 32, "batch": batch,
                     "numerics": {"channels_last": false, "bf16": false}},
        })
    };
    let bench = serde_json::json!({
        "machine": "test machine", "threads": 2, "rust": "affect-lab", "pytorch": "PyTorch test eager",
        "repeats": {"warmup": 0, "timed": 1}, "targets": [],
        "pairs": [infer(1, 7.5), infer(64, 0.25)],
        "flops": [{"arch": "emotion_net_v2", "size": 32, "flops": 1234.0}],
    });
    std::fs::create_dir_all(home.join("figures/bench")).unwrap();
    std::fs::write(home.join("figures/bench/bench.json"), bench.to_string()).unwrap();

    let out = dir.path().join("run");
    let o = bin()
        .env("AFFECT_LAB_HOME", &home)
        .env("PATH", &trap_bin)
        .args(["--device", "cpu", "part1", "--profile", "smoke", "--models", "emotionnet_v2", "--data-dir"])
        .arg(data_root())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(!mark.exists(), "Python was started: {}", std::fs::read_to_string(&mark).unwrap_or_default());
    let r = json(&out.join("part1/results.json"));
    let row = &r["rows"][0];
    assert_eq!((row["flops"].as_f64(), row["pytorch_latency_ms_b1"].as_f64()), (Some(1234.0), Some(7.5)), "{row}");
    assert_eq!(row["pytorch_latency_ms_b64"].as_f64(), Some(0.25));
    assert!(r["speed_reference"].as_str().unwrap().contains("figures/bench/bench.json"), "{}", r["speed_reference"]);
    assert!(out.join("part1/figures").is_dir(), "figures are drawn without Python too");
}
