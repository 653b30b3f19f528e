//! Dedup, date-sorted and random splits, class weights and class-proportional subsampling.
use super::review::Review;
use crate::error::{Error, Result};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

/// Drop reviews whose cleaned text was already seen (first one wins). Returns the kept reviews
/// and how many were removed. Run it before splitting so no text lands in two splits.
pub fn dedup(reviews: Vec<Review>) -> (Vec<Review>, usize) {
    let n = reviews.len();
    let mut seen = HashSet::with_capacity(n);
    let kept: Vec<Review> = reviews.into_iter().filter(|r| seen.insert(r.text.clone())).collect();
    let removed = n - kept.len();
    (kept, removed)
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fractions {
    pub train: f64,
    pub valid: f64,
    pub test: f64,
}

impl Default for Fractions {
    fn default() -> Self {
        Fractions { train: 0.8, valid: 0.1, test: 0.1 }
    }
}

impl Fractions {
    pub fn new(train: f64, valid: f64, test: f64) -> Result<Self> {
        let f = Fractions { train, valid, test };
        f.validate()?;
        Ok(f)
    }

    pub fn validate(&self) -> Result<()> {
        let all = [self.train, self.valid, self.test];
        if all.iter().any(|v| !v.is_finite() || *v < 0.0)
            || self.train <= 0.0
            || (all.iter().sum::<f64>() - 1.0).abs() > 1e-6
        {
            return Err(Error::Config(format!(
                "split fractions must be >= 0, train > 0, summing to 1; got train {} valid {} test {}",
                self.train, self.valid, self.test
            )));
        }
        Ok(())
    }

    /// End indices of train and valid for `n` items (rounded, so 0.8/0.1/0.1 of 10 is 8/1/1).
    fn cuts(&self, n: usize) -> (usize, usize) {
        let a = ((n as f64) * self.train).round() as usize;
        let b = ((n as f64) * (self.train + self.valid)).round() as usize;
        (a.min(n), b.clamp(a.min(n), n))
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Split {
    pub train: Vec<Review>,
    pub valid: Vec<Review>,
    pub test: Vec<Review>,
}

impl Split {
    fn from_sorted(mut all: Vec<Review>, a: usize, b: usize, fr: &Fractions, how: &str) -> Result<Self> {
        let n = all.len();
        let test = all.split_off(b);
        let valid = all.split_off(a);
        let split = Split { train: all, valid, test };
        for (name, part, frac) in
            [("train", &split.train, fr.train), ("valid", &split.valid, fr.valid), ("test", &split.test, fr.test)]
        {
            if frac > 0.0 && part.is_empty() {
                return Err(Error::Config(format!(
                    "{how}: the {name} split is empty (asked for {frac} of {n} reviews)"
                )));
            }
        }
        Ok(split)
    }
}

/// Numeric ids by value, then any other ids as text: a total order for sorting.
fn id_key(id: &str) -> (u8, u64, &str) {
    match id.parse::<u64>() {
        Ok(n) => (0, n, id),
        Err(_) => (1, 0, id),
    }
}

fn chronological(a: &Review, b: &Review) -> Ordering {
    a.date
        .cmp(&b.date)
        .then_with(|| id_key(&a.id).cmp(&id_key(&b.id)))
        .then_with(|| a.source.cmp(&b.source))
        .then_with(|| a.text.cmp(&b.text))
}

/// Oldest reviews to train, newest to test. A cut that would fall inside a run of reviews on the
/// same day moves forward past that day, so every train date is strictly before every valid
/// date, which is strictly before every test date. Reviews without a date are an error.
pub fn date_split(mut reviews: Vec<Review>, fractions: Fractions) -> Result<Split> {
    fractions.validate()?;
    if let Some(r) = reviews.iter().find(|r| r.date.is_none()) {
        return Err(Error::Config(format!(
            "date split needs a date on every review, but {} review {:?} has none (use a random split for this source)",
            r.source.name(),
            r.id
        )));
    }
    reviews.sort_by(chronological);
    let (a, b) = fractions.cuts(reviews.len());
    let past_same_day = |cut: usize| {
        let mut c = cut;
        if c == 0 {
            return c;
        }
        while c < reviews.len() && reviews[c].date == reviews[cut - 1].date {
            c += 1;
        }
        c
    };
    let a = past_same_day(a);
    let b = past_same_day(b.max(a));
    Split::from_sorted(reviews, a, b, &fractions, "date split")
}

/// Shuffle with `seed`, then cut by `fractions`.
pub fn random_split(mut reviews: Vec<Review>, fractions: Fractions, seed: u64) -> Result<Split> {
    fractions.validate()?;
    reviews.shuffle(&mut StdRng::seed_from_u64(seed));
    let (a, b) = fractions.cuts(reviews.len());
    Split::from_sorted(reviews, a, b, &fractions, "random split")
}

/// Inverse-frequency weights `w_c = N / (2 n_c)`, so that `sum_c w_c n_c = N` (the loss keeps its
/// scale while each class contributes equally).
pub fn class_weights(train: &[Review]) -> Result<[f32; 2]> {
    let mut n = [0usize; 2];
    for r in train {
        match r.label {
            0 | 1 => n[r.label as usize] += 1,
            other => {
                return Err(Error::Config(format!(
                    "class weights: review {:?} has label {other}, expected 0 or 1",
                    r.id
                )))
            }
        }
    }
    if n[0] == 0 || n[1] == 0 {
        return Err(Error::Config(format!(
            "class weights need both classes in training; counts are negative {} positive {}",
            n[0], n[1]
        )));
    }
    let total = (n[0] + n[1]) as f64;
    Ok([(total / (2.0 * n[0] as f64)) as f32, (total / (2.0 * n[1] as f64)) as f32])
}

/// Indices (ascending) of at most `max` items, keeping each class's share: quotas by largest
/// remainder (ties to the lower class), members drawn by a seeded shuffle.
pub fn subsample_indices(labels: &[u8], max: usize, seed: u64) -> Vec<usize> {
    let n = labels.len();
    if n <= max {
        return (0..n).collect();
    }
    let mut by_class: BTreeMap<u8, Vec<usize>> = BTreeMap::new();
    for (i, &c) in labels.iter().enumerate() {
        by_class.entry(c).or_default().push(i);
    }
    // quota_c = max * n_c / n; integer arithmetic so remainders compare exactly.
    let mut quotas: Vec<(u8, usize, usize)> =
        by_class.iter().map(|(&c, idx)| (c, max * idx.len() / n, max * idx.len() % n)).collect();
    let short = max - quotas.iter().map(|q| q.1).sum::<usize>();
    let mut order: Vec<usize> = (0..quotas.len()).collect();
    order.sort_by(|&i, &j| quotas[j].2.cmp(&quotas[i].2).then(quotas[i].0.cmp(&quotas[j].0)));
    for &i in order.iter().take(short) {
        quotas[i].1 += 1;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut keep = Vec::with_capacity(max);
    for (c, quota, _) in quotas {
        let mut idx = by_class.remove(&c).unwrap_or_default();
        idx.shuffle(&mut rng);
        keep.extend(idx.into_iter().take(quota));
    }
    keep.sort_unstable();
    keep
}

/// At most `max` reviews with the class proportions kept, in their original order.
pub fn subsample(reviews: Vec<Review>, max: usize, seed: u64) -> Vec<Review> {
    let labels: Vec<u8> = reviews.iter().map(|r| r.label).collect();
    let keep = subsample_indices(&labels, max, seed);
    let mut wanted = keep.into_iter().peekable();
    reviews
        .into_iter()
        .enumerate()
        .filter_map(|(i, r)| {
            if wanted.peek() == Some(&i) {
                wanted.next();
                Some(r)
            } else {
                None
            }
        })
        .collect()
}
