//! UCI Drug Review Dataset (Drugs.com, UCI #462), in either published layout:
//! the UCI TSV (`drugsComTrain_raw.tsv`, blank first header, ratings `9.0`, dates `May 20, 2012`)
//! or the Kaggle CSV (`drugsComTrain_raw.csv`, header `uniqueID,...`, ratings `9`, dates
//! `27-Apr-10`). Both have quoted reviews with embedded `\r\n` and HTML entities.
//! Returns the published train/test files as they are; the experiment pools, dedups and re-splits.
use crate::data::text::delimited::{present, read_table, Record};
use crate::data::text::{
    bin_rating, clean_text, parse_date, parse_rating, BadRows, LoadOptions, LoadReport, Review, Source,
};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layout {
    KaggleCsv,
    UciTsv,
}

impl Layout {
    /// (train file, test file)
    pub fn files(self) -> (&'static str, &'static str) {
        match self {
            Layout::KaggleCsv => ("drugsComTrain_raw.csv", "drugsComTest_raw.csv"),
            Layout::UciTsv => ("drugsComTrain_raw.tsv", "drugsComTest_raw.tsv"),
        }
    }
    pub fn separator(self) -> u8 {
        match self {
            Layout::KaggleCsv => b',',
            Layout::UciTsv => b'\t',
        }
    }
}

/// The layout whose two files are both in `dir`; the CSV when both are.
pub fn detect_layout(dir: &Path) -> Result<Layout> {
    [Layout::KaggleCsv, Layout::UciTsv]
        .into_iter()
        .find(|l| {
            let (a, b) = l.files();
            dir.join(a).is_file() && dir.join(b).is_file()
        })
        .ok_or_else(|| {
            Error::MissingData(format!(
                "  - Drugs.com reviews: {} has neither drugsComTrain_raw.csv + drugsComTest_raw.csv nor drugsComTrain_raw.tsv + drugsComTest_raw.tsv",
                dir.display()
            ))
        })
}

#[derive(Debug, Clone)]
pub struct DrugsCom {
    pub layout: Layout,
    pub train: Vec<Review>,
    pub test: Vec<Review>,
    /// train file, then test file
    pub reports: Vec<LoadReport>,
}

impl DrugsCom {
    /// Train then test, for pooling before a dedup and a split of one's own.
    pub fn pooled(self) -> Vec<Review> {
        let mut all = self.train;
        all.extend(self.test);
        all
    }
}

/// Load both published files from `dir` (the `drug_reviews` folder).
pub fn load(dir: &Path, opts: &LoadOptions) -> Result<DrugsCom> {
    let layout = detect_layout(dir)?;
    let (train_name, test_name) = layout.files();
    let (train, r1) = load_file(&dir.join(train_name), layout.separator(), opts)?;
    let (mut test, mut r2) = load_file(&dir.join(test_name), layout.separator(), opts)?;
    let in_train: std::collections::HashMap<&str, &str> =
        train.iter().map(|r| (r.id.as_str(), r.text.as_str())).collect();
    let mut bad = BadRows::new(&dir.join(test_name), opts.skip_bad_rows);
    let mut keep = Vec::with_capacity(test.len());
    for r in test.drain(..) {
        match in_train.get(r.id.as_str()) {
            Some(t) if *t != r.text => {
                bad.reject(None, format!("id {} is in {train_name} with a different review", r.id))?
            }
            _ => keep.push(r),
        }
    }
    test = keep;
    let conflicts = bad.report(0);
    r2.skipped_bad_rows += conflicts.skipped_bad_rows;
    r2.first_errors.extend(conflicts.first_errors);
    Ok(DrugsCom { layout, train, test, reports: vec![r1, r2] })
}

