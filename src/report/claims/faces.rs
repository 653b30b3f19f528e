//! Part 1's claims (faces: scratch vs transfer) and their checks.
use super::*;
use crate::experiments::part1;
use crate::report::names::shown;

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
    if e.gap < 0.0 {
        let why = format!("no sign of it: training accuracy (on augmented images) below validation's ({curve})");
        return (Verdict::NotReproduced, why);
    }
    let rising = e.lowest_loss_at < e.evaluations;
    let loss = format!("validation loss lowest at evaluation {} of {}", e.lowest_loss_at, e.evaluations);
    match (e.gap >= OVERFIT_GAP, rising) {
        (true, true) => (Verdict::Reproduced, format!("{curve}; {loss}")),
        (true, false) | (false, true) => (Verdict::Partly, format!("{curve}; {loss}")),
        (false, false) => (Verdict::NotReproduced, format!("no gap: {curve}; {loss}")),
    }
}

/// Whether row `a` infers faster than `b` at batch 1 by more than the run's own timing noise
/// (`Results::latency_noise`): `Some(true)` faster, `Some(false)` slower, `None` within noise. Without
/// a repeated row to gauge the noise, any gap counts.
fn faster_beyond_noise(r: &part1::Results, a: &part1::Row, b: &part1::Row) -> Option<bool> {
    let noise = r.latency_noise().unwrap_or(1.0);
    match (a.latency_ms_b1, b.latency_ms_b1) {
        (x, y) if x * noise < y => Some(true),
        (x, y) if y * noise < x => Some(false),
        _ => None,
    }
}

/// The timing noise in words, for evidence that compares latencies.
fn noise_note(r: &part1::Results) -> String {
    r.latency_noise().map_or(String::new(), |n| {
        format!("; one network's runs here differ up to {n:.2}x at batch 1, so only a larger gap counts")
    })
}

fn v3_smaller_and_faster(r: &part1::Results) -> (Verdict, String) {
    let (Some(v2), Some(v3)) = (r.row("emotionnet_v2"), r.row("emotionnet_v3")) else {
        return (Verdict::NotTested, "needs the V2 and V3 rows".into());
    };
    let smaller = v3.params < v2.params;
    let faster = faster_beyond_noise(r, v3, v2) == Some(true);
    let evidence = format!(
        "V3 {:.2}M parameters, {:.2} ms/image; V2 {:.2}M, {:.2} ms/image (batch 1){}",
        v3.params as f64 / 1e6,
        v3.latency_ms_b1,
        v2.params as f64 / 1e6,
        v2.latency_ms_b1,
        noise_note(r)
    );
    let verdict = match (smaller, faster) {
        (true, true) => Verdict::Reproduced,
        (false, false) => Verdict::NotReproduced,
        _ => Verdict::Partly,
    };
    (verdict, evidence)
}

/// Pages 32 and 42: a careful design with far fewer parameters does as well. The EmotionNet with
/// fewer parameters than V1 that scores best on test, against V1.
fn small_design_matches_big(r: &part1::Results) -> (Verdict, String) {
    let Some(v1) = r.row("emotionnet_v1") else { return (Verdict::NotTested, "needs the V1 row".into()) };
    let small = best(r, |x| x.arch.is_custom() && x.params < v1.params);
    let Some(small) = small else { return (Verdict::NotTested, "no EmotionNet smaller than V1".into()) };
    // a V1 that a cap stopped had not finished: matching it says less than matching its best
    let unfinished = v1.stopped_by.filter(|s| s.is_cap());
    let cap_note = unfinished.map_or(String::new(), |s| {
        format!(", but V1 stopped {}, before a plateau", crate::report::takeaways::stopped_phrase(s))
    });
    let evidence = format!(
        "{} {} with {:.2}M parameters; V1 {} with {:.1}M{cap_note}",
        shown(&small.model),
        pct(small.test_accuracy),
        small.params as f64 / 1e6,
        pct(v1.test_accuracy),
        v1.params as f64 / 1e6,
    );
    let verdict = if small.test_accuracy >= v1.test_accuracy && unfinished.is_none() {
        Verdict::Reproduced
    } else if small.test_accuracy_ci95[1] >= v1.test_accuracy {
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
            .map(|b| format!("; best transfer row here: {} at {}", shown(&b.model), pct(b.test_accuracy)))
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
        "{} {:.2} ms/image at {} px with {:.1}M parameters; V3 {:.2} ms/image at {} px with {:.2}M (batch 1, {}){}",
        shown(&t.model),
        t.latency_ms_b1,
        t.image_size,
        t.params as f64 / 1e6,
        v3.latency_ms_b1,
        v3.image_size,
        v3.params as f64 / 1e6,
        crate::report::takeaways::device_label(&r.device, ""),
        noise_note(r)
    );
    let verdict = match faster_beyond_noise(r, t, v3) {
        Some(true) => Verdict::Reproduced,
        Some(false) => Verdict::NotReproduced,
        None => Verdict::Partly,
    };
    (verdict, evidence)
}

