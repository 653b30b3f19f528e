//! Classification metrics from a confusion matrix (rows = true class, columns = predicted).
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub accuracy: f64,
    pub macro_precision: f64,
    pub macro_recall: f64,
    pub macro_f1: f64,
    pub per_class: Vec<ClassMetrics>,
    pub confusion: Vec<Vec<u64>>,
}

/// Confusion matrix for `n` classes. Labels outside `0..n` are a caller bug, so they panic.
pub fn confusion(truth: &[i64], pred: &[i64], n: usize) -> Vec<Vec<u64>> {
    assert_eq!(truth.len(), pred.len(), "truth and predictions differ in length");
    let mut m = vec![vec![0u64; n]; n];
    for (&t, &p) in truth.iter().zip(pred) {
        m[t as usize][p as usize] += 1;
    }
    m
}

fn ratio(num: u64, den: u64) -> f64 {
    // The sklearn convention (zero_division=0): an empty denominator scores 0, not NaN.
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
}

pub fn report(confusion: Vec<Vec<u64>>, class_names: &[String]) -> Report {
    let n = confusion.len();
    let total: u64 = confusion.iter().flatten().sum();
    let correct: u64 = (0..n).map(|i| confusion[i][i]).sum();
    let per_class: Vec<ClassMetrics> = (0..n)
        .map(|c| {
            let tp = confusion[c][c];
            let support: u64 = confusion[c].iter().sum();
            let predicted: u64 = confusion.iter().map(|row| row[c]).sum();
            let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
            ClassMetrics { class: class_names.get(c).cloned().unwrap_or_else(|| c.to_string()), precision, recall, f1: f1(precision, recall), support }
        })
        .collect();
    let mean = |f: fn(&ClassMetrics) -> f64| per_class.iter().map(f).sum::<f64>() / n.max(1) as f64;
    Report {
        accuracy: ratio(correct, total),
        macro_precision: mean(|c| c.precision),
        macro_recall: mean(|c| c.recall),
        macro_f1: mean(|c| c.f1),
        per_class,
        confusion,
    }
}

/// Off-diagonal cells sorted by count: (true, predicted, count), largest first.
pub fn most_confused(confusion: &[Vec<u64>], k: usize) -> Vec<(usize, usize, u64)> {
    let mut cells: Vec<(usize, usize, u64)> = confusion
        .iter()
        .enumerate()
        .flat_map(|(t, row)| row.iter().enumerate().filter(move |(p, &c)| *p != t && c > 0).map(move |(p, &c)| (t, p, c)))
        .collect();
    cells.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    cells.truncate(k);
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn binary_known_answer() {
        // tp=3 fn=1 fp=2 tn=4 for class 1.
        let truth = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
        let pred = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0];
        let r = report(confusion(&truth, &pred, 2), &names(2));
        assert_eq!(r.confusion, vec![vec![4, 2], vec![1, 3]]);
        assert!((r.accuracy - 0.7).abs() < 1e-12);
        let pos = &r.per_class[1];
        assert!((pos.precision - 0.6).abs() < 1e-12);
        assert!((pos.recall - 0.75).abs() < 1e-12);
        assert!((pos.f1 - 2.0 * 0.6 * 0.75 / 1.35).abs() < 1e-12);
        let neg = &r.per_class[0];
        assert!((neg.precision - 0.8).abs() < 1e-12);
        assert!((neg.recall - 4.0 / 6.0).abs() < 1e-12);
        assert!((r.macro_f1 - (pos.f1 + neg.f1) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn never_predicted_class_scores_zero_not_nan() {
        let r = report(confusion(&[0, 1, 2], &[0, 0, 0], 3), &names(3));
        assert_eq!(r.per_class[1].precision, 0.0);
        assert_eq!(r.per_class[2].f1, 0.0);
        assert!((r.per_class[0].precision - 1.0 / 3.0).abs() < 1e-12);
        assert!(r.macro_f1.is_finite());
    }

    #[test]
    fn most_confused_orders_by_count() {
        let m = vec![vec![5, 1, 0], vec![4, 2, 2], vec![0, 3, 9]];
        assert_eq!(most_confused(&m, 2), vec![(1, 0, 4), (2, 1, 3)]);
    }
}
