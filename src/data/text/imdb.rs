//! IMDB Large Movie Review Dataset (Maas et al. 2011), the indirect training source. Two layouts:
//! the original `aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt` (label from the folder, rating
//! from the name) or the common CSV `review,sentiment` (sentiment `positive`/`negative`, no split:
//! all of it is returned as train). HTML line breaks (`<br />`) become spaces.
use crate::data::text::delimited::{present, read_table, Record};
use crate::data::text::{clean_text, subsample, subsample_indices, BadRows, LoadReport, Review, Source};
use crate::error::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// CSV names tried, in order, when there is no `aclImdb` folder.
pub const CSV_FILES: [&str; 2] = ["IMDB Dataset.csv", "imdb.csv"];

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ImdbOptions {
    pub skip_bad_rows: bool,
    /// Keep at most this many reviews per split (class shares kept, chosen by `seed`), decided
    /// before any review file is read.
    pub max_per_split: Option<usize>,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImdbLayout {
    AclImdb,
    Csv,
}

#[derive(Debug, Clone)]
pub struct Imdb {
    pub layout: ImdbLayout,
    pub train: Vec<Review>,
    /// Empty for the CSV layout, or when `aclImdb/test` is absent.
    pub test: Vec<Review>,
    pub reports: Vec<LoadReport>,
}

/// Load from `dir` (the `imdb` folder): `aclImdb/` when it has `train/{pos,neg}`, else a CSV.
pub fn load(dir: &Path, opts: &ImdbOptions) -> Result<Imdb> {
    let acl = dir.join("aclImdb");
    let has_split = |s: &str| acl.join(s).join("pos").is_dir() && acl.join(s).join("neg").is_dir();
    if has_split("train") {
        let (train, r1) = load_acl_split(&acl, "train", opts)?;
        let mut reports = vec![r1];
        let mut test = Vec::new();
        if has_split("test") {
            let (t, r2) = load_acl_split(&acl, "test", opts)?;
            test = t;
            reports.push(r2);
        }
        return Ok(Imdb { layout: ImdbLayout::AclImdb, train, test, reports });
    }
    if let Some(csv) = CSV_FILES.iter().map(|f| dir.join(f)).find(|p| p.is_file()) {
        let (train, rep) = load_csv(&csv, opts)?;
        return Ok(Imdb { layout: ImdbLayout::Csv, train, test: Vec::new(), reports: vec![rep] });
    }
    Err(Error::MissingData(format!(
        "  - IMDB: {} has neither aclImdb/train/{{pos,neg}} nor any of {:?}",
        dir.display(),
        CSV_FILES
    )))
}

struct AclFile {
    path: PathBuf,
    label: u8,
    num: u64,
    rating: u8,
}

/// `<id>_<rating>.txt`, with the rating on the folder's side of the gap (pos >= 7, neg <= 4).
fn parse_name(path: &Path, label: u8) -> std::result::Result<(u64, u8), String> {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let parsed = stem.split_once('_').and_then(|(id, r)| Some((id.parse::<u64>().ok()?, r.parse::<u8>().ok()?)));
    let Some((num, rating)) = parsed.filter(|(_, r)| (1..=10).contains(r)) else {
        return Err(format!("file name {stem:?} is not <id>_<rating 1-10>.txt"));
    };
    if (label == 1 && rating < 7) || (label == 0 && rating > 4) {
        let folder = if label == 1 { "pos" } else { "neg" };
        return Err(format!("rating {rating} does not belong in {folder}/ (pos is 7-10, neg is 1-4)"));
    }
    Ok((num, rating))
}

/// One split of the aclImdb tree (`split` is `train` or `test`), in path order.
pub fn load_acl_split(acl: &Path, split: &str, opts: &ImdbOptions) -> Result<(Vec<Review>, LoadReport)> {
    let split_dir = acl.join(split);
    let mut bad = BadRows::new(&split_dir, opts.skip_bad_rows);
    let mut listed = Vec::new();
    for (folder, label) in [("neg", 0u8), ("pos", 1u8)] {
        let dir = split_dir.join(folder);
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let path = entry.map_err(|e| Error::io(&dir, e))?.path();
            if path.extension().is_some_and(|x| x == "txt") && path.is_file() {
                listed.push((path, label));
            }
        }
    }
    if listed.is_empty() {
        return Err(Error::data(&split_dir, None, "no reviews: neg/ and pos/ hold no .txt files"));
    }
    listed.sort();
    let mut files = Vec::with_capacity(listed.len());
    for (path, label) in listed {
        match parse_name(&path, label) {
            Ok((num, rating)) => files.push(AclFile { path, label, num, rating }),
            Err(msg) => bad.reject_in(&path, None, msg)?,
        }
    }
    if let Some(max) = opts.max_per_split {
        let labels: Vec<u8> = files.iter().map(|f| f.label).collect();
        let keep = subsample_indices(&labels, max, opts.seed);
        let mut all: Vec<Option<AclFile>> = files.into_iter().map(Some).collect();
        files = keep.into_iter().filter_map(|i| all[i].take()).collect();
    }
    let texts: Vec<Result<String>> = files
        .par_iter()
        .map(|f| {
            let bytes = std::fs::read(&f.path).map_err(|e| Error::io(&f.path, e))?;
            Ok(clean_text(&strip_br_tags(&String::from_utf8_lossy(&bytes))))
        })
        .collect();
    let mut out = Vec::with_capacity(files.len());
    for (f, text) in files.iter().zip(texts) {
        let text = text?;
        if text.is_empty() {
            bad.reject_in(&f.path, None, "empty review")?;
            continue;
        }
        let folder = if f.label == 1 { "pos" } else { "neg" };
        out.push(Review {
            id: format!("{split}/{folder}/{}", f.num),
            text,
            rating: Some(f32::from(f.rating)),
            label: f.label,
            date: None,
            useful_count: None,
            drug: None,
            condition: None,
            source: Source::Imdb,
        });
    }
    let n = out.len();
    Ok((out, bad.report(n)))
}

