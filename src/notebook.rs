//! Notebook helpers: open a run by profile, reuse finished rows or train, and show tables and
//! text inline in evcxr. Kept here so notebook cells stay a few lines long; what the tables and
//! sentences say is computed in [`crate::report::takeaways`].
use crate::config::paths;
use crate::config::run::{Run, RunConfig};
use crate::error::{Error, Result};
use crate::experiments::reuse::{self, PartResults, Prior};
use crate::experiments::{part1, part2};
use crate::models::registry;
use crate::{device, report, Profile};
use std::path::PathBuf;

pub use crate::report::html::{table, Html};
pub use crate::report::takeaways::{part1_conclusions, part1_table, part2_conclusions, part2_table};
pub use crate::trained::evaluate::Part;
pub use crate::trained::notebook::{cross_data, example_faces, try_faces, try_reviews};

/// The profile from `AFFECT_LAB_PROFILE` (CI sets `smoke`), else `default`.
pub fn profile(default: Profile) -> Profile {
    std::env::var("AFFECT_LAB_PROFILE").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// The data root, by the CLI's rule (`AFFECT_LAB_DATA`, else the checkout's `data/`).
pub fn data_root() -> PathBuf {
    paths::data_root(None)
}

/// The run directory the CLI would use for `profile`, on the best device.
pub fn open_run(profile: Profile, seed: u64) -> Result<Run> {
    crate::malloc::keep_freed_memory();
    let dev = device::pick();
    Run::new(RunConfig::new(profile, seed, data_root(), paths::default_run_dir(profile), dev), dev)
}

/// `r`'s finished results when they hold every row the part would run (nothing to train), and
/// the run to train with otherwise: reusing the finished rows of the same configuration, or
/// starting over on `retrain`. Another configuration in the directory is never deleted unasked.
fn complete<R: PartResults>(
    r: &Run,
    plan: &R::Plan,
    rows: &[String],
    skipped: impl Fn(&R) -> Vec<String>,
    retrain: bool,
) -> Ready<R> {
    let train = |fresh: bool| {
        Ready::Train(Box::new(Run { config: RunConfig { reuse: !fresh, fresh, ..r.config.clone() }, device: r.device }))
    };
    if retrain {
        return train(true);
    }
    match reuse::prior::<R>(r, plan, None) {
        Prior::Same(res) => {
            let (have, skipped) = (res.row_names(), skipped(&res));
            if rows.iter().all(|n| have.contains(n) || skipped.contains(n)) {
                return Ready::Done(res);
            }
            train(false)
        }
        Prior::Other(what) => Ready::Refused(format!(
            "{} holds a run of another configuration ({what}); pass retrain = true to start over there \
             (its results and checkpoints are deleted), or move it away",
            r.part_dir(R::PART).display()
        )),
        Prior::Empty => train(false),
    }
}

/// A part's results already there, the run that will train what is missing, or why neither.
enum Ready<R> {
    Done(R),
    Train(Box<Run>),
    Refused(String),
}

/// Part 1 results: the run directory's own when complete under this recipe (unless `retrain`),
/// else train what is missing now (and write the figures, as the CLI does).
pub fn part1(r: &Run, retrain: bool) -> Result<part1::Results> {
    let rows: Vec<String> = part1::model_specs().into_iter().map(|s| s.name).collect();
    let skipped = |res: &part1::Results| res.skipped_models.iter().map(|(m, _)| m.clone()).collect();
    let r = match complete(r, &part1::plan(&r.config)?, &rows, skipped, retrain) {
        Ready::Done(res) => {
            println!("reusing {} ({} models, trained earlier)", r.results_path(part1::PART).display(), res.rows.len());
            return Ok(res);
        }
        Ready::Train(r) => r,
        Ready::Refused(why) => return Err(Error::Config(why)),
    };
    paths::require(&r.config.data_root, &part1::DATASETS)?;
    let res = part1::run(&r)?;
    report::part1_figures(&r.figures_dir(part1::PART), &res)?;
    Ok(res)
}

pub fn part2(r: &Run, retrain: bool) -> Result<part2::Results> {
    let rows: Vec<String> = part2::MODELS.iter().flat_map(|&m| part2::SOURCES.map(|s| part2::run_name(m, s))).collect();
    let none = |_: &part2::Results| Vec::new();
    let r = match complete(r, &part2::plan(&r.config)?, &rows, none, retrain) {
        Ready::Done(res) => {
            println!("reusing {} ({} runs, trained earlier)", r.results_path(part2::PART).display(), res.rows.len());
            return Ok(res);
        }
        Ready::Train(r) => r,
        Ready::Refused(why) => return Err(Error::Config(why)),
    };
    paths::require(&r.config.data_root, &part2::datasets())?;
    let res = part2::run(&r)?;
    report::part2_figures(&r.figures_dir(part2::PART), &res)?;
    Ok(res)
}

pub fn row<'a>(r: &'a part1::Results, model: &str) -> Result<&'a part1::Row> {
    r.row(model)
        .ok_or_else(|| Error::Config(format!("no row `{model}` in part 1 results (skipped: {:?})", r.skipped_models)))
}

pub fn run2<'a>(r: &'a part2::Results, model: &str, source: &str) -> Result<&'a part2::Row> {
    r.row(&format!("{model}_{source}")).ok_or_else(|| Error::Config(format!("no part 2 run {model}/{source}")))
}

/// Parameter count and architecture summary of a Part 1 network (by row name, e.g.
/// `emotionnet_v1`) at the size the run trained it at, built fresh (no training).
pub fn model_summary(r: &part1::Results, model: &str) -> Result<Html> {
    let spec = part1::model_specs()
        .into_iter()
        .find(|s| s.name == model)
        .ok_or_else(|| Error::Config(format!("no Part 1 model `{model}`")))?;
    let image_size = r.plan.size_for(&spec.arch);
    let b = spec.arch.model()?.build(registry::Init::Random, 7, image_size, tch::Device::Cpu)?;
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
        "<p><b>{model}</b> ({}) at {image_size} px: <b>{params}</b> parameters ({:.1} MB as float32)</p>",
        spec.arch.0,
        params as f64 * 4.0 / 1e6
    );
    h += &table(&["block", "parameters"], &rows).0;
    Ok(Html(h))
}

/// An ImageNet network of Part 1 (by row name) with its pretrained weights, or the error saying
/// what is missing.
pub fn pretrained(model: &str, image_size: u32) -> Result<registry::Built> {
    let m = registry::IMAGE_MODELS
        .iter()
        .find(|m| m.row == model)
        .ok_or_else(|| Error::Config(format!("no Part 1 model `{model}`")))?;
    m.build(registry::Init::Imagenet, 7, image_size, tch::Device::Cpu)
}

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
    Html(format!("<pre>{}</pre>", crate::report::html::esc(&crate::info::report(&data_root()))))
}
