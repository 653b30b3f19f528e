//! Pairing our measurements with PyTorch's: ratios per case and the targets checked
//! (`bench.json`; the charts of the ratios are in `charts`).
use super::cases::Case;
use super::Side;
pub use crate::eval::bench_file::{Bench, Pair, Target, COMMITTED};
use crate::eval::measure::Stats;
use crate::numerics::Numerics;

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
            // the cases taken in turn round by round are all speeds (higher is better)
            let paired = taken_in_turn(rust.paired_rounds, &m.case);
            let rounds = theirs.filter(|_| paired).and_then(|t| per_round(&m.stats, &t.stats));
            Pair {
                label: m.case.label(),
                case: m.case.clone(),
                unit: m.unit.clone(),
                rust: m.stats.clone(),
                pytorch: theirs.map(|t| t.stats.clone()),
                speedup: ratio,
                round_speedup: rounds,
                rust_bare: m.bare.clone(),
                pytorch_bare: theirs.and_then(|t| t.bare.clone()),
            }
        })
        .collect();
    let targets = targets(&pairs, rust.paired_rounds);
    Bench {
        machine: rust.machine.clone(),
        threads: rust.threads,
        rust: rust.library.clone(),
        pytorch: pytorch.library.clone(),
        repeats: rust.repeats,
        interleaved: rust.interleaved,
        paired_rounds: rust.paired_rounds,
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

/// A target's ratio: of two medians, or round by round where both values come from one case whose
/// two sides took their timed rounds in turn.
enum Ratio {
    Medians(f64),
    Rounds(Stats),
}

/// The goals that one bench run can check (96 px, batch 64).
fn targets(pairs: &[Pair], paired_rounds: bool) -> Vec<Target> {
    let mut out = Vec::new();
    let mut add = |what: String, ratio: Ratio, goal: f64| {
        let (value, rounds) = match ratio {
            Ratio::Medians(v) => (v, None),
            Ratio::Rounds(r) => (r.median, Some(r)),
        };
        if value.is_finite() {
            out.push(Target { what, value, rounds, goal, met: value >= goal });
        }
    };
    let of_pair = |p: &Pair| match &p.round_speedup {
        Some(r) => Ratio::Rounds(r.clone()),
        None => Ratio::Medians(p.speedup.unwrap_or(f64::NAN)),
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
            Ratio::Medians(best(arch, ours) / best(arch, theirs)),
            1.0,
        );
        if let Some(p) = train_at(pairs, arch, 96, fp32) {
            add(format!("{name} 96px fp32: ours / PyTorch (x)"), of_pair(p), 1.0);
        }
    }
    let own = |arch: &str, n: Numerics| train_at(pairs, arch, 96, n).map_or(f64::NAN, |p| p.rust.median);
    let (bf16, cl) = (Numerics { bf16: true, channels_last: false }, Numerics { bf16: false, channels_last: true });
    let bf16_best = own("res_net18", bf16).max(own("res_net18", Numerics { bf16: true, channels_last: true }));
    add("ResNet18 96px: our bf16 / our fp32 (x)".into(), Ratio::Medians(bf16_best / own("res_net18", fp32)), 1.7);
    add(
        "MobileNetV2 96px: our channels-last / our fp32 (x)".into(),
        Ratio::Medians(own("mobile_net_v2", cl) / own("mobile_net_v2", fp32)),
        1.25,
    );
    if let Some(p) = pairs.iter().find(|p| matches!(p.case, Case::MinilmTrain { numerics, .. } if numerics == fp32)) {
        add("MiniLM fine-tuning fp32 tokens/s: ours / PyTorch (x)".into(), of_pair(p), 1.0);
    }
    epoch_targets(pairs, paired_rounds, &mut add);
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
            Ratio::Medians(p.rust.median / fastest),
            5.0,
        );
    }
    out
}

