//! The seed deck's claims about its results, checked against a run. Each claim is a page, the
//! seed's words and a check that reads this run's results and returns a verdict with our numbers,
//! so another run or profile gets its own verdicts.
use super::html::{esc, pct, Html};
use crate::experiments::{part1, part2};
use crate::train::EpochRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Reproduced,
    Partly,
    NotReproduced,
    /// The run has no row to check it with (say, weights not installed).
    NotTested,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::Partly => "partly",
            Verdict::NotReproduced => "not reproduced",
            Verdict::NotTested => "not tested here",
        }
    }
}

/// One claim with its verdict and the evidence from the run.
#[derive(Debug, Clone)]
pub struct Checked {
    pub page: &'static str,
    pub claim: &'static str,
    pub verdict: Verdict,
    pub evidence: String,
}

struct Claim<R> {
    page: &'static str,
    claim: &'static str,
    check: fn(&R) -> (Verdict, String),
}

/// The class a confusion matrix (rows true, columns predicted) predicts most, and its share.
pub fn most_predicted(confusion: &[Vec<u64>]) -> (usize, f64) {
    let n = confusion.len();
    let predicted: Vec<u64> = (0..n).map(|j| confusion.iter().map(|row| row[j]).sum()).collect();
    let total: u64 = predicted.iter().sum();
    let (class, count) = predicted.iter().enumerate().max_by_key(|(_, c)| **c).map(|(i, c)| (i, *c)).unwrap_or((0, 0));
    (class, count as f64 / total.max(1) as f64)
}

/// How a training history ends: train minus validation accuracy at the last evaluation, and the
/// epoch (1-based position) with the lowest validation loss.
struct Ending {
    gap: f64,
    train: f64,
    valid: f64,
    lowest_loss_at: usize,
    evaluations: usize,
}

fn ending(h: &[EpochRecord]) -> Option<Ending> {
    let last = h.last()?;
    let lowest = h.iter().enumerate().min_by(|a, b| a.1.valid_loss.total_cmp(&b.1.valid_loss))?.0 + 1;
    Some(Ending {
        gap: last.train_accuracy - last.valid_accuracy,
        train: last.train_accuracy,
        valid: last.valid_accuracy,
        lowest_loss_at: lowest,
        evaluations: h.len(),
    })
}

/// A share of predictions above which a classifier is said to have collapsed to one class.
pub(crate) const COLLAPSED: f64 = 0.9;
/// Train minus validation accuracy (fraction) from which we call the gap overfitting.
const OVERFIT_GAP: f64 = 0.10;

fn v1_overfits(r: &part1::Results) -> (Verdict, String) {
    let Some(v1) = r.row("emotionnet_v1") else { return (Verdict::NotTested, "no V1 row".into()) };
    let (class, share) = most_predicted(&v1.confusion);
    let Some(e) = ending(&v1.history) else { return (Verdict::NotTested, "no training history".into()) };
    let curve = format!("train {} vs valid {} at the end", pct(e.train), pct(e.valid));
    if share >= COLLAPSED {
        let name = r.classes.get(class).map(String::as_str).unwrap_or("?");
        return (
            Verdict::NotReproduced,
            format!("V1 predicts \"{name}\" for {} of test images: it collapsed to one class ({curve}), which is not overfitting", pct(share)),
        );
    }
    let rising = e.lowest_loss_at < e.evaluations;
    let loss = format!("validation loss lowest at evaluation {} of {}", e.lowest_loss_at, e.evaluations);
    match (e.gap >= OVERFIT_GAP, rising) {
        (true, true) => (Verdict::Reproduced, format!("{curve}; {loss}")),
        (true, false) | (false, true) => (Verdict::Partly, format!("{curve}; {loss}")),
        (false, false) => (Verdict::NotReproduced, format!("no gap: {curve}; {loss}")),
    }
}

fn v3_smaller_and_faster(r: &part1::Results) -> (Verdict, String) {
    let (Some(v2), Some(v3)) = (r.row("emotionnet_v2"), r.row("emotionnet_v3")) else {
        return (Verdict::NotTested, "needs the V2 and V3 rows".into());
    };
    let smaller = v3.params < v2.params;
    let faster = v3.latency_ms_b1 < v2.latency_ms_b1;
    let evidence = format!(
        "V3 {:.2}M parameters, {:.2} ms/image; V2 {:.2}M, {:.2} ms/image (batch 1)",
        v3.params as f64 / 1e6,
        v3.latency_ms_b1,
        v2.params as f64 / 1e6,
        v2.latency_ms_b1
    );
    let verdict = match (smaller, faster) {
        (true, true) => Verdict::Reproduced,
        (false, false) => Verdict::NotReproduced,
        _ => Verdict::Partly,
    };
    (verdict, evidence)
}

