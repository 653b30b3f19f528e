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
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
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
            ClassMetrics {
                class: class_names.get(c).cloned().unwrap_or_else(|| c.to_string()),
                precision,
                recall,
                f1: f1(precision, recall),
                support,
            }
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
        .flat_map(|(t, row)| {
            row.iter().enumerate().filter(move |(p, &c)| *p != t && c > 0).map(move |(p, &c)| (t, p, c))
        })
        .collect();
    cells.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    cells.truncate(k);
    cells
}

/// Wilson score interval of a proportion `k` of `n` at normal quantile `z` (1.96 for 95%).
/// Unlike the normal approximation it stays inside [0, 1] and holds up at small `n` and at
/// proportions near 0 or 1, which test splits of a few hundred samples do reach.
pub fn wilson_interval(k: u64, n: u64, z: f64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (n, p) = (n as f64, k as f64 / n as f64);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

/// 95% Wilson interval of an accuracy measured on `n` samples.
pub fn accuracy_ci95(accuracy: f64, n: usize) -> [f64; 2] {
    wilson_interval((accuracy * n as f64).round() as u64, n as u64, 1.959_963_984_540_054)
}

/// Exact two-sided McNemar test: the p-value of `only_a` vs `only_b` discordant pairs under
/// Binomial(only_a + only_b, 1/2). Exact rather than chi-squared because discordant counts
/// on a few hundred test samples are often small.
/// Two-sided p-value that two accuracies measured on independent test sets (`a` of `n_a`, `b`
/// of `n_b`) are equal: the pooled two-proportion z-test. For rows scored on the same samples use
/// [`paired_test`], which is stronger.
pub fn two_proportion_p(a: f64, n_a: usize, b: f64, n_b: usize) -> f64 {
    let (na, nb) = (n_a as f64, n_b as f64);
    let pooled = (a * na + b * nb) / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if se == 0.0 {
        return if a == b { 1.0 } else { 0.0 };
    }
    erfc((a - b).abs() / se / std::f64::consts::SQRT_2).min(1.0)
}

/// Complementary error function (Numerical Recipes' erfcc, fractional error below 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

pub fn mcnemar_exact(only_a: u64, only_b: u64) -> f64 {
    let n = only_a + only_b;
    if n == 0 {
        return 1.0;
    }
    // P(X <= min) summed in log space: C(n, i) overflows f64 long before n does
    let (mut log_c, mut tail) = (0.0f64, 0.0f64);
    let ln_half_n = n as f64 * 0.5f64.ln();
    for i in 0..=only_a.min(only_b) {
        if i > 0 {
            log_c += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        tail += (log_c + ln_half_n).exp();
    }
    (2.0 * tail).min(1.0)
}

/// Two classifiers compared on the same test samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedTest {
    pub a: String,
    pub b: String,
    pub a_accuracy: f64,
    pub b_accuracy: f64,
    /// Samples only `a` classified correctly.
    pub only_a: u64,
    /// Samples only `b` classified correctly.
    pub only_b: u64,
    /// Exact two-sided McNemar p-value.
    pub p_value: f64,
    /// Runs compared: 1, or the seed pairs the counts were pooled over (see [`super::spread`]).
    #[serde(default = "one")]
    pub pairs: usize,
}

fn one() -> usize {
    1
}

impl std::fmt::Display for PairedTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} vs {}: accuracy {:.3} vs {:.3}; right only by one: {} vs {}; McNemar exact p = {:.2e}",
            self.a, self.b, self.a_accuracy, self.b_accuracy, self.only_a, self.only_b, self.p_value
        )?;
        if self.pairs > 1 {
            write!(f, " (pooled over {} seed pairs)", self.pairs)?;
        }
        Ok(())
    }
}

pub fn paired_test(a: &str, b: &str, truth: &[i64], pred_a: &[i64], pred_b: &[i64]) -> PairedTest {
    assert!(
        truth.len() == pred_a.len() && truth.len() == pred_b.len(),
        "paired test needs predictions for the same samples"
    );
    let (mut only_a, mut only_b, mut ca, mut cb) = (0u64, 0u64, 0u64, 0u64);
    for ((&t, &pa), &pb) in truth.iter().zip(pred_a).zip(pred_b) {
        let (ra, rb) = (pa == t, pb == t);
        ca += ra as u64;
        cb += rb as u64;
        only_a += (ra && !rb) as u64;
        only_b += (rb && !ra) as u64;
    }
    let n = truth.len().max(1) as f64;
    PairedTest {
        a: a.into(),
        b: b.into(),
        a_accuracy: ca as f64 / n,
        b_accuracy: cb as f64 / n,
        only_a,
        only_b,
        p_value: mcnemar_exact(only_a, only_b),
        pairs: 1,
    }
}

/// The most frequent true class of a confusion matrix (rows true, columns predicted): its index,
/// its count and the number of samples; None without samples.
pub fn majority_class(confusion: &[Vec<u64>]) -> Option<(usize, u64, u64)> {
    let truth: Vec<u64> = confusion.iter().map(|row| row.iter().sum()).collect();
    let total = truth.iter().sum::<u64>();
    let k = (0..truth.len()).max_by_key(|&i| truth[i])?;
    (total > 0).then_some((k, truth[k], total))
}

