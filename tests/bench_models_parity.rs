//! Our EmotionNet V1-V3 and BiLSTM against their PyTorch twins in scripts/bench_models.py (used
//! for speed benchmarks): we build each model with seeded random weights, randomise what a fresh
//! model leaves trivial (BatchNorm statistics, scale and shift; attention gammas, which start at 0
//! and would hide the attention), save the VarStore and a fixed input, and the script must load the
//! weights strictly (same names and shapes), count the same parameters and reproduce the eval
//! logits.
//!
//! Needs the project venv (.venv/bin/python with torch + safetensors); fails loudly without it.
use affect_lab::models::bilstm;
use affect_lab::models::registry::{image_model, Init};
use affect_lab::models::weights::read_safetensors;
use affect_lab::train::param_count;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CLASSES: i64 = 7;

/// The tests run in parallel but share libtorch's global generator: hold this from
/// `manual_seed` until the last random draw, so each case gets the same values on every run.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

mod common;
use common::venv_python;

/// One model to compare: its weights, an input, and how the script builds its twin.
struct Case {
    name: String,
    class: &'static str,
    kwargs: Value,
    vs: nn::VarStore,
    model: Box<dyn ModuleT>,
    x: Tensor,
}

/// Give BN statistics, BN scale/shift and attention gammas non-trivial values, so that a swapped
/// buffer, a missing epsilon or a skipped attention block shows in the logits.
fn randomise_trivial_vars(vs: &nn::VarStore) {
    let vars = vs.variables();
    let bn_prefixes: Vec<&str> = vars.keys().filter_map(|n| n.strip_suffix(".running_mean")).collect();
    // In name order: HashMap order changes from run to run, and so would the draws.
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    tch::no_grad(|| {
        for name in names {
            let var = &vars[name];
            let shape = var.size();
            let opts = (Kind::Float, Device::Cpu);
            let value = if name.ends_with(".running_var")
                || name.ends_with(".gamma")
                || bn_prefixes.iter().any(|p| name == &format!("{p}.weight"))
            {
                Tensor::rand(shape.as_slice(), opts) + 0.5 // positive, around 1
            } else if name.ends_with(".running_mean") || bn_prefixes.iter().any(|p| name == &format!("{p}.bias")) {
                Tensor::randn(shape.as_slice(), opts) * 0.2
            } else {
                continue;
            };
            var.shallow_clone().copy_(&value);
        }
    });
}

fn image_case(arch: &str, class: &'static str, size: i64, seed: i64) -> Case {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed);
    let built = image_model(arch).unwrap().build(Init::Random, CLASSES, size as u32, Device::Cpu).unwrap();
    randomise_trivial_vars(&built.vs);
    Case {
        name: format!("{arch}_{size}"),
        class,
        kwargs: json!({ "num_classes": CLASSES, "image_size": size }),
        vs: built.vs,
        model: built.model,
        x: Tensor::randn([3, 3, size, size], (Kind::Float, Device::Cpu)),
    }
}

fn bilstm_case(name: &str, cfg: bilstm::Config, seed: i64) -> Case {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = bilstm::BiLstm::new(&vs.root(), &cfg).unwrap();
    // Real tokens are any id but pad_id; rows of 12, 9, 4, 1 and 0 of them, padded at the end.
    let ids = Tensor::randint_low(0, cfg.vocab_size - 1, [5, 12], (Kind::Int64, Device::Cpu));
    let x = &ids + ids.ge(cfg.pad_id).to_kind(Kind::Int64);
    for (row, len) in [12, 9, 4, 1, 0].into_iter().enumerate() {
        let _ = x.get(row as i64).narrow(0, len, 12 - len).fill_(cfg.pad_id);
    }
    Case {
        name: name.into(),
        class: "BiLstm",
        kwargs: serde_json::to_value(&cfg).unwrap(),
        vs,
        model: Box::new(model),
        x,
    }
}