fn small_design_matches_big(r: &part1::Results) -> (Verdict, String) {
    let (Some(v1), Some(v3)) = (r.row("emotionnet_v1"), r.row("emotionnet_v3")) else {
        return (Verdict::NotTested, "needs the V1 and V3 rows".into());
    };
    let evidence = format!(
        "V3 {} with {:.2}M parameters; V1 {} with {:.1}M",
        pct(v3.test_accuracy),
        v3.params as f64 / 1e6,
        pct(v1.test_accuracy),
        v1.params as f64 / 1e6
    );
    let verdict = if v3.params >= v1.params {
        Verdict::NotTested
    } else if v3.test_accuracy >= v1.test_accuracy {
        Verdict::Reproduced
    } else if v3.test_accuracy_ci95[1] >= v1.test_accuracy {
        Verdict::Partly
    } else {
        Verdict::NotReproduced
    };
    (verdict, evidence)
}

fn best(r: &part1::Results, keep: impl Fn(&part1::Row) -> bool) -> Option<&part1::Row> {
    r.rows.iter().filter(|x| keep(x)).max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
}

fn best_transfer(r: &part1::Results) -> Option<&part1::Row> {
    best(r, |x| x.init == part1::Init::Imagenet)
}

fn best_custom(r: &part1::Results) -> Option<&part1::Row> {
    best(r, |x| x.arch.is_custom())
}

fn resnet18_sixty(r: &part1::Results) -> (Verdict, String) {
    let Some(row) = r.row("resnet18") else {
        let other = best_transfer(r)
            .map(|b| format!("; best transfer row here: {} at {}", b.model, pct(b.test_accuracy)))
            .unwrap_or_default();
        return (Verdict::NotTested, format!("ImageNet ResNet18 not run here{other}"));
    };
    let [lo, hi] = row.test_accuracy_ci95;
    let evidence = format!("ResNet18 {} (95% CI {}-{})", pct(row.test_accuracy), pct(lo), pct(hi));
    let verdict = if row.test_accuracy >= 0.6 || hi >= 0.6 { Verdict::Reproduced } else { Verdict::NotReproduced };
    (verdict, evidence)
}

fn transfer_infers_faster(r: &part1::Results) -> (Verdict, String) {
    let (Some(t), Some(v3)) = (best_transfer(r), r.row("emotionnet_v3")) else {
        return (Verdict::NotTested, "needs a transfer row and V3".into());
    };
    let evidence = format!(
        "{} {:.2} ms/image with {:.1}M parameters; V3 {:.2} ms/image with {:.2}M (batch 1, {})",
        t.model,
        t.latency_ms_b1,
        t.params as f64 / 1e6,
        v3.latency_ms_b1,
        v3.params as f64 / 1e6,
        r.device
    );
    let verdict = if t.latency_ms_b1 < v3.latency_ms_b1 { Verdict::Reproduced } else { Verdict::NotReproduced };
    (verdict, evidence)
}

fn transfer_is_best(r: &part1::Results) -> (Verdict, String) {
    let (Some(t), Some(s)) = (best_transfer(r), best(r, |x| x.init != part1::Init::Imagenet)) else {
        return (Verdict::NotTested, "needs transfer and from-scratch rows".into());
    };
    let test = r.comparisons.iter().find(|c| (c.a == t.model && c.b == s.model) || (c.a == s.model && c.b == t.model));
    let p = test.map(|c| format!(", McNemar {}", super::html::p_value(c.p_value))).unwrap_or_default();
    let evidence =
        format!("{} {} vs best from scratch {} {}{p}", t.model, pct(t.test_accuracy), s.model, pct(s.test_accuracy));
    let verdict = match (t.test_accuracy > s.test_accuracy, test.map(|c| c.p_value < 0.05)) {
        (false, _) => Verdict::NotReproduced,
        (true, Some(true)) => Verdict::Reproduced,
        (true, _) => Verdict::Partly,
    };
    (verdict, evidence)
}

fn transfer_doubles(r: &part1::Results) -> (Verdict, String) {
    let (Some(t), Some(c)) = (best_transfer(r), best_custom(r)) else {
        return (Verdict::NotTested, "needs a transfer row and an EmotionNet".into());
    };
    let ratio = t.test_accuracy / c.test_accuracy.max(1e-9);
    let evidence = format!("{} {} vs {} {}: {ratio:.2}x", t.model, pct(t.test_accuracy), c.model, pct(c.test_accuracy));
    let verdict = if ratio >= 1.9 {
        Verdict::Reproduced
    } else if ratio >= 1.25 {
        Verdict::Partly
    } else {
        Verdict::NotReproduced
    };
    (verdict, evidence)
}

