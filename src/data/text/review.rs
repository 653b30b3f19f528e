//! One `Review` type for every source, text cleaning, rating binning and date parsing, and the
//! bad-row policy every loader follows.
use crate::error::{Error, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
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

    /// The name as readers know it (figures and slides).
    pub fn label(self) -> &'static str {
        match self {
            Source::DrugsCom => "Drugs.com",
            Source::Druglib => "Druglib",
            Source::Imdb => "IMDB",
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
