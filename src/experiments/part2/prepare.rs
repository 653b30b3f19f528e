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
    /// The random split of Drugs.com and its test reviews, when the plan asks for those runs.
    pub random: Option<(Prepared, Vec<Review>)>,
}

/// Load and prepare every source for `plan`.
pub(super) fn load(run: &Run, plan: &Plan) -> Result<Sources> {
    let (seed, root) = (run.config.seed, &run.config.data_root);
    let dc_dir = root.join(paths::DRUGS_COM.dir);
    let DrugsCom { direct, test, eda, pool } = drugs_com_split(&dc_dir, &load_options(run, plan), plan, seed)?;
    let sizes = [direct.train.len(), direct.valid.len(), test.len()];
    let random = pool.map(|p| random_split(p, sizes, seed)).transpose()?;
    let test_texts: HashSet<String> = test.iter().map(|r| r.text.clone()).collect();
    let mut sources = vec![direct];
    for s in &INDIRECT {
        let (all, skipped) = (s.load)(&root.join(s.dataset.dir), run, plan)?;
        sources.push(prepare(s.source, all, skipped, &test_texts, plan, seed)?);
    }
    Ok(Sources { sources, test, eda, random })
}

/// The Drugs.com train, validation and test reviews a run with `plan` uses (after dedup, the date
/// split and the profile's caps), in the order the run scored them.
pub fn drugs_com_splits(run: &Run, plan: &Plan) -> Result<[Vec<Review>; 3]> {
    let dir = run.config.data_root.join(paths::DRUGS_COM.dir);
    let dc = drugs_com_split(&dir, &load_options(run, plan), plan, run.config.seed)?;
    Ok([dc.direct.train, dc.direct.valid, dc.test])
}

/// Drugs.com after the date-sorted split.
struct DrugsCom {
    /// The direct training source.
    direct: Prepared,
    test: Vec<Review>,
    /// EDA of the training split.
    eda: Eda,
    /// The deduplicated reviews the random-split runs draw from, when the plan asks for them.
    pool: Option<Vec<Review>>,
}

/// Drugs.com: pool the published files, dedup, then our own date-sorted split.
fn drugs_com_split(dir: &std::path::Path, opts: &LoadOptions, plan: &Plan, seed: u64) -> Result<DrugsCom> {
    let dc = drugs_com::load(dir, opts)?;
    let skipped: usize = dc.reports.iter().map(|r| r.skipped_bad_rows).sum();
    let pooled = dc.pooled();
    let loaded = pooled.len();
    let (pooled, dups) = text::dedup(pooled);
    let pool = plan.random_split_runs.then(|| pooled.clone());
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
    Ok(DrugsCom { direct: Prepared { info, train, valid }, test, eda, pool })
}

/// The deduplicated Drugs.com reviews shuffled (seeded) and cut into test, validation and train
/// sets of the date split's `[train, valid, test]` sizes: disjoint, each drawn from every month.
fn random_split(
    mut pool: Vec<Review>,
    [n_train, n_valid, n_test]: [usize; 3],
    seed: u64,
) -> Result<(Prepared, Vec<Review>)> {
    use rand::{seq::SliceRandom, SeedableRng};
    if pool.len() < n_train + n_valid + n_test {
        return Err(crate::error::Error::Config(format!(
            "Drugs.com random split: {} reviews for {n_train} + {n_valid} + {n_test}",
            pool.len()
        )));
    }
    pool.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed ^ 0x5241_4e44));
    let mut rest = pool.into_iter();
    let test: Vec<Review> = rest.by_ref().take(n_test).collect();
    let valid: Vec<Review> = rest.by_ref().take(n_valid).collect();
    let train: Vec<Review> = rest.take(n_train).collect();
    let info = SourceInfo {
        source: Source::DrugsCom,
        loaded: train.len() + valid.len() + test.len(),
        duplicates_removed: 0,
        overlap_with_test_removed: 0,
        skipped_bad_rows: 0,
        train: train.len(),
        valid: valid.len(),
        split: "random (seeded), the date split's sizes".into(),
        train_dates: text::date_range(&train),
        class_weights: text::class_weights(&train)?,
    };
    Ok((Prepared { info, train, valid }, test))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn review(i: usize) -> Review {
        Review {
            id: i.to_string(),
            text: format!("review {i}"),
            rating: Some(if i.is_multiple_of(3) { 2.0 } else { 9.0 }),
            label: u8::from(!i.is_multiple_of(3)),
            date: chrono::NaiveDate::from_ymd_opt(2015, 1 + (i % 12) as u32, 1),
            useful_count: None,
            drug: None,
            condition: None,
            source: Source::DrugsCom,
        }
    }

    #[test]
    fn the_random_split_has_the_sizes_asked_for_disjoint_seeded_and_mixed_in_time() {
        let pool: Vec<Review> = (0..100).map(review).collect();
        let (p, test) = random_split(pool.clone(), [60, 10, 20], 7).unwrap();
        assert_eq!((p.train.len(), p.valid.len(), test.len()), (60, 10, 20));
        let ids: HashSet<&str> = p.train.iter().chain(&p.valid).chain(&test).map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), 90, "the three sets are disjoint");
        let (again, test_again) = random_split(pool.clone(), [60, 10, 20], 7).unwrap();
        assert_eq!(
            test.iter().map(|r| &r.id).collect::<Vec<_>>(),
            test_again.iter().map(|r| &r.id).collect::<Vec<_>>()
        );
        assert_eq!(again.info.class_weights, p.info.class_weights);
        let (_, other) = random_split(pool.clone(), [60, 10, 20], 8).unwrap();
        assert_ne!(test.iter().map(|r| &r.id).collect::<Vec<_>>(), other.iter().map(|r| &r.id).collect::<Vec<_>>());
        let months: HashSet<u32> = test.iter().filter_map(|r| r.date).map(|d| chrono::Datelike::month(&d)).collect();
        assert!(months.len() >= 6, "test reviews from across the year, not the newest: {months:?}");
        let Err(e) = random_split(pool, [60, 30, 20], 7) else { panic!("110 reviews out of 100") };
        assert!(e.to_string().contains("100 reviews"), "{e}");
    }
}
