//! Notebook helpers: open a run by profile, reuse finished results or train, and show tables
//! and text inline in evcxr. Kept here so notebook cells stay a few lines long.
use crate::config::paths;
use crate::config::profile::Profile;
use crate::config::run::{self, Run, RunConfig};
use crate::device;
use crate::error::{Error, Result};
use crate::experiments::{part1, part2};
use std::path::PathBuf;

pub use crate::trained::evaluate::Part;
pub use crate::trained::notebook::{cross_data, example_faces, try_faces, try_reviews};

/// HTML shown inline by evcxr (and as a table in the slides).
#[derive(Debug, Clone)]
pub struct Html(pub String);

impl Html {
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT", self.0);
    }
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A table from a header and rows of cells.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Html {
    let mut h = String::from("<table><thead><tr>");
    header.iter().for_each(|c| h += &format!("<th>{}</th>", esc(c)));
    h += "</tr></thead><tbody>";
    for r in rows {
        h += "<tr>";
        r.iter().for_each(|c| h += &format!("<td>{}</td>", esc(c)));
        h += "</tr>";
    }
    Html(h + "</tbody></table>")
}

/// The profile from `AFFECT_LAB_PROFILE` (CI sets `smoke`), else `default`.
pub fn profile(default: Profile) -> Profile {
    std::env::var("AFFECT_LAB_PROFILE").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// The data root for notebooks: `AFFECT_LAB_DATA`, else `<project>/data`.
pub fn data_root() -> PathBuf {
    let r = paths::data_root(None);
    if r.is_absolute() {
        r
    } else {
        paths::project_root().join(r)
    }
}

/// The run directory `<project>/runs/<profile>` (the CLI's default), on the best device.
pub fn open_run(profile: Profile, seed: u64) -> Result<Run> {
    crate::malloc::keep_freed_memory();
    let dev = device::pick();
    let cfg = RunConfig {
        profile,
        seed,
        data_root: data_root(),
        out: paths::project_root().join("runs").join(profile.name()),
        device: format!("{dev:?}"),
        threads: tch::get_num_threads(),
        skip_bad_inputs: false,
        models: Vec::new(),
        plan_patch: None,
        version: env!("CARGO_PKG_VERSION").into(),
        started: run::now_utc(),
    };
    Run::new(cfg, dev)
}

fn finished<T: serde::de::DeserializeOwned>(r: &Run, part: &str, retrain: bool) -> Result<Option<T>> {
    if retrain {
        return Ok(None);
    }
    match run::load_results(&r.config.out, part) {
        Ok(res) => Ok(res),
        // an older or foreign results file: say so and train again rather than fail
        Err(e) => {
            println!("not reusing {}: {e}; training again", r.results_path(part).display());
            Ok(None)
        }
    }
}

/// Whether saved results were written by this results layout, under this run's seed and the plan
/// this code would use now;
/// results from an older recipe are trained again rather than shown as current.
fn same_recipe<P: serde::Serialize>(r: &Run, part: &str, (schema, seed): (u32, u64), saved: &P, now: &P) -> bool {
    let same = schema == run::RESULTS_SCHEMA
        && seed == r.config.seed
        && serde_json::to_value(saved).ok() == serde_json::to_value(now).ok();
    if !same {
        println!(
            "not reusing {}: written by older code or with another seed or plan; training again",
            r.results_path(part).display()
        );
    }
    same
}

/// Part 1 results: reuse `runs/<profile>/part1/results.json` when present (unless `retrain`),
/// else train now (and write the figures, as the CLI does).
pub fn part1(r: &Run, retrain: bool) -> Result<part1::Results> {
    if let Some(res) = finished::<part1::Results>(r, part1::PART, retrain)? {
        let plan = part1::Plan::for_profile(r.config.profile, r.config.seed);
        if res.profile == r.config.profile
            && !res.rows.is_empty()
            && same_recipe(r, part1::PART, (res.schema, res.seed), &res.plan, &plan)
        {
            println!("reusing {} ({} models, trained earlier)", r.results_path(part1::PART).display(), res.rows.len());
            return Ok(res);
        }
    }
    paths::require(&r.config.data_root, &[paths::FACES])?;
    let res = part1::run(r)?;
    part1::figures(r, &res)?;
    Ok(res)
}

pub fn part2(r: &Run, retrain: bool) -> Result<part2::Results> {
    if let Some(res) = finished::<part2::Results>(r, part2::PART, retrain)? {
        let plan = part2::Plan::for_profile(r.config.profile, r.config.seed);
        if res.profile == r.config.profile
            && !res.rows.is_empty()
            && same_recipe(r, part2::PART, (res.schema, res.seed), &res.plan, &plan)
        {
            println!("reusing {} ({} runs, trained earlier)", r.results_path(part2::PART).display(), res.rows.len());
            return Ok(res);
        }
    }
    paths::require(&r.config.data_root, &[paths::DRUGS_COM, paths::DRUGLIB, paths::IMDB])?;
    let res = part2::run(r)?;
    part2::figures(r, &res)?;
    Ok(res)
}

pub fn row<'a>(r: &'a part1::Results, model: &str) -> Result<&'a part1::Row> {
    r.rows
        .iter()
        .find(|x| x.model == model)
        .ok_or_else(|| Error::Config(format!("no row `{model}` in part 1 results (skipped: {:?})", r.skipped_models)))
}

