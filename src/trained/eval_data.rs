//! Labelled data to score a trained model on: the test split of a data root laid out like the
//! experiment's, or a plain labelled folder (faces) or file (reviews). Class names are the data's
//! own; [`match_classes`] maps them onto the model's by name.
use crate::config::paths;
use crate::data::faces::{self, FaceItem};
use crate::data::text::delimited::{present, read_table, Record, Table};
use crate::data::text::drugs_com;
use crate::data::text::{self, bin_rating, clean_text, parse_rating, BadRows, Fractions};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Labelled images, labels indexing `classes` (the data's own names).
#[derive(Debug, Clone)]
pub struct FaceSet {
    pub path: PathBuf,
    pub description: String,
    pub classes: Vec<String>,
    pub items: Vec<FaceItem>,
    pub skipped: Vec<String>,
}

/// Where the images are: `D/faces/test`, `D/test` (a split layout), or `D` itself
/// (`<class>/<images>` or a `_classes.csv` folder).
pub fn load_faces(path: &Path, skip_bad: bool) -> Result<FaceSet> {
    let root = if path.join(paths::FACES.dir).is_dir() { path.join(paths::FACES.dir) } else { path.to_path_buf() };
    let (dir, description) = if root.join("test").is_dir() {
        (root.join("test"), format!("test split of {}", root.display()))
    } else {
        (root.clone(), format!("labelled folder {}", root.display()))
    };
    let (classes, items, skipped) =
        faces::load_labelled_folder(&dir, faces::LoadOptions { skip_bad_images: skip_bad })?;
    Ok(FaceSet {
        path: dir,
        description,
        classes,
        items,
        skipped: skipped.iter().map(|p| p.display().to_string()).collect(),
    })
}

/// Which columns of a review file hold the text and the target. `None`: the usual names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReviewColumns {
    pub text: Option<String>,
    pub rating: Option<String>,
    pub label: Option<String>,
}

/// Labelled reviews, already cleaned; labels are 0 negative, 1 positive.
#[derive(Debug, Clone)]
pub struct ReviewSet {
    pub path: PathBuf,
    pub description: String,
    pub texts: Vec<String>,
    pub labels: Vec<i64>,
    pub duplicates_removed: usize,
    pub skipped_bad_rows: usize,
    /// The first errors of the skipped rows.
    pub skipped: Vec<String>,
}

/// A Drugs.com folder (`D/drug_reviews` or `D`) gives the date-sorted test split the run made
/// with `fractions` and `threshold`; a single CSV/TSV file gives all of its rows.
pub fn load_reviews(
    path: &Path,
    cols: &ReviewColumns,
    fractions: Fractions,
    threshold: f32,
    skip_bad: bool,
) -> Result<ReviewSet> {
    let opts = text::LoadOptions { skip_bad_rows: skip_bad, threshold };
    if path.is_file() {
        return load_review_file(path, cols, threshold, skip_bad);
    }
    let dir =
        if path.join(paths::DRUGS_COM.dir).is_dir() { path.join(paths::DRUGS_COM.dir) } else { path.to_path_buf() };
    if !dir.is_dir() {
        return Err(Error::data(path, None, "neither a review file nor a folder"));
    }
    let dc = drugs_com::load(&dir, &opts)?;
    let skipped_bad_rows = dc.reports.iter().map(|r| r.skipped_bad_rows).sum();
    let skipped = dc.reports.iter().flat_map(|r| r.first_errors.clone()).collect();
    let (pooled, dups) = text::dedup(dc.pooled());
    let test = text::date_split(pooled, fractions)?.test;
    let dates = text::date_range(&test).map(|(a, b)| format!(", {a} to {b}")).unwrap_or_default();
    Ok(ReviewSet {
        path: dir.clone(),
        description: format!(
            "date-sorted test split of {} (newest {:.0}%{dates})",
            dir.display(),
            fractions.test * 100.0
        ),
        labels: test.iter().map(|r| r.label as i64).collect(),
        texts: test.into_iter().map(|r| r.text).collect(),
        duplicates_removed: dups,
        skipped_bad_rows,
        skipped,
    })
}

fn pick_column(t: &Table, flag: &Option<String>, defaults: &[&str], what: &str) -> Result<Option<usize>> {
    match flag {
        Some(name) => t.find_column(&[name.as_str()]).map(Some).ok_or_else(|| {
            Error::data(
                &t.path,
                Some(t.header_line),
                format!("no {what} column `{name}` (columns: {})", t.header.join(", ")),
            )
        }),
        None => Ok(t.find_column(defaults)),
    }
}

/// A label cell: 0/1 or negative/positive (neg/pos), any case.
fn parse_label(s: &str) -> std::result::Result<i64, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "0" | "negative" | "neg" => Ok(0),
        "1" | "positive" | "pos" => Ok(1),
        other => Err(format!("label `{other}` is neither 0/1 nor negative/positive")),
    }
}