/// Load one Drugs.com file with separator `sep`. Every row is validated; a bad one is an error
/// naming the file and the line the record starts on, or is skipped and counted.
pub fn load_file(path: &Path, sep: u8, opts: &LoadOptions) -> Result<(Vec<Review>, LoadReport)> {
    let t = read_table(path, sep)?;
    if t.records.is_empty() {
        return Err(Error::data(path, Some(t.header_line), "no reviews after the header"));
    }
    // UCI leaves the id column unnamed; Kaggle calls it uniqueID; some copies say ID.
    let id = t.strings(t.require_column(&["uniqueID", "", "ID"])?)?;
    let review = t.strings(t.require_column(&["review"])?)?;
    let rating = t.strings(t.require_column(&["rating"])?)?;
    let date = t.strings(t.require_column(&["date"])?)?;
    let optional = |names: &[&str]| -> Result<Option<Vec<Option<&str>>>> {
        t.find_column(names).map(|c| t.strings(c)).transpose()
    };
    let drug = optional(&["drugName"])?;
    let condition = optional(&["condition"])?;
    let useful = optional(&["usefulCount"])?;

    let mut bad = BadRows::new(path, opts.skip_bad_rows);
    let mut out: Vec<Review> = Vec::with_capacity(t.frame.height());
    // the same id twice with two different reviews: one of them is wrong, and we cannot tell which
    let mut first_seen: std::collections::HashMap<String, (usize, usize)> = Default::default();
    for rec in &t.records {
        let (line, i) = match rec {
            Record::Bad { line, msg } => {
                bad.reject(Some(*line), msg.clone())?;
                continue;
            }
            Record::Row { line, index } => (*line, *index),
        };
        let row = Row { id: id[i], review: review[i], rating: rating[i], date: date[i], useful: cell(&useful, i) };
        match row.parse(opts) {
            Ok(mut r) => {
                match first_seen.get(&r.id) {
                    Some(&(at, k)) if out[k].text != r.text => {
                        let msg = format!("id {} was already used on line {at} for a different review", r.id);
                        bad.reject(Some(line), msg)?;
                        continue;
                    }
                    // an exact repeat is left to the dedup step, which counts it
                    Some(_) => {}
                    None => {
                        first_seen.insert(r.id.clone(), (line, out.len()));
                    }
                }
                r.drug = cell(&drug, i).map(|s| s.trim().to_string());
                r.condition = cell(&condition, i).map(|s| s.trim().to_string());
                out.push(r);
            }
            Err(msg) => bad.reject(Some(line), msg)?,
        }
    }
    let n = out.len();
    Ok((out, bad.report(n)))
}

/// Cell `i` of an optional column, if the column exists and the cell is not blank.
fn cell<'a>(col: &Option<Vec<Option<&'a str>>>, i: usize) -> Option<&'a str> {
    col.as_ref().and_then(|c| present(c[i]))
}

struct Row<'a> {
    id: Option<&'a str>,
    review: Option<&'a str>,
    rating: Option<&'a str>,
    date: Option<&'a str>,
    useful: Option<&'a str>,
}

