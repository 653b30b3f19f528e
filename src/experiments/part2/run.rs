//! Running Part 2: prepare the sources, then train and score every (model, source) pair on the
//! one Drugs.com test split, writing `results.json` after every row.
use super::prepare::{self, labels, Prepared, Sources};
use super::recipes::{recipe, Recipe};
use super::{comparisons, plan, run_name, Model, Plan, Results, Row, CLASSES, MODELS, PART};
use crate::config::run::Run;
use crate::data::batches::BatchSource;
use crate::data::text::{self, Review, Source};
use crate::error::{Error, Result};
use crate::eval::metrics;
use crate::experiments::reuse::{self, Earlier};
use crate::train::{self, TrainConfig, Trainee};
use tch::nn;

/// Train and evaluate one (model, source) pair; `random_split`: the Drugs.com random-split run.
fn run_one(run: &Run, plan: &Plan, model: Model, src: &Prepared, test: &[Review], random_split: bool) -> Result<Row> {
    let seed = run.config.seed;
    tch::manual_seed(seed as i64);
    let mut vs = nn::VarStore::new(run.device);
    let label = run_name(model, src.info.source) + if random_split { super::RANDOM_SUFFIX } else { "" };
    let vocab_file = run.part_dir(PART).join("checkpoints").join(format!("{label}.vocab.json"));
    let r: Recipe = recipe(model, &mut vs, plan, src, test, seed, &vocab_file)?;
    let cfg = TrainConfig { class_weights: Some(src.info.class_weights.to_vec()), ..r.cfg };
    let params = train::param_count(&vs);
    eprintln!(
        "[{label}] {params} params, {} train / {} valid ({}) / {} test (drugscom), init: {}",
        r.train.len(),
        r.valid.len(),
        src.info.source.name(),
        r.test.len(),
        r.weights_source
    );
    let ckpt = run.staged_checkpoint(PART, &label);
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
    let wanted = &run.config.models;
    // a run is asked for by its name, by its model's name, or by naming nothing
    let asked = |model: Model, name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name || w == model.name());
    let previous = reuse::begin::<Results>(run, &plan, &results)?;
    for model in MODELS {
        for src in &sources {
            crate::interrupt::check()?;
            let name = run_name(model, src.info.source);
            let asked = asked(model, &name);
            match reuse::earlier(previous.as_ref(), &name, asked, run) {
                Earlier::Keep(row) => {
                    results.rows.push(row);
                    results.comparisons = comparisons(&results);
                    continue;
                }
                Earlier::Leave => continue,
                Earlier::Train => {}
            }
            let row = run_one(run, &plan, model, src, &test, false)?;
            eprintln!(
                "[{}_{}] accuracy {:.3}, F1(pos) {:.3}, macro-F1 {:.3}",
                model.name(),
                src.info.source.name(),
                row.accuracy,
                row.f1,
                row.macro_f1
            );
            results.rows.push(row);
            results.comparisons = comparisons(&results);
            run.write_results(PART, &results)?;
        }
    }
    if let Some((src, random_test)) = &random {
        for model in MODELS {
            crate::interrupt::check()?;
            let name = format!("{}{}", run_name(model, src.info.source), super::RANDOM_SUFFIX);
            let asked = asked(model, &name);
            match reuse::earlier(previous.as_ref(), &name, asked, run) {
                Earlier::Keep(row) => results.random_split.push(row),
                Earlier::Leave => {}
                Earlier::Train => {
                    let row = run_one(run, &plan, model, src, random_test, true)?;
                    eprintln!("[{name}] accuracy {:.3} on the random split's test reviews", row.accuracy);
                    results.random_split.push(row);
                    run.write_results(PART, &results)?;
                }
            }
        }
    }
    if results.rows.is_empty() && results.random_split.is_empty() {
        return Err(Error::Config("part 2 ran no model".into()));
    }
    run.write_results(PART, &results)?;
    Ok(results)
}
