//! Notebook helpers: open a run by profile, reuse finished rows or train, and show tables and
//! text inline in evcxr. Kept here so notebook cells stay a few lines long; what the tables and
//! sentences say is computed in [`crate::report::takeaways`].
use crate::config::paths;
use crate::config::run::PartResults;
use crate::config::run::{Run, RunConfig};
use crate::error::{Error, Result};
use crate::experiments::reuse::{self, Prior};
use crate::experiments::{part1, part2};
use crate::models::registry;
use crate::{device, report, Profile};
use std::path::PathBuf;

pub use crate::report::claims::{part1_said, part2_said};
pub use crate::report::compute::{part1_compute_headline, part1_compute_takeaway, part1_equal_compute};
pub use crate::report::html::{table, Html};
pub use crate::report::near_copies::{near_copies_takeaway, part1_without_near_copies};
pub use crate::report::seeds::{part1_spread_table, part1_spread_takeaway, part2_spread_table, part2_spread_takeaway};
pub use crate::report::sizes::{part1_size_table, part1_size_takeaway};
pub use crate::report::takeaways::{
    curves_takeaway, part1_ablation_takeaway, part1_benchmark_takeaway, part1_conclusions, part1_confusion_takeaway,
    part1_less_is_more, part1_samples_takeaway, part1_table, part1_top_losses_takeaway, part2_comparison_takeaway,
    part2_conclusions, part2_drift_takeaway, part2_split_table, part2_split_takeaway, part2_table, part2_takeaway,
    part2_training_takeaway, Columns,
};
pub use crate::trained::evaluate::Part;
pub use crate::trained::notebook::{cross_data, example_faces, try_faces, try_reviews};

/// A figure, or a sentence saying why there is none.
pub enum FigureOr {
    Figure(crate::report::plots::Figure),
    Text(Html),
}

impl FigureOr {
    pub fn evcxr_display(&self) {
        match self {
            FigureOr::Figure(f) => f.evcxr_display(),
            FigureOr::Text(h) => h.evcxr_display(),
        }
    }

    fn or_say(f: Option<crate::report::plots::Figure>, why: &str) -> Self {
        f.map_or_else(|| FigureOr::Text(crate::report::takeaways::sentence(why.into())), FigureOr::Figure)
    }
}

/// Test and validation accuracy over seeds of the Part 1 rows run at several.
pub fn part1_spread(r: &part1::Results) -> Result<FigureOr> {
    Ok(FigureOr::or_say(report::seeds::part1_spread(r)?, "No row of this run ran at more than one seed."))
}

/// The held-out faces that copy a training face, each above its copy.
pub fn near_copy_pairs(c: &crate::data::near_copies::NearCopies) -> Result<FigureOr> {
    let none = "No validation or test image copies a training image.";
    Ok(FigureOr::or_say(report::near_copies::near_copy_pairs(c)?, none))
}

pub fn part2_spread(r: &part2::Results) -> Result<FigureOr> {
    Ok(FigureOr::or_say(report::seeds::part2_spread(r)?, "No run of this part ran at more than one seed."))
}

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
    crate::numerics::flush_denormals(true);
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
    report::part1_outputs(&r.part_dir(part1::PART), &res)?;
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
    report::part2_outputs(&r.part_dir(part2::PART), &res)?;
    Ok(res)
}