impl Row<'_> {
    fn parse(&self, opts: &LoadOptions) -> std::result::Result<Review, String> {
        let id = present(self.id).ok_or("empty id")?.trim().to_string();
        let text = clean_text(self.review.unwrap_or(""));
        if text.is_empty() {
            return Err("empty review".into());
        }
        let rating = parse_rating(present(self.rating).ok_or("empty rating")?)?;
        let date = parse_date(present(self.date).ok_or("empty date")?)?;
        let useful_count = match self.useful {
            None => None,
            Some(s) => match s.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
                _ => return Err(format!("usefulCount {:?} is not a non-negative number", s.trim())),
            },
        };
        Ok(Review {
            id,
            text,
            rating: Some(rating),
            label: bin_rating(rating, opts.threshold),
            date: Some(date),
            useful_count,
            drug: None,
            condition: None,
            source: Source::DrugsCom,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::text::{date_split, dedup, Fractions};
    use chrono::NaiveDate;
    use std::path::PathBuf;

    fn fixtures() -> PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text")
    }

    fn strict() -> LoadOptions {
        LoadOptions::default()
    }

    #[test]
    fn uci_tsv_fixture_parses() {
        let d = load(&fixtures().join("drugs_uci"), &strict()).unwrap();
        assert_eq!(d.layout, Layout::UciTsv);
        assert_eq!((d.train.len(), d.test.len()), (4, 2));
        let r = &d.train[0];
        assert_eq!(r.id, "206461");
        assert_eq!(r.drug.as_deref(), Some("Valsartan"));
        assert_eq!(r.condition.as_deref(), Some("Left Ventricular Dysfunction"));
        assert_eq!(r.text, "It has no side effect, I take it in combination of Bystolic 5 Mg and Fish Oil");
        assert_eq!((r.rating, r.label), (Some(9.0), 1));
        assert_eq!(r.date, NaiveDate::from_ymd_opt(2012, 5, 20));
        assert_eq!(r.useful_count, Some(27.0));
        // The quoted multi-line review with &#039; and a rating of 6 (negative).
        let m = &d.train[1];
        assert_eq!(m.text, "My son is halfway through his fourth week of Intuniv. We became concerned when he began this last week. He can't sleep.");
        assert_eq!((m.rating, m.label), (Some(6.0), 0));
        assert_eq!(d.train[2].label, 1, "rating 7 is positive");
        assert_eq!(d.reports[0].rows, 4);
        assert_eq!(d.reports[0].skipped_bad_rows, 0);
        assert!(d.reports[0].file.ends_with("drugsComTrain_raw.tsv"));
    }

    #[test]
    fn kaggle_csv_fixture_parses_and_is_preferred() {
        let d = load(&fixtures().join("drugs_kaggle"), &strict()).unwrap();
        assert_eq!(d.layout, Layout::KaggleCsv);
        assert_eq!((d.train.len(), d.test.len()), (3, 1));
        let r = &d.train[0];
        assert_eq!((r.id.as_str(), r.rating, r.label), ("28", Some(1.0), 0));
        assert_eq!(r.date, NaiveDate::from_ymd_opt(2015, 11, 23));
        assert_eq!(r.text, "I got this shot. I'm a surgeon's nurse, so I am on my feet all day. NO.");
        assert_eq!(d.train[1].text, "Line one. Line two, with \"quotes\" & more.");
        assert_eq!(d.test[0].date, NaiveDate::from_ymd_opt(2010, 4, 27));
        // With both layouts present the CSV wins.
        assert_eq!(detect_layout(&fixtures().join("drugs_both")).unwrap(), Layout::KaggleCsv);
        assert!(matches!(detect_layout(&fixtures()), Err(Error::MissingData(_))));
    }

    /// Each malformed-row fixture: (file, separator, 1-based line of the bad record, words in the message).
    const BAD: &[(&str, u8, usize, &str)] = &[
        ("field_count.csv", b',', 3, "8 fields, the header has 7"),
        ("rating_text.csv", b',', 2, "not a number"),
        ("rating_range.tsv", b'\t', 3, "not an integer from 1 to 10"),
        ("date.csv", b',', 4, "date \"2015/13/45\""),
        ("empty_review.tsv", b'\t', 2, "empty review"),
        // The bad row follows a review spanning lines 2-5, so it starts on line 6, not 3.
        ("after_multiline.csv", b',', 6, "not an integer"),
        ("unterminated.csv", b',', 3, "never closed"),
    ];

    #[test]
    fn every_bad_row_kind_names_file_and_line() {
        for &(name, sep, line, words) in BAD {
            let path = fixtures().join("drugs_bad").join(name);
            let err = load_file(&path, sep, &strict()).unwrap_err();
            match &err {
                Error::Data { path: p, line: l, msg } => {
                    assert_eq!(p, &path, "{name}");
                    assert_eq!(*l, Some(line), "{name}: {err}");
                    assert!(msg.contains(words), "{name}: {err}");
                }
                other => panic!("{name}: expected a data error, got {other}"),
            }
            let shown = err.to_string();
            assert!(shown.contains(&format!("{name}:{line}:")), "{shown}");
        }
    }

    #[test]
    fn skip_bad_rows_counts_and_keeps_the_rest() {
        let lax = LoadOptions { skip_bad_rows: true, ..LoadOptions::default() };
        let (rows, rep) = load_file(&fixtures().join("drugs_bad/after_multiline.csv"), b',', &lax).unwrap();
        assert_eq!((rows.len(), rep.rows, rep.skipped_bad_rows), (2, 2, 1));
        assert!(rep.first_errors[0].contains("after_multiline.csv:6:"), "{:?}", rep.first_errors);
        assert_eq!(rows[1].id, "103");
        let (rows, rep) = load_file(&fixtures().join("drugs_bad/field_count.csv"), b',', &lax).unwrap();
        assert_eq!((rows.len(), rep.skipped_bad_rows), (2, 1));
    }

    #[test]
    fn one_id_with_two_different_reviews_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let head = "uniqueID,drugName,condition,review,rating,date,usefulCount\n";
        let p = dir.path().join("drugsComTrain_raw.csv");
        std::fs::write(&p, format!("{head}1,A,B,\"good\",9,1-May-10,1\n2,A,B,\"bad\",2,2-May-10,1\n1,A,B,\"good\",9,1-May-10,1\n1,A,B,\"other\",3,3-May-10,1\n")).unwrap();
        let err = load_file(&p, b',', &strict()).unwrap_err().to_string();
        assert!(err.contains("drugsComTrain_raw.csv:5") && err.contains("already used on line 2"), "{err}");
        let lax = LoadOptions { skip_bad_rows: true, ..LoadOptions::default() };
        let (rows, rep) = load_file(&p, b',', &lax).unwrap();
        assert_eq!((rows.len(), rep.skipped_bad_rows), (3, 1), "the exact repeat stays for dedup");

        std::fs::write(&p, format!("{head}1,A,B,\"good\",9,1-May-10,1\n")).unwrap();
        std::fs::write(
            dir.path().join("drugsComTest_raw.csv"),
            format!("{head}1,A,B,\"else\",9,1-May-10,1\n7,A,B,\"x\",9,1-May-10,1\n"),
        )
        .unwrap();
        let err = load(dir.path(), &strict()).unwrap_err().to_string();
        assert!(
            err.contains("drugsComTest_raw.csv") && err.contains("is in drugsComTrain_raw.csv with a different review"),
            "{err}"
        );
        let d = load(dir.path(), &lax).unwrap();
        assert_eq!((d.test.len(), d.reports[1].skipped_bad_rows), (1, 1));
    }

    #[test]
    fn a_header_only_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("drugsComTest_raw.csv");
        std::fs::write(&p, "uniqueID,drugName,condition,review,rating,date,usefulCount\n").unwrap();
        let err = load_file(&p, b',', &strict()).unwrap_err().to_string();
        assert!(err.contains("drugsComTest_raw.csv:1") && err.contains("no reviews"), "{err}");
    }

    #[test]
    fn invalid_utf8_is_replaced_not_a_panic() {
        let (rows, _) = load_file(&fixtures().join("drugs_bad/invalid_utf8.csv"), b',', &strict()).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].text.contains('\u{fffd}'), "{}", rows[0].text);
    }

    #[test]
    fn custom_threshold_moves_the_cut() {
        let opts = LoadOptions { threshold: 8.0, ..LoadOptions::default() };
        let d = load(&fixtures().join("drugs_uci"), &opts).unwrap();
        assert_eq!(d.train[2].rating, Some(7.0));
        assert_eq!(d.train[2].label, 0);
        assert_eq!(d.train[0].label, 1);
    }

    #[test]
    fn real_drugs_com_counts_and_date_split() {
        let dir = crate::testing::require(crate::config::paths::DRUGS_COM);
        let t0 = std::time::Instant::now();
        let d = load(&dir, &strict()).unwrap();
        eprintln!("drugs.com load: {:.3}s for {}+{} rows", t0.elapsed().as_secs_f64(), d.train.len(), d.test.len());
        assert_eq!(d.layout, Layout::KaggleCsv);
        assert_eq!((d.train.len(), d.test.len()), (5083, 183));
        // Rating counts from SOURCES.md section 2a.
        let mut counts = [0usize; 10];
        d.train.iter().for_each(|r| counts[r.rating.unwrap() as usize - 1] += 1);
        assert_eq!(counts, [624, 213, 209, 177, 245, 205, 296, 572, 872, 1670]);
        let dates: Vec<NaiveDate> = d.train.iter().map(|r| r.date.unwrap()).collect();
        assert_eq!(dates.iter().min(), NaiveDate::from_ymd_opt(2008, 3, 1).as_ref());
        assert_eq!(dates.iter().max(), NaiveDate::from_ymd_opt(2017, 4, 17).as_ref());
        assert!(d
            .train
            .iter()
            .all(|r| !r.text.contains("&#039;") && !r.text.starts_with('"') && !r.text.contains('\r')));

        let (pooled, removed) = dedup(d.pooled());
        // SOURCES.md: 75 repeated raw texts in train plus 2 shared with test; after cleaning one more
        // pair matches (checked independently with Python csv + html.unescape + whitespace collapse).
        assert_eq!(removed, 78);
        let s = date_split(pooled, Fractions::default()).unwrap();
        let last_train = s.train.iter().map(|r| r.date.unwrap()).max().unwrap();
        let first_test = s.test.iter().map(|r| r.date.unwrap()).min().unwrap();
        assert!(last_train < first_test);
        eprintln!(
            "drugs.com pooled after dedup ({removed} removed): train {} valid {} test {}",
            s.train.len(),
            s.valid.len(),
            s.test.len()
        );
    }

    #[test]
    fn explabox_words_for_ratings_are_rejected_at_line_2() {
        let dir = crate::testing::require(crate::config::paths::DRUGS_COM).join("explabox_3class");
        let path = dir.join("drugsComTrain.tsv");
        let err = load_file(&path, b'\t', &strict()).unwrap_err().to_string();
        assert!(err.contains("drugsComTrain.tsv:2: rating \"positive\" is not a number"), "{err}");
    }
}
