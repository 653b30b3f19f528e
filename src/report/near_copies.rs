//! The held-out faces that copy a training face: how many, what they look like, and each row's
//! test accuracy without them (a copy in train measures memory, not generalisation).
use super::html::{pct, table, Html};
use super::names::shown;
use super::plots::{self, Figure};
use super::takeaways::{lead, sentence};
use crate::data::faces::FaceDataset;
use crate::data::near_copies::{NearCopies, NearCopy};
use crate::error::Result;
use crate::experiments::part1;

/// How many validation and test images copy a training image, and how many under another label.
pub fn near_copies_takeaway(c: &NearCopies) -> Html {
    let [_, valid, test] = c.sizes;
    let ((in_test, test_relabelled), (in_valid, valid_relabelled)) = (c.counts("test"), c.counts("valid"));
    if c.copies.is_empty() {
        return sentence(format!(
            "None of the {valid} validation and {test} test images copies a training image (grey thumbnails \
             correlated at {:.2} or more).",
            c.threshold
        ));
    }
    lead(
        format!("{in_test} of the {test} test and {in_valid} of the {valid} validation images copy a training image."),
        format!(
            "The same photo cropped, watermarked or re-encoded (grey thumbnails correlated at r ≥ {:.2}); \
             {test_relabelled} and {valid_relabelled} of them under another label.",
            c.threshold
        ),
    )
}

/// Up to five copies (test first, then validation), each above the training image it copies;
/// `None` when there are none.
pub fn near_copy_pairs(c: &NearCopies) -> Result<Option<Figure>> {
    let shown: Vec<&NearCopy> = c.in_split("test").chain(c.in_split("valid")).take(5).collect();
    if shown.is_empty() {
        return Ok(None);
    }
    let (mut top, mut bottom) = (Vec::new(), Vec::new());
    for s in &shown {
        top.push(super::face_picture(&s.path)?);
        bottom.push(super::face_picture(&s.train_path)?);
    }
    let class = |label| c.class(label);
    let captions: Vec<[String; 2]> = shown
        .iter()
        .map(|s| [format!("{}: {}", s.split, class(s.label)), format!("r = {:.3}", s.similarity)])
        .chain(shown.iter().map(|s| {
            let mark = if s.same_label() { "same label" } else { "another label" };
            [format!("train: {}", class(s.train_label)), mark.to_string()]
        }))
        .collect();
    let title = "Held-out images (top) and the training image each copies (below)";
    plots::pair_grid(title, &top, &bottom, &captions).map(Some)
}

/// Each row's test accuracy on every test image and without those that copy a training image,
/// with a sentence on whether the ranking of the rows changes.
pub fn part1_without_near_copies(r: &part1::Results, ds: &FaceDataset, c: &NearCopies) -> Html {
    let n = r.test_labels.len();
    let same_test = ds.test.len() >= n && ds.test[..n].iter().map(|i| i.label).eq(r.test_labels.iter().copied());
    if !same_test {
        return sentence(
            "The faces on disk are not the test set this run scored, so its copies cannot be taken out.".into(),
        );
    }
    let drop: std::collections::HashSet<usize> = c.test_indices().into_iter().filter(|&i| i < n).collect();
    if drop.is_empty() {
        return sentence(format!("None of the {n} test images this run scored copies a training image."));
    }
    let rows: Vec<(&part1::Row, f64, f64)> = r
        .rows
        .iter()
        .filter(|x| x.test_predictions.len() == n)
        .map(|x| (x, accuracy(x, &r.test_labels, &|_| true), accuracy(x, &r.test_labels, &|i| !drop.contains(&i))))
        .collect();
    let ranking = |k: fn(&(&part1::Row, f64, f64)) -> f64| {
        let mut v: Vec<_> = rows.iter().collect();
        v.sort_by(|a, b| k(b).total_cmp(&k(a)));
        v.iter().map(|x| x.0.model.as_str()).collect::<Vec<_>>()
    };
    let largest = rows.iter().map(|x| (x.2 - x.1).abs()).fold(0.0, f64::max);
    let order = if ranking(|x| x.1) == ranking(|x| x.2) {
        "the ranking of the rows is unchanged"
    } else {
        "the ranking changes"
    };
    let lead = sentence(format!(
        "Without the {} test images that copy a training image, accuracies move by at most {:.1} points and {order}.",
        drop.len(),
        largest * 100.0
    ));
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|(x, all, kept)| vec![shown(&x.model), pct(*all), pct(*kept), format!("{:+.1}", (kept - all) * 100.0)])
        .collect();
    let without = format!("without the {} copies", drop.len());
    let all = format!("all {n} test images");
    Html(lead.0 + &table(&["row", &all, &without, "points"], &body).0)
}

