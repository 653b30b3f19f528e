//! Stopping, pausing, resuming and budgets of `fit`.
use super::*;

/// A fresh `Bag` whose variables do not depend on torch's generator, which tests running in
/// parallel threads share (so this test cannot use dropout: the CLI's kill-and-resume test does).
fn fixed_bag(vs: &nn::VarStore) -> Bag {
    let model = bag(vs);
    tch::no_grad(|| {
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, (_, mut v)) in vars.into_iter().enumerate() {
            let n = v.numel() as i64;
            v.copy_(
                &((Tensor::arange(n, (Kind::Float, Device::Cpu)) * 0.7 + k as f64).sin() * 0.3)
                    .view(v.size().as_slice()),
            );
        }
    });
    model
}

/// History without timings (the one thing a resume changes).
fn untimed(h: &[EpochRecord]) -> Vec<EpochRecord> {
    h.iter().map(|r| EpochRecord { seconds: 0.0, time: TimeSplit::default(), ..r.clone() }).collect()
}

#[test]
fn an_interrupted_fit_continues_from_its_snapshot_exactly() {
    let ids: Vec<Vec<i64>> = (0..60).map(|i| vec![1, 3 + (i % 2), (i % 5) + 2, 2]).collect();
    let labels: Vec<i64> = (0..60).map(|i| (i % 2 == 0) as i64).collect();
    let src = TokenSource::new(ids, labels, 0, 1);
    let cfg = TrainConfig {
        epochs: 3,
        batch_size: 8,
        lr: 0.02,
        evals_per_epoch: 2,
        head_prefix: Some("out.".into()),
        freeze_backbone_epochs: 1,
        grad_clip_norm: Some(1.0),
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let train = |ckpt: &Path| {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = fixed_bag(&vs);
        let out = fit("bag", Trainee { model: &model, vs: &mut vs, groups: BAG_GROUPS }, &src, &src, &cfg, ckpt);
        (out, vs.variables().into_iter().collect::<std::collections::BTreeMap<_, _>>())
    };
    let whole = dir.path().join("whole.safetensors");
    let (uninterrupted, weights) = train(&whole);
    let uninterrupted = uninterrupted.unwrap();
    assert_eq!(uninterrupted.history.len(), 6);

    // stops mid-window, right after an evaluation, in the frozen epoch and in the last one
    for stops in [vec![4], vec![3], vec![4, 1], vec![2, 5, 9]] {
        let ckpt = dir.path().join(format!("{stops:?}.safetensors"));
        for &n in &stops {
            crate::interrupt::tests::stop_after(n);
            let err = train(&ckpt).0.unwrap_err();
            assert!(matches!(err, Error::Interrupted { .. }), "{err}");
            assert!(resume::exists(&ckpt), "a stop leaves a snapshot");
        }
        let (resumed, resumed_weights) = train(&ckpt);
        let resumed = resumed.unwrap();
        assert_eq!(untimed(&resumed.history), untimed(&uninterrupted.history), "stops {stops:?}");
        assert_eq!(
            (resumed.best_eval, resumed.train_examples),
            (uninterrupted.best_eval, uninterrupted.train_examples)
        );
        for (name, w) in &weights {
            assert!(w.equal(&resumed_weights[name]), "stops {stops:?}: {name} differs");
        }
        // only the latest snapshot's tensors are kept
        let files = std::fs::read_dir(dir.path()).unwrap().flatten();
        let prefix = format!("{}.resume-", ckpt.file_stem().unwrap().to_string_lossy());
        assert_eq!(files.filter(|e| e.file_name().to_string_lossy().starts_with(&prefix)).count(), 1);
    }

    // another recipe does not continue this snapshot
    let ckpt = dir.path().join("[3].safetensors");
    let other = TrainConfig { lr: 0.03, ..cfg.clone() };
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = fixed_bag(&vs);
    let err = fit("bag", Trainee { model: &model, vs: &mut vs, groups: BAG_GROUPS }, &src, &src, &other, &ckpt)
        .unwrap_err()
        .to_string();
    assert!(err.contains("resume.json") && err.contains("config.lr") && err.contains("--fresh"), "{err}");
}

#[test]
fn the_stop_reason_names_the_budget_that_ended_training() {
    let src = token_task(64);
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, cfg: TrainConfig| {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = fixed_bag(&vs);
        fit("bag", trainee(&model, &mut vs), &src, &src, &cfg, &dir.path().join(name)).unwrap()
    };
    let base = TrainConfig { epochs: 3, batch_size: 8, lr: 0.01, ..Default::default() };
    let out = run("epochs.safetensors", base.clone());
    assert_eq!((out.stop, out.history.len()), (StopReason::EpochCap, 3));
    // a cap already spent after the first step: one validation of that step, then stop
    let out = run("time.safetensors", TrainConfig { max_seconds: Some(1e-9), ..base.clone() });
    assert_eq!((out.stop, out.history.len(), out.best_eval), (StopReason::TimeCap, 1, 0));
    assert!((out.history[0].progress - 1.0 / 8.0).abs() < 1e-9, "{}", out.history[0].progress);
    assert!(StopReason::TimeCap.is_cap() && StopReason::EpochCap.is_cap() && !StopReason::Plateau.is_cap());
    let mut checks = crate::config::plan_check::Checks::default();
    TrainConfig { max_seconds: Some(0.0), ..base }.check("k", &mut checks);
    assert!(checks.finish("bag").unwrap_err().to_string().contains("k.max_seconds must be > 0"));
}

#[test]
fn a_plateau_schedule_cuts_the_rate_after_its_patience_and_early_stopping_ends_the_run() {
    let src = token_task(64);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = bag(&vs);
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        epochs: 40,
        batch_size: 8,
        lr: 0.05,
        patience: Some(5),
        monitor: Monitor::ValidAccuracy,
        schedule: Schedule::Plateau { warmup_epochs: 0.0, factor: 0.2, patience: 2 },
        ..Default::default()
    };
    let out = fit("bag", trainee(&model, &mut vs), &src, &src, &cfg, &dir.path().join("p.safetensors")).unwrap();
    let best = out.history.iter().map(|r| r.valid_accuracy).fold(0.0, f64::max);
    let first = out.history.iter().position(|r| r.valid_accuracy == best).unwrap();
    assert_eq!((out.stop, out.history.len()), (StopReason::Plateau, first + 6), "five evaluations without a gain");
    let lr: Vec<f64> = out.history[first + 1..].iter().map(|r| r.lr).collect();
    // two evaluations without a gain cut the rate for the next window, two more cut it again
    let want = [0.05, 0.05, 0.01, 0.01, 0.002];
    assert!(lr.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12), "{lr:?}");
    let mut checks = crate::config::plan_check::Checks::default();
    TrainConfig { patience: Some(2), ..cfg }.check("k", &mut checks);
    let e = checks.finish("bag").unwrap_err().to_string();
    assert!(e.contains("k.patience (Some(2)) must be longer than k.schedule.patience (2)"), "{e}");
}