/// Whether the first non-empty cell of a column reads as a label and not as a number.
fn holds_labels(cells: &[Option<&str>]) -> bool {
    cells.iter().find_map(|c| present(*c)).is_some_and(|c| parse_rating(c).is_err() && parse_label(c).is_ok())
}

/// One delimited file (`.tsv`: tabs, else commas) with a text column and a rating or label column.
pub fn load_review_file(path: &Path, cols: &ReviewColumns, threshold: f32, skip_bad: bool) -> Result<ReviewSet> {
    let tsv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let t = read_table(path, if tsv { b'\t' } else { b',' })?;
    let (text_col, target, by_rating) = review_columns(path, &t, cols)?;
    let texts = t.strings(text_col)?;
    let targets = t.strings(target)?;
    let mut bad = BadRows::new(path, skip_bad);
    let (mut out_texts, mut labels) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
    let mut dups = 0;
    for rec in &t.records {
        let (line, i) = match rec {
            Record::Bad { line, msg } => {
                bad.reject(Some(*line), msg.clone())?;
                continue;
            }
            Record::Row { line, index } => (*line, *index),
        };
        let text = clean_text(texts[i].unwrap_or(""));
        if text.is_empty() {
            bad.reject(Some(line), "empty text")?;
            continue;
        }
        match label_of(targets[i], by_rating, threshold) {
            Ok(l) if seen.insert(text.clone()) => {
                out_texts.push(text);
                labels.push(l);
            }
            Ok(_) => dups += 1,
            Err(msg) => bad.reject(Some(line), msg)?,
        }
    }
    if out_texts.is_empty() {
        return Err(Error::data(path, None, "no labelled reviews in the file"));
    }
    let report = bad.report(out_texts.len());
    let how = if by_rating {
        format!("rating column `{}` (>= {threshold} positive)", t.header[target])
    } else {
        format!("label column `{}`", t.header[target])
    };
    Ok(ReviewSet {
        path: path.to_path_buf(),
        description: format!("every row of {} (text column `{}`, {how})", path.display(), t.header[text_col]),
        texts: out_texts,
        labels,
        duplicates_removed: dups,
        skipped_bad_rows: report.skipped_bad_rows,
        skipped: report.first_errors,
    })
}

/// The text column, the target column, and whether the target is a rating (else a label).
fn review_columns(path: &Path, t: &Table, cols: &ReviewColumns) -> Result<(usize, usize, bool)> {
    let text_col = pick_column(t, &cols.text, &["review", "text"], "text")?.ok_or_else(|| {
        Error::data(
            path,
            Some(t.header_line),
            format!("no text column: name it with --text-column (columns: {})", t.header.join(", ")),
        )
    })?;
    // a flag names the target; without one, a rating column wins over a label column
    let target = match (&cols.label, &cols.rating) {
        (Some(_), _) => pick_column(t, &cols.label, &[], "label")?.map(|c| (c, false)),
        (None, Some(_)) => pick_column(t, &cols.rating, &[], "rating")?.map(|c| (c, true)),
        (None, None) => t
            .find_column(&["rating"])
            .map(|c| (c, true))
            .or_else(|| t.find_column(&["label", "sentiment"]).map(|c| (c, false))),
    };
    // a `rating` column that holds words (some exports bin ratings already) is a label column;
    // the description says which reading was used
    let target = match target {
        Some((c, true)) if cols.rating.is_none() && holds_labels(&t.strings(c)?) => Some((c, false)),
        other => other,
    };
    let (target, by_rating) = target.ok_or_else(|| {
        let columns = t.header.join(", ");
        let why =
            format!("no rating or label column: name one with --rating-column or --label-column (columns: {columns})");
        Error::data(path, Some(t.header_line), why)
    })?;
    Ok((text_col, target, by_rating))
}

/// The 0/1 label of a target cell: a rating binned at `threshold`, or a label.
fn label_of(cell: Option<&str>, by_rating: bool, threshold: f32) -> std::result::Result<i64, String> {
    match present(cell) {
        None => Err(format!("empty {}", if by_rating { "rating" } else { "label" })),
        Some(c) if by_rating => {
            parse_rating(c).map(|r| bin_rating(r, threshold) as i64).map_err(|e| match parse_label(c) {
                Ok(_) => format!("{e} (the column holds labels? name it with --label-column)"),
                Err(_) => e,
            })
        }
        Some(c) => parse_label(c),
    }
}