fn transfer_is_best(r: &part1::Results) -> (Verdict, String) {
    let (Some(t), Some(s)) = (best_transfer(r), best(r, |x| x.init != part1::Init::Imagenet)) else {
        return (Verdict::NotTested, "needs transfer and from-scratch rows".into());
    };
    let test = r.comparisons.iter().find(|c| (c.a == t.model && c.b == s.model) || (c.a == s.model && c.b == t.model));
    let p = test.map(|c| format!(", McNemar {}", crate::report::html::p_value(c.p_value))).unwrap_or_default();
    let evidence = format!(
        "{} {} vs best from scratch {} {}{p}",
        shown(&t.model),
        pct(t.test_accuracy),
        shown(&s.model),
        pct(s.test_accuracy)
    );
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
    let mut evidence = format!(
        "{} {} vs {} {}: {ratio:.2}x",
        shown(&t.model),
        pct(t.test_accuracy),
        shown(&c.model),
        pct(c.test_accuracy)
    );
    // page 38 set the transfer model against V3
    if let Some(v3) = r.row("emotionnet_v3").filter(|v3| v3.model != c.model) {
        let to_v3 = t.test_accuracy / v3.test_accuracy.max(1e-9);
        evidence += &format!("; against V3 (page 38's comparison) {} = {to_v3:.2}x", pct(v3.test_accuracy));
    }
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

/// How far a row leans on "happy" in its test predictions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Happy {
    /// It predicts "happy" for nearly every image ([`COLLAPSED`]).
    Always,
    /// More often than the test split holds happy faces (by over 5 points).
    Favours,
    /// No more often than that.
    NotFavoured,
}

/// Row `name` (shown as `who`) and how it leans on "happy", with the evidence: the share of its test
/// predictions that are "happy" against the share of happy faces. Err: why it cannot be read.
fn happy_lean<'a>(
    r: &'a part1::Results,
    name: &str,
    who: &str,
) -> Result<(&'a part1::Row, Happy, String), (Verdict, String)> {
    let row = r.row(name).ok_or_else(|| (Verdict::NotTested, format!("no {who} row")))?;
    let no_class = || (Verdict::NotTested, "no class named happy".to_string());
    let happy = r.classes.iter().position(|c| c == "happy").ok_or_else(no_class)?;
    let total = row.confusion.iter().flatten().sum::<u64>().max(1) as f64;
    let predicted = row.confusion.iter().map(|x| x.get(happy).copied().unwrap_or(0)).sum::<u64>() as f64 / total;
    let truth = row.confusion.get(happy).map_or(0, |x| x.iter().sum::<u64>()) as f64 / total;
    let lean = match predicted {
        p if p >= COLLAPSED => Happy::Always,
        p if p > truth + 0.05 => Happy::Favours,
        _ => Happy::NotFavoured,
    };
    let evidence = format!("{who} predicts \"happy\" for {} of test images ({} are)", pct(predicted), pct(truth));
    Ok((row, lean, evidence))
}

fn v1_always_happy(r: &part1::Results) -> (Verdict, String) {
    let (_, lean, evidence) = match happy_lean(r, "emotionnet_v1", "V1") {
        Ok(x) => x,
        Err(why) => return why,
    };
    let verdict = match lean {
        Happy::Always => Verdict::Reproduced,
        Happy::Favours => Verdict::Partly,
        Happy::NotFavoured => Verdict::NotReproduced,
    };
    (verdict, evidence)
}

fn v2_still_favours_happy(r: &part1::Results) -> (Verdict, String) {
    let (v2, lean, mut evidence) = match happy_lean(r, "emotionnet_v2", "V2") {
        Ok(x) => x,
        Err(why) => return why,
    };
    if lean == Happy::NotFavoured {
        evidence += "; it no longer favours it";
    }
    let (top, top_share) = most_predicted(&v2.confusion);
    let top_name = r.classes.get(top).map(String::as_str).unwrap_or("?");
    if top_name != "happy" {
        evidence += &format!("; it favours \"{top_name}\" ({})", pct(top_share));
    }
    // two halves: "no longer always" holds once V2 spreads its answers; "still favours" needs more
    let verdict = match lean {
        Happy::Always => Verdict::NotReproduced,
        Happy::Favours => Verdict::Reproduced,
        Happy::NotFavoured => Verdict::Partly,
    };
    (verdict, evidence)
}

fn v2_smaller_faster_better_than_v1(r: &part1::Results) -> (Verdict, String) {
    let Some((v1, v2)) = rows(r, "emotionnet_v1", "emotionnet_v2") else {
        return (Verdict::NotTested, "needs the V1 and V2 rows".into());
    };
    let faster = faster_beyond_noise(r, v2, v1) == Some(true);
    let checks = [v2.params < v1.params, faster, v2.test_accuracy > v1.test_accuracy];
    let evidence = format!(
        "V2 {:.2}M parameters, {:.2} ms/image, {}; V1 {:.1}M, {:.2} ms/image, {}{}",
        v2.params as f64 / 1e6,
        v2.latency_ms_b1,
        pct(v2.test_accuracy),
        v1.params as f64 / 1e6,
        v1.latency_ms_b1,
        pct(v1.test_accuracy),
        noise_note(r)
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
    let evidence = format!("{} train {} vs valid {} at the end", shown(&t.model), pct(e.train), pct(e.valid));
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
    let evidence = format!("{} gets {right} of its {} sample images right", shown(&t.model), t.samples.len());
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
    let evidence = format!(
        "{}: the right class is the most frequent prediction for {hits} of {} classes",
        shown(&t.model),
        on_top.len()
    );
    let verdict = if hits == on_top.len() {
        Verdict::Reproduced
    } else if hits * 2 >= on_top.len() {
        Verdict::Partly
    } else {
        Verdict::NotReproduced
    };
    (verdict, evidence)
}

pub(super) const PART1: &[Claim<part1::Results>] = &[
    Claim { page: "11", claim: "V1 converges early and shows signs of overfitting", check: v1_overfits },
    Claim { page: "12-13", claim: "V1 (nearly) always predicts happy, the majority class", check: v1_always_happy },
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