/// Name, budget, per-evaluation (seconds, accuracy, loss), and the evaluation kept within it.
type WithinCase<'a> = (&'a str, f64, &'a [(f64, f64, f64)], Option<usize>);

#[test]
fn the_best_evaluation_within_a_budget_is_the_most_accurate_that_fits() {
    #[rustfmt::skip]
    let cases: &[WithinCase] = &[
        ("nothing fits", 5.0, &[(6.0, 0.5, 1.0)], None),
        ("the budget is inclusive", 6.0, &[(6.0, 0.5, 1.0)], Some(0)),
        ("later and better but over budget", 10.0, &[(4.0, 0.5, 1.0), (4.0, 0.4, 1.0), (4.0, 0.9, 0.1)], Some(0)),
        ("accuracy first", 100.0, &[(1.0, 0.5, 0.1), (1.0, 0.6, 0.9)], Some(1)),
        ("accuracy ties go to the lower loss", 100.0, &[(1.0, 0.6, 0.9), (1.0, 0.6, 0.5), (1.0, 0.6, 0.7)], Some(1)),
        ("full ties keep the earlier", 100.0, &[(1.0, 0.6, 0.5), (1.0, 0.6, 0.5)], Some(0)),
    ];
    for (name, budget, evals, want) in cases {
        let mut w = Within::new(*budget);
        for (i, &(seconds, acc, loss)) in evals.iter().enumerate() {
            let rec = EpochRecord {
                epoch: i + 1,
                progress: (i + 1) as f64,
                train_loss: 0.0,
                train_accuracy: 0.0,
                valid_loss: loss,
                valid_accuracy: acc,
                lr: 0.0,
                seconds,
                backbone_frozen: false,
                time: TimeSplit::default(),
            };
            w.observe(i, &rec);
        }
        assert_eq!(w.best.map(|b| b.0), *want, "{name}");
    }
}

/// A task of 60 samples on which the bag learns over several epochs.
fn slow_task() -> TokenSource {
    let ids: Vec<Vec<i64>> = (0..60).map(|i| vec![1, 3 + (i % 2), (i % 5) + 2, 2]).collect();
    let labels: Vec<i64> = (0..60).map(|i| (i % 2 == 0) as i64).collect();
    TokenSource::new(ids, labels, 0, 1)
}

