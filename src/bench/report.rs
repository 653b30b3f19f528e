//! Pairing our measurements with PyTorch's: ratios per case, the targets checked, and
//! charts of the ratios (`bench.json`, `train_ratio.png`, `infer_ratio.png`, `text_ratio.png`).
use super::cases::Case;
use super::Side;
use crate::error::Result;
pub use crate::eval::bench_file::{Bench, Pair, Target, COMMITTED};
use crate::eval::measure::Stats;
use crate::numerics::Numerics;
use crate::report::plots::bar_chart_with_reference;
use std::path::Path;

/// Speedup of ours over theirs for `case` from two medians.
fn speedup(case: &Case, ours: f64, theirs: f64) -> f64 {
    if case.higher_is_better() {
        ours / theirs
    } else {
        theirs / ours
    }
}

pub fn pair(rust: &Side, pytorch: &Side) -> Bench {
    let pairs: Vec<Pair> = rust
        .measured
        .iter()
        .map(|m| {
            let theirs = pytorch.measured.iter().find(|p| p.case == m.case);
            let ratio = theirs.map(|t| speedup(&m.case, m.stats.median, t.stats.median));
            Pair {
                label: m.case.label(),
                case: m.case.clone(),
                unit: m.unit.clone(),
                rust: m.stats.clone(),
                pytorch: theirs.map(|t| t.stats.clone()),
                speedup: ratio,
                rust_bare: m.bare.clone(),
                pytorch_bare: theirs.and_then(|t| t.bare.clone()),
            }
        })
        .collect();
    let targets = targets(&pairs);
    Bench {
        machine: rust.machine.clone(),
        threads: rust.threads,
        rust: rust.library.clone(),
        pytorch: pytorch.library.clone(),
        repeats: rust.repeats,
        interleaved: rust.interleaved,
        pairs,
        targets,
        flops: pytorch.flops.clone(),
    }
}

fn train_at<'a>(pairs: &'a [Pair], want_arch: &str, want_size: u32, want: Numerics) -> Option<&'a Pair> {
    pairs.iter().find(|p| {
        matches!(&p.case, Case::Train { arch, size, numerics, .. } if arch == want_arch && *size == want_size && *numerics == want)
    })
}

/// The goals that one bench run can check (96 px, batch 64).
fn targets(pairs: &[Pair]) -> Vec<Target> {
    let mut out = Vec::new();
    let mut add = |what: String, value: f64, goal: f64| {
        if value.is_finite() {
            out.push(Target { what, value, goal, met: value >= goal });
        }
    };
    let fp32 = Numerics::FP32;
    let best = |arch: &str, side: fn(&Pair) -> Option<f64>| {
        Numerics::ALL.into_iter().filter_map(|n| train_at(pairs, arch, 96, n).and_then(side)).fold(f64::NAN, f64::max)
    };
    let ours = |p: &Pair| Some(p.rust.median);
    let theirs = |p: &Pair| p.pytorch.as_ref().map(|s| s.median);
    for (arch, name) in [("res_net18", "ResNet18"), ("mobile_net_v2", "MobileNetV2")] {
        add(
            format!("{name} 96px: our best training setting / PyTorch's best (x)"),
            best(arch, ours) / best(arch, theirs),
            1.0,
        );
        if let Some(p) = train_at(pairs, arch, 96, fp32) {
            add(format!("{name} 96px fp32: ours / PyTorch (x)"), p.speedup.unwrap_or(f64::NAN), 1.0);
        }
    }
    let own = |arch: &str, n: Numerics| train_at(pairs, arch, 96, n).map_or(f64::NAN, |p| p.rust.median);
    let (bf16, cl) = (Numerics { bf16: true, channels_last: false }, Numerics { bf16: false, channels_last: true });
    let bf16_best = own("res_net18", bf16).max(own("res_net18", Numerics { bf16: true, channels_last: true }));
    add("ResNet18 96px: our bf16 / our fp32 (x)".into(), bf16_best / own("res_net18", fp32), 1.7);
    add(
        "MobileNetV2 96px: our channels-last / our fp32 (x)".into(),
        own("mobile_net_v2", cl) / own("mobile_net_v2", fp32),
        1.25,
    );
    if let Some(p) = pairs.iter().find(|p| matches!(p.case, Case::MinilmTrain { numerics, .. } if numerics == fp32)) {
        add("MiniLM fine-tuning fp32 tokens/s: ours / PyTorch (x)".into(), p.speedup.unwrap_or(f64::NAN), 1.0);
    }
    epoch_targets(pairs, &mut add);
    // the pipeline feeds images of one size: it is held against the fastest network at that size
    for p in pairs {
        let Case::Data { size: data_size, .. } = p.case else { continue };
        let fastest = pairs
            .iter()
            .filter(|t| matches!(t.case, Case::Train { size, .. } if size == data_size))
            .map(|t| t.rust.median)
            .fold(f64::NAN, f64::max);
        add(
            format!("data pipeline {data_size}px / fastest training at {data_size}px (x)"),
            p.rust.median / fastest,
            5.0,
        );
    }
    out
}