fn resnet50_no_better(r: &part1::Results) -> (Verdict, String) {
    let (Some(a), Some(b)) = (r.row("resnet18"), r.row("resnet50")) else {
        return (Verdict::NotTested, "ImageNet ResNet18/ResNet50 not run here".into());
    };
    let evidence = format!("ResNet50 {} vs ResNet18 {}", pct(b.test_accuracy), pct(a.test_accuracy));
    let verdict = if b.test_accuracy <= a.test_accuracy { Verdict::Reproduced } else { Verdict::NotReproduced };
    (verdict, evidence)
}

fn rows<'a>(r: &'a part1::Results, a: &str, b: &str) -> Option<(&'a part1::Row, &'a part1::Row)> {
    Some((r.row(a)?, r.row(b)?))
}

fn v2_validation_above_training(r: &part1::Results) -> (Verdict, String) {
    let Some(e) = r.row("emotionnet_v2").and_then(|v2| ending(&v2.history)) else {
        return (Verdict::NotTested, "no V2 history".into());
    };
    let evidence = format!("V2 train {} vs valid {} at the end", pct(e.train), pct(e.valid));
    (if e.valid > e.train { Verdict::Reproduced } else { Verdict::NotReproduced }, evidence)
}

fn v2_still_favours_happy(r: &part1::Results) -> (Verdict, String) {
    let Some(v2) = r.row("emotionnet_v2") else { return (Verdict::NotTested, "no V2 row".into()) };
    let Some(happy) = r.classes.iter().position(|c| c == "happy") else {
        return (Verdict::NotTested, "no class named happy".into());
    };
    let total = v2.confusion.iter().flatten().sum::<u64>().max(1) as f64;
    let predicted = v2.confusion.iter().map(|row| row.get(happy).copied().unwrap_or(0)).sum::<u64>() as f64 / total;
    let truth = v2.confusion.get(happy).map_or(0, |row| row.iter().sum::<u64>()) as f64 / total;
    let (top, top_share) = most_predicted(&v2.confusion);
    let top_name = r.classes.get(top).map(String::as_str).unwrap_or("?");
    let mut evidence = format!("V2 predicts \"happy\" for {} of test images ({} are)", pct(predicted), pct(truth));
    if top != happy {
        evidence += &format!("; it favours \"{top_name}\" ({})", pct(top_share));
    }
    let verdict = if predicted >= COLLAPSED {
        Verdict::NotReproduced
    } else if predicted > truth + 0.05 {
        Verdict::Reproduced
    } else {
        Verdict::NotReproduced
    };
    (verdict, evidence)
}

fn v2_smaller_faster_better_than_v1(r: &part1::Results) -> (Verdict, String) {
    let Some((v1, v2)) = rows(r, "emotionnet_v1", "emotionnet_v2") else {
        return (Verdict::NotTested, "needs the V1 and V2 rows".into());
    };
    let checks = [v2.params < v1.params, v2.latency_ms_b1 < v1.latency_ms_b1, v2.test_accuracy > v1.test_accuracy];
    let evidence = format!(
        "V2 {:.2}M parameters, {:.2} ms/image, {}; V1 {:.1}M, {:.2} ms/image, {}",
        v2.params as f64 / 1e6,
        v2.latency_ms_b1,
        pct(v2.test_accuracy),
        v1.params as f64 / 1e6,
        v1.latency_ms_b1,
        pct(v1.test_accuracy)
    );
    let verdict = match checks.iter().filter(|c| **c).count() {
        3 => Verdict::Reproduced,
        0 => Verdict::NotReproduced,
        _ => Verdict::Partly,
    };
    (verdict, evidence)
}

fn v3_worse_than_v2(r: &part1::Results) -> (Verdict, String) {
    let Some((v2, v3)) = rows(r, "emotionnet_v2", "emotionnet_v3") else {
        return (Verdict::NotTested, "needs the V2 and V3 rows".into());
    };
    let evidence = format!("V3 {} vs V2 {}", pct(v3.test_accuracy), pct(v2.test_accuracy));
    (if v3.test_accuracy < v2.test_accuracy { Verdict::Reproduced } else { Verdict::NotReproduced }, evidence)
}

fn transfer_slightly_overfits(r: &part1::Results) -> (Verdict, String) {
    let Some(t) = best_transfer(r) else { return (Verdict::NotTested, "no transfer row".into()) };
    let Some(e) = ending(&t.history) else { return (Verdict::NotTested, "no training history".into()) };
    let evidence = format!("{} train {} vs valid {} at the end", t.model, pct(e.train), pct(e.valid));
    let verdict = if e.gap > 0.0 && e.gap < OVERFIT_GAP {
        Verdict::Reproduced
    } else if e.gap >= OVERFIT_GAP {
        Verdict::Partly
    } else {
        Verdict::NotReproduced
    };
    (verdict, evidence)
}

