//! Part 1's tables and the sentences computed from its results.
use super::*;

pub fn part1_table(r: &part1::Results, columns: Columns) -> Html {
    let (header, cell): View<part1::Row> = match columns {
        Columns::Accuracy => (&["model", "test acc", "95% CI", "macro-F1", "best epoch"], |x| {
            vec![
                shown(&x.model),
                pct(x.test_accuracy),
                ci(x.test_accuracy_ci95),
                format!("{:.3}", x.test_macro_f1),
                format!("{} of {}", x.best_epoch, x.epochs),
            ]
        }),
        Columns::Cost => (&["model", "input px", "params", "GFLOPs/img", "ms/img b1", "ms/img b64"], |x| {
            vec![
                shown(&x.model),
                x.image_size.to_string(),
                format!("{:.2}M", x.params as f64 / 1e6),
                or_dash(x.flops.map(|f| format!("{:.2}", f / 1e9))),
                format!("{:.2}", x.latency_ms_b1),
                format!("{:.2}", x.latency_ms_b64),
            ]
        }),
        Columns::Training => {
            (&["model", "input px", "lr", "epochs (stopped by)", "s/epoch", "b1 time vs PyTorch"], |x| {
                vec![
                    shown(&x.model),
                    x.image_size.to_string(),
                    format!("{:e}", x.train_config.lr),
                    epochs_stopped(x.epochs, x.stopped_by),
                    format!("{:.1}", x.seconds_per_epoch),
                    or_dash(x.pytorch_latency_ms_b1.map(|p| format!("{:.2}x", x.latency_ms_b1 / p))),
                ]
            })
        }
    };
    let mut rows: Vec<Vec<String>> = r.rows.iter().map(cell).collect();
    let mut header = header.to_vec();
    let elsewhere = columns == Columns::Training && !r.pytorch_on_this_machine();
    if elsewhere {
        // a ratio against PyTorch timed on another CPU says nothing about either library
        header.pop();
        rows.iter_mut().for_each(|x| drop(x.pop()));
    }
    Html(table(&header, &rows).0 + &table_captions(r, columns, elsewhere))
}

/// What a Part 1 table's numbers are: test set, profile, seed and device; how latency was timed;
/// why a PyTorch column is missing; which rows did not run.
fn table_captions(r: &part1::Results, columns: Columns, elsewhere: bool) -> String {
    let mut h = format!(
        "<p class=\"caption\">{} test images; profile {}, seed {}, {}</p>",
        r.split_sizes[2],
        r.profile,
        r.seed,
        esc(&device_label(&r.device, &r.machine))
    );
    if columns == Columns::Cost {
        let timed = r.latency_rounds.map_or_else(
            || "each row timed alone right after its training".to_string(),
            |n| format!("channels-last fp32, median of {n} rounds timing every network in turn after training"),
        );
        h += &format!("<p class=\"caption\">latency: {timed}</p>");
    }
    if elsewhere && r.speed_reference.is_some() {
        h +=
            "<p class=\"caption\">no latency ratio against PyTorch: its committed benchmark ran on another machine</p>";
    }
    if !r.skipped_models.is_empty() {
        let names: Vec<String> = r.skipped_models.iter().map(|(m, _)| shown(m)).collect();
        h += &format!("<p class=\"caption\">not run here: {}</p>", esc(&names.join(", ")));
    }
    h
}