/// The `review,sentiment` CSV. Ids are the 0-based data row numbers of the file.
pub fn load_csv(path: &Path, opts: &ImdbOptions) -> Result<(Vec<Review>, LoadReport)> {
    let t = read_table(path, b',')?;
    let review = t.strings(t.require_column(&["review"])?)?;
    let sentiment = t.strings(t.require_column(&["sentiment"])?)?;
    let mut bad = BadRows::new(path, opts.skip_bad_rows);
    let mut out = Vec::with_capacity(t.frame.height());
    for (n, rec) in t.records.iter().enumerate() {
        let (line, i) = match rec {
            Record::Bad { line, msg } => {
                bad.reject(Some(*line), msg.clone())?;
                continue;
            }
            Record::Row { line, index } => (*line, *index),
        };
        let label = match present(sentiment[i]).map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            Some("positive") => 1,
            Some("negative") => 0,
            other => {
                bad.reject(Some(line), format!("sentiment {:?} is not positive or negative", other.unwrap_or("")))?;
                continue;
            }
        };
        let text = clean_text(&strip_br_tags(review[i].unwrap_or("")));
        if text.is_empty() {
            bad.reject(Some(line), "empty review")?;
            continue;
        }
        out.push(Review {
            id: n.to_string(),
            text,
            rating: None,
            label,
            date: None,
            useful_count: None,
            drug: None,
            condition: None,
            source: Source::Imdb,
        });
    }
    if let Some(max) = opts.max_per_split {
        out = subsample(out, max, opts.seed);
    }
    let n = out.len();
    Ok((out, bad.report(n)))
}

