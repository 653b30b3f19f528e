//! Part 2's data: the Drugs.com date-sorted split (the one test set of every row), its EDA, and
//! each training source deduplicated, cleared of test texts, split and capped.
use super::{Eda, Plan};
use crate::config::paths::{self, DatasetSpec};
use crate::config::run::Run;
use crate::data::eda;
use crate::data::text::{self, druglib, drugs_com, imdb, Fractions, LoadOptions, Review, Source};
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

/// A training source other than Drugs.com (whose split is also the test set): its dataset, and
/// how all of its reviews are read (with the number of bad rows skipped). Adding a source is a
/// loader in `data/text/`, a `Source` variant and one entry here.
pub struct IndirectSource {
    pub source: Source,
    pub dataset: DatasetSpec,
    pub load: LoadFn,
}

/// Reads every review under a dataset folder; returns them and the number of bad rows skipped.
pub type LoadFn = fn(&Path, &Run, &Plan) -> Result<(Vec<Review>, usize)>;

/// The indirect sources, far first.
pub const INDIRECT: [IndirectSource; 2] = [
    IndirectSource {
        source: Source::Imdb,
        dataset: paths::IMDB,
        load: |dir, run, plan| {
            let max_per_split = plan.max_train.map(|m| m * 2);
            let opts =
                imdb::ImdbOptions { skip_bad_rows: run.config.skip_bad_inputs, max_per_split, seed: run.config.seed };
            let im = imdb::load(dir, &opts)?;
            let skipped = im.reports.iter().map(|r| r.skipped_bad_rows).sum();
            Ok((im.train.into_iter().chain(im.test).collect(), skipped))
        },
    },
    IndirectSource {
        source: Source::Druglib,
        dataset: paths::DRUGLIB,
        load: |dir, run, plan| {
            let dl = druglib::load(dir, &load_options(run, plan))?;
            let skipped = dl.reports.iter().map(|r| r.skipped_bad_rows).sum();
            Ok((dl.pooled(), skipped))
        },
    },
];

/// Every dataset Part 2 reads.
pub fn datasets() -> Vec<DatasetSpec> {
    std::iter::once(paths::DRUGS_COM).chain(INDIRECT.iter().map(|s| s.dataset)).collect()
}

fn load_options(run: &Run, plan: &Plan) -> LoadOptions {
    LoadOptions { skip_bad_rows: run.config.skip_bad_inputs, threshold: plan.threshold }
}

/// Everything the runs share: the sources to train on (direct first), the test split and its EDA.
pub(super) struct Sources {
    pub sources: Vec<Prepared>,
    pub test: Vec<Review>,
    pub eda: Eda,
}

/// Load and prepare every source for `plan`.
pub(super) fn load(run: &Run, plan: &Plan) -> Result<Sources> {
    let (seed, root) = (run.config.seed, &run.config.data_root);
    let dc_dir = root.join(paths::DRUGS_COM.dir);
    let (direct, test, eda) = drugs_com_split(&dc_dir, &load_options(run, plan), plan, seed)?;
    let test_texts: HashSet<String> = test.iter().map(|r| r.text.clone()).collect();
    let mut sources = vec![direct];
    for s in &INDIRECT {
        let (all, skipped) = (s.load)(&root.join(s.dataset.dir), run, plan)?;
        sources.push(prepare(s.source, all, skipped, &test_texts, plan, seed)?);
    }
    Ok(Sources { sources, test, eda })
}

/// The Drugs.com train, validation and test reviews a run with `plan` uses (after dedup, the date
/// split and the profile's caps), in the order the run scored them.
pub fn drugs_com_splits(run: &Run, plan: &Plan) -> Result<[Vec<Review>; 3]> {
    let dir = run.config.data_root.join(paths::DRUGS_COM.dir);
    let (direct, test, _) = drugs_com_split(&dir, &load_options(run, plan), plan, run.config.seed)?;
    Ok([direct.train, direct.valid, test])
}

