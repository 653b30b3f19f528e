//! Part 1: training from scratch (EmotionNet V1-V3) vs transfer learning (ImageNet ResNet18,
//! ResNet50, MobileNetV2) on face emotions, plus the same ResNet18/MobileNetV2 from random
//! init as an ablation that separates pretraining from architecture.
use crate::config::profile::Profile;
use crate::config::run::Run;
use crate::data::augment::{AugmentConfig, Transform};
use crate::data::batches::ImageSource;
use crate::data::faces::{self, FaceDataset, FaceItem};
use crate::error::{Error, Result};
use crate::eval::bench::{self, LatencyConfig};
use crate::eval::metrics::{self, ClassMetrics};
use crate::models;
use crate::models::weights::{self, TorchvisionWeights};
use crate::train::{self, EpochRecord, Monitor, Schedule, TrainConfig};
use serde::{Deserialize, Serialize};
use tch::{nn, nn::ModuleT, Device};

pub const PART: &str = "part1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    EmotionNetV1,
    EmotionNetV2,
    EmotionNetV3,
    ResNet18,
    ResNet50,
    MobileNetV2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    Random,
    Imagenet,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelSpec {
    pub name: String,
    pub arch: Arch,
    pub init: Init,
}

/// The experiment's rows, in presentation order.
pub fn model_specs() -> Vec<ModelSpec> {
    let s = |name: &str, arch, init| ModelSpec { name: name.into(), arch, init };
    vec![
        s("emotionnet_v1", Arch::EmotionNetV1, Init::Random),
        s("emotionnet_v2", Arch::EmotionNetV2, Init::Random),
        s("emotionnet_v3", Arch::EmotionNetV3, Init::Random),
        s("resnet18", Arch::ResNet18, Init::Imagenet),
        s("resnet50", Arch::ResNet50, Init::Imagenet),
        s("mobilenet_v2", Arch::MobileNetV2, Init::Imagenet),
        s("resnet18_random", Arch::ResNet18, Init::Random),
        s("mobilenet_v2_random", Arch::MobileNetV2, Init::Random),
    ]
}

impl Arch {
    fn imagenet(self) -> Option<TorchvisionWeights> {
        match self {
            Arch::ResNet18 => Some(weights::RESNET18_IMAGENET),
            Arch::ResNet50 => Some(weights::RESNET50_IMAGENET),
            Arch::MobileNetV2 => Some(weights::MOBILENET_V2_IMAGENET),
            _ => None,
        }
    }
    fn torchvision_name(self) -> Option<&'static str> {
        self.imagenet().map(|w| w.model)
    }
    pub fn is_custom(self) -> bool {
        matches!(self, Arch::EmotionNetV1 | Arch::EmotionNetV2 | Arch::EmotionNetV3)
    }
}

/// Budgets per profile. Every row of one profile sees the same images at the same size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// Input size of the pretrained backbones and their random-init ablations.
    pub image_size: u32,
    /// Input size of the EmotionNets (from scratch).
    pub custom_image_size: u32,
    pub custom: TrainConfig,
    pub transfer: TrainConfig,
    /// Subsets for smoke runs (None = the whole split).
    pub max_valid: Option<usize>,
    pub max_test: Option<usize>,
    pub augment: AugmentConfig,
    pub latency: LatencyConfig,
}

impl Plan {
    pub fn size_for(&self, arch: Arch) -> u32 {
        if arch.is_custom() {
            self.custom_image_size
        } else {
            self.image_size
        }
    }

