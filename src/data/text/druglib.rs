//! UCI Drug Review Dataset (Druglib.com, UCI #461): `drugLibTrain_raw.tsv` and
//! `drugLibTest_raw.tsv`, tab separated, `\r\n` line ends, quoted fields with embedded line breaks.
//! A review's text is its three parts (benefits, side effects, comments) joined. There are no
//! dates, so this source is split at random or used whole for training.
use crate::data::text::delimited::{present, read_table, Record};
use crate::data::text::{bin_rating, clean_text, parse_rating, BadRows, LoadOptions, LoadReport, Review, Source};
use crate::error::Result;
use std::path::Path;

pub const TRAIN_FILE: &str = "drugLibTrain_raw.tsv";
pub const TEST_FILE: &str = "drugLibTest_raw.tsv";
/// The review parts, in the order they are joined.
pub const TEXT_COLUMNS: [&str; 3] = ["benefitsReview", "sideEffectsReview", "commentsReview"];

#[derive(Debug, Clone)]
pub struct Druglib {
    pub train: Vec<Review>,
    pub test: Vec<Review>,
    pub reports: Vec<LoadReport>,
}

impl Druglib {
    pub fn pooled(self) -> Vec<Review> {
        let mut all = self.train;
        all.extend(self.test);
        all
    }
}

/// Load both files from `dir` (the `druglib` folder).
pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Druglib> {
    let (train, r1) = load_file(&dir.join(TRAIN_FILE), opts)?;
    let (test, r2) = load_file(&dir.join(TEST_FILE), opts)?;
    Ok(Druglib { train, test, reports: vec![r1, r2] })
}

