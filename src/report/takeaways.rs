//! What the numbers say, in tables and sentences computed from a run's results.
use super::html::{ci, esc, p_value, pct, table, Html};
use crate::experiments::{part1, part2};
use crate::train::StopReason;
use crate::Profile;

/// A paired test in words: whether the gap between two rows is more than test-set noise.
fn paired_sentence(c: &crate::eval::metrics::PairedTest) -> String {
    let verdict = if c.p_value < 0.05 {
        "a real difference at the 5% level"
    } else {
        "not distinguishable from noise at the 5% level"
    };
    let pooled = if c.pairs > 1 { format!(", pooled over {} seed pairs", c.pairs) } else { String::new() };
    let mean = if c.pairs > 1 { "mean " } else { "" };
    format!(
        "{} vs {} on the same test samples: {mean}{:.1}% vs {:.1}%, {} vs {} samples right only by one (McNemar exact {}{pooled}): {verdict}.",
        c.a, c.b, c.a_accuracy * 100.0, c.b_accuracy * 100.0, c.only_a, c.only_b, p_value(c.p_value)
    )
}

/// Which columns of a results table to show: a slide holds about six, so each table is one
/// view of the rows (the notebook shows all of them, the deck one per slide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// What the rows score on test.
    Accuracy,
    /// What a row costs to keep and to run: size, FLOPs, latency.
    Cost,
    /// How it was trained: input size, epochs, seconds, our speed against PyTorch's.
    Training,
}

/// Epochs run and, when training ended on a budget rather than a plateau, which: "12 (epoch cap)".
fn epochs_stopped(epochs: usize, stop: Option<StopReason>) -> String {
    match stop {
        Some(s) => format!("{epochs} ({})", s.name()),
        None => epochs.to_string(),
    }
}

fn or_dash(x: Option<String>) -> String {
    x.unwrap_or_else(|| "-".into())
}

/// A table view: its header and how a row fills it.
type View<R> = (&'static [&'static str], fn(&R) -> Vec<String>);

pub fn part1_table(r: &part1::Results, columns: Columns) -> Html {
    let (header, cell): View<part1::Row> = match columns {
        Columns::Accuracy => (&["model", "init", "test acc", "95% CI", "macro-F1", "best epoch"], |x| {
            vec![
                x.model.clone(),
                format!("{:?}", x.init).to_lowercase(),
                pct(x.test_accuracy),
                ci(x.test_accuracy_ci95),
                format!("{:.3}", x.test_macro_f1),
                format!("{} of {}", x.best_epoch, x.epochs),
            ]
        }),
        Columns::Cost => (&["model", "params", "MB", "GFLOPs/img", "ms/img b1", "ms/img b64"], |x| {
            vec![
                x.model.clone(),
                format!("{:.2}M", x.params as f64 / 1e6),
                format!("{:.1}", x.size_bytes as f64 / 1e6),
                or_dash(x.flops.map(|f| format!("{:.2}", f / 1e9))),
                format!("{:.2}", x.latency_ms_b1),
                format!("{:.2}", x.latency_ms_b64),
            ]
        }),
        Columns::Training => (&["model", "input px", "epochs (stopped by)", "s/epoch", "b1 time vs PyTorch"], |x| {
            vec![
                x.model.clone(),
                x.image_size.to_string(),
                epochs_stopped(x.epochs, x.stopped_by),
                format!("{:.1}", x.seconds_per_epoch),
                or_dash(x.pytorch_latency_ms_b1.map(|p| format!("{:.2}x", x.latency_ms_b1 / p))),
            ]
        }),
    };
    let rows: Vec<Vec<String>> = r.rows.iter().map(cell).collect();
    let mut h = table(header, &rows).0;
    h += &format!(
        "<p class=\"caption\">{} test images; profile {}, seed {}, device {}</p>",
        r.split_sizes[2], r.profile, r.seed, r.device
    );
    if !r.skipped_models.is_empty() {
        let names: Vec<&str> = r.skipped_models.iter().map(|(m, _)| m.as_str()).collect();
        h += &format!("<p class=\"caption\">not run here: {}</p>", esc(&names.join(", ")));
    }
    Html(h)
}

