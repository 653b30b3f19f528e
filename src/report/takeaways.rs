//! What the numbers say, in tables and sentences computed from a run's results.
use super::html::{esc, table, Html};
use crate::experiments::{part1, part2};
use crate::Profile;

fn ci([lo, hi]: [f64; 2]) -> String {
    format!("{:.1}-{:.1}%", lo * 100.0, hi * 100.0)
}

/// A paired test in words: whether the gap between two rows is more than test-set noise.
fn paired_sentence(c: &crate::eval::metrics::PairedTest) -> String {
    let verdict = if c.p_value < 0.05 {
        "a real difference at the 5% level"
    } else {
        "not distinguishable from noise at the 5% level"
    };
    format!(
        "{} vs {} on the same test samples: {:.1}% vs {:.1}%, {} vs {} samples right only by one (McNemar exact p = {:.2}): {verdict}.",
        c.a, c.b, c.a_accuracy * 100.0, c.b_accuracy * 100.0, c.only_a, c.only_b, c.p_value
    )
}

pub fn part1_table(r: &part1::Results) -> Html {
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|x| {
            vec![
                x.model.clone(),
                format!("{:?}", x.init).to_lowercase(),
                format!("{:.2}M", x.params as f64 / 1e6),
                format!("{:.1}", x.size_bytes as f64 / 1e6),
                x.flops.map(|f| format!("{:.2}", f / 1e9)).unwrap_or_else(|| "-".into()),
                format!("{:.2}", x.latency_ms_b1),
                format!("{:.2}", x.latency_ms_b64),
                x.pytorch_latency_ms_b1.map(|p| format!("{:.2}x", x.latency_ms_b1 / p)).unwrap_or_else(|| "-".into()),
                format!("{:.1}", x.seconds_per_epoch),
                format!("{}/{}", x.best_epoch, x.epochs),
                format!("{:.1}%", x.test_accuracy * 100.0),
                ci(x.test_accuracy_ci95),
                format!("{:.3}", x.test_macro_f1),
            ]
        })
        .collect();
    let mut h = table(
        &[
            "model",
            "init",
            "params",
            "MB",
            "GFLOPs/img",
            "ms/img b1",
            "ms/img b64",
            "vs PyTorch b1",
            "s/epoch",
            "best/epochs",
            "test acc",
            "95% CI",
            "macro-F1",
        ],
        &rows,
    )
    .0;
    h += &format!("<p>profile {}, seed {}, {} px, device {}</p>", r.profile, r.seed, r.image_size, r.device);
    for (m, why) in &r.skipped_models {
        h += &format!("<p>{}: not run. {}</p>", esc(m), esc(why));
    }
    Html(h)
}

pub fn part2_table(r: &part2::Results) -> Html {
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|x| {
            vec![
                x.model.name().into(),
                x.train_source.name().into(),
                x.init.clone(),
                format!("{}", x.train_examples),
                format!("{:.1}%", x.accuracy * 100.0),
                ci(x.accuracy_ci95),
                format!("{:.3}", x.precision),
                format!("{:.3}", x.recall),
                format!("{:.3}", x.f1),
                format!("{:.3}", x.macro_f1),
                format!("{:.0}", x.train_seconds),
            ]
        })
        .collect();
    let mut h = table(
        &[
            "model",
            "trained on",
            "init",
            "train n",
            "accuracy",
            "95% CI",
            "precision",
            "recall",
            "F1",
            "macro-F1",
            "train s",
        ],
        &rows,
    )
    .0;
    h += &format!(
        "<p>all tested on {} Drugs.com reviews dated {:?}; profile {}, seed {}, max_len {}</p>",
        r.test_examples, r.test_dates, r.profile, r.seed, r.plan.max_len
    );
    Html(h)
}

/// Conclusions computed from the Part 1 numbers.
pub fn part1_conclusions(r: &part1::Results) -> Html {
    let mut out = Vec::new();
    let best = |f: &dyn Fn(&part1::Row) -> bool| {
        r.rows.iter().filter(|x| f(x)).max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
    };
    if let Some(b) = best(&|x| x.init == part1::Init::Imagenet) {
        out.push(format!("Best transfer model: {} at {:.1}% test accuracy.", b.model, b.test_accuracy * 100.0));
    }
    if let Some(b) = best(&|x| x.arch.is_custom()) {
        out.push(format!(
            "Best model from scratch: {} at {:.1}% with {:.2}M parameters.",
            b.model,
            b.test_accuracy * 100.0,
            b.params as f64 / 1e6
        ));
    }
    for (pre, rnd) in [("resnet18", "resnet18_random"), ("mobilenet_v2", "mobilenet_v2_random")] {
        if let (Some(a), Some(b)) = (r.row(pre), r.row(rnd)) {
            let d = (a.test_accuracy - b.test_accuracy) * 100.0;
            out.push(format!("Same architecture, same budget: {pre} ImageNet {:.1}% vs random init {:.1}% ({}{:.1} points from pretraining).", a.test_accuracy * 100.0, b.test_accuracy * 100.0, if d >= 0.0 { "+" } else { "" }, d));
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
    let majority =
        r.eda.test_label_distribution.counts.iter().copied().max().unwrap_or(0) as f64 / r.test_examples.max(1) as f64;
    out.push(format!("Always predicting the majority class would score {:.1}%.", majority * 100.0));
    for m in ["minilm", "bilstm"] {
        let acc = |s: &str| r.row(&format!("{m}_{s}")).map(|x| x.accuracy * 100.0);
        if let (Some(d), Some(i), Some(n)) = (acc("drugscom"), acc("imdb"), acc("druglib")) {
            out.push(format!("{m}: direct {d:.1}%, near indirect (Druglib) {n:.1}%, far indirect (IMDB) {i:.1}%."));
        }
    }
    out.extend(r.comparisons.iter().map(paired_sentence));
    if r.profile == Profile::Smoke {
        out.push("Smoke profile: these numbers only prove the pipeline runs.".into());
    }
    Html(format!("<ul>{}</ul>", out.iter().map(|s| format!("<li>{}</li>", esc(s))).collect::<String>()))
}