pub fn run2<'a>(r: &'a part2::Results, model: &str, source: &str) -> Result<&'a part2::Row> {
    r.rows
        .iter()
        .find(|x| x.model.name() == model && x.train_source.name() == source)
        .ok_or_else(|| Error::Config(format!("no part 2 run {model}/{source}")))
}

/// Parameter count and architecture summary of a Part 1 model at the size the run trained it
/// at, built fresh (no training).
pub fn model_summary(r: &part1::Results, arch: part1::Arch) -> Result<Html> {
    let image_size = r.plan.size_for(arch);
    let b = part1::build(arch, part1::Init::Random, 7, image_size, tch::Device::Cpu)?;
    let params = crate::train::param_count(&b.vs);
    let mut vars: Vec<(String, Vec<i64>)> = b.vs.variables().into_iter().map(|(n, t)| (n, t.size())).collect();
    vars.sort();
    let tops: std::collections::BTreeMap<String, i64> = vars.iter().fold(Default::default(), |mut m, (n, s)| {
        if !n.ends_with("running_mean") && !n.ends_with("running_var") {
            *m.entry(n.split('.').next().unwrap_or("").to_string()).or_default() += s.iter().product::<i64>();
        }
        m
    });
    let rows: Vec<Vec<String>> = tops.iter().map(|(k, v)| vec![k.clone(), format!("{v}")]).collect();
    let mut h = format!(
        "<p><b>{arch:?}</b> at {image_size} px: <b>{params}</b> parameters ({:.1} MB as float32)</p>",
        params as f64 * 4.0 / 1e6
    );
    h += &table(&["block", "parameters"], &rows).0;
    Ok(Html(h))
}

fn ci([lo, hi]: [f64; 2]) -> String {
    format!("{:.1}-{:.1}%", lo * 100.0, hi * 100.0)
}

/// A paired test in words: whether the gap between two rows is more than test-set noise.
fn paired_sentence(c: &crate::eval::metrics::PairedTest) -> String {
    let verdict = if c.p_value < 0.05 {
        "a real difference at the 5% level"
    } else {
        "not distinguishable from noise at the 5% level"
    };
    format!(
        "{} vs {} on the same test samples: {:.1}% vs {:.1}%, {} vs {} samples right only by one (McNemar exact p = {:.2}): {verdict}.",
        c.a, c.b, c.a_accuracy * 100.0, c.b_accuracy * 100.0, c.only_a, c.only_b, c.p_value
    )
}