pub fn part2_table(r: &part2::Results, columns: Columns) -> Html {
    let (header, cell): View<part2::Row> = match columns {
        Columns::Accuracy => (&["model", "trained on", "accuracy", "95% CI", "F1", "macro-F1"], |x| {
            vec![
                x.model.name().into(),
                x.train_source.name().into(),
                pct(x.accuracy),
                ci(x.accuracy_ci95),
                format!("{:.3}", x.f1),
                format!("{:.3}", x.macro_f1),
            ]
        }),
        Columns::Training => {
            (&["model", "trained on", "epochs (stopped by)", "best epoch", "train n", "train s"], |x| {
                vec![
                    x.model.name().into(),
                    x.train_source.name().into(),
                    epochs_stopped(x.epochs, x.stopped_by),
                    x.best_epoch.to_string(),
                    x.train_examples.to_string(),
                    format!("{:.0}", x.train_seconds),
                ]
            })
        }
        Columns::Cost => (&["model", "trained on", "precision", "recall", "train n", "train s"], |x| {
            vec![
                x.model.name().into(),
                x.train_source.name().into(),
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

/// A takeaway paragraph: `s` escaped, styled as the sentence that leads a slide.
pub(crate) fn sentence(s: String) -> Html {
    Html(format!("<p class=\"takeaway\">{}</p>", esc(&s)))
}

/// How a training curve ends, in one sentence: train and validation accuracy at the last
/// evaluation, and whether validation was still improving when training stopped (its best
/// evaluation is the last) or which evaluation's weights were kept.
pub fn curves_takeaway(
    history: &[crate::train::EpochRecord],
    kept: Option<usize>,
    stopped_by: Option<StopReason>,
) -> Html {
    let Some(last) = history.last() else { return sentence("No training history.".into()) };
    let best = history
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.valid_accuracy.total_cmp(&b.1.valid_accuracy))
        .map(|(i, _)| i + 1)
        .unwrap_or(1);
    let improving = best == history.len();
    let end = match (stopped_by, kept) {
        (Some(StopReason::Plateau), Some(k)) => {
            format!("stopped on a plateau, kept evaluation {} of {}", k + 1, history.len())
        }
        (Some(cap), _) if improving => format!("stopped on its {} with validation still improving", cap.name()),
        (Some(cap), Some(k)) => {
            format!("stopped on its {}, kept evaluation {} of {}", cap.name(), k + 1, history.len())
        }
        _ if improving => "validation still improving when stopped".to_string(),
        (_, Some(k)) => format!("kept evaluation {} of {}", k + 1, history.len()),
        (_, None) => format!("validation peaked at evaluation {best} of {}", history.len()),
    };
    sentence(format!(
        "Train {} vs validation {} at the end; {end}.",
        pct(last.train_accuracy),
        pct(last.valid_accuracy)
    ))
}

/// What a Part 1 row's test predictions say: a collapse to one class, or its most confused pair.
pub fn part1_confusion_takeaway(r: &part1::Results, row: &part1::Row) -> Html {
    let (class, share) = super::claims::most_predicted(&row.confusion);
    let name = r.classes.get(class).map(String::as_str).unwrap_or("?");
    let acc = format!("{}: {} test accuracy", row.model, pct(row.test_accuracy));
    if share >= super::claims::COLLAPSED {
        return sentence(format!(
            "{acc}, predicting \"{name}\" for {} of test images: it collapsed to one class.",
            pct(share)
        ));
    }
    let pairs: Vec<String> =
        row.most_confused.iter().take(3).map(|(t, p, n)| format!("\"{t}\" as \"{p}\" ({n})")).collect();
    if pairs.is_empty() {
        sentence(format!("{acc}."))
    } else {
        sentence(format!("{acc}; most confused: {}.", pairs.join(", ")))
    }
}

/// How many of a row's sample images it got right.
pub fn part1_samples_takeaway(row: &part1::Row) -> Html {
    let right = row.samples.iter().filter(|s| s.truth == s.pred).count();
    sentence(format!(
        "{} of these {} right; {} over all test images.",
        right,
        row.samples.len(),
        pct(row.test_accuracy)
    ))
}

/// The benchmark's extremes: most accurate, fastest at batch 1, fewest parameters.
pub fn part1_benchmark_takeaway(r: &part1::Results) -> Html {
    let by = |f: fn(&part1::Row) -> f64| r.rows.iter().min_by(|a, b| f(a).total_cmp(&f(b)));
    let (Some(best), Some(fast), Some(small)) =
        (by(|x| -x.test_accuracy), by(|x| x.latency_ms_b1), by(|x| x.params as f64))
    else {
        return sentence("No rows.".into());
    };
    sentence(format!(
        "Most accurate: {} ({}). Fastest at batch 1: {} ({:.2} ms/image). Smallest: {} ({:.2}M parameters).",
        best.model,
        pct(best.test_accuracy),
        fast.model,
        fast.latency_ms_b1,
        small.model,
        small.params as f64 / 1e6
    ))
}

/// What the highest-loss images have in common: how many the model got wrong, and how sure it was.
pub fn part1_top_losses_takeaway(row: &part1::Row) -> Html {
    let wrong: Vec<&part1::Sample> = row.top_losses.iter().filter(|s| s.truth != s.pred).collect();
    if wrong.is_empty() {
        return sentence(format!("{}: none of its highest-loss test images is wrong.", row.model));
    }
    let sure = wrong.iter().map(|s| f64::from(s.confidence)).sum::<f64>() / wrong.len() as f64;
    sentence(format!(
        "{}: {} of these {} are wrong, predicted with {} confidence on average.",
        row.model,
        wrong.len(),
        row.top_losses.len(),
        pct(sure)
    ))
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
            "{}: {} on a random split against {} on the date split ({gap:+.1} points, {verdict})",
            model.label(),
            pct(random.accuracy),
            pct(date.accuracy)
        ));
    }
    let any_apart = pairs.iter().any(|(_, d, x)| x.accuracy > d.accuracy && split_p(d, x) < 0.05);
    let end = if any_apart {
        "testing on the newest reviews costs accuracy, as the seed suspected"
    } else {
        "at this size the date split does not make the models look worse than a random one would"
    };
    sentence(format!("{}; {end}.", parts.join("; ")))
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
        format!(" Trained {} epochs, stopped {}; kept epoch {}.", row.epochs, stopped_phrase(s), row.best_epoch)
    });
    sentence(format!(
        "{} trained on {}: {} test accuracy, {:+.1} points against always the majority class ({}).{trained}",
        row.model.name(),
        row.train_source.name(),
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
        parts.push(format!("{}: {how}, after {epochs} {unit}", model.name()));
    }
    if parts.is_empty() {
        return sentence("No runs.".into());
    }
    sentence(format!("{}.", parts.join("; ")))
}

