//! Part 1's results: one row per trained network, paired comparisons, the plain-text summary.
use super::{Arch, Init, Plan};
use crate::eval::metrics::{self, ClassMetrics};
use crate::eval::spread::{self, Predicted, SeedResult, Spread};
use crate::experiments::seeds::run_key;
use crate::train::{EpochRecord, TrainConfig};
use crate::Profile;
use serde::{Deserialize, Serialize};

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
    /// Index in `history` of the evaluation whose weights were kept (absent in results written
    /// before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_evaluation: Option<usize>,
    /// Why training ended: validation stopped improving (`plateau`) or a budget ran out
    /// (`epoch_cap`, `time_cap`; the caps are in `train_config`). Absent in older results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<crate::train::StopReason>,
    /// Precision and memory format the row trained with (absent in older results).
    #[serde(default)]
    pub numerics: Option<crate::numerics::Numerics>,
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
    /// The candidate input sizes this row trained at and their validation scores, where the plan
    /// gave several (`custom_sizes`); `image_size` is the chosen one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub size_trials: Vec<super::sizes::SizeTrial>,
    /// A from-scratch row at the compute the best pretrained row needed for its best: its most
    /// accurate evaluation within those training seconds and that checkpoint's test accuracy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equal_compute: Option<EqualCompute>,
}

/// A from-scratch row within the equal-compute budget (see [`Budget`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EqualCompute {
    /// The pretrained row that set the budget, and the budget in training seconds.
    pub budget_row: String,
    pub budget_seconds: f64,
    /// Index in `history` of the most accurate evaluation within the budget (None: the row's
    /// first evaluation came later), its validation accuracy and its weights' test accuracy.
    pub evaluation: Option<usize>,
    pub valid_accuracy: Option<f64>,
    pub test_accuracy: Option<f64>,
}

/// The compute of the equal-compute comparison: the best pretrained row by its kept
/// checkpoint's validation accuracy, and the training seconds (validation included) it needed
/// to reach that checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct Budget<'a> {
    pub row: &'a Row,
    pub seconds: f64,
    pub valid_accuracy: f64,
}

impl Budget<'_> {
    /// The budget among `rows` (None without a pretrained row that kept an evaluation).
    pub fn of(rows: &[Row]) -> Option<Budget<'_>> {
        rows.iter()
            .filter(|x| x.init == Init::Imagenet)
            .filter_map(|x| {
                let kept = EpochRecord::kept(&x.history, x.best_evaluation)?;
                let seconds = *crate::train::cumulative_seconds(&x.history).get(x.best_evaluation?)?;
                Some(Budget { row: x, seconds, valid_accuracy: kept.valid_accuracy })
            })
            .max_by(|a, b| a.valid_accuracy.total_cmp(&b.valid_accuracy))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// `run::RESULTS_SCHEMA` of the code that wrote the file (0: before it was recorded).
    #[serde(default)]
    pub schema: u32,
    pub profile: Profile,
    pub seed: u64,
    pub device: String,
    /// CPU model, cores and bf16 units of the machine that ran it (absent in older results).
    #[serde(default)]
    pub machine: String,
    /// Where the rows' FLOPs and PyTorch latencies come from: the committed `affect-lab bench`
    /// result (None where the checkout has none; the columns then stay empty).
    #[serde(default)]
    pub speed_reference: Option<String>,
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
    /// init, and the best pretrained row vs the best EmotionNet; pooled over seeds where a row
    /// has runs at several.
    #[serde(default)]
    pub comparisons: Vec<metrics::PairedTest>,
    /// Runs of rows at the plan's other seeds (`plan.seeds`); `rows` holds the run's own seed.
    #[serde(default)]
    pub seed_runs: Vec<Row>,
    /// Test and validation accuracy over seeds of every row with runs at several.
    #[serde(default)]
    pub spread: Vec<Spread>,
    /// Rounds of the latency pass that timed every run's network in turn once training was over
    /// ([`super::latency`]); None where each row was timed alone right after its training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_rounds: Option<usize>,
}

impl crate::config::run::PartResults for Results {
    type Plan = Plan;
    type Row = Row;
    const PART: &'static str = super::PART;
    fn schema(&self) -> u32 {
        self.schema
    }
    fn profile(&self) -> Profile {
        self.profile
    }
    fn seed(&self) -> u64 {
        self.seed
    }
    fn plan(&self) -> &Plan {
        &self.plan
    }
    fn test_labels(&self) -> &[i64] {
        &self.test_labels
    }
    fn device(&self) -> &str {
        &self.device
    }
    fn data(&self) -> serde_json::Value {
        serde_json::json!({"classes": self.classes, "split_sizes": self.split_sizes, "class_counts": self.class_counts})
    }
    fn find_row(&self, name: &str) -> Option<&Row> {
        self.row(name).or_else(|| self.seed_runs.iter().find(|r| run_key(&r.model, r.seed) == name))
    }
    fn row_names(&self) -> Vec<String> {
        let extra = self.seed_runs.iter().map(|r| run_key(&r.model, r.seed));
        self.rows.iter().map(|r| r.model.clone()).chain(extra).collect()
    }
}

