//! Accuracy against compute, read from each row's history: validation accuracy after so many
//! training seconds (validation included) or training FLOPs, and what the from-scratch rows
//! reach within the compute the best pretrained row needed for its best.
use super::html::{esc, pct, table, Html};
use super::names::shown;
use super::plots::{self, Figure};
use crate::error::Result;
use crate::experiments::{part1, part2};
pub use crate::train::cumulative_seconds;
use crate::train::{EpochRecord, StopReason};

fn capped(stop: Option<StopReason>) -> bool {
    stop.is_some_and(StopReason::is_cap)
}

/// Images a Part 1 row trains on per epoch (all of the split, or its per-epoch batch cap).
fn images_per_epoch(r: &part1::Results, row: &part1::Row) -> f64 {
    let all = r.split_sizes[0];
    let cap = row.train_config.max_batches_per_epoch.map(|b| b * row.train_config.batch_size);
    cap.map_or(all, |c| c.min(all)) as f64
}

/// Training FLOPs at each evaluation: a step costs about three forward passes (forward, and a
/// backward twice as dear), over the images seen so far. None without a FLOP count.
fn cumulative_flops(r: &part1::Results, row: &part1::Row) -> Option<Vec<f64>> {
    let per_image = row.flops? * 3.0;
    Some(row.history.iter().map(|h| h.progress * images_per_epoch(r, row) * per_image).collect())
}

fn trace<'a>(
    name: &'a str,
    xs: Vec<f64>,
    h: &[EpochRecord],
    kept: Option<usize>,
    stop: Option<StopReason>,
) -> plots::Trace<'a> {
    let points = xs.into_iter().zip(h).map(|(x, r)| (x, r.valid_accuracy)).collect();
    plots::Trace { name, points, kept, capped: capped(stop) }
}

/// Part 1: validation accuracy against training seconds and, where every row has a FLOP
/// count, training FLOPs.
pub fn part1_compute(r: &part1::Results) -> Result<Figure> {
    let names: Vec<String> = r.rows.iter().map(|x| shown(&x.model)).collect();
    let seconds = r
        .rows
        .iter()
        .zip(&names)
        .map(|(x, n)| trace(n, cumulative_seconds(&x.history), &x.history, x.best_evaluation, x.stopped_by))
        .collect();
    let budget = budget(r).map(|b| b.1);
    let mut axes =
        vec![plots::ComputePanel { caption: "Time", x_desc: "training seconds (log)", traces: seconds, budget }];
    let flops: Option<Vec<Vec<f64>>> = r.rows.iter().map(|x| cumulative_flops(r, x)).collect();
    if let Some(flops) = flops {
        let traces = r
            .rows
            .iter()
            .zip(flops)
            .zip(&names)
            .map(|((x, f), n)| trace(n, f, &x.history, x.best_evaluation, x.stopped_by))
            .collect();
        axes.push(plots::ComputePanel { caption: "Work", x_desc: "training FLOPs (log)", traces, budget: None });
    }
    plots::compute_curves("Validation accuracy against training compute", axes)
}

/// Part 2: validation accuracy against training seconds (each row on its own validation set).
pub fn part2_compute(r: &part2::Results) -> Result<Figure> {
    let names: Vec<String> = r.rows.iter().map(|x| shown(&x.name())).collect();
    let traces = r
        .rows
        .iter()
        .zip(&names)
        .map(|(x, n)| trace(n, cumulative_seconds(&x.history), &x.history, x.best_evaluation, x.stopped_by))
        .collect();
    let axes = vec![plots::ComputePanel { caption: "Time", x_desc: "training seconds (log)", traces, budget: None }];
    plots::compute_curves("Validation accuracy against training time", axes)
}

/// The best pretrained row, the seconds it needed for its best, and that accuracy.
fn budget(r: &part1::Results) -> Option<(&part1::Row, f64, f64)> {
    part1::Budget::of(&r.rows).map(|b| (b.row, b.seconds, b.valid_accuracy))
}

/// A from-scratch row at equal compute: its best validation accuracy within `seconds` (None
/// when its first evaluation came later), and at its kept checkpoint with the seconds to it.
struct AtBudget<'a> {
    row: &'a part1::Row,
    within: Option<f64>,
    best: f64,
    best_seconds: f64,
}