/// How training ended, as a phrase: "on a plateau", "on its epoch cap".
pub fn stopped_phrase(s: StopReason) -> &'static str {
    match s {
        StopReason::Plateau => "on a plateau",
        StopReason::EpochCap => "on its epoch cap",
        StopReason::TimeCap => "on its time cap",
    }
}

/// " (seeds 42, 43, 44: 47.2% ± 1.1)" where row `name` ran at several seeds, else nothing.
fn over_seeds(spread: &[crate::eval::spread::Spread], name: &str) -> String {
    spread.iter().find(|s| s.row == name).map_or_else(String::new, |s| {
        let seeds: Vec<String> = s.seeds.iter().map(u64::to_string).collect();
        format!(" (seeds {}: {})", seeds.join(", "), super::seeds::pct_sd(s.test_mean, s.test_sd))
    })
}

/// Conclusions computed from the Part 1 numbers.
pub fn part1_conclusions(r: &part1::Results) -> Html {
    let mut out = Vec::new();
    let best = |f: &dyn Fn(&part1::Row) -> bool| {
        r.rows.iter().filter(|x| f(x)).max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
    };
    let over_seeds = |name: &str| over_seeds(&r.spread, name);
    if let Some(b) = best(&|x| x.init == part1::Init::Imagenet) {
        out.push(format!(
            "Best transfer model: {} at {:.1}% test accuracy{}.",
            b.model,
            b.test_accuracy * 100.0,
            over_seeds(&b.model)
        ));
    }
    if let Some(b) = best(&|x| x.arch.is_custom()) {
        out.push(format!(
            "Best EmotionNet (from scratch): {} at {:.1}%{} with {:.2}M parameters.",
            b.model,
            b.test_accuracy * 100.0,
            over_seeds(&b.model),
            b.params as f64 / 1e6
        ));
    }
    if let (Some(b), Some(c)) = (best(&|x| x.init == part1::Init::Random), best(&|x| x.arch.is_custom())) {
        if !b.arch.is_custom() {
            out.push(format!(
                "Best row from scratch overall: {} (a torchvision network from random init, {} px) at {:.1}%{}, {:+.1} points on {}.",
                b.model,
                b.image_size,
                b.test_accuracy * 100.0,
                over_seeds(&b.model),
                (b.test_accuracy - c.test_accuracy) * 100.0,
                c.model
            ));
        }
    }
    for (pre, rnd) in [("resnet18", "resnet18_random"), ("mobilenet_v2", "mobilenet_v2_random")] {
        if let (Some(a), Some(b)) = (r.row(pre), r.row(rnd)) {
            out.push(ablation_sentence(pre, a, b));
        }
    }
    if let (Some(a), Some(b)) = (r.row("resnet18"), r.row("resnet50")) {
        out.push(format!("ResNet50 vs ResNet18: {:.1}% vs {:.1}%.", b.test_accuracy * 100.0, a.test_accuracy * 100.0));
    }
    out.extend(r.comparisons.iter().map(paired_sentence));
    if r.profile == Profile::Smoke {
        out.push(
            "Smoke profile: these numbers only prove the pipeline runs; they say nothing about the models.".into(),
        );
    }
    Html(format!("<ul>{}</ul>", out.iter().map(|s| format!("<li>{}</li>", esc(s))).collect::<String>()))
}