impl Results {
    /// Whether the PyTorch latencies beside the rows were timed on the machine that ran them:
    /// `speed_reference` names the bench's machine in [`crate::eval::bench_file::Bench::source`]'s
    /// words ("... on MACHINE, N threads").
    pub fn pytorch_on_this_machine(&self) -> bool {
        let on = format!(" on {}, ", self.machine);
        !self.machine.is_empty() && self.speed_reference.as_deref().is_some_and(|s| s.contains(&on))
    }

    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.model == name)
    }

    /// Every run of row `name` with test predictions: the run's seed first, then the others.
    pub fn runs(&self, name: &str) -> Vec<&Row> {
        let scored = |x: &&Row| x.test_predictions.len() == self.test_labels.len() && !self.test_labels.is_empty();
        self.rows.iter().chain(&self.seed_runs).filter(|x| x.model == name).filter(scored).collect()
    }

    /// How far batch-1 latency strays between runs of one network here: the largest ratio of the
    /// slowest to the fastest run of any row timed at several seeds (the same computation, so the
    /// spread is the measurement's alone); `None` without such a row.
    pub fn latency_noise(&self) -> Option<f64> {
        let spread = |name: &str| {
            let ms: Vec<f64> =
                self.rows.iter().chain(&self.seed_runs).filter(|x| x.model == name).map(|x| x.latency_ms_b1).collect();
            let (lo, hi) = ms.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &m| (lo.min(m), hi.max(m)));
            (ms.len() > 1 && lo > 0.0).then(|| hi / lo)
        };
        // over every row run at several seeds, also one a slide's subset of rows leaves out
        self.rows.iter().chain(&self.seed_runs).filter_map(|x| spread(&x.model)).reduce(f64::max)
    }

    /// The test predictions of row `name` at each seed it ran at, for paired tests pooled over seeds.
    pub fn predicted(&self, name: &str) -> Vec<Predicted<'_>> {
        self.runs(name).into_iter().map(|x| Predicted { seed: x.seed, pred: &x.test_predictions }).collect()
    }

    /// Mean test accuracy of row `name` over its runs.
    pub fn mean_accuracy(&self, name: &str) -> Option<f64> {
        let runs = self.runs(name);
        (!runs.is_empty()).then(|| runs.iter().map(|x| x.test_accuracy).sum::<f64>() / runs.len() as f64)
    }
}

/// The spread over seeds of every row with runs at more than one.
pub fn spreads(r: &Results) -> Vec<Spread> {
    spread::spreads(
        r.rows
            .iter()
            .chain(&r.seed_runs)
            .map(|x| (x.model.clone(), SeedResult::kept(x.seed, x.test_accuracy, &x.history, x.best_evaluation))),
    )
}

/// Pretrained vs random init of each architecture that has both; best pretrained vs best EmotionNet.
pub fn comparisons(r: &Results) -> Vec<metrics::PairedTest> {
    let scored: Vec<&Row> = r.rows.iter().filter(|x| !r.runs(&x.model).is_empty()).collect();
    let pair = |a: &Row, b: &Row| {
        spread::pooled_test(&a.model, &b.model, &r.test_labels, &r.predicted(&a.model), &r.predicted(&b.model))
    };
    let mut out = Vec::new();
    for pre in scored.iter().filter(|x| x.init == Init::Imagenet) {
        for rnd in scored.iter().filter(|x| x.init == Init::Random && x.arch == pre.arch) {
            out.extend(pair(pre, rnd));
        }
    }
    let mean = |x: &Row| r.mean_accuracy(&x.model).unwrap_or(f64::NAN);
    let best =
        |f: &dyn Fn(&Row) -> bool| scored.iter().copied().filter(|x| f(x)).max_by(|a, b| mean(a).total_cmp(&mean(b)));
    let transfer = best(&|x| x.init == Init::Imagenet);
    if let (Some(a), Some(b)) = (transfer, best(&|x| x.arch.is_custom())) {
        out.extend(pair(a, b));
    }
    // a random-init backbone can beat every EmotionNet: transfer is then tested against it too
    if let (Some(a), Some(b)) = (transfer, best(&|x| x.init != Init::Imagenet)) {
        if !b.arch.is_custom() && b.arch != a.arch {
            out.extend(pair(a, b));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(r: &Results) -> Vec<(String, String)> {
        comparisons(r).into_iter().map(|c| (c.a, c.b)).collect()
    }

    #[test]
    fn transfer_is_tested_against_its_ablation_the_best_emotionnet_and_a_better_random_backbone() {
        let mut r = crate::report::fixtures::part1();
        let (transfer, ablation) = ("mobilenet_v2".to_string(), "mobilenet_v2_random".to_string());
        let custom = |r: &Results| {
            let best = r.rows.iter().filter(|x| x.arch.is_custom());
            best.max_by(|a, b| r.mean_accuracy(&a.model).unwrap().total_cmp(&r.mean_accuracy(&b.model).unwrap()))
                .map(|x| x.model.clone())
                .unwrap()
        };
        let usual = vec![(transfer.clone(), ablation.clone()), (transfer.clone(), custom(&r))];
        // every random backbone below the best EmotionNet: the two usual tests only
        for x in r.rows.iter_mut().filter(|x| x.init == Init::Random && !x.arch.is_custom()) {
            x.test_predictions = r.test_labels.iter().map(|&l| (l + 1) % 7).collect();
            x.test_accuracy = 0.0;
        }
        assert_eq!(pairs(&r), usual);
        // ResNet18 from random init now right on every face: tested against transfer as well
        let resnet = r.rows.iter_mut().find(|x| x.model == "resnet18_random").unwrap();
        (resnet.test_predictions, resnet.test_accuracy) = (r.test_labels.clone(), 1.0);
        let mut want = usual.clone();
        want.push((transfer.clone(), "resnet18_random".into()));
        assert_eq!(pairs(&r), want);
        // the best random backbone being the transfer row's own ablation adds nothing
        for x in r.rows.iter_mut().filter(|x| x.init == Init::Random && !x.arch.is_custom()) {
            let perfect = x.model == ablation;
            x.test_predictions = r.test_labels.iter().map(|&l| if perfect { l } else { (l + 1) % 7 }).collect();
            x.test_accuracy = if perfect { 1.0 } else { 0.0 };
        }
        assert_eq!(pairs(&r), usual);
    }
}
