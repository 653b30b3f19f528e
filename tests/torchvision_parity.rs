//! Our ResNet-18/50 and MobileNetV2 against torchvision itself: scripts/parity/torchvision_reference.py
//! builds the torchvision model (random weights with randomised BN statistics, or the real
//! ImageNet checkpoint), writes its state dict through scripts/convert_weights.py and its eval
//! logits on a fixed input; we load the weights strictly and must reproduce the logits.
//!
//! Needs the project venv (.venv/bin/python with torch + torchvision); fails loudly without it.
use affect_lab::models::weights::{load_strict, read_safetensors};
use affect_lab::models::{mobilenet_v2, resnet};
use std::path::{Path, PathBuf};
use std::process::Command;
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

mod common;
use common::venv_python;

/// Run the reference script with `args` (after the mode and model) into a fresh temp dir.
fn reference(mode: &str, model: &str, extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = Path::new(ROOT).join("scripts/parity/torchvision_reference.py");
    let out = Command::new(venv_python())
        .arg(&script)
        .args([mode, model])
        .arg(dir.path())
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} {mode} {model} failed ({}):\n{}\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// (input, torchvision logits) written by the script.
fn inputs_and_logits(dir: &Path) -> (Tensor, Tensor) {
    let mut r = read_safetensors(&dir.join("reference.safetensors")).expect("reference.safetensors");
    (r.remove("input").expect("input tensor"), r.remove("logits").expect("logits tensor"))
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a - b).abs().max().double_value(&[])
}

/// Load the converted weights strictly (nothing skipped), run eval forward on the script's input.
fn rust_logits(vs: &mut nn::VarStore, net: &impl ModuleT, dir: &Path) -> (Tensor, Tensor) {
    let (x, want) = inputs_and_logits(dir);
    // Control: before loading, our own init must be far from the reference.
    let before = tch::no_grad(|| net.forward_t(&x, false));
    assert!(max_abs_diff(&before, &want) > 0.1, "logits match before any weights were loaded");
    let skipped = load_strict(vs, &dir.join("weights.safetensors"), &[]).expect("strict load of torchvision weights");
    assert!(skipped.is_empty());
    let got = tch::no_grad(|| net.forward_t(&x, false));
    (got, want)
}

/// The random-weight references must depend on the input, or a broken layer could hide.
fn assert_random_parity(name: &str, got: &Tensor, want: &Tensor) {
    let spread = (want.get(0) - want.get(1)).std(true).double_value(&[]);
    assert!(spread > 0.05, "{name}: reference logits barely depend on the input (spread {spread})");
    let diff = max_abs_diff(got, want);
    println!("{name}: max |rust - torchvision| = {diff:.2e} (logit std {:.3})", want.std(true).double_value(&[]));
    assert!(diff < 1e-4, "{name}: logits differ from torchvision by {diff}");
}

#[test]
fn resnet18_random_weights_match_torchvision() {
    let dir = reference("random", "resnet18", &[]);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = resnet::ResNet::new(&vs.root(), &resnet::Config::resnet18(1000));
    let (got, want) = rust_logits(&mut vs, &net, dir.path());
    assert_random_parity("resnet18", &got, &want);
}

#[test]
fn resnet50_random_weights_match_torchvision() {
    let dir = reference("random", "resnet50", &[]);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = resnet::ResNet::new(&vs.root(), &resnet::Config::resnet50(1000));
    let (got, want) = rust_logits(&mut vs, &net, dir.path());
    assert_random_parity("resnet50", &got, &want);
}

#[test]
fn mobilenet_v2_random_weights_match_torchvision() {
    let dir = reference("random", "mobilenet_v2", &[]);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = mobilenet_v2::MobileNetV2::new(&vs.root(), &mobilenet_v2::Config::new(1000));
    let (got, want) = rust_logits(&mut vs, &net, dir.path());
    assert_random_parity("mobilenet_v2", &got, &want);
}

fn first_happy_face() -> PathBuf {
    let dir = affect_lab::testing::require(affect_lab::config::paths::FACES).join("test/happy");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files.into_iter().next().unwrap_or_else(|| panic!("no images in {}", dir.display()))
}