/// For each data class, the model's class of the same name (case-insensitive). A class the model
/// does not know is an error naming it and `path`.
pub fn match_classes(data_classes: &[String], model_classes: &[String], path: &Path) -> Result<Vec<usize>> {
    data_classes
        .iter()
        .map(|c| {
            model_classes.iter().position(|m| m.trim().eq_ignore_ascii_case(c.trim())).ok_or_else(|| {
                Error::data(
                    path,
                    None,
                    format!("class `{c}` is not one the model knows ({})", model_classes.join(", ")),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn classes_match_by_name_in_any_order_and_case() {
        let model = s(&["angry", "happy", "sad"]);
        assert_eq!(match_classes(&s(&["Sad", "angry"]), &model, Path::new("d")).unwrap(), vec![2, 0]);
        let err = match_classes(&s(&["happy", "contempt"]), &model, Path::new("lab/faces")).unwrap_err().to_string();
        assert!(err.contains("lab/faces") && err.contains("`contempt`") && err.contains("angry, happy, sad"), "{err}");
    }

    #[test]
    fn review_file_with_a_label_column_or_a_rating_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mine.csv");
        std::fs::write(&p, "id,body,label\n1,Great &amp; calm,positive\n2,\"awful, truly\",0\n3,Great &amp; calm,1\n")
            .unwrap();
        let cols = ReviewColumns { text: Some("body".into()), ..Default::default() };
        let set = load_review_file(&p, &cols, 7.0, false).unwrap();
        assert_eq!(set.texts, s(&["Great & calm", "awful, truly"]));
        assert_eq!((set.labels, set.duplicates_removed), (vec![1, 0], 1));

        let p = dir.path().join("rated.tsv");
        std::fs::write(&p, "review\trating\nfine\t7\nbad\t6.0\n").unwrap();
        let set = load_review_file(&p, &ReviewColumns::default(), 7.0, false).unwrap();
        assert_eq!(set.labels, vec![1, 0]);
        assert!(set.description.contains("rating column `rating`"), "{}", set.description);

        // an export whose `rating` column was already binned into words
        std::fs::write(&p, "review\trating\nfine\tpositive\nbad\tnegative\nmeh\tneutral\n").unwrap();
        let set = load_review_file(&p, &ReviewColumns::default(), 7.0, true).unwrap();
        assert_eq!((set.labels, set.skipped_bad_rows), (vec![1, 0], 1));
        assert!(set.description.contains("label column `rating`"), "{}", set.description);
        assert!(set.skipped[0].contains("rated.tsv:4") && set.skipped[0].contains("`neutral`"), "{:?}", set.skipped);
    }

    #[test]
    fn bad_review_rows_name_file_and_line_or_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        std::fs::write(&p, "text,label\nok,1\n  ,0\nfine,maybe\n").unwrap();
        let err = load_review_file(&p, &ReviewColumns::default(), 7.0, false).unwrap_err().to_string();
        assert!(err.contains("r.csv:3") && err.contains("empty text"), "{err}");
        let set = load_review_file(&p, &ReviewColumns::default(), 7.0, true).unwrap();
        assert_eq!((set.texts.len(), set.skipped_bad_rows), (1, 2));
        std::fs::write(&p, "text,label\nok,1\nfine,maybe\n").unwrap();
        let err = load_review_file(&p, &ReviewColumns::default(), 7.0, false).unwrap_err().to_string();
        assert!(err.contains("r.csv:3") && err.contains("`maybe`"), "{err}");
        std::fs::write(&p, "words,stars\nok,1\n").unwrap();
        let err = load_review_file(&p, &ReviewColumns::default(), 7.0, false).unwrap_err().to_string();
        assert!(err.contains("r.csv:1") && err.contains("--text-column"), "{err}");
        let cols = ReviewColumns { text: Some("words".into()), rating: Some("score".into()), label: None };
        let err = load_review_file(&p, &cols, 7.0, false).unwrap_err().to_string();
        assert!(err.contains("no rating column `score`") && err.contains("words, stars"), "{err}");
    }

    fn png(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::GrayImage::from_pixel(5, 5, image::Luma([9])).save(path).unwrap();
    }

    #[test]
    fn faces_from_a_split_layout_or_a_plain_class_folder() {
        let dir = tempfile::tempdir().unwrap();
        png(&dir.path().join("lab/happy/a.png"));
        png(&dir.path().join("lab/sad/b.png"));
        let set = load_faces(&dir.path().join("lab"), false).unwrap();
        assert_eq!((set.classes.clone(), set.items.len()), (s(&["happy", "sad"]), 2));
        assert!(set.description.starts_with("labelled folder"));
        png(&dir.path().join("root/faces/test/fear/c.png"));
        let set = load_faces(&dir.path().join("root"), false).unwrap();
        assert_eq!(set.classes, s(&["fear"]));
        assert!(set.description.starts_with("test split"));

        std::fs::create_dir_all(dir.path().join("lab/neutral")).unwrap();
        let err = load_faces(&dir.path().join("lab"), false).unwrap_err().to_string();
        assert!(err.contains("lab/neutral") && err.contains("no images"), "{err}");
        std::fs::remove_dir(dir.path().join("lab/neutral")).unwrap();
        std::fs::write(dir.path().join("lab/sad/broken.jpg"), b"\xff\xd8\xff\xe0 not really").unwrap();
        let err = load_faces(&dir.path().join("lab"), false).unwrap_err().to_string();
        assert!(err.contains("broken.jpg"), "{err}");
        assert_eq!(load_faces(&dir.path().join("lab"), true).unwrap().skipped.len(), 1);
    }
}
