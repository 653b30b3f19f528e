//! Part 2's claims (drug reviews: direct vs indirect data) and their checks.
use super::*;
use crate::data::text::Source;
use crate::eval::metrics;
use crate::experiments::part2::{self, Model};
use crate::report::html::p_value;

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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chance {
    Below,
    At,
    Above,
}

impl Chance {
    fn label(self) -> &'static str {
        match self {
            Chance::Below => "below chance",
            Chance::At => "at chance",
            Chance::Above => "above chance",
        }
    }
}

/// A BiLSTM run against always answering the majority class, pooled over its seeds: the paired
/// test, and whether it is below, at or above chance (McNemar at 5%).
fn against_chance(r: &part2::Results, s: Source) -> Option<(metrics::PairedTest, Chance)> {
    let runs = r.rows.iter().chain(&r.seed_runs).filter(|x| x.model == Model::BiLstm && x.train_source == s);
    let confusions: Vec<&[Vec<u64>]> = runs.map(|x| x.confusion.as_slice()).collect();
    let t = metrics::against_majority(&format!("bilstm_{}", s.name()), &confusions)?;
    let side = match (t.p_value < 0.05, t.a_accuracy > t.b_accuracy) {
        (false, _) => Chance::At,
        (true, true) => Chance::Above,
        (true, false) => Chance::Below,
    };
    Some((t, side))
}

fn chance_evidence(what: &str, (t, side): &(metrics::PairedTest, Chance)) -> String {
    let seeds = if t.pairs > 1 { format!(", mean of {} seeds", t.pairs) } else { String::new() };
    format!(
        "{what} {}{seeds} vs {} for always the majority class: {} (McNemar {})",
        pct(t.a_accuracy),
        pct(t.b_accuracy),
        side.label(),
        p_value(t.p_value)
    )
}

fn custom_direct_near_chance(r: &part2::Results) -> (Verdict, String) {
    let Some(c) = against_chance(r, Source::DrugsCom) else {
        return (Verdict::NotTested, "no direct BiLSTM run".into());
    };
    let just_above = c.1 == Chance::Above && c.0.a_accuracy - c.0.b_accuracy <= 0.10;
    (if just_above { Verdict::Reproduced } else { Verdict::NotReproduced }, chance_evidence("BiLSTM direct", &c))
}

fn custom_indirect_below_chance(r: &part2::Results) -> (Verdict, String) {
    let Some(c) = against_chance(r, Source::Imdb) else {
        return (Verdict::NotTested, "no BiLSTM run on IMDB".into());
    };
    let below = c.1 == Chance::Below;
    (if below { Verdict::Reproduced } else { Verdict::NotReproduced }, chance_evidence("BiLSTM on IMDB", &c))
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
    // overfitting shows as epochs go by: one epoch cannot show it either way
    if d.epochs <= 1 {
        return (Verdict::NotTested, format!("trained one epoch here, {evidence}"));
    }
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
    let one_epoch = r.row("minilm_drugscom").is_some_and(|x| x.epochs <= 1);
    let mut evidence = format!("train-valid gap at the end: BiLSTM {:+.1} points, MiniLM {:+.1}", b * 100.0, m * 100.0);
    if one_epoch {
        evidence += " (MiniLM after one epoch, the BiLSTM after several)";
    }
    let verdict = match (b > m, one_epoch) {
        (false, _) => Verdict::NotReproduced,
        (true, false) => Verdict::Reproduced,
        (true, true) => Verdict::Partly,
    };
    (verdict, evidence)
}

fn imdb_bilstm_overfits_least(r: &part2::Results) -> (Verdict, String) {
    // a run of one epoch has had no time to overfit: only runs of several epochs are compared
    let gaps: Vec<(String, f64)> =
        r.rows.iter().filter(|x| x.epochs > 1).filter_map(|x| Some((x.name(), ending(&x.history)?.gap))).collect();
    let Some(imdb) = gaps.iter().find(|(n, _)| n == "bilstm_imdb").map(|(_, g)| *g) else {
        return (Verdict::NotTested, "no BiLSTM run on IMDB".into());
    };
    let smaller = gaps.iter().filter(|(n, g)| n != "bilstm_imdb" && *g < imdb).count();
    let evidence = format!(
        "BiLSTM on IMDB gap {:+.1} points; {smaller} of the {} other runs of several epochs have a smaller one",
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
    let list: Vec<String> =
        runs.iter().map(|(n, a)| format!("{} {}", crate::report::names::shown(n), pct(*a))).collect();
    let evidence = format!("{}; majority class {}", list.join(", "), pct(m));
    let verdict = match above {
        n if n == runs.len() => Verdict::Reproduced,
        0 => Verdict::NotReproduced,
        _ => Verdict::Partly,
    };
    (verdict, evidence)
}

pub(super) const PART2: &[Claim<part2::Results>] = &[
    Claim {
        page: "EDA",
        claim: "Columns are weakly correlated, except usefulCount and the rating",
        check: useful_count_travels,
    },
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