/// Drugs.com: pool the published files, dedup, then our own date-sorted split. Returns the
/// direct training source, the test split and the EDA of the training split.
fn drugs_com_split(
    dir: &std::path::Path,
    opts: &LoadOptions,
    plan: &Plan,
    seed: u64,
) -> Result<(Prepared, Vec<Review>, Eda)> {
    let dc = drugs_com::load(dir, opts)?;
    let skipped: usize = dc.reports.iter().map(|r| r.skipped_bad_rows).sum();
    let pooled = dc.pooled();
    let loaded = pooled.len();
    let (pooled, dups) = text::dedup(pooled);
    let split = text::date_split(pooled, plan.fractions)?;
    let test = cap(split.test, plan.max_test, seed);
    let eda = Eda {
        correlation: eda::review_correlations(&split.train)?,
        rating_distribution: eda::rating_distribution(&split.train),
        label_distribution: eda::label_distribution(&split.train),
        test_label_distribution: eda::label_distribution(&test),
    };
    let train_dates = text::date_range(&split.train);
    let (train, valid) = (cap(split.train, plan.max_train, seed), cap(split.valid, plan.max_valid, seed));
    let info = SourceInfo {
        source: Source::DrugsCom,
        loaded,
        duplicates_removed: dups,
        overlap_with_test_removed: 0,
        skipped_bad_rows: skipped,
        train: train.len(),
        valid: valid.len(),
        split: "date-sorted (oldest train, newest test)".into(),
        train_dates,
        class_weights: text::class_weights(&train)?,
    };
    Ok((Prepared { info, train, valid }, test, eda))
}

/// One training source after dedup and splitting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceInfo {
    pub source: Source,
    pub loaded: usize,
    pub duplicates_removed: usize,
    /// Training texts dropped because they also occur in the Drugs.com test split.
    pub overlap_with_test_removed: usize,
    pub skipped_bad_rows: usize,
    pub train: usize,
    pub valid: usize,
    pub split: String,
    pub train_dates: Option<(String, String)>,
    pub class_weights: [f32; 2],
}

/// One training source ready to encode.
pub(super) struct Prepared {
    pub info: SourceInfo,
    pub train: Vec<Review>,
    pub valid: Vec<Review>,
}

pub(super) fn cap(reviews: Vec<Review>, max: Option<usize>, seed: u64) -> Vec<Review> {
    match max {
        Some(m) => text::subsample(reviews, m, seed),
        None => reviews,
    }
}

/// Dedup, drop texts seen in the test split, split off validation, subsample.
fn prepare(
    source: Source,
    all: Vec<Review>,
    skipped: usize,
    test_texts: &HashSet<String>,
    plan: &Plan,
    seed: u64,
) -> Result<Prepared> {
    let loaded = all.len();
    let (all, dups) = text::dedup(all);
    let before = all.len();
    let all: Vec<Review> = all.into_iter().filter(|r| !test_texts.contains(&r.text)).collect();
    let overlap = before - all.len();
    // the indirect sources have no test role here: everything not validation trains
    let fr = Fractions::new(1.0 - plan.fractions.valid, plan.fractions.valid, 0.0)?;
    let split = text::random_split(all, fr, seed)?;
    let train = cap(split.train, plan.max_train, seed);
    let valid = cap(split.valid, plan.max_valid, seed);
    let info = SourceInfo {
        source,
        loaded,
        duplicates_removed: dups,
        overlap_with_test_removed: overlap,
        skipped_bad_rows: skipped,
        train: train.len(),
        valid: valid.len(),
        split: "random (seeded)".into(),
        train_dates: None,
        class_weights: text::class_weights(&train)?,
    };
    Ok(Prepared { info, train, valid })
}

pub(super) fn labels(r: &[Review]) -> Vec<i64> {
    r.iter().map(|r| r.label as i64).collect()
}

pub(super) fn texts(r: &[Review]) -> Vec<&str> {
    r.iter().map(|r| r.text.as_str()).collect()
}