fn at_budget(r: &part1::Results, seconds: f64) -> Vec<AtBudget<'_>> {
    r.rows
        .iter()
        .filter(|x| x.init == part1::Init::Random)
        .filter_map(|x| {
            let t = cumulative_seconds(&x.history);
            let within = x.history.iter().zip(&t).filter(|(_, s)| **s <= seconds).map(|(h, _)| h.valid_accuracy);
            let within = within.fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
            let kept = EpochRecord::kept(&x.history, x.best_evaluation)?;
            let best_seconds = *t.get(x.best_evaluation?)?;
            Some(AtBudget { row: x, within, best: kept.valid_accuracy, best_seconds })
        })
        .collect()
}

/// The from-scratch rows at the compute the best pretrained row needed, and at their own end.
pub fn part1_equal_compute(r: &part1::Results) -> Html {
    let Some((p, seconds, acc)) = budget(r) else {
        return Html("<p>No pretrained row with a history in this run: nothing to compare against.</p>".into());
    };
    let rows: Vec<Vec<String>> = at_budget(r, seconds)
        .iter()
        .map(|a| {
            let test_within = a.row.equal_compute.as_ref().and_then(|e| e.test_accuracy);
            vec![
                shown(&a.row.model),
                a.within.map_or_else(|| "not yet validated".into(), pct),
                test_within.map_or_else(|| "-".into(), pct),
                pct(a.best),
                pct(a.row.test_accuracy),
                format!("{:.0}", a.best_seconds),
                a.row.stopped_by.map_or("-", StopReason::name).to_string(),
            ]
        })
        .collect();
    let header = [
        "from scratch",
        &format!("valid acc within {seconds:.0} s"),
        "test acc there",
        "valid acc, kept checkpoint",
        "test acc, kept",
        "seconds to it",
        "stopped by",
    ];
    let mut h = table(&header, &rows).0;
    h += &format!(
        "<p class=\"caption\">Budget: the {seconds:.0} s {} trained on this machine to reach its best validation accuracy ({}), ImageNet's own training not counted. Within the budget a row's evaluation with the best validation accuracy is shown; its kept checkpoint is the one its monitor chose (validation loss for Part 1). Test accuracy is read once for each checkpoint shown, never to choose one.</p>",
        esc(&shown(&p.model)),
        pct(acc)
    );
    Html(h)
}

/// Whether transfer still wins at equal compute, and at the from-scratch rows' own end.
pub fn part1_compute_takeaway(r: &part1::Results) -> Html {
    match equal_compute_verdict(r) {
        Ok((headline, detail)) => super::takeaways::lead(headline, detail),
        Err(why) => super::takeaways::sentence(why.into()),
    }
}

/// The verdict at equal compute in one short line, for the slide that shows the figure.
pub fn part1_compute_headline(r: &part1::Results) -> Html {
    equal_compute_verdict(r).map_or(Html(String::new()), |(headline, _)| super::takeaways::sentence(headline))
}

