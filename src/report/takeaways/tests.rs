use super::faces::ablation_sentence;
use super::*;
use super::{paired_reading, paired_table};

use crate::report::fixtures::{part1, part2};

fn count(h: &Html, tag: &str) -> usize {
    h.0.matches(tag).count()
}

#[test]
fn the_ablation_sentence_names_the_input_sizes_and_rates_when_they_differ() {
    let r = part1();
    let pre = r.row("mobilenet_v2").unwrap().clone();
    let mut rnd = r.row("mobilenet_v2_random").unwrap().clone();
    (rnd.image_size, rnd.test_accuracy, rnd.train_config.lr) =
        (pre.image_size, pre.test_accuracy - 0.2, pre.train_config.lr);
    let same = ablation_sentence("mobilenet_v2", &pre, &rnd);
    assert!(
        same.starts_with("MobileNetV2 with the same architecture, caps, lr and input:")
            && same.ends_with(": +20.0 points from pretraining."),
        "{same}"
    );
    (rnd.image_size, rnd.train_config.lr) = (48, 2e-3);
    let other = ablation_sentence("mobilenet_v2", &pre, &rnd);
    assert!(other.starts_with("MobileNetV2 with the same architecture and caps: ImageNet"), "{other}");
    assert!(
        other.contains(&format!(
            "(lr {:e} vs 2e-3; {} px vs 48 px, the size its validation chose)",
            pre.train_config.lr, pre.image_size
        )),
        "{other}"
    );
    assert!(other.contains("from pretraining and the recipe"), "{other}");
    assert!(part1_conclusions(&r).0.contains("MobileNetV2 with the same architecture and caps"));
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
        c.contains("Best row from scratch overall: ResNet18 (random init)")
            && c.contains(&format!("+0.4 points on EmotionNetV2 at seed {}.", r.seed)),
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
fn the_pytorch_ratio_shows_only_for_a_benchmark_timed_on_this_machine() {
    let mut r = part1();
    let ratio = |r: &part1::Results| part1_table(r, Columns::Training).0.contains("vs PyTorch");
    r.machine = "AMD EPYC, 2 cores, avx512_bf16".into();
    r.speed_reference =
        Some("figures/bench/bench.json: PyTorch 2.13 eager on Intel Xeon, 2 cores, amx_bf16, 2 threads".into());
    assert!(!ratio(&r));
    let h = part1_table(&r, Columns::Training).0;
    assert!(h.contains("ran on another machine") && h.contains("CPU (AMD EPYC, 2 cores"), "{h}");
    r.machine = "Intel Xeon, 2 cores, amx_bf16".into();
    assert!(ratio(&r));
    r.speed_reference = None;
    assert!(!ratio(&r) && !part1_table(&r, Columns::Training).0.contains("another machine"));
    assert_eq!(device_label("Cuda(0)", ""), "CUDA 0");
    assert_eq!(device_label("Mps", "M3"), "Apple MPS (M3)");
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
    let random =
        |accuracy: f64, ci: [f64; 2]| part2::Row { random_split: true, accuracy, accuracy_ci95: ci, ..direct.clone() };
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
    // the same score on test reviews 97% of one class: no larger a margin over the majority answer
    let n = direct.test_examples as u64;
    r.random_split[0].confusion = vec![vec![0, n * 3 / 100], vec![0, n - n * 3 / 100]];
    let s = part2_split_takeaway(&r).0;
    assert!(s.contains("beyond noise") && s.contains("easier label mix") && !s.contains("costs accuracy"), "{s}");
    assert!(s.contains(&format!("always the majority class {}", pct((n - n * 3 / 100) as f64 / n as f64))), "{s}");
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
    let mut timed = r.clone();
    timed.latency_rounds = None;
    assert!(part1_table(&timed, Columns::Cost).0.contains("latency: each row timed alone right after its training"));
    timed.latency_rounds = Some(3);
    assert!(part1_table(&timed, Columns::Cost).0.contains("median of 3 rounds timing every network in turn"));
    assert!(!part1_table(&r, Columns::Accuracy).0.contains("ms/img b64"));
}

#[test]
fn takeaways_name_the_rows_their_numbers_pick() {
    let r = part1();
    let h = part1_benchmark_takeaway(&r).0;
    // the committed quick run: MobileNetV2 most accurate, V3 the fastest and smallest
    let best = pct(r.row("mobilenet_v2").unwrap().test_accuracy);
    assert!(h.contains(&format!("Most accurate: MobileNetV2 (ImageNet) ({best})")), "{h}");
    let v3_ms = r.row("emotionnet_v3").unwrap().latency_ms_b1;
    assert!(
        h.contains(&format!("Fastest at batch 1: EmotionNetV3 ({v3_ms:.2} ms/image). Smallest: EmotionNetV3")),
        "{h}"
    );
    // V1 slower than V2 by less than one network's spread between seeds: a tie; by more: not
    let mut so_far = crate::notebook::only(&r, &["emotionnet_v1", "emotionnet_v2"]);
    let (noise, v2_ms) = (so_far.latency_noise().unwrap(), so_far.row("emotionnet_v2").unwrap().latency_ms_b1);
    so_far.rows[0].latency_ms_b1 = v2_ms * (1.0 + noise) / 2.0;
    let h = part1_benchmark_takeaway(&so_far).0;
    let tie = format!("Fastest at batch 1: EmotionNetV2 ({v2_ms:.2} ms/image), tied within timing noise ({noise:.2}x) with EmotionNetV1");
    assert!(h.contains(&tie), "{h}");
    so_far.rows[0].latency_ms_b1 = v2_ms * noise * 1.01;
    let h = part1_benchmark_takeaway(&so_far).0;
    assert!(h.contains(&format!("Fastest at batch 1: EmotionNetV2 ({v2_ms:.2} ms/image). Smallest")), "{h}");
    let v1 = r.row("emotionnet_v1").unwrap();
    let right = v1.samples.iter().filter(|s| s.truth == s.pred).count();
    let h = part1_samples_takeaway(v1).0;
    assert!(h.starts_with(&format!("<p class=\"takeaway\">{right} of these {} right", v1.samples.len())), "{h}");
    let h = part1_confusion_takeaway(&r, v1).0;
    let (_, share) = crate::report::claims::most_predicted(&v1.confusion);
    assert_eq!(h.contains("collapsed to one class"), share >= crate::report::claims::COLLAPSED, "{h}");
    let mut collapsed = v1.clone();
    let n = collapsed.confusion.len();
    collapsed.confusion = crate::report::fixtures::confusion(n, |_, j| u64::from(j == 3) * 10);
    let h = part1_confusion_takeaway(&r, &collapsed).0;
    assert!(h.contains("collapsed to one class"), "{h}");
    let r2 = part2();
    // the committed run: MiniLM one epoch (its cap); the BiLSTMs after the epochs their rows name, on a
    // plateau or on their cap
    let h = part2_training_takeaway(&r2).0;
    assert!(h.contains("MiniLM: every run stopped on its epoch cap, after 1 epoch;"), "{h}");
    let bilstm = || r2.rows.iter().filter(|x| x.model.label() == "BiLSTM");
    let epochs: Vec<usize> = bilstm().map(|x| x.epochs).collect();
    let (lo, hi) = (epochs.iter().min().unwrap(), epochs.iter().max().unwrap());
    let one_reason = bilstm().all(|x| x.stopped_by == bilstm().next().unwrap().stopped_by);
    let how = if one_reason { "every run stopped" } else { "its runs stopped for different reasons" };
    assert!(h.contains(&format!("BiLSTM: {how}")) && h.contains(&format!("after {lo}-{hi} epochs")), "{h}");
    let mut plateau = r2.clone();
    plateau
        .rows
        .iter_mut()
        .filter(|x| x.model.label() == "BiLSTM")
        .for_each(|x| x.stopped_by = Some(crate::train::StopReason::Plateau));
    let h = part2_training_takeaway(&plateau).0;
    assert!(h.contains(&format!("BiLSTM: every run stopped on a plateau, after {lo}-{hi} epochs")), "{h}");
    let h = part2_comparison_takeaway(&r2).0;
    assert!(h.contains("MiniLM trained on Drugs.com: 78.8%"), "{h}");
    assert!(h.contains(&pct(r2.majority_share())), "{h}");
}

#[test]
fn drift_takeaway_compares_the_label_mix_of_the_splits() {
    let mut r = part2();
    let h = part2_drift_takeaway(&r).0;
    // the committed quick run: 69% positive in training, 56% in the newest 519 reviews
    assert!(h.contains("training split 69.") && h.contains("test split 56.") && h.contains("another label mix"), "{h}");
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

#[test]
fn a_stub_evaluation_after_a_time_cap_is_not_read_as_the_end() {
    let base = part1().rows[0].history[0].clone();
    let rec = |progress: f64, train: f64, valid: f64| crate::train::EpochRecord {
        epoch: progress.ceil() as usize,
        progress,
        train_accuracy: train,
        valid_accuracy: valid,
        ..base.clone()
    };
    // three whole epochs, then a time cap 1% into the fourth: its training accuracy is a batch's
    let h = vec![rec(1.0, 0.3, 0.35), rec(2.0, 0.32, 0.38), rec(3.0, 0.334, 0.399), rec(3.01, 0.9, 0.403)];
    assert!(crate::train::EpochRecord::train_is_a_stub(&h, 3));
    assert!(!(0..3).any(|i| crate::train::EpochRecord::train_is_a_stub(&h, i)));
    let t = curves_takeaway(&h, Some(3), Some(StopReason::TimeCap)).0;
    assert!(t.contains("Train 33.4% vs validation 39.9% at the last whole epoch"), "{t}");
    assert!(t.contains("stopped on its time cap with validation still improving"), "{t}");
    // evaluations a quarter of an epoch apart are whole; so are results without progress
    let quarters: Vec<_> = [0.25, 0.5, 0.75, 1.0].iter().map(|&p| rec(p, 0.5, 0.5)).collect();
    assert!(!(0..4).any(|i| crate::train::EpochRecord::train_is_a_stub(&quarters, i)));
    assert!(curves_takeaway(&quarters, Some(3), None).0.contains("at the end"));
    let old = vec![rec(0.0, 0.5, 0.5), rec(0.0, 0.6, 0.5)];
    assert!(!crate::train::EpochRecord::train_is_a_stub(&old, 1));
    // the curves leave the stub's training point out rather than drawing a jump to it
    let circles = crate::report::curves("stub", &h, Some(3)).unwrap().svg().matches("<circle").count();
    let whole = crate::report::curves("stub", &h[..3], Some(2)).unwrap().svg().matches("<circle").count();
    assert_eq!(circles, whole, "train markers: the stub adds none");
}

#[test]
fn a_mid_epoch_checkpoint_is_named_by_its_fraction_and_one_epoch_is_singular() {
    let r = part2();
    let mut row = r.row("minilm_drugscom").unwrap().clone();
    let base = row.history[0].clone();
    row.history = [0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|&p| crate::train::EpochRecord { epoch: 1, progress: p, ..base.clone() })
        .collect();
    (row.epochs, row.best_epoch, row.best_evaluation, row.stopped_by) = (1, 1, Some(2), Some(StopReason::EpochCap));
    let t = part2_takeaway(&r, &row).0;
    assert!(t.contains("Trained 1 epoch, stopped on its epoch cap; kept the checkpoint at epoch 0.75."), "{t}");
    row.history.iter_mut().for_each(|h| h.progress = h.progress.ceil());
    row.epochs = 4;
    let t = part2_takeaway(&r, &row).0;
    assert!(t.contains("Trained 4 epochs") && t.contains("at epoch 1."), "{t}");
}

#[test]
fn less_is_more_follows_the_paired_test_of_v3_against_v2() {
    let mut r = part1();
    let h = part1_less_is_more(&r).0;
    let (v2, v3) = (r.row("emotionnet_v2").unwrap().params, r.row("emotionnet_v3").unwrap().params);
    assert!(h.contains(&format!("{:.1}x fewer", v2 as f64 / v3 as f64)), "{h}");
    // V3 answering exactly as V2 at every seed: no gap to speak of
    let v2_preds: Vec<(u64, Vec<i64>)> =
        r.runs("emotionnet_v2").iter().map(|x| (x.seed, x.test_predictions.clone())).collect();
    for x in r.rows.iter_mut().chain(r.seed_runs.iter_mut()).filter(|x| x.model == "emotionnet_v3") {
        x.test_predictions = v2_preds.iter().find(|(s, _)| *s == x.seed).unwrap().1.clone();
    }
    let h = part1_less_is_more(&r).0;
    assert!(h.contains("0.0-point gap is within noise") && h.contains("costs nothing measurable"), "{h}");
    assert!(h.contains("(mean over 3 seeds:") && h.contains("p = 1.00).</p>"), "{h}");
    // every V3 prediction right: less is more
    let truth = r.test_labels.clone();
    for x in r.rows.iter_mut().chain(r.seed_runs.iter_mut()).filter(|x| x.model == "emotionnet_v3") {
        x.test_predictions = truth.clone();
    }
    assert!(part1_less_is_more(&r).0.contains("less is more here: V3 is ahead"));
    r.rows.retain(|x| x.model != "emotionnet_v3");
    assert!(part1_less_is_more(&r).0.contains("no EmotionNet V2 and V3"));
}

#[test]
fn the_ablation_takeaway_leads_with_each_architectures_two_accuracies() {
    let mut r = part1();
    let h = part1_ablation_takeaway(&r).0;
    let (a, b) = (r.row("mobilenet_v2").unwrap(), r.row("mobilenet_v2_random").unwrap());
    let want = format!(
        "<p class=\"takeaway\">Test accuracy: MobileNetV2 {} from ImageNet against {} from random init.</p>",
        pct(a.test_accuracy),
        pct(b.test_accuracy)
    );
    assert!(h.starts_with(&want), "{h}");
    assert!(h.contains(&format!("(lr {:e} vs {:e};", a.train_config.lr, b.train_config.lr)), "{h}");
    r.rows.retain(|x| !x.model.ends_with("_random"));
    assert!(part1_ablation_takeaway(&r).0.contains("No architecture ran both"));
}

#[test]
fn less_is_more_shows_both_networks_at_the_runs_seed_and_over_seeds() {
    let r = part1();
    let h = part1_less_is_more(&r).0;
    for name in ["emotionnet_v2", "emotionnet_v3"] {
        let x = r.row(name).unwrap();
        let s = r.spread.iter().find(|s| s.row == name).unwrap();
        let cells = format!(
            "<td>{}</td><td>{:.0}k</td><td>{:.2}</td><td>{}</td><td>{}</td>",
            crate::report::names::shown(name),
            x.params as f64 / 1e3,
            x.latency_ms_b1,
            pct(x.test_accuracy),
            crate::report::seeds::pct_sd(s.test_mean, s.test_sd)
        );
        assert!(h.contains(&cells), "{cells}: {h}");
    }
}

#[test]
fn a_gap_at_one_seed_is_read_against_the_other_sides_spread_over_seeds() {
    use crate::eval::spread::{SeedResult, Spread};
    let test = |p_value| crate::eval::metrics::PairedTest {
        a: "bilstm_drugscom".into(),
        b: "bilstm_druglib".into(),
        a_accuracy: 0.730,
        b_accuracy: 0.674,
        only_a: 93,
        only_b: 64,
        p_value,
        pairs: 1,
    };
    let spread = |tests: &[f64]| {
        let runs: Vec<SeedResult> =
            tests.iter().enumerate().map(|(i, &t)| SeedResult { seed: 42 + i as u64, test: t, valid: t }).collect();
        vec![Spread::of("bilstm_drugscom", &runs)]
    };
    // seeds 73.0, 70.7, 67.8: mean 70.5, sd 2.6; 3.1 points above Druglib's one run, within 2 sd
    let (verdict, notes) = paired_reading(&test(0.025), &spread(&[0.730, 0.707, 0.678]));
    assert_eq!(verdict, "real at this seed only: within the seed spread");
    assert_eq!(notes, ["Over its seeds BiLSTM (Drugs.com) scores 70.5% ± 2.6, 3.1 points from the other's 67.4%."]);
    // a narrow spread leaves the reading as it is, and needs no note
    let narrow = paired_reading(&test(0.025), &spread(&[0.730, 0.725, 0.735]));
    assert_eq!(narrow, ("a real difference (5% level)", vec![]));
    assert_eq!(paired_reading(&test(0.025), &[]), ("a real difference (5% level)", vec![]));
    assert_eq!(paired_reading(&test(0.3), &spread(&[0.730, 0.707, 0.678])), ("within noise (5% level)", vec![]));
    let t = paired_table(&[test(0.025)], &spread(&[0.730, 0.707, 0.678]));
    let row =
        "<td>BiLSTM (Drugs.com) vs BiLSTM (Druglib)</td><td>73.0% vs 67.4%</td><td>93 vs 64</td><td>p = 0.025</td>";
    assert!(t.contains(row) && t.contains("<p class=\"caption\">Over its seeds BiLSTM (Drugs.com)"), "{t}");
    let mut pooled = test(0.0001);
    pooled.pairs = 3;
    let t = paired_table(&[pooled], &spread(&[0.730, 0.707, 0.678]));
    assert!(t.contains("<td>mean of 3 seeds: 73.0% vs 67.4%</td>") && t.contains("p &lt; 0.001 (3 seed pairs)"), "{t}");
    assert!(!t.contains("caption"), "a pooled test needs no seed note: {t}");
    assert!(paired_table(&[], &[]).is_empty());
}
