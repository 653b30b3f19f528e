//! `evaluate` and `predict` end to end on smoke runs of the real data: scoring a run on its own
//! data reproduces its test metrics exactly, predicting a test sample reproduces its stored
//! prediction, and bad inputs are errors that name them and leave the run untouched.
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{bin, data_root, json};

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure; stdout: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// A smoke run of `part` with the given rows, scored on the whole test split.
fn smoke_run(dir: &Path, part: &str, models: &str) -> PathBuf {
    let run = dir.join("run");
    let plan = dir.join("plan.json");
    std::fs::write(&plan, format!(r#"{{"{part}": {{"max_test": null}}}}"#)).unwrap();
    let out = bin()
        .args([
            "--device",
            "cpu",
            part,
            "--profile",
            "smoke",
            "--seed",
            "5",
            "--no-figures",
            "--models",
            models,
            "--data-dir",
        ])
        .arg(data_root())
        .arg("--out")
        .arg(&run)
        .arg("--plan")
        .arg(&plan)
        .output()
        .unwrap();
    ok(&out);
    run
}

/// `affect-lab predict --run run ARGS FILES` on the CPU.
fn predict(run: &Path, args: &[&str], files: &[&Path]) -> Output {
    bin().args(["--device", "cpu", "predict", "--run"]).arg(run).args(args).args(files).output().unwrap()
}

fn evaluate(run: &Path, data: &Path, extra: &[&str]) -> Output {
    bin()
        .args(["--device", "cpu", "evaluate", "--run"])
        .arg(run)
        .arg("--data-dir")
        .arg(data)
        .args(extra)
        .output()
        .unwrap()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p))
        } else {
            out.push(p)
        }
    }
    out.sort();
    out
}

/// Every metric of every row equals the run's own test numbers.
fn assert_reproduces(
    run_res: &serde_json::Value,
    eval: &serde_json::Value,
    acc: &str,
    f1: &str,
    name: impl Fn(&serde_json::Value) -> String,
) {
    assert_eq!(eval["labels"], run_res["test_labels"], "same examples, same order, same labels");
    let rows = eval["rows"].as_array().unwrap();
    assert_eq!(rows.len(), run_res["rows"].as_array().unwrap().len());
    for row in run_res["rows"].as_array().unwrap() {
        let e = rows.iter().find(|x| x["model"].as_str().unwrap() == name(row)).unwrap();
        assert_eq!(e["predictions"], row["test_predictions"], "{}", name(row));
        assert_eq!(e["accuracy"], row[acc]);
        assert_eq!(e["macro_f1"], row[f1]);
        assert_eq!(e["confusion"], row["confusion"]);
        assert_eq!(
            (e["run_test_accuracy"].clone(), e["accuracy_ci95"].clone()),
            (row[acc].clone(), row[format!("{acc}_ci95").as_str()].clone())
        );
    }
}

/// The probability `predict --json` gives class `class` of input `i`.
fn prob_of(pred: &serde_json::Value, i: usize, class: &str) -> f64 {
    let top = pred["predictions"][i]["top"].as_array().unwrap();
    top.iter()
        .find(|c| c["class"] == class)
        .map(|c| c["probability"].as_f64().unwrap())
        .unwrap_or_else(|| panic!("{class} not in {top:?}"))
}