/// End to end on the real faces: our best epoch against PyTorch's usual loop (fp32, a DataLoader
/// with one worker) and against its best bare step at that size, and our fp32 epoch against its
/// fp32 bare step. PyTorch's bare steps are read twice: from the train cases, measured up to ten
/// minutes before the epochs, and from the epoch cases, which time them beside the epochs (runs
/// since 2026-12-06 evening: each side's epoch and bare step alternate round by round; with
/// `paired_rounds` the two sides also take those rounds in turn, and the ratio is read round by round).
/// On a machine whose speed drifts by 10-20% over minutes, the second is the closer comparison.
/// The best "beside it" is over the numerics an epoch runs in (no plain bf16), the train cases'
/// over all four.
fn epoch_targets(pairs: &[Pair], paired_rounds: bool, add: &mut impl FnMut(String, Ratio, f64)) {
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
        let best_by = |value: &dyn Fn(&Pair) -> f64| {
            epochs.iter().map(|(p, _)| *p).filter(|p| !value(p).is_nan()).max_by(|a, b| value(a).total_cmp(&value(b)))
        };
        let ours_best = median(best_by(&|p| p.rust.median).map(|p| &p.rust));
        let epoch_at = |n: Numerics| epochs.iter().find(|(_, m)| *m == n).map(|(p, _)| *p);
        let usual = median(epoch_at(Numerics::FP32).and_then(|p| p.pytorch.as_ref()));
        let what = |s: &str| format!("{name} epoch: {s} (x)");
        add(what("our best / PyTorch's usual loop (fp32, DataLoader)"), Ratio::Medians(ours_best / usual), 1.5);
        let bare = |n: Numerics| train_at(pairs, &arch, size, n).and_then(|p| p.pytorch.as_ref()).map(|s| s.median);
        let bare_best = Numerics::ALL.into_iter().filter_map(bare).fold(f64::NAN, f64::max);
        add(what("our best / PyTorch's best bare step"), Ratio::Medians(ours_best / bare_best), 1.0);
        let ours_fp32 = median(epoch_at(Numerics::FP32).map(|p| &p.rust));
        let fp32_bare = bare(Numerics::FP32).unwrap_or(f64::NAN);
        add(what("our fp32 / PyTorch's fp32 bare step"), Ratio::Medians(ours_fp32 / fp32_bare), 1.0);
        let (best_epoch, best_bare) = (best_by(&|p| p.rust.median), best_by(&|p| median(p.pytorch_bare.as_ref())));
        add(what("our best / PyTorch's best bare step beside it"), beside(best_epoch, best_bare, paired_rounds), 1.0);
        let fp32 = epoch_at(Numerics::FP32);
        add(what("our fp32 / PyTorch's fp32 bare step beside it"), beside(fp32, fp32, paired_rounds), 1.0);
    }
}

/// Our epoch in `ours` over PyTorch's bare step in `theirs`: round by round where the two are one
/// case whose sides took their rounds in turn (`paired_rounds`, which epoch cases follow), else
/// from the medians.
fn beside(ours: Option<&Pair>, theirs: Option<&Pair>, paired_rounds: bool) -> Ratio {
    let (Some(ours), Some(bare)) = (ours, theirs.and_then(|t| t.pytorch_bare.as_ref())) else {
        return Ratio::Medians(f64::NAN);
    };
    let in_turn = taken_in_turn(paired_rounds, &ours.case) && theirs.is_some_and(|t| std::ptr::eq(t, ours));
    match per_round(&ours.rust, bare).filter(|_| in_turn) {
        Some(rounds) => Ratio::Rounds(rounds),
        None => Ratio::Medians(ours.rust.median / bare.median),
    }
}

/// Whether the two sides took `case`'s timed rounds in turn, one by one, in a run with `paired_rounds`.
fn taken_in_turn(paired_rounds: bool, case: &Case) -> bool {
    paired_rounds && case.rounds_in_turn()
}

