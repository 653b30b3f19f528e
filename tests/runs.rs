//! Runs that outlive their checkout or their first invocation: a copied binary, and `--reuse`.
use std::path::Path;

mod common;
use common::{bin, data_root, json};

/// `part1 --profile smoke --models <models>` into `out` with `extra` flags; stderr.
fn part1(out: &Path, models: &str, extra: &[&str]) -> String {
    let o = bin()
        .args(["--device", "cpu", "part1", "--profile", "smoke", "--no-figures", "--models", models, "--data-dir"])
        .arg(data_root())
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    err
}

#[test]
fn finished_rows_are_reused_only_under_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    part1(&out, "emotionnet_v1", &[]);
    let first = json(&out.join("part1/results.json"))["rows"][0].clone();

    let err = part1(&out, "emotionnet_v1,emotionnet_v3", &["--reuse"]);
    assert!(err.contains("[emotionnet_v1] reused from"), "{err}");
    assert!(!err.contains("[emotionnet_v3] reused"), "{err}");
    let r = json(&out.join("part1/results.json"));
    let names: Vec<&str> = r["rows"].as_array().unwrap().iter().map(|x| x["model"].as_str().unwrap()).collect();
    assert_eq!(names, ["emotionnet_v1", "emotionnet_v3"]);
    assert_eq!(r["rows"][0], first, "a reused row is the earlier row, timings and all");

    // another seed trains again
    let err = part1(&out, "emotionnet_v1", &["--reuse", "--seed", "7"]);
    assert!(err.contains("not reusing") && !err.contains("reused from"), "{err}");
    assert_eq!(json(&out.join("part1/results.json"))["rows"][0]["seed"], 7);
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
    let stray: Vec<String> =
        walk(&out).into_iter().filter(|n| n.contains(".tmp") || n.contains(&format!(".{pid}."))).collect();
    assert!(stray.is_empty(), "{stray:?}");
    // the same command with --reuse keeps the finished row
    let o = args("emotionnet_v1").arg("--reuse").output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.contains("[emotionnet_v1] reused from"), "{err}");
}

/// The name of every file under `dir` (not the path: temp folders have `.tmp` in theirs).
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out
}
