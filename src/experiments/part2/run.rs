//! Running Part 2: prepare the sources, then train and score every (model, source) pair on the
//! one Drugs.com test split, writing `results.json` after every row.
use super::prepare::{self, labels, Prepared, Sources};
use super::recipes::{recipe, Recipe};
use super::{comparisons, plan, run_name, spreads, Model, Plan, Results, Row, CLASSES, MODELS, PART};
use crate::config::run::Run;
use crate::data::batches::BatchSource;
use crate::data::text::{self, Review, Source};
use crate::error::{Error, Result};
use crate::eval::metrics;
use crate::experiments::reuse::{self, Earlier};
use crate::experiments::seeds::{key_at, run_key};
use crate::train::staged::Staged;
use crate::train::{self, TrainConfig, Trainee};
use tch::nn;

/// Which run of a (model, source) pair: on the date split or the random one, and at which seed.
#[derive(Debug, Clone, Copy)]
struct How {
    random_split: bool,
    seed: u64,
}

/// Train and evaluate one (model, source) pair.
fn run_one(run: &Run, plan: &Plan, model: Model, src: &Prepared, test: &[Review], how: How) -> Result<Row> {
    let How { random_split, seed } = how;
    tch::manual_seed(seed as i64);
    let mut vs = nn::VarStore::new(run.device);
    let name = run_name(model, src.info.source) + if random_split { super::RANDOM_SUFFIX } else { "" };
    let label = key_at(&name, seed, run.config.seed);
    let vocab_file = run.part_dir(PART).join("checkpoints").join(format!("{label}.vocab.json"));
    let r: Recipe = recipe(model, &mut vs, plan, src, test, seed, &vocab_file)?;
    let cfg = TrainConfig { class_weights: Some(src.info.class_weights.to_vec()), seed, ..r.cfg };
    let params = train::param_count(&vs);
    eprintln!(
        "[{label}] {params} params, {} train / {} valid ({}) / {} test (drugscom), init: {}",
        r.train.len(),
        r.valid.len(),
        src.info.source.name(),
        r.test.len(),
        r.weights_source
    );
    let ckpt = Staged::row(run, PART, &label);
    let trainee = Trainee { model: r.net.as_ref(), vs: &mut vs, groups: r.groups };
    let outcome = train::fit(&label, trainee, &r.train, &r.valid, &cfg, &ckpt.training)?;
    let preds = train::predict(r.net.as_ref(), &r.test, run.device, 64)?;
    let names: Vec<String> = CLASSES.iter().map(|s| s.to_string()).collect();
    let rep = metrics::report(metrics::confusion(&preds.truth, &preds.pred, 2), &names);
    let pos = &rep.per_class[1];
    let row = Row {
        model,
        random_split,
        train_source: src.info.source,
        valid_source: src.info.source,
        test_source: Source::DrugsCom,
        init: r.init.into(),
        weights_source: r.weights_source,
        params,
        train_examples: r.train.len(),
        test_examples: r.test.len(),
        epochs: outcome.epochs(),
        best_epoch: outcome.best_epoch,
        best_evaluation: Some(outcome.best_eval),
        stopped_by: Some(outcome.stop),
        numerics: Some(outcome.numerics),
        train_seconds: outcome.train_seconds,
        accuracy: rep.accuracy,
        accuracy_ci95: metrics::accuracy_ci95(rep.accuracy, preds.truth.len()),
        precision: pos.precision,
        recall: pos.recall,
        f1: pos.f1,
        macro_f1: rep.macro_f1,
        confusion: rep.confusion.clone(),
        history: outcome.history,
        train_config: cfg,
        seed,
        profile: run.config.profile,
        max_len: plan.max_len,
        vocab_size: r.vocab_size,
        test_predictions: preds.pred,
    };
    ckpt.commit()?;
    Ok(row)
}

/// Results with the data's description and no rows yet.
fn header(run: &Run, plan: &Plan, sources: &[Prepared], test: &[Review], eda: super::Eda) -> Results {
    Results {
        schema: crate::config::run::RESULTS_SCHEMA,
        profile: run.config.profile,
        seed: run.config.seed,
        device: format!("{:?}", run.device),
        machine: crate::device::machine(),
        plan: plan.clone(),
        plan_patch: crate::config::plan_patch::for_part(run.config.plan_patch.as_ref(), PART).cloned(),
        test_examples: test.len(),
        test_dates: text::date_range(test),
        sources: sources.iter().map(|s| s.info.clone()).collect(),
        eda,
        test_labels: labels(test),
        rows: Vec::new(),
        comparisons: Vec::new(),
        random_split: Vec::new(),
        seed_runs: Vec::new(),
        spread: Vec::new(),
    }
}