/// End to end on the real faces: our best epoch against PyTorch's usual loop (fp32, a DataLoader
/// with one worker) and against its best bare step at that size, and our fp32 epoch against its
/// fp32 bare step. PyTorch's bare steps are read twice: from the train cases, measured up to ten
/// minutes before the epochs, and from the epoch cases, which time them beside the epochs (runs
/// since 2026-12-06 evening: each side's epoch and bare step alternate round by round, and the two
/// sides take turns within the case, under a minute apart). On a machine whose speed drifts by
/// 10-20% over minutes, the second is the closer comparison. The best "beside it" is over the
/// numerics an epoch runs in (no plain bf16), the train cases' over all four.
fn epoch_targets(pairs: &[Pair], add: &mut impl FnMut(String, f64, f64)) {
    let epoch_of = |p: &Pair| match &p.case {
        Case::Epoch { arch, size, numerics, .. } => Some((arch.clone(), *size, *numerics)),
        _ => None,
    };
    let mut nets: Vec<(String, u32)> = Vec::new();
    for (arch, size, _) in pairs.iter().filter_map(epoch_of) {
        if !nets.contains(&(arch.clone(), size)) {
            nets.push((arch, size));
        }
    }
    let median = |s: Option<&Stats>| s.map_or(f64::NAN, |s| s.median);
    for (arch, size) in nets {
        let name = format!("{} {size}px", super::cases::short_name(&arch));
        let epochs: Vec<(&Pair, Numerics)> =
            pairs.iter().filter_map(|p| epoch_of(p).filter(|e| e.0 == arch && e.1 == size).map(|e| (p, e.2))).collect();
        let best_of = |value: &dyn Fn(&Pair) -> f64| epochs.iter().map(|(p, _)| value(p)).fold(f64::NAN, f64::max);
        let ours_best = best_of(&|p| p.rust.median);
        let epoch_at = |n: Numerics| epochs.iter().find(|(_, m)| *m == n).map(|(p, _)| *p);
        let usual = median(epoch_at(Numerics::FP32).and_then(|p| p.pytorch.as_ref()));
        add(format!("{name} epoch: our best / PyTorch's usual loop (fp32, DataLoader) (x)"), ours_best / usual, 1.5);
        let bare = |n: Numerics| train_at(pairs, &arch, size, n).and_then(|p| p.pytorch.as_ref()).map(|s| s.median);
        let bare_best = Numerics::ALL.into_iter().filter_map(bare).fold(f64::NAN, f64::max);
        add(format!("{name} epoch: our best / PyTorch's best bare step (x)"), ours_best / bare_best, 1.0);
        let ours_fp32 = median(epoch_at(Numerics::FP32).map(|p| &p.rust));
        add(
            format!("{name} epoch: our fp32 / PyTorch's fp32 bare step (x)"),
            ours_fp32 / bare(Numerics::FP32).unwrap_or(f64::NAN),
            1.0,
        );
        let beside_best = best_of(&|p| median(p.pytorch_bare.as_ref()));
        add(format!("{name} epoch: our best / PyTorch's best bare step beside it (x)"), ours_best / beside_best, 1.0);
        let beside_fp32 = median(epoch_at(Numerics::FP32).and_then(|p| p.pytorch_bare.as_ref()));
        add(format!("{name} epoch: our fp32 / PyTorch's fp32 bare step beside it (x)"), ours_fp32 / beside_fp32, 1.0);
    }
}