fn transfer_seven_of_ten(r: &part1::Results) -> (Verdict, String) {
    let Some(t) = best_transfer(r) else { return (Verdict::NotTested, "no transfer row".into()) };
    let right = t.samples.iter().filter(|s| s.truth == s.pred).count();
    let evidence = format!("{} gets {right} of its {} sample images right", t.model, t.samples.len());
    (if right >= 7 { Verdict::Reproduced } else { Verdict::NotReproduced }, evidence)
}

fn transfer_clear_diagonal(r: &part1::Results) -> (Verdict, String) {
    let Some(t) = best_transfer(r) else { return (Verdict::NotTested, "no transfer row".into()) };
    let n = t.confusion.len();
    let on_top: Vec<bool> = (0..n)
        .filter(|&i| t.confusion[i].iter().sum::<u64>() > 0)
        .map(|i| (0..n).all(|j| t.confusion[i][i] >= t.confusion[i][j]))
        .collect();
    let hits = on_top.iter().filter(|x| **x).count();
    let evidence =
        format!("{}: the right class is the most frequent prediction for {hits} of {} classes", t.model, on_top.len());
    let verdict = if hits == on_top.len() {
        Verdict::Reproduced
    } else if hits * 2 >= on_top.len() {
        Verdict::Partly
    } else {
        Verdict::NotReproduced
    };
    (verdict, evidence)
}

const PART1: &[Claim<part1::Results>] = &[
    Claim { page: "11", claim: "V1 converges early and shows signs of overfitting", check: v1_overfits },
    Claim {
        page: "23",
        claim: "V2's validation score is above its training score",
        check: v2_validation_above_training,
    },
    Claim {
        page: "24-25",
        claim: "V2 no longer always predicts happy, but still favours it",
        check: v2_still_favours_happy,
    },
    Claim {
        page: "26",
        claim: "V2 is smaller and faster than V1, and more accurate",
        check: v2_smaller_faster_better_than_v1,
    },
    Claim { page: "31", claim: "V3 is smaller and faster than V2", check: v3_smaller_and_faster },
    Claim { page: "31", claim: "V3 does worse than V2", check: v3_worse_than_v2 },
    Claim {
        page: "32, 42",
        claim: "A careful small design does as well with far fewer parameters",
        check: small_design_matches_big,
    },
    Claim { page: "34", claim: "Fine-tuned ResNet18 reaches about 60% test accuracy", check: resnet18_sixty },
    Claim { page: "34", claim: "The fine-tuned model overfits slightly", check: transfer_slightly_overfits },
    Claim { page: "35", claim: "The fine-tuned model gets 7 of 10 samples right", check: transfer_seven_of_ten },
    Claim { page: "37", claim: "Its confusion matrix shows a clear diagonal", check: transfer_clear_diagonal },
    Claim {
        page: "38",
        claim: "The transfer model infers faster than V3 despite more parameters",
        check: transfer_infers_faster,
    },
    Claim { page: "39-41", claim: "ResNet50 does not beat ResNet18 on this small dataset", check: resnet50_no_better },
    Claim { page: "42", claim: "With little data, transfer learning is best", check: transfer_is_best },
    Claim { page: "42", claim: "Transfer doubles the accuracy of the custom networks", check: transfer_doubles },
];

fn useful_count_travels(r: &part2::Results) -> (Verdict, String) {
    let c = &r.eda.correlation;
    let at = |n: &str| c.names.iter().position(|x| x == n);
    let (Some(rating), Some(useful)) = (at("rating"), at("usefulCount")) else {
        return (Verdict::NotTested, "no rating/usefulCount correlation".into());
    };
    let target = c.values[rating][useful];
    // the strongest other pair, leaving out the label (the rating binned) and the diagonal
    let label = at("label");
    let mut strongest: Option<(usize, usize, f64)> = None;
    for i in 0..c.names.len() {
        for j in i + 1..c.names.len() {
            if Some(i) == label || Some(j) == label || (i, j) == (rating.min(useful), rating.max(useful)) {
                continue;
            }
            let v = c.values[i][j];
            if v.is_finite() && strongest.is_none_or(|s| v.abs() > s.2.abs()) {
                strongest = Some((i, j, v));
            }
        }
    }
    let Some((i, j, other)) = strongest else { return (Verdict::NotTested, "no other column pairs".into()) };
    let evidence = format!(
        "r(usefulCount, rating) = {target:.2}; strongest other pair r({}, {}) = {other:.2}",
        c.names[i], c.names[j]
    );
    let verdict = if target.abs() > other.abs() { Verdict::Reproduced } else { Verdict::NotReproduced };
    (verdict, evidence)
}

