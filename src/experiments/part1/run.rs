//! Running Part 1: load the faces, then train, score and benchmark each row, writing
//! `results.json` after every row.
use super::row::{run_model, Shared};
use super::{comparisons, model_specs, plan, spreads, Budget, Init, ModelSpec, Plan, Results, Row, PART};
use crate::config::run::Run;
use crate::data::faces::{self, FaceDataset, FaceItem};
use crate::error::Result;
use crate::eval::bench_file::Bench;
use crate::experiments::reuse::{self, Earlier};
use crate::experiments::seeds::run_key;

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

/// Why `spec` cannot run here (its ImageNet weights are not installed), if so.
fn not_runnable(spec: &ModelSpec) -> Result<Option<String>> {
    let imagenet = spec.arch.model()?.imagenet;
    if spec.init != Init::Imagenet || imagenet.and_then(|w| w.find()).is_some() {
        return Ok(None);
    }
    let w = imagenet.map(|w| format!("{} ({})", w.pth, w.url)).unwrap_or_default();
    Ok(Some(format!("ImageNet weights not installed: {w}; run `affect-lab fetch-weights` where a network allows. Not run rather than mislabelled.")))
}

/// Results with the data's description and no rows yet.
fn header(run: &Run, ds: &FaceDataset, plan: &Plan, test_items: &[FaceItem], reference: Option<&Bench>) -> Results {
    Results {
        schema: crate::config::run::RESULTS_SCHEMA,
        profile: run.config.profile,
        seed: run.config.seed,
        device: format!("{:?}", run.device),
        machine: crate::device::machine(),
        speed_reference: reference.map(Bench::source),
        image_size: plan.image_size,
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
        seed_runs: Vec::new(),
        spread: Vec::new(),
        latency_rounds: None,
    }
}

/// Put `row` among the results in the order of `specs`, and compare again.
fn add_in_order(results: &mut Results, row: Row, specs: &[ModelSpec]) {
    results.rows.push(row);
    results.rows.sort_by_key(|r| specs.iter().position(|s| s.name == r.model));
    results.comparisons = comparisons(results);
}

/// Run Part 1 and write `<out>/part1/results.json`.
pub fn run(run: &Run) -> Result<Results> {
    let root = run.config.data_root.join(crate::config::paths::FACES.dir);
    let ds = faces::load(&root, faces::LoadOptions { skip_bad_images: run.config.skip_bad_inputs })?;
    if !ds.skipped.is_empty() {
        eprintln!("skipped {} unreadable images", ds.skipped.len());
    }
    let plan = plan(&run.config)?;
    let (valid_items, test_items) = (take(&ds.valid, plan.max_valid), take(&ds.test, plan.max_test));
    eprintln!(
        "faces: {} classes, {}/{}/{} images (train/valid/test); input sizes: {}",
        ds.classes.len(),
        ds.train.len(),
        valid_items.len(),
        test_items.len(),
        sizes_line(&plan)
    );
    let reference = Bench::committed();
    let mut results = header(run, &ds, &plan, &test_items, reference.as_ref());
    let previous = reuse::begin::<Results>(run, &plan, &results)?;
    let (ds, plan, valid_items, test_items) = (&ds, &plan, &valid_items, &test_items);
    let shared = Shared { run, ds, plan, valid_items, test_items, reference: reference.as_ref() };
    first_seed(&shared, previous.as_ref(), &mut results)?;
    other_seeds(&shared, previous.as_ref(), &mut results)?;
    super::latency::retime(run, plan, &mut results)?;
    run.write_results(PART, &results)?;
    Ok(results)
}

/// The input sizes the plan trains at, for the run's first line.
fn sizes_line(plan: &Plan) -> String {
    let px = |sizes: &[u32], fixed: u32| match sizes {
        [] => format!("{fixed} px"),
        [only] => format!("{only} px"),
        _ => format!("{} px chosen on validation", sizes.iter().map(u32::to_string).collect::<Vec<_>>().join("/")),
    };
    format!(
        "{} (pretrained), {} (EmotionNets), {} (random-init backbones)",
        px(&[], plan.image_size),
        px(&plan.custom_sizes, plan.custom_image_size),
        px(&plan.ablation_sizes, plan.image_size)
    )
}

/// Every row at the run's seed. Pretrained rows first: the time the best of them needed for
/// its best is the budget every from-scratch row is also scored at (equal compute); results
/// keep presentation order.
fn first_seed(part: &Shared, previous: Option<&Results>, results: &mut Results) -> Result<()> {
    let (run, wanted, specs) = (part.run, &part.run.config.models, model_specs());
    let pretrained = specs.iter().filter(|s| s.init == Init::Imagenet);
    for spec in pretrained.chain(specs.iter().filter(|s| s.init != Init::Imagenet)) {
        crate::interrupt::check()?;
        let asked = wanted.is_empty() || wanted.contains(&spec.name);
        match reuse::earlier(previous, &spec.name, asked, run) {
            Earlier::Keep(row) => {
                add_in_order(results, row, &specs);
                continue;
            }
            Earlier::Leave => continue,
            Earlier::Train => {}
        }
        if let Some(why) = not_runnable(spec)? {
            eprintln!("[{}] skipped: {why}", spec.name);
            results.skipped_models.push((spec.name.clone(), why));
            continue;
        }
        let budget = Budget::of(&results.rows).filter(|_| spec.init == Init::Random);
        let budget = budget.map(|b| (b.row.model.clone(), b.seconds));
        let sizes = part.plan.sizes_for(spec);
        let row = run_model(part, spec, (&sizes, run.config.seed), budget.as_ref().map(|(m, s)| (m.as_str(), *s)))?;
        eprintln!(
            "[{}] test accuracy {:.3}, macro-F1 {:.3}, {:.0}s",
            row.model, row.test_accuracy, row.test_macro_f1, row.train_seconds
        );
        add_in_order(results, row, &specs);
        // written after every model so an interrupted run keeps what it finished
        run.write_results(PART, results)?;
    }
    Ok(())
}

/// The plan's other seeds, after every row has one run (so a cut-short run still has them all),
/// each at the size the run's seed chose.
fn other_seeds(part: &Shared, previous: Option<&Results>, results: &mut Results) -> Result<()> {
    let (run, wanted, seed) = (part.run, &part.run.config.models, part.run.config.seed);
    for spec in &model_specs() {
        let Some(size) = results.row(&spec.name).map(|r| r.image_size) else { continue };
        for s in part.plan.seeds.extra_for(&[&spec.name], seed) {
            crate::interrupt::check()?;
            let key = run_key(&spec.name, s);
            let asked = wanted.is_empty() || wanted.contains(&spec.name);
            let row = match reuse::earlier(previous, &key, asked, run) {
                Earlier::Keep(row) => row,
                Earlier::Leave => continue,
                Earlier::Train => {
                    let row = run_model(part, spec, (&[size], s), None)?;
                    eprintln!("[{key}] test accuracy {:.3}, {:.0}s", row.test_accuracy, row.train_seconds);
                    row
                }
            };
            results.seed_runs.push(row);
            (results.spread, results.comparisons) = (spreads(results), comparisons(results));
            run.write_results(PART, results)?;
        }
    }
    Ok(())
}