/// Load one Druglib TSV. The id column is `num` or blank and the drug column `urlDrugName` or
/// `DrugName`, depending on the copy.
pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<(Vec<Review>, LoadReport)> {
    let t = read_table(path, b'\t')?;
    let id = t.strings(t.require_column(&["num", ""])?)?;
    let drug = t.strings(t.require_column(&["urlDrugName", "DrugName"])?)?;
    let rating = t.strings(t.require_column(&["rating"])?)?;
    let condition = t.strings(t.require_column(&["condition"])?)?;
    let parts =
        TEXT_COLUMNS.iter().map(|c| t.require_column(&[c]).and_then(|i| t.strings(i))).collect::<Result<Vec<_>>>()?;

    let mut bad = BadRows::new(path, opts.skip_bad_rows);
    let mut out = Vec::with_capacity(t.frame.height());
    for rec in &t.records {
        let (line, i) = match rec {
            Record::Bad { line, msg } => {
                bad.reject(Some(*line), msg.clone())?;
                continue;
            }
            Record::Row { line, index } => (*line, *index),
        };
        let texts: Vec<String> =
            parts.iter().map(|p| clean_text(p[i].unwrap_or(""))).filter(|s| !s.is_empty()).collect();
        let parsed = (|| -> std::result::Result<Review, String> {
            let id = present(id[i]).ok_or("empty id")?.trim().to_string();
            if texts.is_empty() {
                return Err("empty review (benefits, side effects and comments are all blank)".into());
            }
            let rating = parse_rating(present(rating[i]).ok_or("empty rating")?)?;
            Ok(Review {
                id,
                text: texts.join(" "),
                rating: Some(rating),
                label: bin_rating(rating, opts.threshold),
                date: None,
                useful_count: None,
                drug: present(drug[i]).map(|s| s.trim().to_string()),
                condition: present(condition[i]).map(|s| s.trim().to_string()),
                source: Source::Druglib,
            })
        })();
        match parsed {
            Ok(r) => out.push(r),
            Err(msg) => bad.reject(Some(line), msg)?,
        }
    }
    let n = out.len();
    Ok((out, bad.report(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::text::{date_split, random_split, Fractions};
    use crate::error::Error;
    use std::path::PathBuf;

    fn fixtures() -> PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text")
    }

    #[test]
    fn both_header_variants_parse() {
        let d = load(&fixtures().join("druglib"), &LoadOptions::default()).unwrap();
        assert_eq!((d.train.len(), d.test.len()), (3, 2));
        // Train header: `num` + `DrugName`; test header: blank + `urlDrugName`.
        let r = &d.train[0];
        assert_eq!((r.id.as_str(), r.drug.as_deref(), r.rating, r.label), ("2202", Some("enalapril"), Some(4.0), 0));
        assert_eq!(r.condition.as_deref(), Some("management of congestive heart failure"));
        assert_eq!(r.text, "slowed the progression of left ventricular dysfunction into overt heart failure alone or with other agents. cough, hypotension, proteinuria. monitor blood pressure weekly");
        // Multi-line quoted benefits with \r\r\n and \r\n\r\n collapse to single spaces; an empty part is skipped.
        assert_eq!(d.train[1].text, "Lamictal stabilized my mood. I'm no longer at the whim of my moods. Interestingly, I dream more. Drowsiness.");
        assert_eq!((d.train[1].rating, d.train[1].label), (Some(9.0), 1));
        assert_eq!(d.train[2].label, 1, "rating 7 is positive");
        let t = &d.test[0];
        assert_eq!((t.id.as_str(), t.drug.as_deref(), t.rating), ("1366", Some("biaxin"), Some(9.0)));
        assert!(d.train.iter().chain(&d.test).all(|r| r.date.is_none() && r.source == Source::Druglib));
        assert_eq!(d.reports.iter().map(|r| r.rows).collect::<Vec<_>>(), [3, 2]);
    }

    #[test]
    fn bad_row_after_multiline_record_names_its_line() {
        let path = fixtures().join("druglib_bad/drugLibTrain_raw.tsv");
        let err = load_file(&path, &LoadOptions::default()).unwrap_err();
        match &err {
            // Record 1 spans lines 2-6 (embedded \r\r\n and \r\n\r\n), the bad rating is on line 7.
            Error::Data { path: p, line, msg } => {
                assert_eq!((p, *line), (&path, Some(7)), "{err}");
                assert!(msg.contains("rating \"12\""), "{err}");
            }
            other => panic!("expected a data error, got {other}"),
        }
        let lax = LoadOptions { skip_bad_rows: true, ..LoadOptions::default() };
        let (rows, rep) = load_file(&path, &lax).unwrap();
        // line 7: bad rating; line 8: too few fields; line 9: all three parts empty.
        assert_eq!((rows.len(), rep.skipped_bad_rows), (2, 3));
        assert!(rep.first_errors[1].contains(":8: 5 fields, the header has 9"), "{:?}", rep.first_errors);
        assert!(rep.first_errors[2].contains(":9: empty review"), "{:?}", rep.first_errors);
    }

    #[test]
    fn real_druglib_counts() {
        let dir = crate::testing::require(crate::config::paths::DRUGLIB);
        let t0 = std::time::Instant::now();
        let d = load(&dir, &LoadOptions::default()).unwrap();
        eprintln!("druglib load: {:.3}s for {}+{} rows", t0.elapsed().as_secs_f64(), d.train.len(), d.test.len());
        assert_eq!((d.train.len(), d.test.len()), (3107, 1036));
        // Rating counts from SOURCES.md section 4.
        for (rows, want) in [
            (&d.train, [305, 103, 146, 107, 159, 157, 350, 558, 480, 742]),
            (&d.test, [115, 33, 49, 44, 67, 58, 121, 190, 133, 226]),
        ] {
            let mut counts = [0usize; 10];
            rows.iter().for_each(|r| counts[r.rating.unwrap() as usize - 1] += 1);
            assert_eq!(counts, want);
        }
        let first = &d.test[0];
        assert_eq!((first.id.as_str(), first.drug.as_deref(), first.rating), ("1366", Some("biaxin"), Some(9.0)));
        assert!(first.text.starts_with("The antibiotic may have destroyed bacteria"), "{}", first.text);
        assert!(d.train.iter().chain(&d.test).all(|r| !r.text.contains('\r') && !r.text.contains("  ")));
        // No dates: a date split refuses, a random split works.
        let all = d.pooled();
        assert!(date_split(all.clone(), Fractions::default()).is_err());
        let s = random_split(all, Fractions::default(), 7).unwrap();
        assert_eq!(s.train.len() + s.valid.len() + s.test.len(), 4143);
    }
}
