//! Shared types and steps for the review datasets (Drugs.com, Druglib.com, IMDB): one `Review`
//! type for every source, text cleaning, rating binning, dedup, date/random splits, class
//! weights, class-proportional subsampling, and the bad-row policy every loader follows.
pub mod delimited;
pub mod druglib;
pub mod drugs_com;
pub mod imdb;
#[cfg(test)]
pub(crate) mod review_sample;
pub mod tokenize;
pub mod vocab;
use crate::error::{Error, Result};
use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Ratings at or above this are positive. Reading the reviews, 1-6 dwell on side effects and
/// 7-10 on the drug working, so the cut sits between 6 and 7.
pub const DEFAULT_THRESHOLD: f32 = 7.0;
/// How many bad-row messages a `LoadReport` keeps; the count covers all of them.
pub const MAX_REPORTED_ERRORS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    DrugsCom,
    Druglib,
    Imdb,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::DrugsCom => "drugscom",
            Source::Druglib => "druglib",
            Source::Imdb => "imdb",
        }
    }
}

/// One review from any source. `label` is 0 negative, 1 positive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub id: String,
    pub text: String,
    pub rating: Option<f32>,
    pub label: u8,
    #[serde(with = "opt_date")]
    pub date: Option<NaiveDate>,
    pub useful_count: Option<f64>,
    pub drug: Option<String>,
    pub condition: Option<String>,
    pub source: Source,
}

/// chrono is built without its serde feature; dates travel as `YYYY-MM-DD`.
mod opt_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.format("%Y-%m-%d").to_string()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(serde::de::Error::custom)).transpose()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoadOptions {
    /// Skip and count malformed rows instead of failing on the first one.
    pub skip_bad_rows: bool,
    /// Rating at or above which a review is positive.
    pub threshold: f32,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { skip_bad_rows: false, threshold: DEFAULT_THRESHOLD }
    }
}

/// What loading one file did. `rows` counts the reviews returned (bad rows excluded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    pub file: PathBuf,
    pub rows: usize,
    pub skipped_bad_rows: usize,
    pub first_errors: Vec<String>,
}

/// The bad-row policy shared by the loaders: fail on the first bad row, or skip and count it.
#[derive(Debug)]
pub struct BadRows {
    file: PathBuf,
    skip: bool,
    skipped: usize,
    first_errors: Vec<String>,
}

impl BadRows {
    pub fn new(file: &Path, skip: bool) -> Self {
        BadRows { file: file.to_path_buf(), skip, skipped: 0, first_errors: Vec::new() }
    }

    /// A bad row in `path` (the table's file, or one review file of a folder layout).
    pub fn reject_in(&mut self, path: &Path, line: Option<usize>, msg: impl Into<String>) -> Result<()> {
        let err = Error::data(path, line, msg);
        if !self.skip {
            return Err(err);
        }
        self.skipped += 1;
        if self.first_errors.len() < MAX_REPORTED_ERRORS {
            self.first_errors.push(err.to_string());
        }
        Ok(())
    }

    pub fn reject(&mut self, line: Option<usize>, msg: impl Into<String>) -> Result<()> {
        let file = self.file.clone();
        self.reject_in(&file, line, msg)
    }

    pub fn report(self, rows: usize) -> LoadReport {
        LoadReport { file: self.file, rows, skipped_bad_rows: self.skipped, first_errors: self.first_errors }
    }
}

/// Clean review text: decode HTML entities (repeatedly, since some scrapes escape twice, as in
/// `&amp;quot;`), collapse every run of whitespace (including `\r\n`) to one space, and drop one
/// pair of quotes wrapping the whole text (Drugs.com stores reviews as `"..."`).
pub fn clean_text(raw: &str) -> String {
    let mut s: Cow<str> = Cow::Borrowed(raw);
    for _ in 0..3 {
        if !s.contains('&') {
            break;
        }
        let decoded = html_escape::decode_html_entities(&s).into_owned();
        if decoded == s {
            break;
        }
        s = Cow::Owned(decoded);
    }
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let unquoted = match collapsed.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.trim(),
        None => collapsed.as_str(),
    };
    unquoted.to_string()
}

/// 1 (positive) iff `rating >= threshold`.
pub fn bin_rating(rating: f32, threshold: f32) -> u8 {
    u8::from(rating >= threshold)
}