/// Pretrained row `a` against its architecture from random init `b`: the caps are the same, the
/// input sizes may not be (the ablation's is chosen on validation where the plan gives candidates).
fn ablation_sentence(pre: &str, a: &part1::Row, b: &part1::Row) -> String {
    let d = (a.test_accuracy - b.test_accuracy) * 100.0;
    let (acc_a, acc_b, sign) = (a.test_accuracy * 100.0, b.test_accuracy * 100.0, if d >= 0.0 { "+" } else { "" });
    if a.image_size == b.image_size {
        format!(
            "Same architecture, same budget, same input: {pre} ImageNet {acc_a:.1}% vs random init {acc_b:.1}% ({sign}{d:.1} points from pretraining)."
        )
    } else {
        format!(
            "Same architecture, same budget: {pre} ImageNet {acc_a:.1}% at {} px vs random init {acc_b:.1}% at {} px, the size its validation chose ({sign}{d:.1} points from pretraining and its input size).",
            a.image_size, b.image_size
        )
    }
}

pub fn part2_conclusions(r: &part2::Results) -> Html {
    let mut out = Vec::new();
    if let Some(b) = r.rows.iter().max_by(|a, b| a.accuracy.total_cmp(&b.accuracy)) {
        out.push(format!(
            "Highest accuracy on the Drugs.com test split: {} trained on {} ({:.1}%).",
            b.model.name(),
            b.train_source.name(),
            b.accuracy * 100.0
        ));
    }
    let majority = r.majority_share();
    out.push(format!("Always predicting the majority class would score {:.1}%.", majority * 100.0));
    for m in ["minilm", "bilstm"] {
        let acc = |s: &str| r.row(&format!("{m}_{s}")).map(|x| x.accuracy * 100.0);
        if let (Some(d), Some(i), Some(n)) = (acc("drugscom"), acc("imdb"), acc("druglib")) {
            let seeds = over_seeds(&r.spread, &format!("{m}_drugscom"));
            out.push(format!(
                "{m}: direct {d:.1}%{seeds}, near indirect (Druglib) {n:.1}%, far indirect (IMDB) {i:.1}%."
            ));
        }
    }
    out.extend(r.comparisons.iter().map(paired_sentence));
    if r.profile == Profile::Smoke {
        out.push("Smoke profile: these numbers only prove the pipeline runs.".into());
    }
    Html(format!("<ul>{}</ul>", out.iter().map(|s| format!("<li>{}</li>", esc(s))).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::fixtures::{part1, part2};

    fn count(h: &Html, tag: &str) -> usize {
        h.0.matches(tag).count()
    }

    #[test]
    fn the_ablation_sentence_names_the_input_sizes_when_they_differ() {
        let r = part1();
        let pre = r.row("mobilenet_v2").unwrap().clone();
        let mut rnd = r.row("mobilenet_v2_random").unwrap().clone();
        (rnd.image_size, rnd.test_accuracy) = (pre.image_size, pre.test_accuracy - 0.2);
        let same = ablation_sentence("mobilenet_v2", &pre, &rnd);
        assert!(same.contains("same input") && same.contains("(+20.0 points from pretraining)"), "{same}");
        rnd.image_size = 48;
        let other = ablation_sentence("mobilenet_v2", &pre, &rnd);
        assert!(!other.contains("same input"), "{other}");
        assert!(
            other.contains(&format!("at {} px vs random init", pre.image_size))
                && other.contains("at 48 px, the size its validation chose"),
            "{other}"
        );
        assert!(other.contains("from pretraining and its input size"), "{other}");
        assert!(part1_conclusions(&r).0.contains("Same architecture, same budget"));
        let mut r = r;
        let v2 = r.row("emotionnet_v2").unwrap().test_accuracy;
        let resnet = r.rows.iter_mut().find(|x| x.model == "resnet18_random").unwrap();
        resnet.test_accuracy = v2 - 0.01;
        let c = part1_conclusions(&r).0;
        assert!(c.contains("Best EmotionNet") && !c.contains("Best row from scratch overall"), "{c}");
        let resnet = r.rows.iter_mut().find(|x| x.model == "resnet18_random").unwrap();
        resnet.test_accuracy = v2 + 0.004;
        let c = part1_conclusions(&r).0;
        assert!(
            c.contains("Best row from scratch overall: resnet18_random") && c.contains("+0.4 points on emotionnet_v2"),
            "{c}"
        );
    }

    #[test]
    fn every_table_view_fits_a_slide_and_keeps_every_row() {
        let (r1, r2) = (part1(), part2());
        for c in [Columns::Accuracy, Columns::Cost, Columns::Training] {
            let h = part1_table(&r1, c);
            assert!(count(&h, "<th>") <= 6, "{c:?}: {}", h.0);
            assert_eq!(count(&h, "<tr>"), r1.rows.len() + 1, "{c:?}");
            let h = part2_table(&r2, c);
            assert!(count(&h, "<th>") <= 6, "{c:?}: {}", h.0);
            assert_eq!(count(&h, "<tr>"), r2.rows.len() + 1, "{c:?}");
        }
    }

    #[test]
    fn the_split_comparison_pairs_each_models_runs_and_calls_a_gap_only_beyond_noise() {
        let mut r = part2();
        // the committed run: both models on both splits
        assert_eq!(count(&part2_split_table(&r), "<tr>"), 5);
        let committed = part2_split_takeaway(&r).0;
        assert!(committed.contains("MiniLM: ") && committed.contains("BiLSTM: "), "{committed}");
        r.random_split.clear();
        assert!(part2_split_takeaway(&r).0.contains("No random-split runs"));
        let direct = r.row("minilm_drugscom").unwrap().clone();
        let random = |accuracy: f64, ci: [f64; 2]| part2::Row {
            random_split: true,
            accuracy,
            accuracy_ci95: ci,
            ..direct.clone()
        };
        r.random_split =
            vec![random(direct.accuracy + 0.01, [direct.accuracy_ci95[0] + 0.01, direct.accuracy_ci95[1] + 0.01])];
        assert_eq!(r.random_split[0].name(), "minilm_drugscom_random");
        let t = part2_split_table(&r);
        assert_eq!(count(&t, "<tr>"), 3, "header and MiniLM's two splits (the BiLSTM has no random run): {}", t.0);
        assert!(t.0.contains(&pct(direct.accuracy + 0.01)) && t.0.contains(&pct(direct.accuracy)));
        let s = part2_split_takeaway(&r).0;
        assert!(s.contains("+1.0 points, p = ") && s.contains("within noise"), "{s}");
        assert!(s.contains("does not make the models look worse"), "{s}");
        r.random_split = vec![random(0.95, [0.93, 0.97])];
        let s = part2_split_takeaway(&r).0;
        assert!(s.contains("beyond noise") && s.contains("costs accuracy"), "{s}");
    }

    #[test]
    fn views_show_the_numbers_they_name() {
        let r = part1();
        let v3 = r.row("emotionnet_v3").unwrap();
        assert!(part1_table(&r, Columns::Accuracy).0.contains(&pct(v3.test_accuracy)));
        assert!(part1_table(&r, Columns::Cost).0.contains(&format!("{:.2}", v3.latency_ms_b1)));
        // the accuracy view leaves the cost columns out (their values, as strings, can collide with a
        // macro-F1 such as 0.534, so the header is what is looked for)
        assert!(part1_table(&r, Columns::Cost).0.contains(&format!("{:.2}", v3.latency_ms_b64)));
        assert!(part1_table(&r, Columns::Cost).0.contains("ms/img b64"));
        assert!(!part1_table(&r, Columns::Accuracy).0.contains("ms/img b64"));
    }

    #[test]
    fn takeaways_name_the_rows_their_numbers_pick() {
        let r = part1();
        let h = part1_benchmark_takeaway(&r).0;
        // the committed quick run: MobileNetV2 most accurate, V3 the fastest and smallest
        let best = pct(r.row("mobilenet_v2").unwrap().test_accuracy);
        assert!(h.contains(&format!("Most accurate: mobilenet_v2 ({best})")), "{h}");
        assert!(h.contains("Fastest at batch 1: emotionnet_v3") && h.contains("Smallest: emotionnet_v3"), "{h}");
        let v1 = r.row("emotionnet_v1").unwrap();
        let right = v1.samples.iter().filter(|s| s.truth == s.pred).count();
        let h = part1_samples_takeaway(v1).0;
        assert!(h.starts_with(&format!("<p class=\"takeaway\">{right} of these {} right", v1.samples.len())), "{h}");
        let h = part1_confusion_takeaway(&r, v1).0;
        assert!(h.contains("collapsed to one class"), "{h}");
        let r2 = part2();
        // the committed run: MiniLM one epoch (its cap), the BiLSTMs on a plateau after the epochs its rows name
        let h = part2_training_takeaway(&r2).0;
        assert!(h.contains("minilm: every run stopped on its epoch cap, after 1 epoch;"), "{h}");
        let epochs: Vec<usize> = r2.rows.iter().filter(|x| x.model.label() == "BiLSTM").map(|x| x.epochs).collect();
        let (lo, hi) = (epochs.iter().min().unwrap(), epochs.iter().max().unwrap());
        assert!(h.contains(&format!("bilstm: every run stopped on a plateau, after {lo}-{hi} epochs")), "{h}");
        let h = part2_comparison_takeaway(&r2).0;
        assert!(h.contains("minilm trained on drugscom: 78.8%"), "{h}");
        assert!(h.contains(&pct(r2.majority_share())), "{h}");
    }

    #[test]
    fn drift_takeaway_compares_the_label_mix_of_the_splits() {
        let mut r = part2();
        let h = part2_drift_takeaway(&r).0;
        // the committed quick run: 69% positive in training, 56% in the newest 519 reviews
        assert!(
            h.contains("training split 69.") && h.contains("test split 56.") && h.contains("another label mix"),
            "{h}"
        );
        r.eda.test_label_distribution = r.eda.label_distribution.clone();
        assert!(part2_drift_takeaway(&r).0.contains("no shift"));
    }

    #[test]
    fn part2_caption_gives_the_test_dates_as_a_range() {
        let r = part2();
        let (a, b) = r.test_dates.clone().unwrap();
        let h = part2_table(&r, Columns::Accuracy).0;
        assert!(h.contains(&format!("dated {a} to {b}")), "{h}");
        assert!(!h.contains("Some("), "{h}");
    }
}