/// Round by round, `epoch`'s speed over `bare`'s (timed in alternating rounds of one process):
/// what an epoch keeps of the bare step's rate.
pub fn per_round(epoch: &Stats, bare: &Stats) -> Option<Stats> {
    let n = epoch.repeats.len();
    (n > 0 && n == bare.repeats.len())
        .then(|| Stats::of(epoch.repeats.iter().zip(&bare.repeats).map(|(e, b)| e / b).collect()))
}

/// Write `bench.json` and the ratio charts into `dir`.
pub fn write(dir: &Path, bench: &Bench) -> Result<()> {
    crate::atomic::write_json(&dir.join("bench.json"), bench)?;
    for (stem, title, keep) in [
        ("train_ratio", "Training speed, ours / PyTorch eager (batch 64, same threads)", is_train as fn(&Case) -> bool),
        ("infer_ratio", "Inference speed at batch 64, ours / PyTorch eager", is_infer64),
        ("epoch_ratio", "Training on the faces, data + steps, ours / PyTorch eager", is_epoch),
    ] {
        ratio_chart(bench, title, keep)?.save(dir, stem)?;
    }
    text_chart(bench)?.save(dir, "text_ratio")?;
    Ok(())
}

fn is_train(c: &Case) -> bool {
    matches!(c, Case::Train { .. })
}

fn is_epoch(c: &Case) -> bool {
    matches!(c, Case::Epoch { .. })
}

fn is_infer64(c: &Case) -> bool {
    matches!(c, Case::Infer { batch, .. } if *batch > 1)
}

fn ratio_chart(bench: &Bench, title: &str, keep: fn(&Case) -> bool) -> Result<crate::report::plots::Figure> {
    let image = |c: &Case| match c {
        Case::Train { arch, size, numerics, .. }
        | Case::Infer { arch, size, numerics, .. }
        | Case::Epoch { arch, size, numerics, .. } => {
            Some((format!("{}\n{size} px", super::cases::short_name(arch)), *numerics))
        }
        _ => None,
    };
    let mut categories: Vec<String> = Vec::new();
    for p in bench.pairs.iter().filter(|p| keep(&p.case)) {
        if let Some((cat, _)) = image(&p.case) {
            if !categories.contains(&cat) {
                categories.push(cat);
            }
        }
    }
    let labels: Vec<String> = Numerics::ALL.iter().map(Numerics::label).collect();
    let series: Vec<(&str, Vec<f64>)> = Numerics::ALL
        .iter()
        .zip(&labels)
        .map(|(n, label)| {
            let values = categories
                .iter()
                .map(|cat| {
                    bench
                        .pairs
                        .iter()
                        .filter(|p| keep(&p.case))
                        .find(|p| image(&p.case) == Some((cat.clone(), *n)))
                        .and_then(|p| p.speedup)
                        .unwrap_or(f64::NAN)
                })
                .collect();
            (label.as_str(), values)
        })
        // a setting no case of this chart measured gets no legend entry
        .filter(|(_, values): &(&str, Vec<f64>)| values.iter().any(|v| v.is_finite()))
        .collect();
    bar_chart_with_reference(title, &categories, &series, &[], ("PyTorch, same setting", 1.0), "ours / PyTorch (x)")
}