/// A 1-10 integer rating, written `9` or `9.0`.
pub fn parse_rating(s: &str) -> std::result::Result<f32, String> {
    let t = s.trim();
    let v: f64 = t.parse().map_err(|_| format!("rating {t:?} is not a number"))?;
    if !v.is_finite() || v.fract() != 0.0 || !(1.0..=10.0).contains(&v) {
        return Err(format!("rating {t:?} is not an integer from 1 to 10"));
    }
    Ok(v as f32)
}

/// Dates as the sources write them: Kaggle `27-Apr-10`, UCI `May 20, 2012`, or ISO.
pub fn parse_date(s: &str) -> std::result::Result<NaiveDate, String> {
    let t = s.trim();
    let date = ["%d-%b-%y", "%B %d, %Y", "%Y-%m-%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
        .ok_or_else(|| format!("date {t:?} is not like 27-Apr-10, May 20, 2012 or 2012-05-20"))?;
    // a review cannot be written after today; such a date would put it last in a date-sorted split
    if date > today() {
        return Err(format!("date {t:?} ({date}) is in the future"));
    }
    Ok(date)
}

/// Today's date (UTC) from the system clock.
fn today() -> NaiveDate {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    NaiveDate::from_num_days_from_ce_opt(719_163 + (secs / 86_400) as i32).unwrap_or(NaiveDate::MAX)
}

/// First and last review date, where the reviews have dates.
pub fn date_range(r: &[Review]) -> Option<(String, String)> {
    let lo = r.iter().filter_map(|r| r.date).min()?;
    let hi = r.iter().filter_map(|r| r.date).max()?;
    Some((lo.to_string(), hi.to_string()))
}

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn review(id: &str, text: &str, label: u8, date: Option<(i32, u32, u32)>) -> Review {
        Review {
            id: id.into(),
            text: text.into(),
            rating: Some(if label == 1 { 9.0 } else { 2.0 }),
            label,
            date: date.map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap()),
            useful_count: None,
            drug: None,
            condition: None,
            source: Source::DrugsCom,
        }
    }

    #[test]
    fn cleaning_unescapes_collapses_and_unquotes() {
        assert_eq!(clean_text("\"I&#039;m  fine\r\n\r\nnow \""), "I'm fine now");
        assert_eq!(clean_text("say &amp;quot;hi&amp;quot; &amp;amp; go"), "say \"hi\" & go");
        assert_eq!(clean_text("  a\tb\u{a0}c  "), "a b c");
        // Only a pair that wraps the whole text is removed.
        assert_eq!(clean_text("\"quoted\" start"), "\"quoted\" start");
        assert_eq!(clean_text("\"\"\"triple\"\"\""), "\"\"triple\"\"");
    }

    #[test]
    fn binning_edges() {
        assert_eq!(bin_rating(6.0, DEFAULT_THRESHOLD), 0);
        assert_eq!(bin_rating(7.0, DEFAULT_THRESHOLD), 1);
        assert_eq!(bin_rating(1.0, DEFAULT_THRESHOLD), 0);
        assert_eq!(bin_rating(10.0, DEFAULT_THRESHOLD), 1);
        assert_eq!(bin_rating(7.0, 8.0), 0);
        assert_eq!(bin_rating(8.0, 8.0), 1);
        assert_eq!(bin_rating(5.0, 5.0), 1);
    }

    #[test]
    fn ratings_and_dates_parse_both_layouts() {
        assert_eq!(parse_rating("9.0"), Ok(9.0));
        assert_eq!(parse_rating(" 10 "), Ok(10.0));
        assert!(parse_rating("11").is_err());
        assert!(parse_rating("0").is_err());
        assert!(parse_rating("7.5").is_err());
        assert!(parse_rating("nine").is_err());
        assert!(parse_rating("NaN").is_err());
        assert_eq!(parse_date("27-Apr-10"), Ok(NaiveDate::from_ymd_opt(2010, 4, 27).unwrap()));
        assert_eq!(parse_date("May 20, 2012"), Ok(NaiveDate::from_ymd_opt(2012, 5, 20).unwrap()));
        assert_eq!(parse_date("2012-05-20"), Ok(NaiveDate::from_ymd_opt(2012, 5, 20).unwrap()));
        assert!(parse_date("31-Feb-10").is_err());
        let err = parse_date("27-Apr-45").unwrap_err();
        assert!(err.contains("2045-04-27") && err.contains("future"), "{err}");
        assert!(parse_date("yesterday").is_err());
    }

    #[test]
    fn review_serialises_with_lowercase_source_and_iso_date() {
        let r = review("7", "t", 1, Some((2012, 5, 20)));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["source"], "drugscom");
        assert_eq!(v["date"], "2012-05-20");
        assert_eq!(serde_json::to_value(Source::Druglib).unwrap(), "druglib");
        assert_eq!(serde_json::to_value(Source::Imdb).unwrap(), "imdb");
        let back: Review = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn dedup_keeps_first_and_counts() {
        let rs = vec![
            review("1", "a", 0, None),
            review("2", "b", 1, None),
            review("3", "a", 1, None),
            review("4", "a", 0, None),
        ];
        let (kept, removed) = dedup(rs);
        assert_eq!(removed, 2);
        assert_eq!(kept.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["1", "2"]);
    }

    fn dated(n: usize) -> Vec<Review> {
        // Two reviews per day (n even, n/2 coprime to 37), given out of date order, with ids
        // that sort differently as text and as numbers.
        let day0 = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
        (0..n)
            .map(|i| {
                let mut r = review(&((n - i) * 7).to_string(), &format!("t{i}"), (i % 3 == 0) as u8, None);
                r.date = day0.checked_add_days(chrono::Days::new((i * 37 % (n / 2)) as u64));
                r
            })
            .collect()
    }

    #[test]
    fn date_split_orders_by_date_and_is_disjoint() {
        let all = dated(60);
        let s = date_split(all.clone(), Fractions::default()).unwrap();
        assert_eq!(s.train.len() + s.valid.len() + s.test.len(), 60);
        let max = |v: &[Review]| v.iter().map(|r| r.date.unwrap()).max().unwrap();
        let min = |v: &[Review]| v.iter().map(|r| r.date.unwrap()).min().unwrap();
        assert!(max(&s.train) < min(&s.valid), "train dates must precede valid dates");
        assert!(max(&s.valid) < min(&s.test), "valid dates must precede test dates");
        let mut texts: Vec<&str> = s.train.iter().chain(&s.valid).chain(&s.test).map(|r| r.text.as_str()).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), 60);
        // Same input in another order gives the same split.
        let mut rev = all;
        rev.reverse();
        assert_eq!(date_split(rev, Fractions::default()).unwrap(), s);
    }

    #[test]
    fn date_split_cuts_exactly_when_days_are_distinct() {
        let rs: Vec<Review> =
            (0..10).map(|i| review(&i.to_string(), &format!("t{i}"), 0, Some((2016, 1, 10 - i as u32)))).collect();
        let s = date_split(rs, Fractions::default()).unwrap();
        assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (8, 1, 1));
        assert_eq!(s.test[0].date, NaiveDate::from_ymd_opt(2016, 1, 10));
        assert_eq!(s.train[0].date, NaiveDate::from_ymd_opt(2016, 1, 1));
    }

    #[test]
    fn date_split_moves_a_cut_past_a_shared_day() {
        // 10 reviews, days 1..=7 then three on day 8: the 0.8 cut (after 8) splits day 8.
        let mut rs: Vec<Review> =
            (0..7).map(|i| review(&i.to_string(), &format!("t{i}"), 0, Some((2016, 1, 1 + i as u32)))).collect();
        rs.extend((7..10).map(|i| review(&i.to_string(), &format!("t{i}"), 0, Some((2016, 1, 8)))));
        let err = date_split(rs.clone(), Fractions::default()).unwrap_err().to_string();
        assert!(err.contains("valid split is empty"), "{err}");
        let s = date_split(rs, Fractions::new(0.6, 0.1, 0.3).unwrap()).unwrap();
        assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (6, 1, 3));
    }

    #[test]
    fn date_split_rejects_undated_reviews() {
        let rs = vec![review("1", "a", 0, Some((2015, 1, 1))), review("2", "b", 1, None)];
        let err = date_split(rs, Fractions::default()).unwrap_err().to_string();
        assert!(err.contains("\"2\""), "{err}");
    }

    #[test]
    fn fractions_validate() {
        assert!(Fractions::new(0.8, 0.1, 0.1).is_ok());
        assert!(Fractions::new(0.8, 0.1, 0.2).is_err());
        assert!(Fractions::new(0.0, 0.5, 0.5).is_err());
        assert!(Fractions::new(1.1, -0.1, 0.0).is_err());
    }

    #[test]
    fn dedup_before_split_leaves_no_text_in_two_splits() {
        let mut rs = dated(40);
        // Copies of early texts dated late: without dedup they would land in test.
        for i in 0..5 {
            let mut r = rs[i].clone();
            r.id = format!("dup{i}");
            r.date = NaiveDate::from_ymd_opt(2020, 1, 1);
            rs.push(r);
        }
        let (rs, removed) = dedup(rs);
        assert_eq!(removed, 5);
        for s in
            [date_split(rs.clone(), Fractions::default()).unwrap(), random_split(rs, Fractions::default(), 3).unwrap()]
        {
            let train: HashSet<&str> = s.train.iter().map(|r| r.text.as_str()).collect();
            let valid: HashSet<&str> = s.valid.iter().map(|r| r.text.as_str()).collect();
            assert!(s.test.iter().all(|r| !train.contains(r.text.as_str()) && !valid.contains(r.text.as_str())));
            assert!(s.valid.iter().all(|r| !train.contains(r.text.as_str())));
        }
    }

    #[test]
    fn random_split_is_seeded_and_complete() {
        let rs = dated(50);
        let a = random_split(rs.clone(), Fractions::default(), 1).unwrap();
        assert_eq!((a.train.len(), a.valid.len(), a.test.len()), (40, 5, 5));
        assert_eq!(a, random_split(rs.clone(), Fractions::default(), 1).unwrap());
        assert_ne!(a, random_split(rs, Fractions::default(), 2).unwrap());
    }

    #[test]
    fn class_weights_known_answer() {
        let rs = vec![
            review("1", "a", 0, None),
            review("2", "b", 0, None),
            review("3", "c", 0, None),
            review("4", "d", 1, None),
        ];
        let w = class_weights(&rs).unwrap();
        assert!((w[0] - 2.0 / 3.0).abs() < 1e-6 && (w[1] - 2.0).abs() < 1e-6, "{w:?}");
        assert!((w[0] * 3.0 + w[1] * 1.0 - 4.0).abs() < 1e-5);
        assert!(class_weights(&rs[..3]).is_err());
    }

    #[test]
    fn subsample_keeps_proportions_and_is_seeded() {
        // 30 negatives, 70 positives -> 10 keeps 3 and 7.
        let labels: Vec<u8> = (0..100).map(|i| u8::from(i % 10 >= 3)).collect();
        let a = subsample_indices(&labels, 10, 5);
        assert_eq!(a.len(), 10);
        assert_eq!(a.iter().filter(|&&i| labels[i] == 0).count(), 3);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a, subsample_indices(&labels, 10, 5));
        assert_ne!(a, subsample_indices(&labels, 10, 6));
        // Largest remainder: 2/3 of 4 = 2.67 and 1/3 of 4 = 1.33 -> 3 and 1.
        let l2 = [0u8, 0, 1, 0, 0, 1];
        let b = subsample_indices(&l2, 4, 0);
        assert_eq!(b.iter().filter(|&&i| l2[i] == 0).count(), 3);
        assert_eq!(subsample_indices(&l2, 9, 0), vec![0, 1, 2, 3, 4, 5]);
        let rs: Vec<Review> =
            labels.iter().enumerate().map(|(i, &l)| review(&i.to_string(), &format!("t{i}"), l, None)).collect();
        let picked = subsample(rs, 10, 5);
        assert_eq!(picked.iter().map(|r| r.id.parse::<usize>().unwrap()).collect::<Vec<_>>(), a);
    }

    #[test]
    fn bad_rows_fail_or_count() {
        let p = Path::new("f.csv");
        let mut strict = BadRows::new(p, false);
        let err = strict.reject(Some(3), "bad").unwrap_err().to_string();
        assert_eq!(err, "f.csv:3: bad");
        let mut lax = BadRows::new(p, true);
        for i in 0..12 {
            lax.reject(Some(i), "bad").unwrap();
        }
        let rep = lax.report(5);
        assert_eq!((rep.rows, rep.skipped_bad_rows, rep.first_errors.len()), (5, 12, MAX_REPORTED_ERRORS));
    }
}