#[test]
fn a_paused_fit_continues_to_what_an_unpaused_one_trains() {
    let src = slow_task();
    let cfg = TrainConfig { epochs: 5, batch_size: 8, lr: 0.02, evals_per_epoch: 2, ..Default::default() };
    let dir = tempfile::tempdir().unwrap();
    let train = |ckpt: &Path, extras: Extras| {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = fixed_bag(&vs);
        let out = fit_with("bag", trainee(&model, &mut vs), &src, &src, &cfg, ckpt, extras).unwrap();
        (out, vs.variables().into_iter().collect::<std::collections::BTreeMap<_, _>>())
    };
    let (whole, weights) = train(&dir.path().join("whole.safetensors"), Extras::default());
    assert!(!whole.paused && whole.history.len() == 10);

    let ckpt = dir.path().join("raced.safetensors");
    let pause = Extras { pause_after: Some(2), ..Default::default() };
    let (first, _) = train(&ckpt, pause);
    assert!(first.paused, "paused after epoch 2");
    assert_eq!(untimed(&first.history), untimed(&whole.history[..4]));
    assert!(resume::exists(&ckpt), "a pause leaves the snapshot that continues it");
    // asked to pause again at the same epoch: nothing more is trained
    let (again, _) = train(&ckpt, pause);
    assert!(again.paused && again.history.len() == 4);
    let (rest, rest_weights) = train(&ckpt, Extras::default());
    assert!(!rest.paused);
    assert_eq!(untimed(&rest.history), untimed(&whole.history));
    assert_eq!((rest.best_eval, rest.stop), (whole.best_eval, whole.stop));
    for (name, w) in &weights {
        assert!(w.equal(&rest_weights[name]), "{name} differs after the pause");
    }
    // a pause at or past the last epoch is no pause
    let (late, _) = train(&dir.path().join("late.safetensors"), Extras { pause_after: Some(5), ..Default::default() });
    assert!(!late.paused && late.history.len() == 10);
}

#[test]
fn the_within_budget_checkpoint_holds_that_evaluations_weights_and_survives_a_stop() {
    let src = slow_task();
    #[rustfmt::skip]
    let cfg = TrainConfig { epochs: 4, batch_size: 8, lr: 0.05, evals_per_epoch: 3, monitor: Monitor::ValidLoss, ..Default::default() };
    let dir = tempfile::tempdir().unwrap();
    // a budget whose shortest decimal form reads back a bit off unless JSON floats are parsed
    // exactly: the resume below compares it, as written in the snapshot, with the one asked for
    let extras = Extras { within_seconds: Some(987_654_321.123_456_7), ..Default::default() };
    let train = |ckpt: &Path, extras: Extras| {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = fixed_bag(&vs);
        fit_with("bag", trainee(&model, &mut vs), &src, &src, &cfg, ckpt, extras)
    };
    let whole = train(&dir.path().join("whole.safetensors"), extras).unwrap();
    let within = whole.within.clone().expect("a budget that every evaluation fits");
    let first = whole.history[0].valid_accuracy;
    assert!(
        whole.history.iter().any(|r| r.valid_accuracy != first),
        "accuracy must move for the test to mean anything"
    );
    let key = |r: &EpochRecord| (r.valid_accuracy, -r.valid_loss);
    let most_accurate = (0..whole.history.len())
        .rev()
        .max_by(|&a, &b| key(&whole.history[a]).partial_cmp(&key(&whole.history[b])).unwrap())
        .unwrap();
    assert_eq!(within.eval, most_accurate);
    assert_eq!(within.checkpoint, within_path(&dir.path().join("whole.safetensors")));
    let read = |p: &Path| -> std::collections::BTreeMap<String, Tensor> {
        crate::models::weights::read_safetensors(p).unwrap().into_iter().collect()
    };
    let saved = read(&within.checkpoint);
    // scored again, those weights give that evaluation's validation accuracy
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = fixed_bag(&vs);
    vs.load(&within.checkpoint).unwrap();
    let acc = predict(&model, &src, Device::Cpu, 16).unwrap().accuracy();
    assert!((acc - whole.history[within.eval].valid_accuracy).abs() < 1e-9, "{acc}");

    // the same weights after a stop and a resume
    let ckpt = dir.path().join("stopped.safetensors");
    crate::interrupt::tests::stop_after(9);
    assert!(matches!(train(&ckpt, extras).unwrap_err(), Error::Interrupted { .. }));
    let resumed = train(&ckpt, extras).unwrap();
    assert_eq!(resumed.within.as_ref().map(|w| w.eval), Some(within.eval));
    let again = read(&resumed.within.unwrap().checkpoint);
    assert_eq!(saved.len(), again.len());
    for ((n, a), (m, b)) in saved.iter().zip(&again) {
        assert!(n == m && a.equal(b), "{n} differs after the resume");
    }
    // a budget no evaluation fits keeps nothing; another budget is another run
    let none = train(&dir.path().join("none.safetensors"), Extras { within_seconds: Some(1e-12), ..extras }).unwrap();
    assert!(none.within.is_none());
    crate::interrupt::tests::stop_after(3);
    let ckpt = dir.path().join("other.safetensors");
    assert!(train(&ckpt, extras).is_err());
    let err = train(&ckpt, Extras { within_seconds: Some(5e8), ..extras }).unwrap_err().to_string();
    assert!(err.contains("within_seconds"), "{err}");
}