pub fn part1_table(r: &part1::Results) -> Html {
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|x| {
            vec![
                x.model.clone(),
                format!("{:?}", x.init).to_lowercase(),
                format!("{:.2}M", x.params as f64 / 1e6),
                format!("{:.1}", x.size_bytes as f64 / 1e6),
                x.flops.map(|f| format!("{:.2}", f / 1e9)).unwrap_or_else(|| "-".into()),
                format!("{:.2}", x.latency_ms_b1),
                format!("{:.2}", x.latency_ms_b64),
                x.pytorch_latency_ms_b1.map(|p| format!("{:.2}x", x.latency_ms_b1 / p)).unwrap_or_else(|| "-".into()),
                format!("{:.1}", x.seconds_per_epoch),
                format!("{}/{}", x.best_epoch, x.epochs),
                format!("{:.1}%", x.test_accuracy * 100.0),
                ci(x.test_accuracy_ci95),
                format!("{:.3}", x.test_macro_f1),
            ]
        })
        .collect();
    let mut h = table(
        &[
            "model",
            "init",
            "params",
            "MB",
            "GFLOPs/img",
            "ms/img b1",
            "ms/img b64",
            "vs PyTorch b1",
            "s/epoch",
            "best/epochs",
            "test acc",
            "95% CI",
            "macro-F1",
        ],
        &rows,
    )
    .0;
    h += &format!("<p>profile {}, seed {}, {} px, device {}</p>", r.profile, r.seed, r.image_size, r.device);
    for (m, why) in &r.skipped_models {
        h += &format!("<p>{}: not run. {}</p>", esc(m), esc(why));
    }
    Html(h)
}

pub fn part2_table(r: &part2::Results) -> Html {
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|x| {
            vec![
                x.model.name().into(),
                x.train_source.name().into(),
                x.init.clone(),
                format!("{}", x.train_examples),
                format!("{:.1}%", x.accuracy * 100.0),
                ci(x.accuracy_ci95),
                format!("{:.3}", x.precision),
                format!("{:.3}", x.recall),
                format!("{:.3}", x.f1),
                format!("{:.3}", x.macro_f1),
                format!("{:.0}", x.train_seconds),
            ]
        })
        .collect();
    let mut h = table(
        &[
            "model",
            "trained on",
            "init",
            "train n",
            "accuracy",
            "95% CI",
            "precision",
            "recall",
            "F1",
            "macro-F1",
            "train s",
        ],
        &rows,
    )
    .0;
    h += &format!(
        "<p>all tested on {} Drugs.com reviews dated {:?}; profile {}, seed {}, max_len {}</p>",
        r.test_examples, r.test_dates, r.profile, r.seed, r.plan.max_len
    );
    Html(h)
}

/// Conclusions computed from the Part 1 numbers.
pub fn part1_conclusions(r: &part1::Results) -> Html {
    let mut out = Vec::new();
    let best = |f: &dyn Fn(&part1::Row) -> bool| {
        r.rows.iter().filter(|x| f(x)).max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
    };
    if let Some(b) = best(&|x| x.init == part1::Init::Imagenet) {
        out.push(format!("Best transfer model: {} at {:.1}% test accuracy.", b.model, b.test_accuracy * 100.0));
    }
    if let Some(b) = best(&|x| x.arch.is_custom()) {
        out.push(format!(
            "Best model from scratch: {} at {:.1}% with {:.2}M parameters.",
            b.model,
            b.test_accuracy * 100.0,
            b.params as f64 / 1e6
        ));
    }
    for (pre, rnd) in [("resnet18", "resnet18_random"), ("mobilenet_v2", "mobilenet_v2_random")] {
        if let (Ok(a), Ok(b)) = (row(r, pre), row(r, rnd)) {
            let d = (a.test_accuracy - b.test_accuracy) * 100.0;
            out.push(format!("Same architecture, same budget: {pre} ImageNet {:.1}% vs random init {:.1}% ({}{:.1} points from pretraining).", a.test_accuracy * 100.0, b.test_accuracy * 100.0, if d >= 0.0 { "+" } else { "" }, d));
        }
    }
    if let (Ok(a), Ok(b)) = (row(r, "resnet18"), row(r, "resnet50")) {
        out.push(format!("ResNet50 vs ResNet18: {:.1}% vs {:.1}%.", b.test_accuracy * 100.0, a.test_accuracy * 100.0));
    }
    out.extend(r.comparisons.iter().map(paired_sentence));
    if r.profile == Profile::Smoke {
        out.push(
            "Smoke profile: these numbers only prove the pipeline runs; they say nothing about the models.".into(),
        );
    }
    Html(format!("<ul>{}</ul>", out.iter().map(|s| format!("<li>{}</li>", esc(s))).collect::<String>()))
}