fn text_chart(bench: &Bench) -> Result<crate::report::plots::Figure> {
    let categories =
        vec!["MiniLM fine-tuning\n16 x 128 tokens".to_string(), "BiLSTM training\n64 x 128 tokens".to_string()];
    let value = |minilm: bool, bf16: bool| {
        bench
            .pairs
            .iter()
            .find(|p| match p.case {
                Case::MinilmTrain { numerics, .. } => minilm && numerics.bf16 == bf16,
                Case::BilstmTrain { numerics, .. } => !minilm && numerics.bf16 == bf16,
                _ => false,
            })
            .and_then(|p| p.speedup)
            .unwrap_or(f64::NAN)
    };
    let series = [
        ("fp32", vec![value(true, false), value(false, false)]),
        ("bf16", vec![value(true, true), value(false, true)]),
    ];
    bar_chart_with_reference(
        "Text models: training speed, ours / PyTorch eager",
        &categories,
        &series,
        &[],
        ("PyTorch, same setting", 1.0),
        "ours / PyTorch (x)",
    )
}

#[cfg(test)]
mod tests {
    use super::super::measure::Repeats;
    use super::super::Measured;
    use super::*;
    use crate::eval::measure::Stats;

    fn side(values: &[(Case, f64)]) -> Side {
        Side {
            library: "x".into(),
            machine: "m".into(),
            threads: 2,
            repeats: Repeats { warmup: 0, timed: 1 },
            measured: values
                .iter()
                .map(|(c, v)| Measured {
                    case: c.clone(),
                    unit: c.unit().into(),
                    stats: Stats::of(vec![*v]),
                    bare: None,
                })
                .collect(),
            flops: Vec::new(),
            minilm_dir: None,
            faces_dir: None,
            augment: None,
            interleaved: false,
        }
    }

    #[test]
    fn speedups_divide_speeds_and_invert_latencies_and_targets_follow() {
        let n = |channels_last, bf16| Numerics { channels_last, bf16 };
        let train = |numerics| Case::Train { arch: "res_net18".into(), size: 96, batch: 64, numerics };
        let infer = Case::Infer { arch: "res_net18".into(), size: 96, batch: 64, numerics: n(false, false) };
        let data = Case::Data { size: 96, batch: 64 };
        let ours = side(&[
            (train(n(false, false)), 60.0),
            (train(n(false, true)), 110.0),
            (infer.clone(), 2.0),
            (data.clone(), 400.0),
        ]);
        let theirs = side(&[(train(n(false, false)), 50.0), (train(n(false, true)), 100.0), (infer, 4.0)]);
        let b = pair(&ours, &theirs);
        let sp: Vec<Option<f64>> = b.pairs.iter().map(|p| p.speedup).collect();
        assert_eq!(sp, [Some(1.2), Some(1.1), Some(2.0), None]);
        let t = |what: &str| b.targets.iter().find(|t| t.what.starts_with(what)).unwrap();
        assert_eq!(t("ResNet18 96px: our best").value, 1.1);
        assert!(t("ResNet18 96px fp32").met);
        let bf = t("ResNet18 96px: our bf16");
        assert!((bf.value - 110.0 / 60.0).abs() < 1e-12 && bf.met);
        let d = t("data pipeline 96px");
        assert!((d.value - 400.0 / 110.0).abs() < 1e-12 && !d.met);
    }

