//! `--seeds`: rows trained again at other seeds, their spread, paired tests pooled over seeds,
//! and a second invocation that reuses every seed's run.
mod common;
use common::json;

fn run(part: &str, out: &std::path::Path, models: &str, extra: &[&str]) -> String {
    let (ok, err) = common::smoke(part, out, &[&["--models", models], extra].concat());
    assert!(ok, "{err}");
    err
}

fn accuracies(r: &serde_json::Value, model: &str, key: &str) -> Vec<(u64, f64)> {
    let all = r["rows"].as_array().unwrap().iter().chain(r["seed_runs"].as_array().unwrap());
    all.filter(|x| x["model"] == model).map(|x| (x["seed"].as_u64().unwrap(), x[key].as_f64().unwrap())).collect()
}

#[test]
fn part1_runs_each_row_at_every_seed_and_pools_the_paired_test() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run("part1", &out, "emotionnet_v3,mobilenet_v2", &["--seeds", "7,8,9"]);
    let r = json(&out.join("part1/results.json"));
    assert_eq!(r["seed"], 7);
    assert_eq!(r["plan"]["seeds"]["extra"], serde_json::json!([8, 9]));
    for model in ["emotionnet_v3", "mobilenet_v2"] {
        let runs = accuracies(&r, model, "test_accuracy");
        assert_eq!(runs.iter().map(|x| x.0).collect::<Vec<_>>(), [7, 8, 9], "{model}");
        let spread = r["spread"].as_array().unwrap().iter().find(|s| s["row"] == model).unwrap();
        let acc: Vec<f64> = runs.iter().map(|x| x.1).collect();
        let mean = acc.iter().sum::<f64>() / 3.0;
        let sd = (acc.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert!((spread["test_mean"].as_f64().unwrap() - mean).abs() < 1e-12, "{spread}");
        assert!((spread["test_sd"].as_f64().unwrap() - sd).abs() < 1e-12, "{spread}");
        for s in [8, 9] {
            assert!(out.join(format!("part1/checkpoints/{model}_seed{s}.safetensors")).is_file());
        }
    }
    // three seeds of each side, seed against seed: the discordant counts are summed
    let c = &r["comparisons"][0];
    assert_eq!(
        (c["a"].as_str(), c["b"].as_str(), c["pairs"].as_u64()),
        (Some("mobilenet_v2"), Some("emotionnet_v3"), Some(3))
    );
    let labels: Vec<i64> = serde_json::from_value(r["test_labels"].clone()).unwrap();
    let preds = |m: &str, s: u64| -> Vec<i64> {
        let all = r["rows"].as_array().unwrap().iter().chain(r["seed_runs"].as_array().unwrap());
        let row = all.clone().find(|x| x["model"] == m && x["seed"] == s).unwrap();
        serde_json::from_value(row["test_predictions"].clone()).unwrap()
    };
    let (mut only_a, mut only_b) = (0, 0);
    for s in [7, 8, 9] {
        let (a, b) = (preds("mobilenet_v2", s), preds("emotionnet_v3", s));
        for i in 0..labels.len() {
            only_a += (a[i] == labels[i] && b[i] != labels[i]) as u64;
            only_b += (b[i] == labels[i] && a[i] != labels[i]) as u64;
        }
    }
    assert_eq!((c["only_a"].as_u64().unwrap(), c["only_b"].as_u64().unwrap()), (only_a, only_b), "{c}");

    // the same seeds again with --reuse: nothing is trained
    let err = run("part1", &out, "emotionnet_v3,mobilenet_v2", &["--seeds", "7,8,9", "--reuse", "--no-figures"]);
    assert!(err.contains("[emotionnet_v3_seed9] reused from"), "{err}");
    assert!(!err.contains("params, init"), "nothing trains: {err}");
    let again = json(&out.join("part1/results.json"));
    for (a, b) in again["spread"].as_array().unwrap().iter().zip(r["spread"].as_array().unwrap()) {
        // serde_json's float parsing may differ from the written value in the last bit
        assert_eq!((&a["row"], &a["seeds"]), (&b["row"], &b["seeds"]));
        assert!((a["valid_sd"].as_f64().unwrap() - b["valid_sd"].as_f64().unwrap()).abs() < 1e-12);
    }
    assert!(out.join("part1/figures/seed_spread.png").is_file());
}

#[test]
fn part2_seeds_apply_to_the_date_split_runs_the_plan_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let plan = dir.path().join("plan.json");
    std::fs::write(&plan, r#"{"part2": {"random_split_runs": false, "seeds": {"rows": ["bilstm_drugscom"]}}}"#)
        .unwrap();
    run("part2", &out, "bilstm", &["--seeds", "1,2", "--plan", plan.to_str().unwrap(), "--no-figures"]);
    let r = json(&out.join("part2/results.json"));
    let seeded: Vec<(String, u64)> = r["seed_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["train_source"].as_str().unwrap().to_string(), x["seed"].as_u64().unwrap()))
        .collect();
    assert_eq!(seeded, [("drugscom".to_string(), 2)]);
    assert_eq!(r["spread"][0]["row"], "bilstm_drugscom");
    assert_eq!(r["spread"][0]["seeds"], serde_json::json!([1, 2]));
    let direct_vs_imdb = r["comparisons"].as_array().unwrap().iter().find(|c| c["b"] == "bilstm_imdb").unwrap();
    assert_eq!(direct_vs_imdb["pairs"], 1, "the one IMDB run counts once, against the direct run of its seed");

    // a row the plan does not have is refused before anything trains
    std::fs::write(&plan, r#"{"part2": {"seeds": {"rows": ["bilstm_drugs"]}}}"#).unwrap();
    let (ok, err) = common::smoke("part2", &dir.path().join("other"), &["--plan", plan.to_str().unwrap()]);
    assert!(!ok && err.contains("part2.seeds.rows names `bilstm_drugs`"), "{err}");
}