pub fn part2_conclusions(r: &part2::Results) -> Html {
    let mut out = Vec::new();
    if let Some(b) = r.rows.iter().max_by(|a, b| a.accuracy.total_cmp(&b.accuracy)) {
        out.push(format!(
            "Highest accuracy on the Drugs.com test split: {} trained on {} ({:.1}%).",
            b.model.name(),
            b.train_source.name(),
            b.accuracy * 100.0
        ));
    }
    let majority =
        r.eda.test_label_distribution.counts.iter().copied().max().unwrap_or(0) as f64 / r.test_examples.max(1) as f64;
    out.push(format!("Always predicting the majority class would score {:.1}%.", majority * 100.0));
    for m in ["minilm", "bilstm"] {
        let acc = |s: &str| run2(r, m, s).map(|x| x.accuracy * 100.0).ok();
        if let (Some(d), Some(i), Some(n)) = (acc("drugscom"), acc("imdb"), acc("druglib")) {
            out.push(format!("{m}: direct {d:.1}%, near indirect (Druglib) {n:.1}%, far indirect (IMDB) {i:.1}%."));
        }
    }
    out.extend(r.comparisons.iter().map(paired_sentence));
    if r.profile == Profile::Smoke {
        out.push("Smoke profile: these numbers only prove the pipeline runs.".into());
    }
    Html(format!("<ul>{}</ul>", out.iter().map(|s| format!("<li>{}</li>", esc(s))).collect::<String>()))
}

/// Original and augmented versions of a few training faces (the train-only transforms).
pub fn augmentation_examples(size: u32, seed: u64) -> Result<crate::report::plots::Figure> {
    use crate::data::augment::{AugmentConfig, Transform};
    let ds = crate::data::faces::load(&data_root().join(paths::FACES.dir), Default::default())?;
    let (eval, train) = (Transform::eval(size), Transform::train(size, AugmentConfig::default()));
    let (mut imgs, mut truth, mut pred) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..5 {
        let item = &ds.train[k * ds.train.len() / 5];
        let img = crate::data::faces::decode(&item.path)?;
        for (tf, name) in [(&eval, "original"), (&train, "augmented")] {
            let chw = tf.apply(&img, &mut Transform::rng(seed, 1, k));
            imgs.push((tf.denormalise_to_rgb(&chw), size, size));
            let caption = format!("{} {}", ds.classes[item.label as usize], name);
            truth.push(caption.clone());
            pred.push(caption);
        }
    }
    crate::report::plots::sample_grid(
        "Train-only augmentation: crop, flip, rotate, colour jitter",
        &imgs,
        &truth,
        &pred,
    )
}

/// Versions and paths for the setup notebook.
pub fn setup_report() -> Html {
    Html(format!("<pre>{}</pre>", esc(&crate::info::report(&data_root()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_results_are_reused_only_under_the_same_seed_and_plan() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = crate::testing::run_config(Profile::Quick, 42, dir.path().join("r"));
        let r = Run::new(cfg, tch::Device::Cpu).unwrap();
        let now = part2::Plan::for_profile(Profile::Quick, 42);
        // a saved plan goes through JSON, as it does in results.json
        let saved: part2::Plan = serde_json::from_value(serde_json::to_value(&now).unwrap()).unwrap();
        let current = run::RESULTS_SCHEMA;
        assert!(same_recipe(&r, part2::PART, (current, 42), &saved, &now));
        assert!(!same_recipe(&r, part2::PART, (current, 7), &saved, &now), "another seed");
        assert!(!same_recipe(&r, part2::PART, (0, 42), &saved, &now), "written before the schema was recorded");
        let older = part2::Plan { max_len: 96, ..saved };
        assert!(!same_recipe(&r, part2::PART, (current, 42), &older, &now), "another recipe");
    }
}