/// Write every case to one temp dir, run `bench_models.py --check` on it, and compare.
fn assert_parity(cases: &[Case]) {
    let dir = tempfile::tempdir().expect("temp dir");
    for c in cases {
        c.vs.save(dir.path().join(format!("{}.safetensors", c.name))).expect("save weights");
        Tensor::write_safetensors(&[("x", &c.x)], dir.path().join(format!("{}.input.safetensors", c.name)))
            .expect("save input");
        let spec = json!({ "class": c.class, "kwargs": c.kwargs });
        std::fs::write(dir.path().join(format!("{}.json", c.name)), spec.to_string()).expect("write spec");
    }
    let script = Path::new(ROOT).join("scripts/bench_models.py");
    let out = Command::new(venv_python())
        .arg(&script)
        .arg("--check")
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{} --check failed ({}):\n{stdout}\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: Vec<Value> =
        stdout.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    for c in cases {
        let report = reports.iter().find(|r| r["name"] == c.name.as_str()).unwrap_or_else(|| {
            panic!("{}: no report line from the script:\n{stdout}", c.name);
        });
        assert_eq!(report["params"].as_i64(), Some(param_count(&c.vs)), "{}: parameter count differs", c.name);

        let want = tch::no_grad(|| c.model.forward_t(&c.x, false));
        let mut file = read_safetensors(&dir.path().join(format!("{}.torch.safetensors", c.name))).expect("logits");
        let got = file.remove("logits").expect("logits tensor");
        assert_eq!(got.size(), want.size(), "{}: logits shape", c.name);
        // The weights must make the logits depend on the input, or a broken layer could hide.
        let spread = (want.get(0) - want.get(1)).abs().max().double_value(&[]);
        assert!(spread > 1e-3, "{}: logits barely depend on the input (spread {spread})", c.name);
        let largest = want.abs().max().double_value(&[]);
        let scale = largest.max(1.0);
        let diff = (&got - &want).abs().max().double_value(&[]);
        println!("{}: max |torch - tch| = {diff:.2e} (max |logit| {largest:.3})", c.name);
        assert!(diff < 1e-4 * scale, "{}: PyTorch logits differ from ours by {diff} (logit scale {scale})", c.name);
    }
}

#[test]
fn emotionnet_v1_matches_pytorch() {
    assert_parity(&[
        image_case("emotion_net_v1", "EmotionNetV1", 48, 1),
        image_case("emotion_net_v1", "EmotionNetV1", 96, 2),
    ]);
}

#[test]
fn emotionnet_v2_matches_pytorch() {
    assert_parity(&[image_case("emotion_net_v2", "EmotionNetV2", 64, 3)]);
}

#[test]
fn emotionnet_v3_matches_pytorch() {
    assert_parity(&[
        image_case("emotion_net_v3", "EmotionNetV3", 48, 4),
        image_case("emotion_net_v3", "EmotionNetV3", 96, 5),
    ]);
}

#[test]
fn bilstm_matches_pytorch() {
    let two_layers = bilstm::Config { layers: 2, fc_hidden: 0, pad_id: 1, ..bilstm::Config::new(500, 3) };
    assert_parity(&[
        bilstm_case("bilstm", bilstm::Config::new(500, 3), 6),
        bilstm_case("bilstm_2_layers", two_layers, 7),
    ]);
}

/// The Python constructors' defaults are the Rust Config defaults (dropout rates and the like
/// do not show in eval logits or parameter counts, so compare them directly).
#[test]
fn python_defaults_match_rust_configs() {
    let code = "import inspect, json, sys; sys.path.insert(0, sys.argv[1]); import bench_models as b; \
                print(json.dumps({n: {k: p.default for k, p in inspect.signature(c).parameters.items() \
                if p.default is not inspect.Parameter.empty} for n, c in b.MODELS.items()}))";
    let out = Command::new(venv_python())
        .args(["-c", code])
        .arg(Path::new(ROOT).join("scripts"))
        .output()
        .unwrap_or_else(|e| panic!("could not run python: {e}"));
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    let python: Value = serde_json::from_slice(&out.stdout).expect("defaults JSON");
    let mut rust_bilstm = serde_json::to_value(bilstm::Config::new(1, 1)).unwrap();
    // No defaults on either side: Config::new takes them.
    for required in ["vocab_size", "num_classes"] {
        rust_bilstm.as_object_mut().unwrap().remove(required);
    }
    let rust = [
        ("EmotionNetV1", serde_json::to_value(affect_lab::models::emotionnet_v1::Config::default()).unwrap()),
        ("EmotionNetV2", serde_json::to_value(affect_lab::models::emotionnet_v2::Config::default()).unwrap()),
        ("EmotionNetV3", serde_json::to_value(affect_lab::models::emotionnet_v3::Config::default()).unwrap()),
        ("BiLstm", rust_bilstm),
    ];
    for (class, want) in rust {
        assert_eq!(python[class], want, "{class}: Python defaults differ from the Rust Config");
    }
}
