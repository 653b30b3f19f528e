//! Runs that outlive their checkout or their first invocation: a copied binary, and `--reuse`.
use std::path::Path;

mod common;
use common::{bin, data_root, json, walk};

/// `part1 --profile smoke --models <models>` into `out` with `extra` flags: (success, stderr).
fn try_part1(out: &Path, models: &str, extra: &[&str]) -> (bool, String) {
    let o = bin()
        .args(["--device", "cpu", "part1", "--profile", "smoke", "--no-figures", "--models", models, "--data-dir"])
        .arg(data_root())
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    (o.status.success(), String::from_utf8_lossy(&o.stderr).into_owned())
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

    // --reuse: the finished row is taken as it is, the new one trained
    let err = part1(&out, "emotionnet_v1,emotionnet_v3", &["--reuse"]);
    assert!(err.contains("[emotionnet_v1] reused from"), "{err}");
    assert!(!err.contains("[emotionnet_v3] reused"), "{err}");
    let r = json(&results);
    assert_eq!(row_names(&r), ["emotionnet_v1", "emotionnet_v3"]);
    assert_eq!(r["rows"][0], first, "a reused row is the earlier row, timings and all");

    // a row not asked for this time stays (same configuration); the asked one is trained again
    let err = part1(&out, "emotionnet_v3", &[]);
    assert!(!err.contains("reused"), "{err}");
    let r = json(&results);
    assert_eq!(row_names(&r), ["emotionnet_v1", "emotionnet_v3"]);
    assert_eq!(r["rows"][0], first);

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
    // no checkout, so no project Python for the FLOP count: recorded as unknown, not guessed
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
    assert!(err.contains("interrupted (signal 15)") && err.contains("--reuse") && !err.contains("panicked"), "{err}");
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
    // the same command with --reuse keeps the finished row
    let o = args("emotionnet_v1").arg("--reuse").output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.contains("[emotionnet_v1] reused from"), "{err}");
}