/// A classifier against always answering the most frequent true class, on the same samples, from
/// confusion matrices (rows true, columns predicted), one per seed, pooled as [`super::spread`]
/// pools seed pairs. Only the classifier is right on a correct answer off the majority class, only
/// the majority answer on a majority-class sample the classifier missed.
pub fn against_majority(name: &str, confusions: &[&[Vec<u64>]]) -> Option<PairedTest> {
    let (mut only_a, mut only_b, mut a_accuracy, mut b_accuracy) = (0u64, 0u64, 0.0, 0.0);
    for c in confusions {
        let (k, majority, total) = majority_class(c)?;
        let right: u64 = (0..c.len()).map(|i| c[i][i]).sum();
        only_a += right - c[k][k];
        only_b += majority - c[k][k];
        a_accuracy += right as f64 / total as f64;
        b_accuracy += majority as f64 / total as f64;
    }
    let runs = confusions.len();
    (runs > 0).then(|| PairedTest {
        a: name.into(),
        b: "majority class".into(),
        a_accuracy: a_accuracy / runs as f64,
        b_accuracy: b_accuracy / runs as f64,
        only_a,
        only_b,
        p_value: mcnemar_exact(only_a, only_b),
        pairs: runs,
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn two_proportion_test_known_answers() {
        // erfc(1) and erfc(2) from tables
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((erfc(2.0) - 0.004_677_735).abs() < 1e-7);
        assert!((erfc(-1.0) - 1.842_700_793).abs() < 1e-7);
        // 71.3% vs 77.6% on 519 reviews each: pooled p = 0.7445, se = 0.02708, z = 2.326
        let p = two_proportion_p(0.713, 519, 0.776, 519);
        assert!((p - 0.0200).abs() < 5e-4, "{p}");
        assert!((two_proportion_p(0.5, 100, 0.5, 100) - 1.0).abs() < 1e-6);
        assert!(two_proportion_p(0.50, 100, 0.52, 100) > 0.7);
    }

    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn wilson_interval_known_answers() {
        // 0 of 10 at 95%: the textbook upper bound 0.2775 (the normal approximation gives [0, 0])
        let [lo, hi] = wilson_interval(0, 10, 1.96);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 1e-4, "{hi}");
        // 408 of 519: 0.74882, 0.81923 (the closed form evaluated independently in Python)
        let [lo, hi] = accuracy_ci95(408.0 / 519.0, 519);
        assert!((lo - 0.74882).abs() < 1e-5 && (hi - 0.81923).abs() < 1e-5, "{lo} {hi}");
        assert_eq!(wilson_interval(10, 10, 1.96)[1], 1.0);
    }

    #[test]
    fn against_majority_counts_by_hand() {
        // truth: 6 positive (majority), 4 negative; the classifier gets 3 negatives and 4 positives right
        let c = vec![vec![3, 1], vec![2, 4]];
        let t = against_majority("m", &[&c]).unwrap();
        assert_eq!((t.only_a, t.only_b), (3, 2));
        assert!((t.a_accuracy - 0.7).abs() < 1e-12 && (t.b_accuracy - 0.6).abs() < 1e-12);
        assert_eq!(t.p_value, mcnemar_exact(3, 2));
        // the same as a paired test against an all-positive answer on the same samples
        let truth = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        let pred = [0, 0, 0, 1, 0, 0, 1, 1, 1, 1];
        let p = paired_test("m", "majority class", &truth, &pred, &[1; 10]);
        assert_eq!((p.only_a, p.only_b, p.p_value), (t.only_a, t.only_b, t.p_value));
        // pooled over two seeds: counts add, accuracies average
        let other = vec![vec![0, 4], vec![0, 6]];
        let pooled = against_majority("m", &[&c, &other]).unwrap();
        assert_eq!((pooled.only_a, pooled.only_b, pooled.pairs), (3, 2, 2));
        assert!((pooled.a_accuracy - 0.65).abs() < 1e-12);
        assert!(against_majority("m", &[]).is_none());
        assert!(against_majority("m", &[&[vec![0, 0], vec![0, 0]][..]]).is_none());
    }

    #[test]
    fn mcnemar_exact_known_answers() {
        // 1 vs 9 discordant: 2 * (C(10,0) + C(10,1)) / 2^10 = 22/1024
        assert!((mcnemar_exact(1, 9) - 22.0 / 1024.0).abs() < 1e-12);
        assert!((mcnemar_exact(9, 1) - 22.0 / 1024.0).abs() < 1e-12);
        assert_eq!(mcnemar_exact(5, 5), 1.0);
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        // large counts stay finite: 200 vs 300, exactly 2 * sum_{i<=200} C(500,i) / 2^500 = 8.94007e-6
        // (Python fractions + math.comb)
        let p = mcnemar_exact(200, 300);
        assert!((p / 8.940_066_5e-6 - 1.0).abs() < 1e-6, "{p}");
    }

    #[test]
    fn paired_test_counts_discordant_samples() {
        let truth = [0, 1, 1, 0, 1];
        let t = paired_test("a", "b", &truth, &[0, 1, 0, 0, 0], &[1, 1, 1, 0, 0]);
        assert_eq!((t.only_a, t.only_b), (1, 1));
        assert_eq!((t.a_accuracy, t.b_accuracy), (0.6, 0.6));
        assert_eq!(t.p_value, 1.0);
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