/// Run Part 2 and write `<out>/part2/results.json`.
pub fn run(run: &Run) -> Result<Results> {
    let plan = plan(&run.config)?;
    let Sources { sources, test, eda, random } = prepare::load(run, &plan)?;
    for s in &sources {
        eprintln!(
            "{:?}: {} loaded, {} duplicates removed, {} train / {} valid, class weights {:?}",
            s.info.source, s.info.loaded, s.info.duplicates_removed, s.info.train, s.info.valid, s.info.class_weights
        );
    }
    let mut results = header(run, &plan, &sources, &test, eda);
    let previous = reuse::begin::<Results>(run, &plan, &results)?;
    let part = Shared { run, plan: &plan, previous: previous.as_ref(), test: &test };
    date_split(&part, &sources, &mut results)?;
    if let Some((src, random_test)) = &random {
        random_split(&part, src, random_test, &mut results)?;
    }
    other_seeds(&part, &sources, &mut results)?;
    if results.rows.is_empty() && results.random_split.is_empty() {
        return Err(Error::Config("part 2 ran no model".into()));
    }
    run.write_results(PART, &results)?;
    Ok(results)
}

/// What every run of the part shares.
struct Shared<'a> {
    run: &'a Run,
    plan: &'a Plan,
    /// The earlier invocation's results of the same configuration, whose finished rows are kept.
    previous: Option<&'a Results>,
    /// The Drugs.com test reviews of the date split.
    test: &'a [Review],
}

impl Shared<'_> {
    /// A run is asked for by its name, by its model's name, or by naming nothing.
    fn asked(&self, model: Model, name: &str) -> bool {
        let wanted = &self.run.config.models;
        wanted.is_empty() || wanted.iter().any(|w| w == name || w == model.name())
    }
}

/// Every (model, source) pair at the run's seed, tested on the date split.
fn date_split(part: &Shared, sources: &[Prepared], results: &mut Results) -> Result<()> {
    let (run, seed) = (part.run, part.run.config.seed);
    for model in MODELS {
        for src in sources {
            crate::interrupt::check()?;
            let name = run_name(model, src.info.source);
            match reuse::earlier(part.previous, &name, part.asked(model, &name), run) {
                Earlier::Keep(row) => {
                    results.rows.push(row);
                    results.comparisons = comparisons(results);
                    continue;
                }
                Earlier::Leave => continue,
                Earlier::Train => {}
            }
            let row = run_one(run, part.plan, model, src, part.test, How { random_split: false, seed })?;
            eprintln!(
                "[{}_{}] accuracy {:.3}, F1(pos) {:.3}, macro-F1 {:.3}",
                model.name(),
                src.info.source.name(),
                row.accuracy,
                row.f1,
                row.macro_f1
            );
            results.rows.push(row);
            results.comparisons = comparisons(results);
            run.write_results(PART, results)?;
        }
    }
    Ok(())
}

/// Each model on Drugs.com split at random with the date split's sizes.
fn random_split(part: &Shared, src: &Prepared, random_test: &[Review], results: &mut Results) -> Result<()> {
    let (run, seed) = (part.run, part.run.config.seed);
    for model in MODELS {
        crate::interrupt::check()?;
        let name = format!("{}{}", run_name(model, src.info.source), super::RANDOM_SUFFIX);
        match reuse::earlier(part.previous, &name, part.asked(model, &name), run) {
            Earlier::Keep(row) => results.random_split.push(row),
            Earlier::Leave => {}
            Earlier::Train => {
                let row = run_one(run, part.plan, model, src, random_test, How { random_split: true, seed })?;
                eprintln!("[{name}] accuracy {:.3} on the random split's test reviews", row.accuracy);
                results.random_split.push(row);
                run.write_results(PART, results)?;
            }
        }
    }
    Ok(())
}

/// The plan's other seeds, after every run has one (so a cut-short run still has them all).
fn other_seeds(part: &Shared, sources: &[Prepared], results: &mut Results) -> Result<()> {
    let (run, seed) = (part.run, part.run.config.seed);
    for model in MODELS {
        for src in sources {
            let name = run_name(model, src.info.source);
            if results.row(&name).is_none() {
                continue;
            }
            for s in part.plan.seeds.extra_for(&[&name, model.name()], seed) {
                crate::interrupt::check()?;
                let key = run_key(&name, s);
                let row = match reuse::earlier(part.previous, &key, part.asked(model, &name), run) {
                    Earlier::Keep(row) => row,
                    Earlier::Leave => continue,
                    Earlier::Train => {
                        let row = run_one(run, part.plan, model, src, part.test, How { random_split: false, seed: s })?;
                        eprintln!("[{key}] accuracy {:.3}", row.accuracy);
                        row
                    }
                };
                results.seed_runs.push(row);
                (results.spread, results.comparisons) = (spreads(results), comparisons(results));
                run.write_results(PART, results)?;
            }
        }
    }
    Ok(())
}