#[test]
fn faces_evaluate_reproduces_the_run_and_predict_its_samples() {
    let dir = tempfile::tempdir().unwrap();
    let run = smoke_run(dir.path(), "part1", "emotionnet_v3,mobilenet_v2");
    let res = json(&run.join("part1/results.json"));
    assert_eq!(res["test_labels"].as_array().unwrap().len(), 500);

    let stdout = ok(&evaluate(&run, &data_root(), &["--part", "part1", "--name", "own"]));
    assert!(stdout.contains("run test acc") && stdout.contains("mobilenet_v2"), "{stdout}");
    let eval = json(&run.join("eval/own/results.json"));
    assert_reproduces(&res, &eval, "test_accuracy", "test_macro_f1", |r| r["model"].as_str().unwrap().to_string());
    for row in res["rows"].as_array().unwrap() {
        let e = eval["rows"].as_array().unwrap().iter().find(|x| x["model"] == row["model"]).unwrap();
        assert_eq!(e["per_class"], row["per_class"]);
        let paths =
            |v: &serde_json::Value, k: &str| v.as_array().unwrap().iter().map(|s| s[k].clone()).collect::<Vec<_>>();
        assert_eq!(paths(&e["top_losses"], "input"), paths(&row["top_losses"], "path"));
    }
    for f in ["accuracy.png", "mobilenet_v2_confusion.png", "emotionnet_v3_top_losses.png"] {
        assert!(run.join("eval/own").join(f).is_file(), "{f}");
    }

    // predict on the stored samples: the same class probabilities at batch 1
    let mob = res["rows"].as_array().unwrap().iter().find(|r| r["model"] == "mobilenet_v2").unwrap();
    let samples = mob["samples"].as_array().unwrap();
    let paths: Vec<&str> = samples.iter().map(|s| s["path"].as_str().unwrap()).collect();
    let sample_files: Vec<&Path> = paths.iter().map(Path::new).collect();
    let out = predict(&run, &["--model", "mobilenet_v2", "--top-k", "7", "--json"], &sample_files);
    let pred: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    for (i, s) in samples.iter().enumerate() {
        let (stored, conf) = (s["pred"].as_str().unwrap(), s["confidence"].as_f64().unwrap());
        assert!((prob_of(&pred, i, stored) - conf).abs() < 1e-4, "sample {i}: {} vs {conf}", prob_of(&pred, i, stored));
        if conf > 0.3 {
            assert_eq!(pred["predictions"][i]["top"][0]["class"], stored);
        }
    }
    let human = ok(&predict(&run, &["--model", "emotionnet_v3"], &sample_files[..1]));
    assert!(human.starts_with(paths[0]) && human.matches(", ").count() == 2, "top 3 by default: {human}");

    // faces in an ordinary photo: found, classified, drawn
    let mut photo = image::RgbImage::from_pixel(400, 220, image::Rgb([120, 125, 130]));
    for (k, x) in [(0usize, 30i64), (3, 230)] {
        let face = image::open(paths[k]).unwrap().to_rgb8();
        image::imageops::replace(
            &mut photo,
            &image::imageops::resize(&face, 120, 120, image::imageops::FilterType::Triangle),
            x,
            50,
        );
    }
    let photo_path = dir.path().join("group photo.jpg");
    photo.save(&photo_path).unwrap();
    let shots = dir.path().join("shots");
    let shots_dir = shots.to_str().unwrap();
    let out = predict(
        &run,
        &["--model", "mobilenet_v2", "--detect-faces", "--json", "--annotate-dir", shots_dir],
        &[&photo_path],
    );
    let found: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let found = found["predictions"].as_array().unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0]["input"].as_str().unwrap().contains("face 1 at x="));
    let drawn = image::open(shots.join("group photo.faces.png")).unwrap();
    assert_eq!((drawn.width(), drawn.height()), (400, 220));

    // a lab set with fewer classes is scored over the ones it has
    let lab = dir.path().join("lab");
    for (class, src) in [("happy", 0usize), ("sad", 1)] {
        std::fs::create_dir_all(lab.join(class)).unwrap();
        std::fs::copy(paths[src], lab.join(class).join("a.jpg")).unwrap();
    }
    let stdout = ok(&evaluate(&run, &lab, &["--models", "emotionnet_v3"]));
    assert!(stdout.contains("absent from the data") && stdout.contains("disgust"), "{stdout}");
    let e = json(&run.join("eval/lab-part1/results.json"));
    assert_eq!((e["examples"].as_u64(), e["absent_classes"].as_array().unwrap().len()), (Some(2), 5));

    // bad input: named, and nothing new in the run directory
    let before = files_under(&run);
    std::fs::create_dir_all(lab.join("contempt")).unwrap();
    std::fs::copy(paths[2], lab.join("contempt/b.jpg")).unwrap();
    assert!(failed(&evaluate(&run, &lab, &["--name", "bad"])).contains("class `contempt` is not one the model knows"));
    let err = failed(&evaluate(&run, &data_root(), &["--part", "part1", "--models", "resnet50", "--name", "bad"]));
    assert!(err.contains("`resnet50`") && err.contains("emotionnet_v3"), "{err}");
    let broken = dir.path().join("broken.jpg");
    let whole = std::fs::read(paths[0]).unwrap();
    std::fs::write(&broken, &whole[..whole.len() / 2]).unwrap();
    let err = failed(&predict(&run, &["--model", "mobilenet_v2"], &[&broken]));
    assert!(err.contains("broken.jpg") && err.contains("truncated"), "{err}");
    let err = failed(&predict(&run, &["--model", "mobilenet_v2", "--text", "hi"], &[]));
    assert!(err.contains("face images"), "{err}");
    assert_eq!(files_under(&run), before, "a failed command wrote into the run");

    // a checkpoint that is not the recorded model, or none at all
    let ckpts = run.join("part1/checkpoints");
    std::fs::copy(ckpts.join("emotionnet_v3.safetensors"), ckpts.join("mobilenet_v2.safetensors")).unwrap();
    let err = failed(&predict(&run, &["--model", "mobilenet_v2"], &sample_files[..1]));
    assert!(err.contains("mobilenet_v2.safetensors") && err.contains("does not match"), "{err}");
    std::fs::remove_file(ckpts.join("mobilenet_v2.safetensors")).unwrap();
    let err = failed(&evaluate(&run, &data_root(), &["--part", "part1", "--name", "gone"]));
    assert!(err.contains("mobilenet_v2.safetensors") && err.contains("missing"), "{err}");
    assert!(!run.join("eval/gone").exists());
}