/// The run's Part 1 results with only the rows named, for a slide that tells the story so far.
pub fn only(r: &part1::Results, rows: &[&str]) -> part1::Results {
    let mut part = r.clone();
    part.rows.retain(|x| rows.contains(&x.model.as_str()));
    part
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
    // the size the run chose for the row, where it trained
    let image_size = r.row(model).map_or_else(|| r.plan.size_for(&spec.arch), |row| row.image_size);
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
        "<p><b>{}</b> at {image_size} px: <b>{params}</b> parameters ({:.1} MB as float32)</p>",
        report::names::shown(model),
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

/// Each ImageNet network of Part 1 built and loaded as the run loads it, or why it cannot be
/// here: a row without its weights is skipped, never trained from random weights as transfer.
pub fn pretrained_status(image_size: u32) -> Html {
    let mut rows = Vec::new();
    for m in registry::IMAGE_MODELS {
        let Some(w) = m.imagenet else { continue };
        let status = match (w.find(), pretrained(m.row, image_size)) {
            (None, _) => "not installed here: its rows are skipped".to_string(),
            (Some(_), Ok(_)) => "loaded: every tensor, the right shape; head replaced".to_string(),
            (Some(_), Err(e)) => format!("refused: {e}"),
        };
        rows.push(vec![m.label.to_string(), w.pth.to_string(), status]);
    }
    table(&["network", "ImageNet weights", "here"], &rows)
}

/// The device this notebook trains on, the machine, and the thread count.
pub fn device() -> Html {
    let dev = format!("{:?}", device::pick());
    let cuda = if tch::Cuda::is_available() { "a CUDA device is available" } else { "no CUDA device" };
    crate::report::takeaways::sentence(format!(
        "Training here on {}, with {} torch threads; {cuda}.",
        crate::report::takeaways::device_label(&dev, &device::machine()),
        tch::get_num_threads()
    ))
}

pub fn augmentation_examples(size: u32, seed: u64) -> Result<crate::report::plots::Figure> {
    use crate::data::augment::{AugmentConfig, Transform};
    let ds = crate::data::faces::load(&data_root().join(paths::FACES.dir), Default::default())?;
    let (eval, train) = (Transform::eval(size), Transform::train(size, AugmentConfig::default()));
    let (mut imgs, mut captions) = (Vec::new(), Vec::new());
    for k in 0..5 {
        let item = &ds.train[k * ds.train.len() / 5];
        let img = crate::data::faces::decode(&item.path)?;
        for (tf, name) in [(&eval, "original"), (&train, "augmented")] {
            let chw = tf.apply(&img, &mut Transform::rng(seed, 1, k));
            imgs.push((tf.denormalise_to_rgb(&chw), size, size));
            captions.push([ds.classes[item.label as usize].clone(), name.to_string()]);
        }
    }
    crate::report::plots::sample_grid_with(
        "Train-only augmentation: crop, flip, rotate, colour jitter",
        &imgs,
        &captions,
        None,
    )
}

/// Slide `page` (from 1) of the original deck's Part 1 claims about results, each with this run's verdict
/// and numbers ([`report::claims::PER_SLIDE`] to a slide).
pub fn part1_claims(r: &part1::Results, page: usize) -> Html {
    claims_page(&report::claims::part1_claims(r), page)
}

/// Slide `page` (from 1) of the original deck's Part 2 claims about results.
pub fn part2_claims(r: &part2::Results, page: usize) -> Html {
    claims_page(&report::claims::part2_claims(r), page)
}

fn claims_page(claims: &[report::claims::Checked], page: usize) -> Html {
    let per = report::claims::PER_SLIDE;
    let start = (page.max(1) - 1) * per;
    report::claims::claims_table(claims.get(start..(start + per).min(claims.len())).unwrap_or(&[]))
}

/// The ImageNet ResNet rows and their random-init ablation: their numbers where they ran, and
/// for a row that did not run, why (never an error string).
pub fn resnet_rows(r: &part1::Results) -> Html {
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for m in part1::backbone_rows() {
        match r.row(&m) {
            Some(x) => rows.push(vec![
                report::names::shown(&m),
                format!("{} px", x.image_size),
                format!("{:e}", x.train_config.lr),
                crate::report::html::pct(x.test_accuracy),
                crate::report::html::ci(x.test_accuracy_ci95),
                format!("{:.2}M", x.params as f64 / 1e6),
            ]),
            None if r.skipped_models.iter().any(|(s, _)| *s == m) => missing.push(m),
            None => {}
        }
    }
    let mut h = table(&["model", "input", "lr", "test acc", "95% CI", "params"], &rows).0;
    if !missing.is_empty() {
        h += &format!(
            "<p class=\"caption\">Not run here: {} (ImageNet weights not installed: no package registry ships them; \
             the README says how to add them).</p>",
            missing.iter().map(|m| report::names::shown(m)).collect::<Vec<_>>().join(", ")
        );
    }
    Html(h)
}

/// Time and the labels: the positive share by month in the Drugs.com train, validation and test
/// splits, and the test accuracy by month of the direct runs (months with under 10 reviews
/// left out). Reloads the split the run used and checks it is the one the run scored.
pub fn part2_drift(r: &Run, res: &part2::Results) -> Result<crate::report::plots::Figure> {
    use crate::data::eda;
    use crate::report::plots::{timeline, Line, Panel};
    let [train, valid, test] = part2::drugs_com_splits(r, &res.plan)?;
    if test.iter().map(|x| i64::from(x.label)).collect::<Vec<_>>() != res.test_labels {
        return Err(Error::Config(
            "the Drugs.com test split on disk is not the one this run scored (the data changed): rerun part 2".into(),
        ));
    }
    const MIN_N: usize = 10;
    let all = eda::months(&[&train, &valid, &test]);
    let share =
        |name, s: &[crate::data::text::Review]| Line { name, values: eda::positive_share_by_month(s, &all, MIN_N) };
    let test_months = eda::months(&[&test]);
    let mut acc = Vec::new();
    for row in res.rows.iter().filter(|x| x.train_source == crate::data::text::Source::DrugsCom) {
        acc.push(Line {
            name: row.model.name(),
            values: eda::accuracy_by_month(&test, &row.test_predictions, &test_months, MIN_N)?,
        });
    }
    timeline(
        "Drugs.com over time: labels and accuracy by month",
        [
            Panel {
                caption: "Positive share by month",
                y_desc: "positive reviews",
                periods: &all,
                lines: vec![share("train", &train), share("valid", &valid), share("test", &test)],
            },
            Panel {
                caption: "Test accuracy by month (direct runs)",
                y_desc: "accuracy",
                periods: &test_months,
                lines: acc,
            },
        ],
    )
}

/// Two real Drugs.com training reviews for each band of ratings on both sides of the cut
/// (1-3, 4 to the cut, the cut to 8, 9-10), so the threshold can be judged by reading; none with
/// wording unfit for a projected slide.
pub fn rating_examples(r: &part2::Results) -> Result<Html> {
    use crate::data::text::{drugs_com, LoadOptions};
    let cut = r.plan.threshold;
    let opts = LoadOptions { skip_bad_rows: false, threshold: cut };
    let mut reviews = drugs_com::load(&data_root().join(paths::DRUGS_COM.dir), &opts)?.train;
    reviews.retain(|x| crate::data::eda::fit_for_a_screen(&x.text));
    let bands = [(1.0, 3.0), (4.0, cut - 1.0), (cut, 8.0), (9.0, 10.0)];
    let rows: Vec<Vec<String>> = crate::data::eda::examples_by_band(&reviews, &bands, 2, (60, 170))
        .into_iter()
        .flat_map(|(_, _, picks)| picks)
        .map(|x| {
            let label = if x.label == 1 { "positive" } else { "negative" };
            vec![format!("{}", x.rating.unwrap_or(f32::NAN)), label.into(), x.text.clone()]
        })
        .collect();
    Ok(table(&["rating", "label", "review (Drugs.com train)"], &rows))
}

/// Versions and paths for the setup notebook.
pub fn setup_report() -> Html {
    Html(format!("<pre>{}</pre>", crate::report::html::esc(&crate::info::report(&data_root()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ablation_table_gives_each_rows_input_and_names_what_was_not_run() {
        let r = crate::report::fixtures::part1();
        let h = resnet_rows(&r).0;
        let shown: Vec<&part1::Row> =
            ["mobilenet_v2", "resnet18_random", "mobilenet_v2_random"].iter().filter_map(|m| r.row(m)).collect();
        assert_eq!(h.matches("<tr>").count(), shown.len() + 1, "{h}");
        for x in shown {
            assert!(h.contains(&format!("{} px", x.image_size)), "{}: {h}", x.model);
        }
        assert!(h.contains("Not run here: ResNet18 (ImageNet), ResNet50 (ImageNet)"), "{h}");
        assert!(!h.contains("<code>"), "no setup commands on a slide: {h}");
    }

    #[test]
    fn only_keeps_the_named_rows_and_pretrained_status_says_what_is_installed() {
        let r = crate::report::fixtures::part1();
        let so_far = only(&r, &["emotionnet_v1", "emotionnet_v2"]);
        assert_eq!(
            so_far.rows.iter().map(|x| x.model.as_str()).collect::<Vec<_>>(),
            ["emotionnet_v1", "emotionnet_v2"]
        );
        let h = pretrained_status(32).0;
        for m in registry::IMAGE_MODELS {
            let Some(w) = m.imagenet else { continue };
            let row = h.split("<tr>").find(|x| x.contains(m.label)).unwrap_or_else(|| panic!("{}: {h}", m.label));
            assert_eq!(row.contains("not installed here"), w.find().is_none(), "{row}");
            assert!(!row.contains(">/") && !row.contains(".safetensors"), "no paths on a slide: {row}");
        }
        assert!(device().0.contains("torch threads"));
        let v2 = r.row("emotionnet_v2").unwrap();
        let want = format!("<b>EmotionNetV2</b> at {} px: <b>{}</b> parameters", v2.image_size, v2.params);
        assert!(model_summary(&r, "emotionnet_v2").unwrap().0.contains(&want));
    }
}