    #[test]
    fn epoch_targets_hold_our_best_epoch_against_pytorchs_loop_and_bare_steps() {
        let n = |channels_last| Numerics { channels_last, bf16: false };
        let train = |numerics| Case::Train { arch: "mobile_net_v2".into(), size: 96, batch: 64, numerics };
        let epoch = |numerics| Case::Epoch { arch: "mobile_net_v2".into(), size: 96, batch: 64, numerics, batches: 16 };
        let ours = side(&[
            (train(n(false)), 130.0),
            (train(n(true)), 170.0),
            (epoch(n(false)), 120.0),
            (epoch(n(true)), 160.0),
        ]);
        let theirs =
            side(&[(train(n(false)), 100.0), (train(n(true)), 140.0), (epoch(n(false)), 80.0), (epoch(n(true)), 90.0)]);
        let b = pair(&ours, &theirs);
        let t = |what: &str| b.targets.iter().find(|t| t.what.starts_with(what)).unwrap_or_else(|| panic!("{what}"));
        let usual = t("MobileNetV2 96px epoch: our best / PyTorch's usual");
        assert_eq!((usual.value, usual.met), (2.0, true), "160 against PyTorch's fp32 loop at 80");
        let bare = t("MobileNetV2 96px epoch: our best / PyTorch's best bare");
        assert!((bare.value - 160.0 / 140.0).abs() < 1e-12 && bare.met);
        let fp32 = t("MobileNetV2 96px epoch: our fp32");
        assert_eq!((fp32.value, fp32.met), (1.2, true));
        assert_eq!(b.pairs[3].speedup, Some(160.0 / 90.0), "the pair itself compares the same setting");
        assert!(!b.targets.iter().any(|t| t.what.contains("beside it")), "a run without bare steps beside its epochs");
    }

    #[test]
    fn epoch_targets_read_the_bare_steps_timed_beside_the_epochs() {
        let n = |channels_last| Numerics { channels_last, bf16: false };
        let epoch =
            |numerics| Case::Epoch { arch: "emotion_net_v2".into(), size: 64, batch: 64, numerics, batches: 16 };
        let train = |numerics| Case::Train { arch: "emotion_net_v2".into(), size: 64, batch: 64, numerics };
        let with_bare = |mut s: Side, bare: [f64; 2]| {
            s.measured.iter_mut().filter(|m| matches!(m.case, Case::Epoch { .. })).zip(bare).for_each(|(m, b)| {
                m.bare = Some(Stats::of(vec![b]));
            });
            s
        };
        // the train cases ran in a slow phase of the machine (PyTorch's at 250 and 300 images/s);
        // beside the epochs its bare steps ran at 330 and 400
        let ours = with_bare(
            side(&[
                (train(n(false)), 260.0),
                (train(n(true)), 290.0),
                (epoch(n(false)), 320.0),
                (epoch(n(true)), 380.0),
            ]),
            [330.0, 390.0],
        );
        let theirs = with_bare(
            side(&[
                (train(n(false)), 250.0),
                (train(n(true)), 300.0),
                (epoch(n(false)), 150.0),
                (epoch(n(true)), 160.0),
            ]),
            [330.0, 400.0],
        );
        let b = pair(&ours, &theirs);
        let t = |what: &str| b.targets.iter().find(|t| t.what.starts_with(what)).unwrap_or_else(|| panic!("{what}"));
        assert!(
            (t("EmotionNetV2 64px epoch: our best / PyTorch's best bare step (x)").value - 380.0 / 300.0).abs() < 1e-12
        );
        let beside = t("EmotionNetV2 64px epoch: our best / PyTorch's best bare step beside it");
        assert!((beside.value - 380.0 / 400.0).abs() < 1e-12 && !beside.met, "{beside:?}");
        let fp32 = t("EmotionNetV2 64px epoch: our fp32 / PyTorch's fp32 bare step beside it");
        assert!((fp32.value - 320.0 / 330.0).abs() < 1e-12 && !fp32.met, "{fp32:?}");
        assert_eq!(b.pairs[3].rust_bare.as_ref().map(|s| s.median), Some(390.0));
        assert_eq!(b.pairs[3].pytorch_bare.as_ref().map(|s| s.median), Some(400.0));
    }

    #[test]
    fn per_round_divides_round_by_round() {
        let (e, b) = (Stats::of(vec![90.0, 100.0, 80.0]), Stats::of(vec![100.0, 100.0, 100.0]));
        let r = per_round(&e, &b).unwrap();
        assert_eq!((r.min, r.median, r.max), (0.8, 0.9, 1.0));
        assert_eq!(r.repeats, [0.9, 1.0, 0.8], "in round order");
        assert!(per_round(&e, &Stats::of(vec![1.0])).is_none(), "rounds that do not pair");
    }
}