/// What a Part 1 row's test predictions say: a collapse to one class, or its most confused pair.
pub fn part1_confusion_takeaway(r: &part1::Results, row: &part1::Row) -> Html {
    let (class, share) = crate::report::claims::most_predicted(&row.confusion);
    let name = r.classes.get(class).map(String::as_str).unwrap_or("?");
    let acc = format!("{}: {} test accuracy", shown(&row.model), pct(row.test_accuracy));
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

/// The benchmark's extremes: most accurate, fastest at batch 1 (with the rows within this run's
/// timing noise of it, which the latency cannot rank), fewest parameters.
pub fn part1_benchmark_takeaway(r: &part1::Results) -> Html {
    let by = |f: fn(&part1::Row) -> f64| r.rows.iter().min_by(|a, b| f(a).total_cmp(&f(b)));
    let (Some(best), Some(fast), Some(small)) =
        (by(|x| -x.test_accuracy), by(|x| x.latency_ms_b1), by(|x| x.params as f64))
    else {
        return sentence("No rows.".into());
    };
    let noise = r.latency_noise().unwrap_or(1.0);
    let tied: Vec<String> = r
        .rows
        .iter()
        .filter(|x| x.model != fast.model && x.latency_ms_b1 <= fast.latency_ms_b1 * noise)
        .map(|x| format!("{} ({:.2})", shown(&x.model), x.latency_ms_b1))
        .collect();
    let fastest = if tied.is_empty() {
        format!("Fastest at batch 1: {} ({:.2} ms/image)", shown(&fast.model), fast.latency_ms_b1)
    } else {
        format!(
            "Fastest at batch 1: {} ({:.2} ms/image), tied within timing noise ({noise:.2}x) with {}",
            shown(&fast.model),
            fast.latency_ms_b1,
            tied.join(", ")
        )
    };
    sentence(format!(
        "Most accurate: {} ({}). {fastest}. Smallest: {} ({:.2}M parameters).",
        shown(&best.model),
        pct(best.test_accuracy),
        shown(&small.model),
        small.params as f64 / 1e6
    ))
}

/// What the highest-loss images have in common: how many the model got wrong, and how sure it was.
pub fn part1_top_losses_takeaway(row: &part1::Row) -> Html {
    let wrong: Vec<&part1::Sample> = row.top_losses.iter().filter(|s| s.truth != s.pred).collect();
    if wrong.is_empty() {
        return sentence(format!("{}: none of its highest-loss test images is wrong.", shown(&row.model)));
    }
    let sure = wrong.iter().map(|s| f64::from(s.confidence)).sum::<f64>() / wrong.len() as f64;
    sentence(format!(
        "{}: {} of these {} are wrong, predicted with {} confidence on average.",
        shown(&row.model),
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
            shown(&b.model),
            b.test_accuracy * 100.0,
            over_seeds(&b.model)
        ));
    }
    if let Some(b) = best(&|x| x.arch.is_custom()) {
        out.push(format!(
            "Best EmotionNet (from scratch): {} at {:.1}%{} with {:.2}M parameters.",
            shown(&b.model),
            b.test_accuracy * 100.0,
            over_seeds(&b.model),
            b.params as f64 / 1e6
        ));
    }
    if let (Some(b), Some(c)) = (best(&|x| x.init == part1::Init::Random), best(&|x| x.arch.is_custom())) {
        if !b.arch.is_custom() {
            out.push(format!(
                "Best row from scratch overall: {} (a torchvision network from random init, {} px) at {:.1}%{}, {:+.1} points on {} at seed {}.",
                shown(&b.model),
                b.image_size,
                b.test_accuracy * 100.0,
                over_seeds(&b.model),
                (b.test_accuracy - c.test_accuracy) * 100.0,
                shown(&c.model),
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
    if r.profile == Profile::Smoke {
        out.push(
            "Smoke profile: these numbers only prove the pipeline runs; they say nothing about the models.".into(),
        );
    }
    let list: String = out.iter().map(|s| format!("<li>{}</li>", esc(s))).collect();
    Html(format!("<ul>{list}</ul>{}", paired_table(&r.comparisons, &r.spread)))
}

/// Pretrained row `a` against its architecture from random init `b`: the caps are the same; the
/// learning rates may not be (each init has its recipe) and the input sizes neither (the
/// ablation's is chosen on validation where the plan gives candidates). The sentence names both.
pub(super) fn ablation_sentence(pre: &str, a: &part1::Row, b: &part1::Row) -> String {
    let d = (a.test_accuracy - b.test_accuracy) * 100.0;
    let (acc_a, acc_b, sign) = (a.test_accuracy * 100.0, b.test_accuracy * 100.0, if d >= 0.0 { "+" } else { "" });
    let arch = crate::report::names::architecture(pre);
    let mut same = vec!["architecture", "caps"];
    let mut apart = Vec::new();
    let (lr_a, lr_b) = (a.train_config.lr, b.train_config.lr);
    if lr_a == lr_b {
        same.push("lr");
    } else {
        apart.push(format!("lr {lr_a:e} vs {lr_b:e}"));
    }
    if a.image_size == b.image_size {
        same.push("input");
    } else {
        apart.push(format!("{} px vs {} px, the size its validation chose", a.image_size, b.image_size));
    }
    let apart = if apart.is_empty() { String::new() } else { format!(" ({})", apart.join("; ")) };
    let what = if apart.is_empty() { "pretraining" } else { "pretraining and the recipe" };
    let (last, rest) = same.split_last().expect("architecture and caps are always the same");
    let same = if rest.is_empty() { last.to_string() } else { format!("{} and {last}", rest.join(", ")) };
    format!("{arch} with the same {same}: ImageNet {acc_a:.1}% vs random init {acc_b:.1}%{apart}: {sign}{d:.1} points from {what}.")
}

/// "Less is more?": EmotionNet V3 against V2, parameters against test accuracy. The headline's
/// accuracies are the ones its paired test compared (means over the seed pairs where both ran at
/// several seeds), the run's seed alone in the details.
pub fn part1_less_is_more(r: &part1::Results) -> Html {
    use crate::eval::spread::pooled_test;
    let (Some(v2), Some(v3)) = (r.row("emotionnet_v2"), r.row("emotionnet_v3")) else {
        return sentence("This run has no EmotionNet V2 and V3 to compare.".into());
    };
    let (a, b) = ("emotionnet_v3", "emotionnet_v2");
    let k = |p: i64| format!("{:.0}k", p as f64 / 1e3);
    let size = format!(
        "V3 has {:.1}x fewer parameters than V2 ({} vs {})",
        v2.params as f64 / v3.params.max(1) as f64,
        k(v3.params),
        k(v2.params)
    );
    let at_seed = format!("At seed {}: V3 {} vs V2 {}.", r.seed, pct(v3.test_accuracy), pct(v2.test_accuracy));
    let Some(t) = pooled_test(a, b, &r.test_labels, &r.predicted(a), &r.predicted(b)) else {
        return lead(format!("{size}; no paired test (test predictions missing)."), at_seed);
    };
    let gap = (t.b_accuracy - t.a_accuracy).abs() * 100.0;
    let verdict = match t.p_value < 0.05 {
        true if t.a_accuracy < t.b_accuracy => format!("it scores {gap:.1} points lower on test"),
        true => format!("less is more here: V3 is ahead by {gap:.1} points"),
        false => format!("the {gap:.1}-point gap is within noise: here less costs nothing measurable"),
    };
    let over = if t.pairs > 1 { format!("mean over {} seeds", t.pairs) } else { format!("seed {}", r.seed) };
    let pooled =
        if t.pairs > 1 { format!(", its counts pooled over {} seed-matched pairs", t.pairs) } else { String::new() };
    let h = lead(
        format!("{size}; {verdict} ({over}: {} vs {}, {}).", pct(t.a_accuracy), pct(t.b_accuracy), p_value(t.p_value)),
        format!("{at_seed} McNemar's exact test on the same test images{pooled}."),
    );
    Html(h.0 + &v2_v3_table(r, &[v2, v3]).0)
}

/// V2 and V3 side by side: size, batch-1 latency, test accuracy at the run's seed and over seeds.
fn v2_v3_table(r: &part1::Results, rows: &[&part1::Row]) -> Html {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|x| {
            let spread = r.spread.iter().find(|s| s.row == x.model);
            vec![
                shown(&x.model),
                format!("{:.0}k", x.params as f64 / 1e3),
                format!("{:.2}", x.latency_ms_b1),
                pct(x.test_accuracy),
                spread.map_or_else(|| "-".into(), |s| crate::report::seeds::pct_sd(s.test_mean, s.test_sd)),
            ]
        })
        .collect();
    let seed = format!("test acc, seed {}", r.seed);
    table(&["model", "params", "ms/img b1", &seed, "test, mean ± sd over seeds"], &body)
}

/// What pretraining buys, per architecture trained both ways: the gaps in the headline, each
/// pair's recipe differences in the details.
pub fn part1_ablation_takeaway(r: &part1::Results) -> Html {
    let pairs: Vec<(String, &part1::Row, &part1::Row)> = part1::ablation_pairs()
        .into_iter()
        .filter_map(|(pre, rnd)| Some((pre.clone(), r.row(&pre)?, r.row(&rnd)?)))
        .collect();
    if pairs.is_empty() {
        return sentence("No architecture ran both from ImageNet weights and from random init here.".into());
    }
    let gaps: Vec<String> = pairs
        .iter()
        .map(|(pre, a, b)| {
            let arch = crate::report::names::architecture(pre);
            let (x, y) = (pct(a.test_accuracy), pct(b.test_accuracy));
            format!("{arch} {x} from ImageNet against {y} from random init")
        })
        .collect();
    let details: Vec<String> = pairs.iter().map(|(pre, a, b)| ablation_sentence(pre, a, b)).collect();
    lead(format!("Test accuracy: {}.", gaps.join("; ")), details.join(" "))
}
