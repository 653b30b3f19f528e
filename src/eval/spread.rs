//! Results over several seeds: the spread of one row's accuracy, and paired tests pooled over
//! seeds (a stratified McNemar test: the discordant counts of every seed pair are summed).
use super::metrics::{mcnemar_exact, PairedTest};
use serde::{Deserialize, Serialize};

/// One row trained at several seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub row: String,
    pub seeds: Vec<u64>,
    pub test_accuracy: Vec<f64>,
    pub test_mean: f64,
    /// Sample standard deviation (n - 1); 0 for one seed.
    pub test_sd: f64,
    /// Validation accuracy at each seed's kept checkpoint.
    pub valid_accuracy: Vec<f64>,
    pub valid_mean: f64,
    pub valid_sd: f64,
}

/// Mean and sample standard deviation (0 for fewer than two values).
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, 0.0);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// One run of a row: its seed and its (test, kept validation) accuracy.
#[derive(Debug, Clone, Copy)]
pub struct SeedResult {
    pub seed: u64,
    pub test: f64,
    pub valid: f64,
}

impl SeedResult {
    /// A run's result: its test accuracy and the validation accuracy at its kept evaluation
    /// (`best`; the last one where results predate recording it).
    pub fn kept(seed: u64, test: f64, history: &[crate::train::EpochRecord], best: Option<usize>) -> Self {
        let valid = crate::train::EpochRecord::kept(history, best).map_or(f64::NAN, |h| h.valid_accuracy);
        SeedResult { seed, test, valid }
    }
}

/// The spread of every row with results at more than one seed, rows in the order they first
/// appear in `runs` (each run given as its row's name and its result).
pub fn spreads(runs: impl IntoIterator<Item = (String, SeedResult)>) -> Vec<Spread> {
    let mut rows: Vec<(String, Vec<SeedResult>)> = Vec::new();
    for (name, run) in runs {
        match rows.iter_mut().find(|(n, _)| *n == name) {
            Some((_, r)) => r.push(run),
            None => rows.push((name, vec![run])),
        }
    }
    rows.into_iter().filter(|(_, r)| r.len() > 1).map(|(name, r)| Spread::of(&name, &r)).collect()
}

impl Spread {
    /// The spread of `row` over `runs` (in seed order as given).
    pub fn of(row: &str, runs: &[SeedResult]) -> Spread {
        let test: Vec<f64> = runs.iter().map(|r| r.test).collect();
        let valid: Vec<f64> = runs.iter().map(|r| r.valid).collect();
        let ((test_mean, test_sd), (valid_mean, valid_sd)) = (mean_sd(&test), mean_sd(&valid));
        Spread {
            row: row.into(),
            seeds: runs.iter().map(|r| r.seed).collect(),
            test_accuracy: test,
            test_mean,
            test_sd,
            valid_accuracy: valid,
            valid_mean,
            valid_sd,
        }
    }
}

/// One run's test predictions, by seed.
#[derive(Debug, Clone, Copy)]
pub struct Predicted<'a> {
    pub seed: u64,
    pub pred: &'a [i64],
}

/// Which runs of `a` and `b` are compared: the seeds both have, seed with seed, so that every run
/// is in one pair at most (a run set against each of the other side's seeds would count its
/// predictions as if they came from independent runs, and overstate the evidence); without a
/// shared seed, the first runs.
pub fn seed_pairs<'a>(a: &[Predicted<'a>], b: &[Predicted<'a>]) -> Vec<(Predicted<'a>, Predicted<'a>)> {
    let shared: Vec<_> = a.iter().filter_map(|x| b.iter().find(|y| y.seed == x.seed).map(|y| (*x, *y))).collect();
    if !shared.is_empty() {
        return shared;
    }
    match (a.first(), b.first()) {
        (Some(x), Some(y)) => vec![(*x, *y)],
        _ => Vec::new(),
    }
}