    pub fn for_profile(profile: Profile, seed: u64) -> Plan {
        let base = TrainConfig { seed, monitor: Monitor::ValidLoss, ..Default::default() };
        match profile {
            Profile::Smoke => Plan {
                image_size: 32,
                custom_image_size: 32,
                custom: TrainConfig {
                    epochs: 1,
                    batch_size: 16,
                    lr: 1e-3,
                    max_batches_per_epoch: Some(2),
                    ..base.clone()
                },
                transfer: TrainConfig { epochs: 1, batch_size: 16, lr: 5e-4, max_batches_per_epoch: Some(2), ..base },
                max_valid: Some(48),
                max_test: Some(48),
                augment: AugmentConfig::default(),
                latency: LatencyConfig { warmup: 1, repeats: 2 },
            },
            // ImageNet backbones get 96 px (their features need some resolution; FER faces are
            // 48 px, upsampled), the EmotionNets 64 px (V1's classifier and V2's attention grow
            // with the image). Each row records its size.
            Profile::Quick => Plan {
                image_size: 96,
                custom_image_size: 64,
                custom: TrainConfig {
                    epochs: 3,
                    batch_size: 32,
                    lr: 2e-3,
                    schedule: Schedule::OneCycle { pct_start: 0.25 },
                    ..base.clone()
                },
                transfer: TrainConfig {
                    epochs: 4,
                    batch_size: 32,
                    lr: 1e-3,
                    schedule: Schedule::OneCycle { pct_start: 0.25 },
                    ..base
                },
                max_valid: None,
                max_test: None,
                augment: AugmentConfig::default(),
                latency: LatencyConfig { warmup: 2, repeats: 5 },
            },
            Profile::Full => Plan {
                image_size: 224,
                custom_image_size: 224,
                custom: TrainConfig { epochs: 30, batch_size: 64, lr: 1e-3, patience: Some(6), ..base.clone() },
                // Select on accuracy: in a full-profile MobileNetV2 run (CPU, 2026-11-29) validation
                // loss bottomed at epoch 5 (1.18) and rose while validation accuracy kept climbing
                // (55.0% -> 58.4% at epoch 6): loss-based patience would stop on an over-confident
                // but less accurate model.
                transfer: TrainConfig {
                    epochs: 15,
                    batch_size: 64,
                    lr: 3e-4,
                    patience: Some(4),
                    freeze_backbone_epochs: 1,
                    monitor: Monitor::ValidAccuracy,
                    ..base
                },
                max_valid: None,
                max_test: None,
                augment: AugmentConfig::default(),
                latency: LatencyConfig::default(),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    pub path: String,
    pub truth: String,
    pub pred: String,
    pub confidence: f32,
    pub loss: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub model: String,
    pub arch: Arch,
    pub init: Init,
    pub weights_source: String,
    pub params: i64,
    pub size_bytes: u64,
    pub flops: Option<f64>,
    pub latency_ms_b1: f64,
    pub latency_ms_b64: f64,
    /// The torchvision model in PyTorch on the same input and threads (ms/image), where one exists.
    pub pytorch_latency_ms_b1: Option<f64>,
    pub pytorch_latency_ms_b64: Option<f64>,
    pub train_seconds: f64,
    pub seconds_per_epoch: f64,
    pub epochs: usize,
    pub best_epoch: usize,
    pub test_accuracy: f64,
    /// 95% Wilson interval of `test_accuracy`.
    #[serde(default)]
    pub test_accuracy_ci95: [f64; 2],
    pub test_macro_f1: f64,
    pub per_class: Vec<ClassMetrics>,
    pub confusion: Vec<Vec<u64>>,
    pub most_confused: Vec<(String, String, u64)>,
    pub samples: Vec<Sample>,
    pub top_losses: Vec<Sample>,
    pub history: Vec<EpochRecord>,
    pub train_config: TrainConfig,
    pub seed: u64,
    pub profile: Profile,
    pub image_size: u32,
    pub checkpoint: String,
    /// Predicted class of every test image, in `Results::test_labels` order (for paired tests).
    #[serde(default)]
    pub test_predictions: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// `run::RESULTS_SCHEMA` of the code that wrote the file (0: before it was recorded).
    #[serde(default)]
    pub schema: u32,
    pub profile: Profile,
    pub seed: u64,
    pub device: String,
    pub image_size: u32,
    pub data_root: String,
    pub classes: Vec<String>,
    pub split_sizes: [usize; 3],
    pub class_counts: Vec<Vec<u64>>,
    pub skipped_images: Vec<String>,
    /// Rows that could not run and why (e.g. ImageNet weights not installed).
    pub skipped_models: Vec<(String, String)>,
    pub plan: Plan,
    /// The `--plan` override this part's plan was patched with, if any (the profile name alone
    /// then does not describe the recipe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_patch: Option<serde_json::Value>,
    /// True class of every test image the rows were scored on.
    #[serde(default)]
    pub test_labels: Vec<i64>,
    pub rows: Vec<Row>,
    /// Paired McNemar tests on the same test images: pretrained vs the same network from random
    /// init, and the best pretrained row vs the best EmotionNet.
    #[serde(default)]
    pub comparisons: Vec<metrics::PairedTest>,
}

/// A constructed model with its variables.
pub struct Built {
    pub vs: nn::VarStore,
    pub model: Box<dyn ModuleT>,
    pub head_prefix: Option<&'static str>,
    pub weights_source: String,
}

/// Build `arch` for `classes` outputs at `image_size`, loading ImageNet weights for `Init::Imagenet`.
pub fn build(arch: Arch, init: Init, classes: i64, image_size: u32, device: Device) -> Result<Built> {
    let mut vs = nn::VarStore::new(device);
    let p = vs.root();
    let (model, head): (Box<dyn ModuleT>, Option<&'static str>) = match arch {
        Arch::EmotionNetV1 => {
            let cfg = models::emotionnet_v1::Config {
                num_classes: classes,
                image_size: image_size as i64,
                ..Default::default()
            };
            (Box::new(models::emotionnet_v1::EmotionNetV1::new(&p, &cfg)?), None)
        }
        Arch::EmotionNetV2 => {
            let cfg = models::emotionnet_v2::Config { num_classes: classes, ..Default::default() };
            (Box::new(models::emotionnet_v2::EmotionNetV2::new(&p, &cfg)?), None)
        }
        Arch::EmotionNetV3 => {
            let cfg = models::emotionnet_v3::Config { num_classes: classes, ..Default::default() };
            (Box::new(models::emotionnet_v3::EmotionNetV3::new(&p, &cfg)?), None)
        }
        Arch::ResNet18 | Arch::ResNet50 => {
            let cfg = if arch == Arch::ResNet18 {
                models::resnet::Config::resnet18(classes)
            } else {
                models::resnet::Config::resnet50(classes)
            };
            (Box::new(models::resnet::ResNet::new(&p, &cfg)), Some(models::resnet::HEAD_PREFIX))
        }
        Arch::MobileNetV2 => {
            let cfg = models::mobilenet_v2::Config::new(classes);
            (Box::new(models::mobilenet_v2::MobileNetV2::new(&p, &cfg)), Some(models::mobilenet_v2::HEAD_PREFIX))
        }
    };
    let weights_source = match (init, arch.imagenet()) {
        (Init::Random, _) => "random init (seeded)".to_string(),
        (Init::Imagenet, None) => return Err(Error::Config(format!("{arch:?} has no ImageNet weights"))),
        (Init::Imagenet, Some(w)) => {
            let path = w.find().ok_or_else(|| {
                Error::weights(
                    weights::weights_dir().join(w.safetensors_name()),
                    format!(
                        "ImageNet weights for {} not installed: download {} and run `affect-lab fetch-weights`",
                        w.model, w.url
                    ),
                )
            })?;
            weights::load_strict(&mut vs, &path, &[head.unwrap_or("")])?;
            format!("torchvision ImageNet {} ({})", w.pth, path.display())
        }
    };
    Ok(Built { vs, model, head_prefix: head, weights_source })
}

fn take(items: &[FaceItem], max: Option<usize>) -> Vec<FaceItem> {
    match max {
        // every k-th item keeps the class mix of the split
        Some(m) if m < items.len() => {
            let step = items.len() as f64 / m as f64;
            (0..m).map(|i| items[(i as f64 * step) as usize].clone()).collect()
        }
        _ => items.to_vec(),
    }
}

fn sample(ds: &FaceDataset, items: &[FaceItem], p: &train::Predictions, i: usize) -> Sample {
    Sample {
        path: items[i].path.display().to_string(),
        truth: ds.classes[p.truth[i] as usize].clone(),
        pred: ds.classes[p.pred[i] as usize].clone(),
        confidence: p.confidence[i],
        loss: p.loss[i],
    }
}

/// Train, evaluate and benchmark one model.
fn run_model(
    run: &Run,
    ds: &FaceDataset,
    spec: &ModelSpec,
    plan: &Plan,
    sources: &(ImageSource, ImageSource, ImageSource),
    test_items: &[FaceItem],
) -> Result<Row> {
    let image_size = plan.size_for(spec.arch);
    let mut built = build(spec.arch, spec.init, ds.classes.len() as i64, image_size, run.device)?;
    let params = train::param_count(&built.vs);
    eprintln!("[{}] {} params, init: {}", spec.name, params, built.weights_source);
    // The random-init ablation rows get the pretrained rows' budget (epochs, batch, schedule)
    // so only the initialisation differs, and the from-scratch learning rate, which random
    // weights need.
    let mut cfg = match (spec.arch.is_custom(), spec.init) {
        (true, _) => plan.custom.clone(),
        (false, Init::Imagenet) => plan.transfer.clone(),
        (false, Init::Random) => TrainConfig { lr: plan.custom.lr, ..plan.transfer.clone() },
    };
    cfg.head_prefix = built.head_prefix.map(str::to_string);
    if cfg.head_prefix.is_none() {
        cfg.freeze_backbone_epochs = 0;
    }
    if spec.init == Init::Random {
        cfg.freeze_backbone_epochs = 0; // nothing pretrained to protect
    }
    let ckpt = run.checkpoint(PART, &spec.name);
    let (train_src, valid_src, test_src) = sources;
    let outcome = train::fit(&spec.name, built.model.as_ref(), &mut built.vs, train_src, valid_src, &cfg, &ckpt)?;
    let preds = train::predict(built.model.as_ref(), test_src, run.device, 64)?;
    let report = metrics::report(metrics::confusion(&preds.truth, &preds.pred, ds.classes.len()), &ds.classes);

    // benchmarks only run inference; frozen weights also let the TorchScript tracer embed them
    built.vs.freeze();
    let size = image_size as i64;
    let lat1 = bench::latency_ms_per_item(built.model.as_ref(), &bench::image_input(1, size, run.device), plan.latency);
    let lat64 =
        bench::latency_ms_per_item(built.model.as_ref(), &bench::image_input(64, size, run.device), plan.latency);
    let reference = bench::reference(
        built.model.as_ref(),
        &bench::image_input(1, size, Device::Cpu),
        spec.arch.torchvision_name().map(|n| (n, ds.classes.len() as i64)),
        &[1, 64],
    )
    .unwrap_or_else(|e| {
        eprintln!("[{}] reference benchmark failed: {e}", spec.name);
        None
    })
    .unwrap_or_default();
    let py = |b: i64| reference.pytorch_latency_ms.iter().find(|(bb, _)| *bb == b).map(|(_, v)| *v);
    let epochs = outcome.epochs();
    let step = (test_items.len() / 10).max(1);
    Ok(Row {
        model: spec.name.clone(),
        arch: spec.arch,
        init: spec.init,
        weights_source: built.weights_source,
        params,
        size_bytes: std::fs::metadata(&ckpt).map(|m| m.len()).unwrap_or(0),
        flops: reference.flops,
        latency_ms_b1: lat1,
        latency_ms_b64: lat64,
        pytorch_latency_ms_b1: py(1),
        pytorch_latency_ms_b64: py(64),
        train_seconds: outcome.train_seconds,
        seconds_per_epoch: outcome.history.iter().map(|h| h.seconds).sum::<f64>() / epochs.max(1) as f64,
        epochs,
        best_epoch: outcome.best_epoch,
        test_accuracy: report.accuracy,
        test_accuracy_ci95: metrics::accuracy_ci95(report.accuracy, preds.truth.len()),
        test_macro_f1: report.macro_f1,
        most_confused: metrics::most_confused(&report.confusion, 5)
            .into_iter()
            .map(|(t, p, c)| (ds.classes[t].clone(), ds.classes[p].clone(), c))
            .collect(),
        per_class: report.per_class,
        confusion: report.confusion,
        // the same 10 images for every model: evenly spaced through the (class-sorted) test split
        samples: (0..10.min(test_items.len())).map(|k| sample(ds, test_items, &preds, k * step)).collect(),
        top_losses: preds.top_losses(10).into_iter().map(|i| sample(ds, test_items, &preds, i)).collect(),
        history: outcome.history,
        train_config: cfg,
        seed: run.config.seed,
        profile: run.config.profile,
        image_size,
        checkpoint: ckpt.display().to_string(),
        test_predictions: preds.pred,
    })
}

/// The profile's plan with the run's `--plan` patch merged over it.
pub fn plan(config: &crate::config::run::RunConfig) -> Result<Plan> {
    let plan = crate::config::plan_patch::apply(
        Plan::for_profile(config.profile, config.seed),
        config.plan_patch.as_ref(),
        PART,
    )?;
    plan.check()?;
    Ok(plan)
}

/// Smallest input side every Part 1 network runs at (five stride-2 stages leave 1x1 at 32 px).
pub const MIN_IMAGE_SIZE: u32 = 32;

impl Plan {
    /// Every value in range before anything runs (see [`crate::config::plan_check`]).
    pub fn check(&self) -> Result<()> {
        let mut c = crate::config::plan_check::Checks::default();
        c.within("part1.image_size", self.image_size as f64, MIN_IMAGE_SIZE as f64, 1024.0);
        c.within("part1.custom_image_size", self.custom_image_size as f64, MIN_IMAGE_SIZE as f64, 1024.0);
        c.cap("part1.max_valid", self.max_valid);
        c.cap("part1.max_test", self.max_test);
        self.custom.check("part1.custom", &mut c);
        self.transfer.check("part1.transfer", &mut c);
        self.augment.check("part1.augment", &mut c);
        c.at_least("part1.latency.repeats", self.latency.repeats, 1);
        c.finish("invalid part1 plan")
    }
}

/// Run Part 1 and write `<out>/part1/results.json`.
pub fn run(run: &Run) -> Result<Results> {
    run.write_config(PART)?;
    let root = run.config.data_root.join(crate::config::paths::FACES.dir);
    let ds = faces::load(&root, faces::LoadOptions { skip_bad_images: run.config.skip_bad_inputs })?;
    if !ds.skipped.is_empty() {
        eprintln!("skipped {} unreadable images", ds.skipped.len());
    }
    let plan = plan(&run.config)?;
    let (valid_items, test_items) = (take(&ds.valid, plan.max_valid), take(&ds.test, plan.max_test));
    let size = plan.image_size;
    let seed = run.config.seed;
    let sources_at = |size: u32| {
        let (train_tf, eval_tf) = (Transform::train(size, plan.augment.clone()), Transform::eval(size));
        (
            ImageSource::new(ds.train.clone(), train_tf.clone(), eval_tf.clone(), seed),
            ImageSource::new(valid_items.clone(), train_tf.clone(), eval_tf.clone(), seed),
            ImageSource::new(test_items.clone(), train_tf, eval_tf, seed),
        )
    };
    eprintln!(
        "faces: {} classes, {}/{}/{} images (train/valid/test), {} px (pretrained backbones), {} px (EmotionNets)",
        ds.classes.len(),
        ds.train.len(),
        valid_items.len(),
        test_items.len(),
        size,
        plan.custom_image_size
    );

    let wanted = &run.config.models;
    let mut results = Results {
        schema: crate::config::run::RESULTS_SCHEMA,
        profile: run.config.profile,
        seed,
        device: format!("{:?}", run.device),
        image_size: size,
        data_root: run.config.data_root.display().to_string(),
        classes: ds.classes.clone(),
        split_sizes: [ds.train.len(), ds.valid.len(), ds.test.len()],
        class_counts: vec![ds.class_counts(&ds.train), ds.class_counts(&ds.valid), ds.class_counts(&ds.test)],
        skipped_images: ds.skipped.iter().map(|p| p.display().to_string()).collect(),
        skipped_models: Vec::new(),
        plan: plan.clone(),
        plan_patch: crate::config::plan_patch::for_part(run.config.plan_patch.as_ref(), PART).cloned(),
        test_labels: test_items.iter().map(|i| i.label).collect(),
        rows: Vec::new(),
        comparisons: Vec::new(),
    };
    for spec in model_specs().iter().filter(|s| wanted.is_empty() || wanted.contains(&s.name)) {
        if spec.init == Init::Imagenet && spec.arch.imagenet().and_then(|w| w.find()).is_none() {
            let w = spec.arch.imagenet().map(|w| format!("{} ({})", w.pth, w.url)).unwrap_or_default();
            let why = format!("ImageNet weights not installed: {w}; run `affect-lab fetch-weights` where a network allows. Not run rather than mislabelled.");
            eprintln!("[{}] skipped: {why}", spec.name);
            results.skipped_models.push((spec.name.clone(), why));
            continue;
        }
        tch::manual_seed(seed as i64);
        let row = run_model(run, &ds, spec, &plan, &sources_at(plan.size_for(spec.arch)), &test_items)?;
        eprintln!(
            "[{}] test accuracy {:.3}, macro-F1 {:.3}, {:.0}s",
            row.model, row.test_accuracy, row.test_macro_f1, row.train_seconds
        );
        results.rows.push(row);
        results.comparisons = comparisons(&results);
        // written after every model so an interrupted run keeps what it finished
        crate::atomic::write_json(&run.results_path(PART), &results)?;
    }
    crate::atomic::write_json(&run.results_path(PART), &results)?;
    Ok(results)
}

/// Pretrained vs random init of each architecture that has both; best pretrained vs best EmotionNet.
pub fn comparisons(r: &Results) -> Vec<metrics::PairedTest> {
    let scored: Vec<&Row> = r
        .rows
        .iter()
        .filter(|x| x.test_predictions.len() == r.test_labels.len() && !r.test_labels.is_empty())
        .collect();
    let pair = |a: &Row, b: &Row| {
        metrics::paired_test(&a.model, &b.model, &r.test_labels, &a.test_predictions, &b.test_predictions)
    };
    let mut out = Vec::new();
    for pre in scored.iter().filter(|x| x.init == Init::Imagenet) {
        for rnd in scored.iter().filter(|x| x.init == Init::Random && x.arch == pre.arch) {
            out.push(pair(pre, rnd));
        }
    }
    let best = |f: &dyn Fn(&Row) -> bool| {
        scored.iter().copied().filter(|x| f(x)).max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
    };
    if let (Some(a), Some(b)) = (best(&|x| x.init == Init::Imagenet), best(&|x| x.arch.is_custom())) {
        out.push(pair(a, b));
    }
    out
}

/// A plain-text table of the rows.
pub fn summary(r: &Results) -> String {
    let patched = if r.plan_patch.is_some() { " patched by --plan" } else { "" };
    let mut s = format!("Part 1 ({} profile{patched}, seed {}, {})\n", r.profile, r.seed, r.device);
    s += &format!(
        "{:<22} {:>8} {:>5} {:>11} {:>9} {:>9} {:>9} {:>8} {:>13} {:>8}\n",
        "model", "init", "px", "params", "size MB", "ms/img@1", "ms/img@64", "acc", "95% CI", "macroF1"
    );
    for row in &r.rows {
        let [lo, hi] = row.test_accuracy_ci95;
        s += &format!(
            "{:<22} {:>8} {:>5} {:>11} {:>9.2} {:>9.2} {:>9.2} {:>8.3} {:>13} {:>8.3}\n",
            row.model,
            format!("{:?}", row.init).to_lowercase(),
            row.image_size,
            row.params,
            row.size_bytes as f64 / 1e6,
            row.latency_ms_b1,
            row.latency_ms_b64,
            row.test_accuracy,
            format!("{lo:.3}-{hi:.3}"),
            row.test_macro_f1
        );
    }
    for c in &r.comparisons {
        s += &format!("{c}\n");
    }
    for (m, why) in &r.skipped_models {
        s += &format!("{m:<22} skipped: {why}\n");
    }
    s
}

/// Every Part 1 figure, into `<out>/part1/figures/`.
pub fn figures(run: &Run, r: &Results) -> Result<()> {
    crate::report::part1_figures(&run.figures_dir(PART), r)
}

#[cfg(test)]
mod plan_tests {
    use super::*;

    #[test]
    fn profiles_pass_the_checks_and_bad_values_are_named() {
        for p in [Profile::Smoke, Profile::Quick, Profile::Full] {
            Plan::for_profile(p, 1).check().unwrap();
        }
        let mut plan = Plan::for_profile(Profile::Smoke, 1);
        plan.augment.rotate_deg = -5.0;
        plan.augment.crop_scale = (1.0, 0.5);
        plan.custom.epochs = 0;
        plan.transfer.batch_size = 0;
        plan.image_size = 16;
        plan.max_test = Some(0);
        let err = plan.check().unwrap_err().to_string();
        for key in [
            "part1.augment.rotate_deg",
            "part1.augment.crop_scale",
            "part1.custom.epochs",
            "part1.transfer.batch_size",
            "part1.image_size",
            "part1.max_test",
        ] {
            assert!(err.contains(key), "{key} missing: {err}");
        }
    }
}