/// Replace `<br />`, `<br/>` and `<br>` (any case) with a space.
pub fn strip_br_tags(s: &str) -> String {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` index `s`.
    let lower = s.to_ascii_lowercase();
    let b = lower.as_bytes();
    let (mut out, mut last, mut i) = (String::with_capacity(s.len()), 0, 0);
    while let Some(pos) = lower[i..].find("<br") {
        let at = i + pos;
        let mut j = at + 3;
        while b.get(j) == Some(&b' ') {
            j += 1;
        }
        if b.get(j) == Some(&b'/') {
            j += 1;
        }
        if b.get(j) == Some(&b'>') {
            out.push_str(&s[last..at]);
            out.push(' ');
            last = j + 1;
            i = j + 1;
        } else {
            i = at + 3;
        }
    }
    out.push_str(&s[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text")
    }

    #[test]
    fn br_tags_become_spaces() {
        assert_eq!(strip_br_tags("a<br /><br />b<BR>c<br/>d<brx>"), "a  b c d<brx>");
        assert_eq!(clean_text(&strip_br_tags("Good.<br /><br />Really.")), "Good. Really.");
        assert_eq!(strip_br_tags("é<br />ü"), "é ü");
    }

    #[test]
    fn empty_acl_folders_are_an_error_naming_the_split() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["neg", "pos"] {
            std::fs::create_dir_all(dir.path().join("train").join(f)).unwrap();
        }
        let err = load_acl_split(dir.path(), "train", &ImdbOptions::default()).unwrap_err().to_string();
        assert!(err.contains("train") && err.contains("no reviews"), "{err}");
    }

    #[test]
    fn acl_tree_fixture_parses_in_path_order() {
        let d = load(&fixtures().join("imdb_acl"), &ImdbOptions::default()).unwrap();
        assert_eq!(d.layout, ImdbLayout::AclImdb);
        let ids: Vec<&str> = d.train.iter().map(|r| r.id.as_str()).collect();
        // Path order: neg/0_3, neg/10_1, neg/2_4, pos/0_9, pos/1_7, pos/3_10.
        assert_eq!(ids, ["train/neg/0", "train/neg/10", "train/neg/2", "train/pos/0", "train/pos/1", "train/pos/3"]);
        assert_eq!(d.train.iter().map(|r| r.label).collect::<Vec<_>>(), [0, 0, 0, 1, 1, 1]);
        assert_eq!(d.train[1].rating, Some(1.0));
        assert_eq!(d.train[3].text, "A fine film. I'd watch it again.");
        assert_eq!(d.test.len(), 2);
        assert_eq!(d.reports.len(), 2);
        assert_eq!(d.reports[0].rows, 6);
    }

    #[test]
    fn acl_max_per_split_keeps_class_balance() {
        let opts = ImdbOptions { max_per_split: Some(4), seed: 1, ..ImdbOptions::default() };
        let d = load(&fixtures().join("imdb_acl"), &opts).unwrap();
        assert_eq!(d.train.len(), 4);
        assert_eq!(d.train.iter().filter(|r| r.label == 1).count(), 2);
        assert_eq!(d.test.len(), 2);
        let again = load(&fixtures().join("imdb_acl"), &opts).unwrap();
        assert_eq!(again.train, d.train);
    }

    #[test]
    fn acl_bad_names_and_folders_are_rejected_or_counted() {
        let acl = fixtures().join("imdb_acl_bad/aclImdb");
        let err = load_acl_split(&acl, "train", &ImdbOptions::default()).unwrap_err().to_string();
        // Path order: neg/5_8.txt (rating 8 in neg) comes before pos/x_9.txt.
        assert!(err.contains("neg/5_8.txt") && err.contains("does not belong in neg/"), "{err}");
        let lax = ImdbOptions { skip_bad_rows: true, ..ImdbOptions::default() };
        let (rows, rep) = load_acl_split(&acl, "train", &lax).unwrap();
        assert_eq!((rows.len(), rep.skipped_bad_rows), (2, 3));
        assert!(
            rep.first_errors.iter().any(|e| e.contains("x_9.txt") && e.contains("is not <id>_<rating")),
            "{:?}",
            rep.first_errors
        );
        assert!(
            rep.first_errors.iter().any(|e| e.contains("4_1.txt") && e.contains("empty review")),
            "{:?}",
            rep.first_errors
        );
    }

    #[test]
    fn csv_fixture_parses_and_rejects_bad_sentiment() {
        let d = load(&fixtures().join("imdb_csv"), &ImdbOptions::default()).unwrap();
        assert_eq!(d.layout, ImdbLayout::Csv);
        assert_eq!(d.train.iter().map(|r| r.label).collect::<Vec<_>>(), [1, 0, 1, 0]);
        assert_eq!(d.train[0].text, "One of the best. Watch it, \"really\".");
        assert_eq!(d.train[1].text, "Dull, dull, dull.");
        assert!(d.test.is_empty());
        let path = fixtures().join("imdb_csv_bad/imdb.csv");
        let err = load_csv(&path, &ImdbOptions::default()).unwrap_err().to_string();
        assert!(err.contains("imdb.csv:5: sentiment \"meh\""), "{err}");
        let sub = load(&fixtures().join("imdb_csv"), &ImdbOptions { max_per_split: Some(2), ..ImdbOptions::default() })
            .unwrap();
        assert_eq!(sub.train.iter().map(|r| r.label).sum::<u8>(), 1);
    }

    #[test]
    fn real_imdb_train_and_test() {
        let dir = crate::testing::require(crate::config::paths::IMDB);
        let t0 = std::time::Instant::now();
        let d = load(&dir, &ImdbOptions::default()).unwrap();
        eprintln!("imdb full load: {:.2}s for {}+{} files", t0.elapsed().as_secs_f64(), d.train.len(), d.test.len());
        assert_eq!((d.train.len(), d.test.len()), (25_000, 12_500));
        assert_eq!(d.train.iter().filter(|r| r.label == 1).count(), 12_500);
        assert_eq!(d.test.iter().filter(|r| r.label == 1).count(), 6_250);
        assert!(d.train.iter().all(|r| !r.text.contains("<br")));
        let t0 = std::time::Instant::now();
        let opts = ImdbOptions { max_per_split: Some(1000), seed: 3, ..ImdbOptions::default() };
        let q = load(&dir, &opts).unwrap();
        eprintln!("imdb quick load (1000 per split): {:.3}s", t0.elapsed().as_secs_f64());
        assert_eq!((q.train.len(), q.test.len()), (1000, 1000));
        assert_eq!(q.train.iter().filter(|r| r.label == 1).count(), 500);
    }
}