/// Round by round, `a`'s speed over `b`'s, where the two were timed in rounds taken in turn (an
/// epoch and a bare step in one process, or ours and PyTorch's with `paired_rounds`).
pub fn per_round(a: &Stats, b: &Stats) -> Option<Stats> {
    let n = a.repeats.len();
    (n > 0 && n == b.repeats.len()).then(|| Stats::of(a.repeats.iter().zip(&b.repeats).map(|(a, b)| a / b).collect()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::measure::Repeats;
    use super::super::Measured;
    use super::*;
    use crate::eval::measure::Stats;

    pub(crate) fn side(values: &[(Case, f64)]) -> Side {
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
            paired_rounds: false,
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

    #[test]
    fn paired_rounds_give_ratios_round_by_round_and_targets_read_them_within_one_case() {
        let n = |channels_last, bf16| Numerics { channels_last, bf16 };
        let epoch =
            |numerics| Case::Epoch { arch: "emotion_net_v3".into(), size: 64, batch: 64, numerics, batches: 16 };
        let infer = Case::Infer { arch: "emotion_net_v3".into(), size: 64, batch: 1, numerics: n(false, false) };
        let rounds = |mut s: Side, values: [[f64; 3]; 3], bare: [[f64; 3]; 2]| {
            s.paired_rounds = true;
            for (m, v) in s.measured.iter_mut().zip(values) {
                m.stats = Stats::of(v.to_vec());
            }
            for (m, b) in s.measured.iter_mut().filter(|m| matches!(m.case, Case::Epoch { .. })).zip(bare) {
                m.bare = Some(Stats::of(b.to_vec()));
            }
            s
        };
        let cases = [(epoch(n(false, false)), 0.0), (epoch(n(true, true)), 0.0), (infer, 0.0)];
        // a machine that slows down over the rounds: ours and PyTorch's slow alike
        let ours = rounds(side(&cases), [[300.0, 200.0, 100.0], [600.0, 400.0, 200.0], [1.0, 2.0, 4.0]], [[0.0; 3]; 2]);
        let theirs = rounds(
            side(&cases),
            [[150.0, 100.0, 50.0], [300.0, 200.0, 100.0], [2.0, 4.0, 8.0]],
            [[330.0, 220.0, 110.0], [500.0, 400.0, 250.0]],
        );
        let b = pair(&ours, &theirs);
        assert!(b.paired_rounds);
        let r = b.pairs[0].round_speedup.as_ref().unwrap();
        assert_eq!(r.repeats, [2.0, 2.0, 2.0], "ours twice PyTorch's in every round, however the machine drifts");
        assert!(b.pairs[2].round_speedup.is_none(), "inference is not taken in turn round by round");
        let t = |what: &str| b.targets.iter().find(|t| t.what.starts_with(what)).unwrap_or_else(|| panic!("{what}"));
        let best = t("EmotionNetV3 64px epoch: our best / PyTorch's best bare step beside it");
        let want = Stats::of(vec![600.0 / 500.0, 1.0, 200.0 / 250.0]);
        assert_eq!(best.rounds.as_ref(), Some(&want), "bf16+cl on both sides: one case, round by round");
        assert_eq!(best.value, 1.0, "the median of the rounds, where the medians' ratio is 400 / 400 too");
        let fp32 = t("EmotionNetV3 64px epoch: our fp32 / PyTorch's fp32 bare step beside it");
        assert!(fp32.rounds.as_ref().is_some_and(|r| r.repeats.iter().all(|v| (v - 300.0 / 330.0).abs() < 1e-12)));
        // PyTorch's best bare step in another case than our best epoch: seconds apart no more
        let mut other = theirs.clone();
        other.measured[0].bare = Some(Stats::of(vec![900.0, 900.0, 900.0]));
        let b = pair(&ours, &other);
        let best = b.targets.iter().find(|t| t.what.contains("our best / PyTorch's best bare step beside it")).unwrap();
        assert_eq!((best.value, best.rounds.is_none()), (400.0 / 900.0, true));
        let unpaired = pair(&Side { paired_rounds: false, ..ours }, &theirs);
        assert!(unpaired.pairs.iter().all(|p| p.round_speedup.is_none()));
        assert!(unpaired.targets.iter().all(|t| t.rounds.is_none()));
    }
}