#[test]
fn mobilenet_v2_imagenet_weights_match_torchvision_on_a_real_face() {
    let image = first_happy_face();
    let dir = reference("imagenet", "mobilenet_v2", &["--image", image.to_str().expect("utf-8 path")]);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = mobilenet_v2::MobileNetV2::new(&vs.root(), &mobilenet_v2::Config::new(1000));
    let (got, want) = rust_logits(&mut vs, &net, dir.path());
    assert_eq!(got.size(), [1, 1000]);
    let (top2, idx) = want.topk(2, 1, true, true);
    let margin = top2.double_value(&[0, 0]) - top2.double_value(&[0, 1]);
    let (rust_top1, tv_top1) = (got.argmax(1, false).int64_value(&[0]), idx.int64_value(&[0, 0]));
    let diff = max_abs_diff(&got, &want);
    println!(
        "{}: torchvision top-1 {tv_top1} (margin {margin:.3}), rust top-1 {rust_top1}, max diff {diff:.2e}",
        image.display()
    );
    assert_eq!(rust_top1, tv_top1, "top-1 class differs from torchvision");
    assert!(diff < 1e-3, "logits differ from torchvision by {diff}");

    // Transfer set-up: same checkpoint, new 7-class head. The backbone must load strictly
    // and give exactly the features of the 1000-class model.
    let mut vs7 = nn::VarStore::new(Device::Cpu);
    let net7 = mobilenet_v2::MobileNetV2::new(&vs7.root(), &mobilenet_v2::Config::new(7));
    let path = dir.path().join("weights.safetensors");
    assert!(load_strict(&mut vs7, &path, &[]).is_err(), "a 1000-class head must not load into 7 classes");
    let skipped = load_strict(&mut vs7, &path, &[mobilenet_v2::HEAD_PREFIX]).expect("load with new head");
    assert_eq!(skipped, ["classifier.1.bias", "classifier.1.weight"]);
    let (x, _) = inputs_and_logits(dir.path());
    let (f1000, f7) = tch::no_grad(|| (net.features_t(&x, false), net7.features_t(&x, false)));
    assert_eq!(max_abs_diff(&f1000, &f7), 0.0);
    assert_eq!(net7.forward_t(&x, false).size(), [1, 7]);
}

#[test]
fn strict_loader_rejects_wrong_architecture_missing_and_misshaped_tensors() {
    let dir = reference("random", "resnet18", &[]);
    let path = dir.path().join("weights.safetensors");

    // ResNet-18 weights into a ResNet-50.
    let mut vs50 = nn::VarStore::new(Device::Cpu);
    let _r50 = resnet::ResNet::new(&vs50.root(), &resnet::Config::resnet50(1000));
    let err = load_strict(&mut vs50, &path, &[]).unwrap_err().to_string();
    assert!(err.contains("missing tensor `layer1.0.conv3.weight`"), "{err}");
    assert!(
        err.contains("`layer1.0.conv1.weight`: file has shape [64, 64, 3, 3], model wants [64, 64, 1, 1]"),
        "{err}"
    );
    assert!(err.contains("`fc.weight`: file has shape [1000, 512], model wants [1000, 2048]"), "{err}");

    // One BN buffer missing from an otherwise right file.
    let mut tensors: Vec<(String, Tensor)> = read_safetensors(&path).unwrap().into_iter().collect();
    tensors.retain(|(n, _)| n != "layer3.1.bn2.running_var");
    let holed = dir.path().join("holed.safetensors");
    Tensor::write_safetensors(&tensors, &holed).unwrap();
    let mut vs18 = nn::VarStore::new(Device::Cpu);
    let _r18 = resnet::ResNet::new(&vs18.root(), &resnet::Config::resnet18(1000));
    let err = load_strict(&mut vs18, &holed, &[]).unwrap_err().to_string();
    assert_eq!(err.matches("missing tensor").count(), 1, "{err}");
    assert!(err.contains("missing tensor `layer3.1.bn2.running_var`"), "{err}");

    // A 7-class head: mis-shaped unless the head is skipped; the backbone then loads.
    let mut vs7 = nn::VarStore::new(Device::Cpu);
    let _r7 = resnet::ResNet::new(&vs7.root(), &resnet::Config::resnet18(7));
    let err = load_strict(&mut vs7, &path, &[]).unwrap_err().to_string();
    assert!(err.contains("`fc.weight`: file has shape [1000, 512], model wants [7, 512]"), "{err}");
    let skipped = load_strict(&mut vs7, &path, &[resnet::HEAD_PREFIX]).unwrap();
    assert_eq!(skipped, ["fc.bias", "fc.weight"]);
    let file = read_safetensors(&path).unwrap();
    let loaded = vs7.variables();
    for name in ["conv1.weight", "layer4.1.bn2.running_mean", "layer4.1.bn2.running_var"] {
        assert_eq!(max_abs_diff(&loaded[name], &file[name].to_kind(Kind::Float)), 0.0, "{name} not loaded");
    }
}