#[test]
fn reviews_evaluate_reproduces_the_run_and_predict_its_test_reviews() {
    let dir = tempfile::tempdir().unwrap();
    let run = smoke_run(dir.path(), "part2", "minilm_drugscom,bilstm_drugscom");
    let res = json(&run.join("part2/results.json"));
    let n = res["test_labels"].as_array().unwrap().len();
    assert!(n > 400, "whole Drugs.com test split, got {n}");

    ok(&evaluate(&run, &data_root(), &["--part", "part2", "--name", "own"]));
    let eval = json(&run.join("eval/own/results.json"));
    let name =
        |r: &serde_json::Value| format!("{}_{}", r["model"].as_str().unwrap(), r["train_source"].as_str().unwrap());
    assert_reproduces(&res, &eval, "accuracy", "macro_f1", name);

    // the same test reviews through predict, one at a time
    let plan: affect_lab::experiments::part2::Plan = serde_json::from_value(res["plan"].clone()).unwrap();
    let cols = affect_lab::trained::eval_data::ReviewColumns::default();
    let set = affect_lab::trained::eval_data::load_reviews(&data_root(), &cols, plan.fractions, plan.threshold, false)
        .unwrap();
    assert_eq!(set.texts.len(), n);
    let file = dir.path().join("reviews.txt");
    std::fs::write(&file, set.texts[..25].join("\n")).unwrap();
    for model in ["minilm_drugscom", "bilstm_drugscom"] {
        let out = predict(&run, &["--model", model, "--json", "--file", file.to_str().unwrap()], &[]);
        let pred: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
        let e = eval["rows"].as_array().unwrap().iter().find(|x| x["model"] == model).unwrap();
        for i in 0..25 {
            let class = ["negative", "positive"][e["predictions"][i].as_i64().unwrap() as usize];
            let conf = e["confidences"][i].as_f64().unwrap();
            assert!(
                (prob_of(&pred, i, class) - conf).abs() < 1e-4,
                "{model} review {i}: {} vs {conf}",
                prob_of(&pred, i, class)
            );
        }
    }

    // a plain labelled CSV
    let csv = dir.path().join("mine.csv");
    let rows: Vec<String> =
        set.texts[..20].iter().zip(&set.labels).map(|(t, l)| format!("\"{}\",{l}", t.replace('"', "\"\""))).collect();
    std::fs::write(&csv, format!("text,label\n{}\n", rows.join("\n"))).unwrap();
    let stdout = ok(&evaluate(&run, &csv, &["--models", "bilstm_drugscom"]));
    assert!(stdout.contains("every row of"), "{stdout}");
    assert_eq!(json(&run.join("eval/mine-part2/results.json"))["examples"], 20);

    let before = files_under(&run);
    std::fs::write(&csv, "text,label\ngood,1\nbad,sideways\n").unwrap();
    let err = failed(&evaluate(&run, &csv, &["--name", "bad"]));
    assert!(err.contains("mine.csv:3") && err.contains("`sideways`"), "{err}");
    let err = failed(&predict(&run, &["--model", "bilstm_drugscom", "--text", "  "], &[]));
    assert!(err.contains("--text number 1 is empty"), "{err}");
    let err = failed(&predict(&run, &["--model", "minilm_imdb", "--text", "fine"], &[]));
    assert!(err.contains("no trained model `minilm_imdb`") && err.contains("bilstm_drugscom"), "{err}");
    std::fs::remove_file(run.join("part2/checkpoints/bilstm_drugscom.vocab.json")).unwrap();
    let err = failed(&predict(&run, &["--model", "bilstm_drugscom", "--text", "fine"], &[]));
    assert!(err.contains("bilstm_drugscom.vocab.json"), "{err}");
    assert_eq!(files_under(&run).len(), before.len() - 1, "only the vocabulary we removed changed");
}
