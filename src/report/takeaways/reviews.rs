//! Part 2's tables and the sentences computed from its results.
use super::*;

pub fn part2_table(r: &part2::Results, columns: Columns) -> Html {
    let (header, cell): View<part2::Row> = match columns {
        Columns::Accuracy => (&["model", "trained on", "accuracy", "95% CI", "F1", "macro-F1"], |x| {
            vec![
                x.model.label().into(),
                x.train_source.label().into(),
                pct(x.accuracy),
                ci(x.accuracy_ci95),
                format!("{:.3}", x.f1),
                format!("{:.3}", x.macro_f1),
            ]
        }),
        Columns::Training => {
            (&["model", "trained on", "epochs (stopped by)", "best epoch", "train n", "train s"], |x| {
                vec![
                    x.model.label().into(),
                    x.train_source.label().into(),
                    epochs_stopped(x.epochs, x.stopped_by),
                    kept_epoch(&x.history, x.best_evaluation, x.best_epoch),
                    x.train_examples.to_string(),
                    format!("{:.0}", x.train_seconds),
                ]
            })
        }
        Columns::Cost => (&["model", "trained on", "precision", "recall", "train n", "train s"], |x| {
            vec![
                x.model.label().into(),
                x.train_source.label().into(),
                format!("{:.3}", x.precision),
                format!("{:.3}", x.recall),
                x.train_examples.to_string(),
                format!("{:.0}", x.train_seconds),
            ]
        }),
    };
    let rows: Vec<Vec<String>> = r.rows.iter().map(cell).collect();
    let dated = r.test_dates.as_ref().map(|(a, b)| format!(" dated {a} to {b}")).unwrap_or_default();
    let mut h = table(header, &rows).0;
    h += &format!(
        "<p class=\"caption\">all tested on the same {} Drugs.com reviews{dated}; profile {}, seed {}, max_len {}</p>",
        r.test_examples, r.profile, r.seed, r.plan.max_len
    );
    Html(h)
}

fn positive_share(d: &crate::data::eda::Distribution) -> f64 {
    let total: u64 = d.counts.iter().sum();
    let positive = d.labels.iter().position(|l| l == "positive").map_or(0, |i| d.counts[i]);
    positive as f64 / total.max(1) as f64
}

/// The label mix of the training and the test split side by side: with a date-sorted split, a
/// difference is drift over time.
pub fn part2_drift_takeaway(r: &part2::Results) -> Html {
    let (train, test) = (positive_share(&r.eda.label_distribution), positive_share(&r.eda.test_label_distribution));
    let verdict = if (train - test).abs() >= 0.05 {
        "the newest reviews have another label mix: the test split is not drawn from the training distribution"
    } else {
        "no shift in the label mix between the oldest and the newest reviews"
    };
    sentence(format!("Positive share: training split {}, test split {}; {verdict}.", pct(train), pct(test)))
}

/// Each model's direct run on the date split beside its run on the random split: pairs of
/// (model, date-split row, random-split row) for the models that have both.
fn split_pairs(r: &part2::Results) -> Vec<(part2::Model, &part2::Row, &part2::Row)> {
    let direct = |m| r.rows.iter().find(|x| x.model == m && x.train_source == crate::data::text::Source::DrugsCom);
    part2::MODELS
        .into_iter()
        .filter_map(|m| Some((m, direct(m)?, r.random_split.iter().find(|x| x.model == m)?)))
        .collect()
}

/// The share of a row's test reviews in their most frequent class (its confusion's rows are the
/// truth): what always answering that class scores on them.
fn majority_of(row: &part2::Row) -> f64 {
    crate::eval::metrics::majority_class(&row.confusion).map_or(0.0, |(_, n, total)| n as f64 / total as f64)
}

/// Two-proportion p-value of a date-split row against its random-split twin.
fn split_p(date: &part2::Row, random: &part2::Row) -> f64 {
    crate::eval::metrics::two_proportion_p(date.accuracy, date.test_examples, random.accuracy, random.test_examples)
}

/// Training and validation accuracy at the kept checkpoint.
fn kept_accuracies(row: &part2::Row) -> Option<(f64, f64)> {
    let h = crate::train::EpochRecord::kept(&row.history, row.best_evaluation)?;
    Some((h.train_accuracy, h.valid_accuracy))
}

/// Date split against random split, per model: accuracy on training (running, at the kept
/// checkpoint), validation and test (each split's own test reviews).
pub fn part2_split_table(r: &part2::Results) -> Html {
    let mut rows = Vec::new();
    for (model, date, random) in split_pairs(r) {
        for (split, x) in [("date (old → new)", date), ("random", random)] {
            let (train, valid) = kept_accuracies(x).map_or(("-".into(), "-".into()), |(t, v)| (pct(t), pct(v)));
            rows.push(vec![
                model.label().to_string(),
                split.to_string(),
                train,
                valid,
                format!("{} ({})", pct(x.accuracy), ci(x.accuracy_ci95)),
            ]);
        }
    }
    table(&["model", "Drugs.com split", "train acc.", "valid acc.", "test acc. (95% CI)"], &rows)
}