/// The verdict within the best pretrained row's budget (a headline of validation accuracies),
/// and its details: test accuracies there, and the best from-scratch row at its own kept checkpoint.
fn equal_compute_verdict(r: &part1::Results) -> std::result::Result<(String, String), &'static str> {
    let (p, seconds, acc) = budget(r).ok_or("No pretrained row in this run.")?;
    let rows = at_budget(r, seconds);
    let best_within = rows.iter().filter_map(|a| a.within.map(|w| (a, w))).max_by(|a, b| a.1.total_cmp(&b.1));
    let best_end = rows.iter().max_by(|a, b| a.best.total_cmp(&b.best));
    let (Some((w, within)), Some(e)) = (best_within, best_end) else {
        return Err("No from-scratch row was validated within that budget.");
    };
    let verdict = |ours: f64| if ours < acc { "transfer still wins" } else { "transfer no longer wins" };
    let by = if within < acc { "transfer still wins by" } else { "the from-scratch row leads by" };
    let headline = format!(
        "The best from-scratch row, {}, reaches {} validation accuracy in the {seconds:.0} s {} took to its best \
         ({}): {by} {:.1} points.",
        shown(&w.row.model),
        pct(within),
        shown(&p.model),
        pct(acc),
        (acc - within).abs() * 100.0,
    );
    let test_there = w.row.equal_compute.as_ref().and_then(|e| e.test_accuracy);
    let test_there = test_there
        .map_or_else(String::new, |t| format!("Test accuracy there: {} against {}. ", pct(t), pct(p.test_accuracy)));
    let ended = e.row.stopped_by.map_or("at its end", super::takeaways::stopped_phrase);
    let detail = format!(
        "{test_there}At its kept checkpoint (after {:.0} s; training stopped {ended}), {} reaches {} validation \
         accuracy: {}.",
        e.best_seconds,
        shown(&e.row.model),
        pct(e.best),
        verdict(e.best),
    );
    Ok((headline, detail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    /// The committed quick run with its history timings set: rows of (seconds per window,
    /// validation accuracies).
    fn with_histories(spec: &[(&str, f64, &[f64])]) -> part1::Results {
        let mut r = fixtures::part1();
        for (name, secs, accs) in spec {
            let row = r.rows.iter_mut().find(|x| x.model == *name).unwrap();
            let template = row.history[0].clone();
            row.history = accs
                .iter()
                .enumerate()
                .map(|(i, &a)| EpochRecord {
                    seconds: *secs,
                    valid_accuracy: a,
                    progress: (i + 1) as f64,
                    ..template.clone()
                })
                .collect();
            let best = accs.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
            row.best_evaluation = Some(best);
            row.stopped_by = Some(StopReason::Plateau);
        }
        r
    }

    #[test]
    fn cumulative_seconds_add_up() {
        let r = with_histories(&[("emotionnet_v2", 10.0, &[0.2, 0.3, 0.4])]);
        let v2 = r.rows.iter().find(|x| x.model == "emotionnet_v2").unwrap();
        assert_eq!(cumulative_seconds(&v2.history), vec![10.0, 20.0, 30.0]);
    }

    #[test]
    fn equal_compute_reads_the_scratch_rows_inside_the_pretrained_budget() {
        // pretrained best (0.55) at 2 x 30 = 60 s; V2 reaches 0.40 by 60 s and 0.60 at 100 s
        let r = with_histories(&[
            ("mobilenet_v2", 30.0, &[0.5, 0.55, 0.54]),
            ("emotionnet_v2", 20.0, &[0.3, 0.35, 0.4, 0.5, 0.6]),
            ("emotionnet_v1", 70.0, &[0.25]),
            ("emotionnet_v3", 10.0, &[0.2, 0.3, 0.35]),
            ("resnet18_random", 40.0, &[0.3, 0.35]),
            ("mobilenet_v2_random", 15.0, &[0.2, 0.25]),
        ]);
        let mut r = r;
        // only V2 was scored at the budget here
        r.rows.iter_mut().for_each(|x| x.equal_compute = None);
        let v2 = r.rows.iter_mut().find(|x| x.model == "emotionnet_v2").unwrap();
        v2.equal_compute = Some(part1::EqualCompute {
            budget_row: "mobilenet_v2".into(),
            budget_seconds: 60.0,
            evaluation: Some(2),
            valid_accuracy: Some(0.4),
            test_accuracy: Some(0.385),
        });
        let h = part1_equal_compute(&r).0;
        assert!(h.contains("test acc there") && h.contains("38.5%"), "{h}");
        assert!(h.contains("valid acc within 60 s") && h.contains("40.0%") && h.contains("60.0%"), "{h}");
        assert!(h.contains("valid acc, kept checkpoint"), "{h}");
        assert!(h.contains("not yet validated"), "V1's first evaluation came after the budget: {h}");
        let s = part1_compute_takeaway(&r).0;
        let want = "The best from-scratch row, EmotionNetV2, reaches 40.0% validation accuracy in the 60 s \
                    MobileNetV2 (ImageNet) took to its best (55.0%): transfer still wins by 15.0 points.";
        assert!(s.contains(&format!("<p class=\"takeaway\">{want}</p>")), "{s}");
        assert!(s.contains("Test accuracy there: 38.5% against"), "{s}");
        assert!(s.contains("EmotionNetV2 reaches 60.0% validation accuracy: transfer no longer wins"), "{s}");
        let headline = part1_compute_headline(&r).0;
        assert_eq!(headline, format!("<p class=\"takeaway\">{want}</p>"));
    }

    #[test]
    fn the_compute_figures_draw_every_row() {
        let r = fixtures::part1();
        let svg = part1_compute(&r).unwrap().svg().to_string();
        for row in &r.rows {
            assert!(svg.contains(&esc(&shown(&row.model))), "{}", row.model);
        }
        assert!(svg.contains("training FLOPs (log)"));
        let svg2 = part2_compute(&fixtures::part2()).unwrap().svg().to_string();
        assert!(svg2.contains("MiniLM (Drugs.com)"));
    }
}
