//! Part 1's tables and the sentences computed from its results.
use super::*;

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
    let mut rows: Vec<Vec<String>> = r.rows.iter().map(cell).collect();
    let mut header = header.to_vec();
    let elsewhere = columns == Columns::Training && !r.pytorch_on_this_machine();
    if elsewhere {
        // a ratio against PyTorch timed on another CPU says nothing about either library
        header.pop();
        rows.iter_mut().for_each(|x| drop(x.pop()));
    }
    let mut h = table(&header, &rows).0;
    h += &format!(
        "<p class=\"caption\">{} test images; profile {}, seed {}, {}</p>",
        r.split_sizes[2],
        r.profile,
        r.seed,
        esc(&device_label(&r.device, &r.machine))
    );
    if elsewhere && r.speed_reference.is_some() {
        h +=
            "<p class=\"caption\">no latency ratio against PyTorch: its committed benchmark ran on another machine</p>";
    }
    if !r.skipped_models.is_empty() {
        let names: Vec<&str> = r.skipped_models.iter().map(|(m, _)| m.as_str()).collect();
        h += &format!("<p class=\"caption\">not run here: {}</p>", esc(&names.join(", ")));
    }
    Html(h)
}

/// What a Part 1 row's test predictions say: a collapse to one class, or its most confused pair.
pub fn part1_confusion_takeaway(r: &part1::Results, row: &part1::Row) -> Html {
    let (class, share) = crate::report::claims::most_predicted(&row.confusion);
    let name = r.classes.get(class).map(String::as_str).unwrap_or("?");
    let acc = format!("{}: {} test accuracy", row.model, pct(row.test_accuracy));
    if share >= crate::report::claims::COLLAPSED {
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
                "Best row from scratch overall: {} (a torchvision network from random init, {} px) at {:.1}%{}, {:+.1} points on {} at seed {}.",
                b.model,
                b.image_size,
                b.test_accuracy * 100.0,
                over_seeds(&b.model),
                (b.test_accuracy - c.test_accuracy) * 100.0,
                c.model,
                r.seed
            ));
        }
    }
    for (pre, rnd) in part1::ablation_pairs() {
        if let (Some(a), Some(b)) = (r.row(&pre), r.row(&rnd)) {
            out.push(ablation_sentence(&pre, a, b));
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
pub(super) fn ablation_sentence(pre: &str, a: &part1::Row, b: &part1::Row) -> String {
    let d = (a.test_accuracy - b.test_accuracy) * 100.0;
    let (acc_a, acc_b, sign) = (a.test_accuracy * 100.0, b.test_accuracy * 100.0, if d >= 0.0 { "+" } else { "" });
    if a.image_size == b.image_size {
        format!(
            "Same architecture, same caps, same input: {pre} ImageNet {acc_a:.1}% vs random init {acc_b:.1}% ({sign}{d:.1} points from pretraining)."
        )
    } else {
        format!(
            "Same architecture, same caps: {pre} ImageNet {acc_a:.1}% at {} px vs random init {acc_b:.1}% at {} px, the size its validation chose ({sign}{d:.1} points from pretraining and its input size).",
            a.image_size, b.image_size
        )
    }
}

/// "Less is more?": EmotionNet V3 against V2, parameters against test accuracy, the paired test
/// pooled over the seeds both ran at.
pub fn part1_less_is_more(r: &part1::Results) -> Html {
    use crate::eval::spread::pooled_test;
    let (Some(v2), Some(v3)) = (r.row("emotionnet_v2"), r.row("emotionnet_v3")) else {
        return sentence("This run has no EmotionNet V2 and V3 to compare.".into());
    };
    let (a, b) = ("emotionnet_v3", "emotionnet_v2");
    let test = pooled_test(a, b, &r.test_labels, &r.predicted(a), &r.predicted(b));
    let verdict = match test {
        Some(t) if t.p_value < 0.05 && t.a_accuracy < t.b_accuracy => format!(
            "here the fewer parameters cost {:.1} points ({})",
            (t.b_accuracy - t.a_accuracy) * 100.0,
            p_value(t.p_value)
        ),
        Some(t) if t.p_value < 0.05 => format!("less is more here: V3 is ahead ({})", p_value(t.p_value)),
        Some(t) => format!("the gap is within noise ({}): here less costs nothing measurable", p_value(t.p_value)),
        None => "no paired test (test predictions missing)".into(),
    };
    let k = |p: i64| format!("{:.0}k", p as f64 / 1e3);
    sentence(format!(
        "EmotionNet V3 has {} parameters, {:.1}x fewer than V2's {}; test accuracy {}{} against {}{}: {verdict}.",
        k(v3.params),
        v2.params as f64 / v3.params.max(1) as f64,
        k(v2.params),
        pct(v3.test_accuracy),
        over_seeds(&r.spread, "emotionnet_v3"),
        pct(v2.test_accuracy),
        over_seeds(&r.spread, "emotionnet_v2"),
    ))
}