/// `a` against `b` on the same test samples, pooled over the seed pairs of [`seed_pairs`]: the
/// accuracies are each side's mean over the pairs, the discordant counts are summed, and the
/// p-value is the exact McNemar test on the sums (the Mantel-Haenszel form of McNemar's test for
/// strata of matched pairs). None when either side has no run.
pub fn pooled_test(a: &str, b: &str, truth: &[i64], runs_a: &[Predicted], runs_b: &[Predicted]) -> Option<PairedTest> {
    let pairs = seed_pairs(runs_a, runs_b);
    if pairs.is_empty() {
        return None;
    }
    let tests: Vec<PairedTest> =
        pairs.iter().map(|(x, y)| super::metrics::paired_test(a, b, truth, x.pred, y.pred)).collect();
    let k = tests.len() as f64;
    let (only_a, only_b) = (tests.iter().map(|t| t.only_a).sum(), tests.iter().map(|t| t.only_b).sum());
    Some(PairedTest {
        a: a.into(),
        b: b.into(),
        a_accuracy: tests.iter().map(|t| t.a_accuracy).sum::<f64>() / k,
        b_accuracy: tests.iter().map(|t| t.b_accuracy).sum::<f64>() / k,
        only_a,
        only_b,
        p_value: mcnemar_exact(only_a, only_b),
        pairs: tests.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_sd_by_hand() {
        // 0.40, 0.46, 0.52: mean 0.46, deviations -0.06, 0, 0.06, variance 0.0072 / 2 = 0.0036
        let (m, sd) = mean_sd(&[0.40, 0.46, 0.52]);
        assert!((m - 0.46).abs() < 1e-12 && (sd - 0.06).abs() < 1e-12, "{m} {sd}");
        assert_eq!(mean_sd(&[0.7]), (0.7, 0.0));
        let s = Spread::of(
            "v2",
            &[SeedResult { seed: 42, test: 0.5, valid: 0.4 }, SeedResult { seed: 43, test: 0.3, valid: 0.6 }],
        );
        assert_eq!(s.seeds, vec![42, 43]);
        assert!((s.test_mean - 0.4).abs() < 1e-12 && (s.test_sd - 0.02f64.sqrt()).abs() < 1e-12);
        assert!((s.valid_mean - 0.5).abs() < 1e-12);
    }

    #[test]
    fn spreads_group_runs_by_row_in_first_seen_order_and_skip_single_runs() {
        let r = |seed, test| SeedResult { seed, test, valid: test };
        let runs = [("b", r(42, 0.5)), ("a", r(42, 0.1)), ("c", r(42, 0.9)), ("b", r(43, 0.7)), ("a", r(43, 0.3))];
        let s = spreads(runs.iter().map(|(n, x)| (n.to_string(), *x)));
        let got: Vec<(&str, Vec<u64>)> = s.iter().map(|x| (x.row.as_str(), x.seeds.clone())).collect();
        assert_eq!(got, [("b", vec![42, 43]), ("a", vec![42, 43])]);
        assert!((s[0].test_mean - 0.6).abs() < 1e-12);
    }

    fn p(seed: u64, pred: &[i64]) -> Predicted<'_> {
        Predicted { seed, pred }
    }

    #[test]
    fn seeds_pair_with_seeds_and_no_run_twice() {
        let (x, y) = (&[0i64][..], &[1i64][..]);
        let seeds =
            |pairs: Vec<(Predicted, Predicted)>| pairs.iter().map(|(a, b)| (a.seed, b.seed)).collect::<Vec<_>>();
        let a3 = [p(42, x), p(43, x), p(44, x)];
        assert_eq!(seeds(seed_pairs(&a3, &[p(42, y), p(43, y), p(44, y)])), [(42, 42), (43, 43), (44, 44)]);
        assert_eq!(seeds(seed_pairs(&a3, &[p(42, y)])), [(42, 42)], "the single run counts once");
        assert_eq!(seeds(seed_pairs(&[p(42, y)], &a3)), [(42, 42)]);
        assert_eq!(seeds(seed_pairs(&a3[1..], &[p(42, y)])), [(43, 42)], "no shared seed: the first runs");
        assert_eq!(seeds(seed_pairs(&[p(42, y)], &[p(42, x)])), [(42, 42)]);
        assert_eq!(seeds(seed_pairs(&[p(7, y), p(8, y)], &[p(42, x), p(43, x)])), [(7, 42)]);
        assert!(seed_pairs(&[], &a3).is_empty());
    }

    #[test]
    fn pooled_counts_and_p_value_by_hand() {
        let truth = [0, 0, 0, 0];
        // seed 42: a right on 0,1,2, b right on 0 -> only a: 2, only b: 0
        // seed 43: a right on 0, b right on 0,1,3 -> only a: 0, only b: 2
        let (a42, a43) = ([0, 0, 0, 1], [0, 1, 1, 1]);
        let (b42, b43) = ([0, 1, 1, 1], [0, 0, 1, 0]);
        let t = pooled_test("a", "b", &truth, &[p(42, &a42), p(43, &a43)], &[p(42, &b42), p(43, &b43)]).unwrap();
        assert_eq!((t.only_a, t.only_b, t.pairs), (2, 2, 2));
        assert!((t.a_accuracy - 0.5).abs() < 1e-12 && (t.b_accuracy - 0.5).abs() < 1e-12);
        assert_eq!(t.p_value, 1.0);
        // three seeds of a against a single b run wrong on 3 samples: that run's 3 discordant
        // samples count once (3 vs 0, two-sided exact p = 2 / 2^3), not three times (9 vs 0)
        let (a, b) = ([0, 0, 0, 0], [0, 1, 1, 1]);
        let t = pooled_test("a", "b", &truth, &[p(1, &a), p(2, &a), p(3, &a)], &[p(1, &b)]).unwrap();
        assert_eq!((t.only_a, t.only_b, t.pairs), (3, 0, 1));
        assert!((t.p_value - 2.0 / 8.0).abs() < 1e-12, "{}", t.p_value);
        // one seed alone is the plain paired test
        let one = pooled_test("a", "b", &truth, &[p(1, &a)], &[p(1, &b)]).unwrap();
        assert_eq!(one, super::super::metrics::paired_test("a", "b", &truth, &a, &b));
    }
}
