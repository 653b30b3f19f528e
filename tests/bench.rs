//! `affect-lab bench` end to end on a tiny case list: our side and the PyTorch reference script
//! taking turns case by case, then the report pairing them. Needs the project venv (torch, torchvision).
use std::path::{Path, PathBuf};

mod common;
use common::{bin, data_root, json, venv_python};

#[test]
fn bench_measures_both_sides_and_pairs_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let o = bin()
        .args(["bench", "--archs", "emotion_net_v3", "--sizes", "32", "--batch", "4", "--repeats", "2"])
        .args(["--warmup", "0", "--numerics", "fp32,bf16+cl", "--no-text", "--epoch-batches", "2", "--data-dir"])
        .arg(data_root())
        .arg("--out")
        .arg(out)
        .arg("--pytorch")
        .arg(reference_script())
        .arg("--python")
        .arg(venv_python())
        .args(["--flops-sizes", "32"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // the first case runs once more on both sides, unrecorded (the lists below stay one per case)
    assert!(String::from_utf8_lossy(&o.stderr).contains("[warm-up] "), "{}", String::from_utf8_lossy(&o.stderr));
    let rust = json(&out.join("rust.json"));
    let labels: Vec<&str> =
        rust["measured"].as_array().unwrap().iter().map(|m| m["case"]["kind"].as_str().unwrap()).collect();
    // train at 2 numerics, infer at batch 1 and 4 at 2 numerics, an epoch on the faces in fp32 (and
    // in bf16+cl where the CPU's bf16 units pay: the asked-for numerics a run could train in), the data
    // pipeline at 32 px
    let epochs = if affect_lab::numerics::cpu_has_bf16_units() { 2 } else { 1 };
    let mut want = vec!["train", "train", "infer", "infer", "infer", "infer"];
    want.extend(std::iter::repeat_n("epoch", epochs));
    want.push("data");
    assert_eq!(labels, want, "{rust}");
    let positive_repeats = |s: &serde_json::Value| {
        assert_eq!(s["repeats"].as_array().unwrap().len(), 2, "{s}");
        assert!(s["min"].as_f64().unwrap() > 0.0 && s["min"].as_f64() <= s["median"].as_f64(), "{s}");
    };
    for m in rust["measured"].as_array().unwrap() {
        positive_repeats(&m["stats"]);
        // an epoch case times the bare step beside it, and only an epoch case does
        assert_eq!(m["case"]["kind"] == "epoch", m.get("bare").is_some(), "{m}");
        m.get("bare").map(positive_repeats);
    }

    assert_eq!((&rust["interleaved"], &rust["paired_rounds"]), (&true.into(), &true.into()));
    let torch = json(&out.join("pytorch.json"));
    let theirs: Vec<&serde_json::Value> = torch["measured"].as_array().unwrap().iter().map(|m| &m["case"]).collect();
    let ours: Vec<&serde_json::Value> =
        rust["measured"].as_array().unwrap().iter().map(|m| &m["case"]).filter(|c| c["kind"] != "data").collect();
    assert_eq!(theirs, ours, "everything but the data pipeline, in our order");
    for m in torch["measured"].as_array().unwrap() {
        assert_eq!(m["case"]["kind"] == "epoch", m.get("bare").is_some(), "{m}");
        m.get("bare").map(positive_repeats);
    }
    let flops = torch["flops"].as_array().unwrap();
    let v3 = flops.iter().find(|f| f["arch"] == "emotion_net_v3" && f["size"] == 32).unwrap();
    assert!(v3["flops"].as_f64().unwrap() > 1e6, "{v3}");

    let o = bin().args(["bench", "--report", "--out"]).arg(out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let printed = String::from_utf8_lossy(&o.stdout);
    // a number for ours on each epoch line ("-" where the rounds did not pair)
    let per_round = printed
        .lines()
        .filter_map(|l| l.split_once("epoch / bare step, same rounds: ours ").map(|(_, rest)| rest))
        .filter(|rest| rest.split_whitespace().next().is_some_and(|v| v.parse::<f64>().is_ok_and(|v| v > 0.0)))
        .count();
    assert_eq!(per_round, epochs, "{printed}");
    let bench = json(&out.join("bench.json"));
    assert_eq!((&bench["interleaved"], &bench["paired_rounds"]), (&true.into(), &true.into()));
    let pairs = bench["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), want.len());
    let value = |v: &serde_json::Value| v.as_f64().unwrap();
    for p in pairs.iter().filter(|p| p["case"]["kind"] != "data") {
        let (ours, theirs) = (value(&p["rust"]["median"]), value(&p["pytorch"]["median"]));
        let latency = p["unit"] == "ms/image";
        let want = if latency { theirs / ours } else { ours / theirs };
        assert!((value(&p["speedup"]) - want).abs() < 1e-9, "{p}");
        // training round by round, repeat k of ours against repeat k of PyTorch's; inference, a few
        // milliseconds a round, is not taken in turn so
        if latency {
            assert!(p.get("round_speedup").is_none(), "{p}");
        } else {
            let second = value(&p["rust"]["repeats"][1]) / value(&p["pytorch"]["repeats"][1]);
            assert!((value(&p["round_speedup"]["repeats"][1]) - second).abs() < 1e-9, "{p}");
        }
    }
    let beside = bench["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["what"].as_str().unwrap().contains("fp32 bare step beside it"));
    assert_eq!(beside.unwrap()["rounds"]["repeats"].as_array().unwrap().len(), 2, "{beside:?}");
    let targets: Vec<&str> = bench["targets"].as_array().unwrap().iter().map(|t| t["what"].as_str().unwrap()).collect();
    assert!(
        targets.contains(&"EmotionNetV3 32px epoch: our best / PyTorch's usual loop (fp32, DataLoader) (x)"),
        "{targets:?}"
    );
    assert!(
        targets.contains(&"EmotionNetV3 32px epoch: our best / PyTorch's best bare step beside it (x)"),
        "{targets:?}"
    );
    for p in pairs.iter().filter(|p| p["case"]["kind"] == "epoch") {
        assert!(
            p["rust_bare"]["median"].as_f64().unwrap() > 0.0 && p["pytorch_bare"]["median"].as_f64().unwrap() > 0.0,
            "{p}"
        );
    }
    for png in ["train_ratio.png", "infer_ratio.png", "epoch_ratio.png"] {
        assert!(std::fs::metadata(out.join(png)).unwrap().len() > 1000, "{png}");
    }
    assert!(!out.join("text_ratio.png").exists(), "no text models measured (--no-text): no chart of them");
}

fn reference_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench_reference.py")
}

#[test]
fn a_reference_that_dies_is_named_and_leaves_no_result() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("dies.py");
    std::fs::write(&script, "import sys\nsys.stdin.readline()\nprint('no torch here', file=sys.stderr)\nsys.exit(3)\n")
        .unwrap();
    let out = dir.path().join("out");
    let o = bin()
        .args(["bench", "--archs", "emotion_net_v3", "--sizes", "32", "--batch", "2", "--repeats", "1"])
        .args(["--warmup", "0", "--numerics", "fp32", "--no-text", "--no-data", "--out"])
        .arg(&out)
        .arg("--pytorch")
        .arg(&script)
        .arg("--python")
        .arg(venv_python())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("dies.py") && err.contains("no torch here"), "names the script, shows its message: {err}");
    assert!(!out.join("rust.json").exists(), "no half of a pair is written");
}

#[test]
fn the_reference_alternates_its_rounds_in_our_order() {
    // the order measure::throughput_alternating's own test pins: a warm-up round, then ab, ba, ba, ab
    let code = "import sys; sys.path.insert(0, sys.argv[1]); import bench_reference as r; o = []\n\
                r.timed_alternating(1, 4, lambda: o.append('a'), lambda: o.append('b')); print(''.join(o))";
    let o = std::process::Command::new(venv_python())
        .args(["-c", code])
        .arg(reference_script().parent().unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "ababbabaab");
}

#[test]
fn the_reference_times_a_round_when_told_and_stops_on_a_wrong_one() {
    let code = "import sys; sys.path.insert(0, sys.argv[1]); import bench_reference as r; o = []\n\
                t = r.Turns(sys.stdout); print(r.timed(1, 2, 1, lambda: o.append(1), t)[0] > 0); print(len(o))";
    let run = |input: &str| {
        let mut child = std::process::Command::new(venv_python())
            .args(["-c", code])
            .arg(reference_script().parent().unwrap())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let o = run("{\"go\": 0}\n{\"go\": 1}\n");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // ready after the warm-up call, a reply per round, three calls in all
    let lines: Vec<String> = String::from_utf8_lossy(&o.stdout).lines().map(String::from).collect();
    assert_eq!(lines, ["{\"ready\": true}", "{\"done\": 0}", "{\"done\": 1}", "True", "3"]);
    let o = run("{\"go\": 0}\n{\"go\": 5}\n");
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("expected {\"go\": 1}"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