/// Inference speed against torchvision with the same number of CPU threads
/// (`AFFECT_LAB_BENCH_THREADS`, default 2). Slow and timing-sensitive on a shared machine, so run
/// it explicitly: `cargo test --test torchvision_parity -- --ignored --nocapture speed`.
/// Each model is timed in Rust and then in Python, back to back; per setting the minimum over
/// individually timed runs is compared (the least disturbed by other work). Fails if we are more
/// than 1.5x slower than torchvision overall (geometric mean of the ratios).
#[test]
#[ignore]
fn speed_against_torchvision() {
    let threads: i32 = std::env::var("AFFECT_LAB_BENCH_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    tch::set_num_threads(threads);
    println!("{threads} thread(s); ms/image, min (median) over runs");
    println!("model          px  batch          rust          torchvision   rust/tv (min)");
    let mut log_ratio_sum = 0.0;
    let mut n = 0;
    for model in ["resnet18", "resnet50", "mobilenet_v2"] {
        let rust = rust_timings(model);
        let python = python_timings(model, threads);
        for (size, batch, min, median) in rust {
            let py = python
                .iter()
                .find(|v| v["size"] == size && v["batch"] == batch)
                .unwrap_or_else(|| panic!("no Python timing for {model} {size}px batch {batch}"));
            let (py_min, py_median) = (py["min_ms"].as_f64().unwrap(), py["median_ms"].as_f64().unwrap());
            println!(
                "{model:<12} {size:>4} {batch:>6} {min:>8.2} ({median:>7.2}) {py_min:>8.2} ({py_median:>7.2}) {:>10.2}",
                min / py_min
            );
            log_ratio_sum += (min / py_min).ln();
            n += 1;
        }
    }
    let geo = (log_ratio_sum / n as f64).exp();
    println!("geometric mean rust/torchvision: {geo:.2}");
    assert!(geo < 1.5, "tch models are {geo:.2}x slower than torchvision");
}

/// (size, batch, min ms/image, median ms/image), same protocol as the Python bench: one
/// warm-up, then 20 runs at batch 1 or 3 at batch 64, each timed on its own.
fn rust_timings(model: &str) -> Vec<(i64, i64, f64, f64)> {
    let vs = nn::VarStore::new(Device::Cpu);
    let net: Box<dyn ModuleT> = match model {
        "resnet18" => Box::new(resnet::ResNet::new(&vs.root(), &resnet::Config::resnet18(1000))),
        "resnet50" => Box::new(resnet::ResNet::new(&vs.root(), &resnet::Config::resnet50(1000))),
        _ => Box::new(mobilenet_v2::MobileNetV2::new(&vs.root(), &mobilenet_v2::Config::new(1000))),
    };
    let mut out = Vec::new();
    for size in [96i64, 224] {
        for batch in [1i64, 64] {
            let x = Tensor::randn([batch, 3, size, size], (Kind::Float, Device::Cpu));
            let mut times: Vec<f64> = tch::no_grad(|| {
                let _ = net.forward_t(&x, false);
                (0..if batch == 1 { 20 } else { 3 })
                    .map(|_| {
                        let t0 = std::time::Instant::now();
                        let _ = net.forward_t(&x, false);
                        t0.elapsed().as_secs_f64() * 1000.0 / batch as f64
                    })
                    .collect()
            });
            times.sort_by(f64::total_cmp);
            out.push((size, batch, times[0], times[times.len() / 2]));
        }
    }
    out
}

fn python_timings(model: &str, threads: i32) -> Vec<serde_json::Value> {
    let script = Path::new(ROOT).join("scripts/parity/torchvision_reference.py");
    let out = Command::new(venv_python())
        .arg(&script)
        .args(["bench", model, "--threads", &threads.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
    assert!(out.status.success(), "bench failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("bench JSON line"))
        .collect()
}