/// Whether the date split costs accuracy: each model's test accuracy on its random split
/// against the date split (different test reviews, so a two-proportion test, not McNemar).
pub fn part2_split_takeaway(r: &part2::Results) -> Html {
    let pairs = split_pairs(r);
    if pairs.is_empty() {
        return sentence("No random-split runs in these results (plan.random_split_runs is off).".into());
    }
    let mut parts = Vec::new();
    for (model, date, random) in &pairs {
        let gap = (random.accuracy - date.accuracy) * 100.0;
        let p = split_p(date, random);
        let verdict =
            if p < 0.05 { format!("{}, beyond noise", p_value(p)) } else { format!("{}, within noise", p_value(p)) };
        parts.push(format!(
            "{}: {} on a random split against {} on the date split ({gap:+.1} points, {verdict}; always the majority \
             class {} against {})",
            model.label(),
            pct(random.accuracy),
            pct(date.accuracy),
            pct(majority_of(random)),
            pct(majority_of(date))
        ));
    }
    let apart = |d: &part2::Row, x: &part2::Row| x.accuracy > d.accuracy && split_p(d, x) < 0.05;
    // different test reviews, different label mixes: a higher score on an easier mix is not time
    let easier_mix = |d: &part2::Row, x: &part2::Row| x.accuracy - majority_of(x) <= d.accuracy - majority_of(d);
    let headline =
        match pairs.iter().filter(|(_, d, x)| apart(d, x)).map(|(_, d, x)| easier_mix(d, x)).reduce(|a, b| a && b) {
            None => "At this size the date split does not make the models look worse than a random one would.",
            Some(false) => "Testing on the newest reviews costs accuracy, as the original deck suspected.",
            Some(true) => {
                "The random split scores higher, but its margin over always the majority class is no larger: its \
             easier label mix may explain the gap as well as time does."
            }
        };
    lead(headline.to_string(), format!("{}.", parts.join("; ")))
}

/// The best Part 2 run against always answering the majority class.
pub fn part2_comparison_takeaway(r: &part2::Results) -> Html {
    match r.rows.iter().max_by(|a, b| a.accuracy.total_cmp(&b.accuracy)) {
        Some(b) => part2_takeaway(r, b),
        None => sentence("No runs.".into()),
    }
}

/// A Part 2 run against always answering the majority class of the test split.
pub fn part2_takeaway(r: &part2::Results, row: &part2::Row) -> Html {
    let majority = r.majority_share();
    let trained = row.stopped_by.map_or(String::new(), |s| {
        let unit = if row.epochs == 1 { "epoch" } else { "epochs" };
        let kept = kept_epoch(&row.history, row.best_evaluation, row.best_epoch);
        format!(" Trained {} {unit}, stopped {}; kept the checkpoint at epoch {kept}.", row.epochs, stopped_phrase(s))
    });
    sentence(format!(
        "{} trained on {}: {} test accuracy, {:+.1} points against always the majority class ({}).{trained}",
        row.model.label(),
        row.train_source.label(),
        pct(row.accuracy),
        (row.accuracy - majority) * 100.0,
        pct(majority)
    ))
}

/// How each Part 2 model's runs ended: "every bilstm run stopped on a plateau (after 8-12 epochs)".
pub fn part2_training_takeaway(r: &part2::Results) -> Html {
    let mut parts = Vec::new();
    for model in part2::MODELS {
        let runs: Vec<&part2::Row> = r.rows.iter().filter(|x| x.model == model).collect();
        let Some(first) = runs.first() else { continue };
        let (lo, hi) = runs.iter().fold((usize::MAX, 0), |(lo, hi), x| (lo.min(x.epochs), hi.max(x.epochs)));
        let epochs = if lo == hi { format!("{lo}") } else { format!("{lo}-{hi}") };
        let how = match first.stopped_by {
            Some(s) if runs.iter().all(|x| x.stopped_by == Some(s)) => {
                format!("every run stopped {}", stopped_phrase(s))
            }
            _ => "its runs stopped for different reasons".to_string(),
        };
        let unit = if hi == 1 { "epoch" } else { "epochs" };
        parts.push(format!("{}: {how}, after {epochs} {unit}", model.label()));
    }
    if parts.is_empty() {
        return sentence("No runs.".into());
    }
    sentence(format!("{}.", parts.join("; ")))
}

pub fn part2_conclusions(r: &part2::Results) -> Html {
    let mut out = Vec::new();
    if let Some(b) = r.rows.iter().max_by(|a, b| a.accuracy.total_cmp(&b.accuracy)) {
        out.push(format!(
            "Highest accuracy on the Drugs.com test split: {} trained on {} ({:.1}%).",
            b.model.label(),
            b.train_source.label(),
            b.accuracy * 100.0
        ));
    }
    let majority = r.majority_share();
    out.push(format!("Always predicting the majority class would score {:.1}%.", majority * 100.0));
    for model in part2::MODELS {
        let m = model.name();
        let acc = |s: &str| r.row(&format!("{m}_{s}")).map(|x| x.accuracy * 100.0);
        if let (Some(d), Some(i), Some(n)) = (acc("drugscom"), acc("imdb"), acc("druglib")) {
            let seeds = over_seeds(&r.spread, &format!("{m}_drugscom"));
            out.push(format!(
                "{}: direct {d:.1}%{seeds}, near indirect (Druglib) {n:.1}%, far indirect (IMDB) {i:.1}%.",
                model.label()
            ));
        }
    }
    if r.profile == Profile::Smoke {
        out.push("Smoke profile: these numbers only prove the pipeline runs.".into());
    }
    let list: String = out.iter().map(|s| format!("<li>{}</li>", esc(s))).collect();
    Html(format!("<ul>{list}</ul>{}", paired_table(&r.comparisons, &r.spread)))
}