/// Share of the test images kept by `keep` that the row predicts right.
fn accuracy(row: &part1::Row, truth: &[i64], keep: &dyn Fn(usize) -> bool) -> f64 {
    let (right, seen) = row
        .test_predictions
        .iter()
        .zip(truth)
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .fold((0usize, 0usize), |(r, s), (_, (p, t))| (r + usize::from(p == t), s + 1));
    right as f64 / seen.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::faces::FaceItem;
    use std::path::PathBuf;

    fn copy(split: &'static str, index: usize, label: i64, train_label: i64) -> NearCopy {
        NearCopy {
            split,
            index,
            path: PathBuf::from(format!("{split}{index}.jpg")),
            label,
            train_path: PathBuf::from("t.jpg"),
            train_label,
            similarity: 0.97,
        }
    }

    fn copies(list: Vec<NearCopy>) -> NearCopies {
        NearCopies { threshold: 0.95, classes: vec!["a".into(), "b".into()], sizes: [10, 6, 4], copies: list }
    }

    fn dataset(test_labels: &[i64]) -> FaceDataset {
        let item = |l: &i64| FaceItem { path: PathBuf::from("x.jpg"), label: *l };
        FaceDataset {
            root: PathBuf::new(),
            classes: vec!["a".into(), "b".into()],
            train: vec![],
            valid: vec![],
            test: test_labels.iter().map(item).collect(),
            skipped: vec![],
        }
    }

    #[test]
    fn the_takeaway_counts_copies_per_split_and_those_relabelled() {
        let c = copies(vec![copy("valid", 2, 0, 0), copy("test", 1, 0, 1), copy("test", 3, 1, 1)]);
        let s = near_copies_takeaway(&c).0;
        assert!(s.contains("2 of the 4 test and 1 of the 6 validation images"), "{s}");
        assert!(s.contains("1 and 0 of them under another label"), "{s}");
        assert!(near_copies_takeaway(&copies(vec![])).0.contains("None of the 6 validation and 4 test images"));
    }

    #[test]
    fn accuracy_without_copies_drops_exactly_the_copied_test_images() {
        let mut r = crate::report::fixtures::part1();
        r.test_labels = vec![0, 1, 0, 1, 0];
        r.rows.truncate(2);
        r.rows[0].test_predictions = vec![0, 1, 0, 0, 1]; // right on 0-2: 60%, 100% without 3 and 4
        r.rows[1].test_predictions = vec![0, 1, 1, 1, 0]; // right on 0, 1, 3, 4: 80%, 66.7% without
        let (a, b) = (shown(&r.rows[0].model), shown(&r.rows[1].model));
        let two = copies(vec![copy("test", 4, 0, 1), copy("test", 3, 1, 1)]);
        let html = part1_without_near_copies(&r, &dataset(&[0, 1, 0, 1, 0]), &two).0;
        assert!(html.contains(&format!("<td>{a}</td><td>60.0%</td><td>100.0%</td><td>+40.0</td>")), "{html}");
        assert!(html.contains(&format!("<td>{b}</td><td>80.0%</td><td>66.7%</td><td>-13.3</td>")), "{html}");
        assert!(
            html.contains("Without the 2 test images") && html.contains("at most 40.0 points and the ranking changes")
        );
        let one = copies(vec![copy("test", 2, 0, 0)]);
        let kept = part1_without_near_copies(&r, &dataset(&[0, 1, 0, 1, 0]), &one).0;
        assert!(kept.contains("the ranking of the rows is unchanged"), "{kept}");
        let other = part1_without_near_copies(&r, &dataset(&[1, 1, 0, 1, 0]), &one).0;
        assert!(other.contains("not the test set this run scored"), "{other}");
        let none = part1_without_near_copies(&r, &dataset(&[0, 1, 0, 1, 0]), &copies(vec![copy("valid", 2, 0, 0)])).0;
        assert!(none.contains("None of the 5 test images"), "{none}");
    }
}