fn direct_transformer_best(r: &part2::Results) -> (Verdict, String) {
    let Some(d) = r.row("minilm_drugscom") else { return (Verdict::NotTested, "no direct MiniLM run".into()) };
    type Metric = (&'static str, fn(&part2::Row) -> f64);
    let metrics: [Metric; 5] = [
        ("accuracy", |x| x.accuracy),
        ("precision", |x| x.precision),
        ("recall", |x| x.recall),
        ("F1", |x| x.f1),
        ("macro-F1", |x| x.macro_f1),
    ];
    let lost: Vec<&str> =
        metrics.iter().filter(|(_, m)| r.rows.iter().any(|x| m(x) > m(d) + 1e-12)).map(|(n, _)| *n).collect();
    let evidence = if lost.is_empty() {
        format!("MiniLM direct tops every metric ({} accuracy)", pct(d.accuracy))
    } else {
        format!("MiniLM direct {} accuracy; another run is higher on {}", pct(d.accuracy), lost.join(", "))
    };
    let verdict = match lost.len() {
        0 => Verdict::Reproduced,
        n if n < metrics.len() && !lost.contains(&"accuracy") => Verdict::Partly,
        _ => Verdict::NotReproduced,
    };
    (verdict, evidence)
}

fn transfer_beats_scratch(r: &part2::Results) -> (Verdict, String) {
    let mut wins = Vec::new();
    let mut checked = 0;
    for s in ["drugscom", "imdb", "druglib"] {
        if let (Some(m), Some(b)) = (r.row(&format!("minilm_{s}")), r.row(&format!("bilstm_{s}"))) {
            checked += 1;
            if m.accuracy > b.accuracy {
                wins.push(s);
            }
        }
    }
    if checked == 0 {
        return (Verdict::NotTested, "needs MiniLM and BiLSTM runs on one source".into());
    }
    let evidence = format!("MiniLM above the BiLSTM on {} of {checked} training sources", wins.len());
    let verdict = match wins.len() {
        n if n == checked => Verdict::Reproduced,
        0 => Verdict::NotReproduced,
        _ => Verdict::Partly,
    };
    (verdict, evidence)
}

fn custom_direct_near_chance(r: &part2::Results) -> (Verdict, String) {
    let Some(b) = r.row("bilstm_drugscom") else { return (Verdict::NotTested, "no direct BiLSTM run".into()) };
    let m = r.majority_share();
    let evidence = format!("BiLSTM direct {} vs {} for always the majority class", pct(b.accuracy), pct(m));
    let above = b.accuracy - m;
    let verdict = if above > 0.0 && above <= 0.10 { Verdict::Reproduced } else { Verdict::NotReproduced };
    (verdict, evidence)
}

fn custom_indirect_below_chance(r: &part2::Results) -> (Verdict, String) {
    let Some(b) = r.row("bilstm_imdb") else { return (Verdict::NotTested, "no BiLSTM run on IMDB".into()) };
    let m = r.majority_share();
    let evidence = format!("BiLSTM on IMDB {} vs {} for always the majority class", pct(b.accuracy), pct(m));
    let verdict = if b.accuracy < m { Verdict::Reproduced } else { Verdict::NotReproduced };
    (verdict, evidence)
}

fn direct_beats_indirect(r: &part2::Results) -> (Verdict, String) {
    let (mut pairs, mut wins, mut lines) = (0, 0, Vec::new());
    for m in ["minilm", "bilstm"] {
        let Some(d) = r.row(&format!("{m}_drugscom")) else { continue };
        for s in ["imdb", "druglib"] {
            if let Some(i) = r.row(&format!("{m}_{s}")) {
                pairs += 1;
                if d.accuracy > i.accuracy {
                    wins += 1;
                } else {
                    lines.push(format!("{m} on {s} {} vs direct {}", pct(i.accuracy), pct(d.accuracy)));
                }
            }
        }
    }
    if pairs == 0 {
        return (Verdict::NotTested, "needs direct and indirect runs".into());
    }
    let mut evidence = format!("direct above indirect in {wins} of {pairs} pairs");
    if !lines.is_empty() {
        evidence += &format!(" (not: {})", lines.join("; "));
    }
    let verdict = match wins {
        w if w == pairs => Verdict::Reproduced,
        0 => Verdict::NotReproduced,
        _ => Verdict::Partly,
    };
    (verdict, evidence)
}

fn minilm_overfits(r: &part2::Results) -> (Verdict, String) {
    let Some(d) = r.row("minilm_drugscom") else { return (Verdict::NotTested, "no direct MiniLM run".into()) };
    let Some(e) = ending(&d.history) else { return (Verdict::NotTested, "no training history".into()) };
    let evidence = format!(
        "train {} vs valid {} at the end; validation loss lowest at evaluation {} of {}",
        pct(e.train),
        pct(e.valid),
        e.lowest_loss_at,
        e.evaluations
    );
    let verdict = match (e.gap >= OVERFIT_GAP, e.lowest_loss_at < e.evaluations) {
        (true, true) => Verdict::Reproduced,
        (false, false) => Verdict::NotReproduced,
        _ => Verdict::Partly,
    };
    (verdict, evidence)
}

/// Train minus validation accuracy at the end of a Part 2 run's training.
fn gap(r: &part2::Results, name: &str) -> Option<f64> {
    ending(&r.row(name)?.history).map(|e| e.gap)
}

fn bilstm_overfits_more(r: &part2::Results) -> (Verdict, String) {
    let (Some(b), Some(m)) = (gap(r, "bilstm_drugscom"), gap(r, "minilm_drugscom")) else {
        return (Verdict::NotTested, "needs both direct runs".into());
    };
    let evidence = format!("train-valid gap at the end: BiLSTM {:+.1} points, MiniLM {:+.1}", b * 100.0, m * 100.0);
    (if b > m { Verdict::Reproduced } else { Verdict::NotReproduced }, evidence)
}

fn imdb_bilstm_overfits_least(r: &part2::Results) -> (Verdict, String) {
    let gaps: Vec<(String, f64)> = r.rows.iter().filter_map(|x| Some((x.name(), ending(&x.history)?.gap))).collect();
    let Some(imdb) = gaps.iter().find(|(n, _)| n == "bilstm_imdb").map(|(_, g)| *g) else {
        return (Verdict::NotTested, "no BiLSTM run on IMDB".into());
    };
    let smaller = gaps.iter().filter(|(n, g)| n != "bilstm_imdb" && *g < imdb).count();
    let evidence = format!(
        "BiLSTM on IMDB gap {:+.1} points; {smaller} of {} other runs have a smaller one",
        imdb * 100.0,
        gaps.len() - 1
    );
    let verdict = match smaller {
        0 => Verdict::Reproduced,
        1 => Verdict::Partly,
        _ => Verdict::NotReproduced,
    };
    (verdict, evidence)
}

fn indirect_minilm_good(r: &part2::Results) -> (Verdict, String) {
    let m = r.majority_share();
    let runs: Vec<(&str, f64)> =
        ["minilm_imdb", "minilm_druglib"].iter().filter_map(|n| Some((*n, r.row(n)?.accuracy))).collect();
    if runs.is_empty() {
        return (Verdict::NotTested, "no indirect MiniLM run".into());
    }
    let above = runs.iter().filter(|(_, a)| *a >= m + 0.10).count();
    let list: Vec<String> = runs.iter().map(|(n, a)| format!("{n} {}", pct(*a))).collect();
    let evidence = format!("{}; majority class {}", list.join(", "), pct(m));
    let verdict = match above {
        n if n == runs.len() => Verdict::Reproduced,
        0 => Verdict::NotReproduced,
        _ => Verdict::Partly,
    };
    (verdict, evidence)
}

const PART2: &[Claim<part2::Results>] = &[
    Claim { page: "EDA", claim: "usefulCount is what travels with the rating", check: useful_count_travels },
    Claim { page: "curves", claim: "Fine-tuned MiniLM (direct) overfits", check: minilm_overfits },
    Claim { page: "curves", claim: "The BiLSTM overfits even more than MiniLM", check: bilstm_overfits_more },
    Claim { page: "curves", claim: "The BiLSTM on IMDB overfits least of all runs", check: imdb_bilstm_overfits_least },
    Claim { page: "comparison", claim: "Indirect pretrained models still do well", check: indirect_minilm_good },
    Claim {
        page: "comparison",
        claim: "The direct transformer is best on every metric",
        check: direct_transformer_best,
    },
    Claim {
        page: "comparison",
        claim: "Transfer (MiniLM) beats the model from scratch",
        check: transfer_beats_scratch,
    },
    Claim {
        page: "comparison",
        claim: "The direct custom model is just above chance",
        check: custom_direct_near_chance,
    },
    Claim {
        page: "comparison",
        claim: "The indirect custom model is worse than chance",
        check: custom_indirect_below_chance,
    },
    Claim { page: "conclusion", claim: "Direct training beats indirect training", check: direct_beats_indirect },
];

fn check_all<R>(claims: &[Claim<R>], r: &R) -> Vec<Checked> {
    claims
        .iter()
        .map(|c| {
            let (verdict, evidence) = (c.check)(r);
            Checked { page: c.page, claim: c.claim, verdict, evidence }
        })
        .collect()
}

pub fn part1_claims(r: &part1::Results) -> Vec<Checked> {
    check_all(PART1, r)
}

pub fn part2_claims(r: &part2::Results) -> Vec<Checked> {
    check_all(PART2, r)
}

/// How many claims a slide holds.
pub const PER_SLIDE: usize = 8;

/// The claims as a four-column table: page, the seed's claim, verdict, our evidence.
pub fn claims_table(claims: &[Checked]) -> Html {
    let mut h = String::from(
        "<table class=\"claims\"><thead><tr><th>page</th><th>the seed says</th><th>here</th><th>our numbers</th></tr></thead><tbody>",
    );
    for c in claims {
        h += &format!(
            "<tr><td>{}</td><td>{}</td><td class=\"verdict {}\">{}</td><td>{}</td></tr>",
            esc(c.page),
            esc(c.claim),
            c.verdict.label().replace(' ', "-"),
            c.verdict.label(),
            esc(&c.evidence)
        );
    }
    Html(h + "</tbody></table>")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::fixtures::{part1, part2};

    fn verdict(claims: &[Checked], page: &str, starts: &str) -> Verdict {
        claims.iter().find(|c| c.page == page && c.claim.starts_with(starts)).unwrap().verdict
    }

    #[test]
    fn most_predicted_reads_the_columns() {
        let (class, share) = most_predicted(&[vec![0, 3], vec![0, 1]]);
        assert_eq!((class, share), (1, 1.0));
        let (class, share) = most_predicted(&[vec![2, 1], vec![1, 0]]);
        assert_eq!(class, 0);
        assert!((share - 0.75).abs() < 1e-12);
    }

    #[test]
    fn a_collapsed_v1_is_not_overfitting_and_a_gap_is() {
        let mut r = part1();
        // the committed quick run: V1 predicts one class for every test image
        let c = part1_claims(&r);
        assert_eq!(verdict(&c, "11", "V1"), Verdict::NotReproduced);
        assert!(c[0].evidence.contains("collapsed"), "{}", c[0].evidence);
        // a V1 that spreads its predictions, ends 30 points above validation, loss rising
        let v1 = r.rows.iter_mut().find(|x| x.model == "emotionnet_v1").unwrap();
        let n = v1.confusion.len();
        v1.confusion = (0..n).map(|i| (0..n).map(|j| if i == j { 5 } else { 1 }).collect()).collect();
        let last = v1.history.len() - 1;
        v1.history[last].train_accuracy = 0.9;
        v1.history[last].valid_accuracy = 0.6;
        v1.history[last].valid_loss = 10.0;
        assert_eq!(verdict(&part1_claims(&r), "11", "V1"), Verdict::Reproduced);
    }

    #[test]
    fn inference_speed_claim_follows_the_latencies() {
        let mut r = part1();
        assert_eq!(verdict(&part1_claims(&r), "38", "The transfer"), Verdict::NotReproduced);
        r.rows.iter_mut().find(|x| x.model == "mobilenet_v2").unwrap().latency_ms_b1 = 0.01;
        assert_eq!(verdict(&part1_claims(&r), "38", "The transfer"), Verdict::Reproduced);
    }

    #[test]
    fn missing_rows_are_not_tested_never_a_verdict() {
        let r = part1();
        assert!(r.row("resnet18").is_none());
        assert_eq!(verdict(&part1_claims(&r), "34", "Fine-tuned"), Verdict::NotTested);
        assert_eq!(verdict(&part1_claims(&r), "39-41", "ResNet50"), Verdict::NotTested);
    }

    #[test]
    fn part2_chance_claims_use_the_majority_class() {
        let mut r = part2();
        let m = r.majority_share();
        let b = r.row("bilstm_imdb").unwrap().accuracy;
        let expected = if b < m { Verdict::Reproduced } else { Verdict::NotReproduced };
        assert_eq!(verdict(&part2_claims(&r), "comparison", "The indirect custom"), expected);
        r.rows.iter_mut().find(|x| x.model.name() == "bilstm" && x.train_source.name() == "imdb").unwrap().accuracy =
            m - 0.05;
        assert_eq!(verdict(&part2_claims(&r), "comparison", "The indirect custom"), Verdict::Reproduced);
    }

    #[test]
    fn usefulcount_claim_compares_against_the_strongest_other_pair() {
        let mut r = part2();
        // the committed run: 0.20 against review length vs date at 0.24
        assert_eq!(verdict(&part2_claims(&r), "EDA", "usefulCount"), Verdict::NotReproduced);
        let c = &mut r.eda.correlation;
        let (i, j) = (
            c.names.iter().position(|x| x == "rating").unwrap(),
            c.names.iter().position(|x| x == "usefulCount").unwrap(),
        );
        c.values[i][j] = 0.6;
        c.values[j][i] = 0.6;
        assert_eq!(verdict(&part2_claims(&r), "EDA", "usefulCount"), Verdict::Reproduced);
    }

    #[test]
    fn v2_claims_follow_its_numbers() {
        let mut r = part1();
        let v2 = r.rows.iter_mut().find(|x| x.model == "emotionnet_v2").unwrap();
        let last = v2.history.len() - 1;
        v2.history[last].train_accuracy = 0.5;
        v2.history[last].valid_accuracy = 0.6;
        assert_eq!(verdict(&part1_claims(&r), "23", "V2's validation"), Verdict::Reproduced);
        let v2 = r.rows.iter_mut().find(|x| x.model == "emotionnet_v2").unwrap();
        let last = v2.history.len() - 1;
        v2.history[last].valid_accuracy = 0.4;
        assert_eq!(verdict(&part1_claims(&r), "23", "V2's validation"), Verdict::NotReproduced);
        // every prediction "happy": "no longer always" fails; half of them "happy": it holds;
        // half of them "fear": V2 does not favour happy
        let happy = r.classes.iter().position(|c| c == "happy").unwrap();
        let fear = r.classes.iter().position(|c| c == "fear").unwrap();
        let n = r.classes.len();
        let with = |r: &mut part1::Results, f: &dyn Fn(usize, usize) -> u64| {
            let v2 = r.rows.iter_mut().find(|x| x.model == "emotionnet_v2").unwrap();
            v2.confusion = (0..n).map(|i| (0..n).map(|j| f(i, j)).collect()).collect();
        };
        with(&mut r, &|_, j| u64::from(j == happy) * 10);
        assert_eq!(verdict(&part1_claims(&r), "24-25", "V2 no longer"), Verdict::NotReproduced);
        with(&mut r, &|i, j| u64::from(j == happy) * 5 + u64::from(i == j) * 5);
        assert_eq!(verdict(&part1_claims(&r), "24-25", "V2 no longer"), Verdict::Reproduced);
        with(&mut r, &|i, j| u64::from(j == fear) * 5 + u64::from(i == j) * 5);
        let c = part1_claims(&r);
        assert_eq!(verdict(&c, "24-25", "V2 no longer"), Verdict::NotReproduced);
        assert!(c.iter().any(|x| x.evidence.contains("favours \"fear\"")));
    }

    #[test]
    fn a_perfect_transfer_row_has_its_diagonal_and_seven_of_ten() {
        let mut r = part1();
        let t = r.rows.iter_mut().find(|x| x.model == "mobilenet_v2").unwrap();
        let n = t.confusion.len();
        t.confusion = (0..n).map(|i| (0..n).map(|j| if i == j { 9 } else { 1 }).collect()).collect();
        for s in &mut t.samples {
            s.pred = s.truth.clone();
        }
        let c = part1_claims(&r);
        assert_eq!(verdict(&c, "37", "Its confusion"), Verdict::Reproduced);
        assert_eq!(verdict(&c, "35", "The fine-tuned"), Verdict::Reproduced);
        let t = r.rows.iter_mut().find(|x| x.model == "mobilenet_v2").unwrap();
        t.confusion = (0..n).map(|_| (0..n).map(|j| u64::from(j == 0) * 5).collect()).collect();
        assert_eq!(verdict(&part1_claims(&r), "37", "Its confusion"), Verdict::NotReproduced);
    }

    #[test]
    fn overfitting_claims_compare_the_gaps() {
        let mut r = part2();
        let set = |r: &mut part2::Results, name: &str, train: f64, valid: f64| {
            let row = r.rows.iter_mut().find(|x| x.name() == name).unwrap();
            let last = row.history.len() - 1;
            row.history[last].train_accuracy = train;
            row.history[last].valid_accuracy = valid;
        };
        set(&mut r, "bilstm_drugscom", 0.95, 0.70);
        set(&mut r, "minilm_drugscom", 0.82, 0.80);
        assert_eq!(verdict(&part2_claims(&r), "curves", "The BiLSTM overfits"), Verdict::Reproduced);
        set(&mut r, "bilstm_drugscom", 0.70, 0.70);
        assert_eq!(verdict(&part2_claims(&r), "curves", "The BiLSTM overfits"), Verdict::NotReproduced);
        for x in r.rows.iter_mut() {
            let last = x.history.len() - 1;
            x.history[last].train_accuracy = 0.9;
            x.history[last].valid_accuracy = 0.7;
        }
        set(&mut r, "bilstm_imdb", 0.7, 0.7);
        assert_eq!(verdict(&part2_claims(&r), "curves", "The BiLSTM on IMDB"), Verdict::Reproduced);
        set(&mut r, "bilstm_imdb", 0.99, 0.5);
        assert_eq!(verdict(&part2_claims(&r), "curves", "The BiLSTM on IMDB"), Verdict::NotReproduced);
    }

    #[test]
    fn the_table_has_a_row_per_claim() {
        let c = part1_claims(&part1());
        assert_eq!(claims_table(&c).0.matches("<tr>").count(), c.len() + 1);
    }
}
