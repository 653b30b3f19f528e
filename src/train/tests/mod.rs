//! The loop end to end on a bag-of-embeddings model.
use super::keeper::Within;
use super::*;
use crate::data::batches::TokenSource;
use crate::models::groups;
use tch::{Device, Kind, Tensor};

mod budgets;

/// Bag-of-embeddings classifier over token ids: enough to test the loop end to end.
#[derive(Debug)]
struct Bag {
    emb: nn::Embedding,
    out: nn::Linear,
}
impl ModuleT for Bag {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        xs.apply(&self.emb).mean_dim(1, false, Kind::Float).apply(&self.out)
    }
}

/// A `Bag` with variables `emb.*` (the body) and `out.*` (the head, in the head group) in `vs`.
fn bag(vs: &nn::VarStore) -> Bag {
    bag_in(vs, groups::BODY, groups::HEAD)
}

/// A `Bag` whose two parts are built in the given optimizer groups.
fn bag_in(vs: &nn::VarStore, emb: usize, out: usize) -> Bag {
    Bag {
        emb: nn::embedding(vs.root().set_group(emb) / "emb", 8, 4, Default::default()),
        out: nn::linear(vs.root().set_group(out) / "out", 4, 2, Default::default()),
    }
}

const BAG_GROUPS: Groups = Groups { head: true, layers: 0 };

fn trainee<'a>(model: &'a Bag, vs: &'a mut nn::VarStore) -> Trainee<'a> {
    Trainee { model, vs, groups: BAG_GROUPS }
}

/// `n` samples, class = whether token 3 appears (else token 4).
fn token_task(n: usize) -> TokenSource {
    let ids: Vec<Vec<i64>> = (0..n).map(|i| if i % 2 == 0 { vec![1, 3, 2] } else { vec![1, 4, 2] }).collect();
    let labels: Vec<i64> = (0..n).map(|i| (i % 2 == 0) as i64).collect();
    TokenSource::new(ids, labels, 0, 1)
}

/// Largest absolute change of any element.
fn max_moved(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

/// Claims samples but yields no batch (as a data source that fails silently would).
struct Silent(TokenSource);
impl BatchSource for Silent {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn labels(&self) -> Vec<i64> {
        self.0.labels()
    }
    fn batches_from(
        &self,
        _: u64,
        _: bool,
        _: usize,
        _: usize,
    ) -> Box<dyn Iterator<Item = Result<crate::data::batches::Batch>>> {
        Box::new(std::iter::empty())
    }
}

#[test]
fn fit_never_reports_a_checkpoint_it_did_not_write() {
    let src = token_task(16);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = bag(&vs);
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("old.safetensors");
    crate::models::weights::save(&vs, &ckpt).unwrap(); // an earlier run's file
    let err = fit("bag", trainee(&model, &mut vs), &Silent(token_task(16)), &src, &TrainConfig::default(), &ckpt)
        .unwrap_err();
    assert!(err.to_string().contains("no checkpoint of this run"), "{err}");
    for (cfg, key) in [
        (TrainConfig { epochs: 0, ..Default::default() }, "epochs must be at least 1"),
        (TrainConfig { batch_size: 0, ..Default::default() }, "batch_size must be at least 1"),
        (TrainConfig { max_batches_per_epoch: Some(0), ..Default::default() }, "max_batches_per_epoch is 0"),
        (TrainConfig { lr: -1.0, ..Default::default() }, "lr must be > 0"),
    ] {
        let err = fit("bag", trainee(&model, &mut vs), &src, &src, &cfg, &ckpt).unwrap_err().to_string();
        assert!(err.contains(key), "{key}: {err}");
    }
}

#[test]
fn fit_learns_a_separable_task_keeps_best_and_stops_early() {
    let src = token_task(64);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = bag(&vs);
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("best.safetensors");
    let cfg = TrainConfig {
        epochs: 30,
        batch_size: 8,
        lr: 0.05,
        patience: Some(3),
        monitor: Monitor::ValidAccuracy,
        ..Default::default()
    };
    let out = fit("bag", trainee(&model, &mut vs), &src, &src, &cfg, &ckpt).unwrap();
    assert!(out.history.len() < 30, "accuracy saturates, so patience must stop it early");
    assert_eq!(out.stop, StopReason::Plateau);
    assert!(out.history[0].train_loss > out.history.last().unwrap().train_loss);
    let p = predict(&model, &src, Device::Cpu, 16).unwrap();
    assert_eq!(p.accuracy(), 1.0);
    // patience counts from the first perfect epoch; among perfect epochs the lowest loss is kept
    let first = out.history.iter().position(|r| r.valid_accuracy == 1.0).unwrap();
    assert_eq!(out.history.len(), first + 1 + 3);
    let kept = (first..out.history.len())
        .min_by(|&a, &b| out.history[a].valid_loss.total_cmp(&out.history[b].valid_loss))
        .unwrap();
    assert_eq!(out.best_epoch, kept + 1);
    assert!(ckpt.is_file());
    // per-sample loss is the real cross-entropy: -ln(confidence) for a correct prediction
    assert!((p.loss[0] as f64 - -(p.confidence[0] as f64).ln()).abs() < 1e-5);
}

#[test]
fn several_evaluations_per_epoch_record_fractional_progress() {
    let src = token_task(64);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = bag(&vs);
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("best.safetensors");
    // 64 examples in batches of 8: 8 batches per epoch, validated after 3, 6 and 8
    let cfg = TrainConfig { epochs: 2, batch_size: 8, lr: 0.05, evals_per_epoch: 3, ..Default::default() };
    let out = fit("bag", trainee(&model, &mut vs), &src, &src, &cfg, &ckpt).unwrap();
    let at: Vec<f64> = out.history.iter().map(|r| r.progress).collect();
    assert_eq!(at, [3.0 / 8.0, 6.0 / 8.0, 1.0, 1.0 + 3.0 / 8.0, 1.0 + 6.0 / 8.0, 2.0]);
    assert_eq!(out.history.iter().map(|r| r.epoch).collect::<Vec<_>>(), [1, 1, 1, 2, 2, 2]);
    assert_eq!(out.epochs(), 2);
    assert_eq!(out.train_examples, 64);
    // the time split accounts for the window's seconds (the rest is bookkeeping between steps)
    for r in &out.history {
        let t = r.time;
        let parts = t.data + t.forward + t.backward + t.step + t.validation;
        assert!(t.data >= 0.0 && [t.forward, t.backward, t.step, t.validation].iter().all(|&s| s > 0.0), "{t:?}");
        assert!(parts <= r.seconds + 1e-6, "{parts} of {}: {t:?}", r.seconds);
    }
    let best = out.history.iter().enumerate().max_by(|a, b| b.1.valid_loss.total_cmp(&a.1.valid_loss)).unwrap().0;
    assert_eq!(out.best_eval, best, "the kept weights are the lowest validation loss");
    assert_eq!(out.best_epoch, out.history[best].epoch);
    // the kept weights reproduce the best evaluation's validation loss
    let p = predict(&model, &src, Device::Cpu, 64).unwrap();
    assert!((p.mean_loss() - out.history[best].valid_loss).abs() < 1e-5);
}

#[test]
fn head_lr_mult_gives_the_head_its_own_rate() {
    let src = token_task(32);
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("best.safetensors");
    // How far each part moves from its initial values in one epoch under a head multiple.
    let moved = |mult: Option<f64>| {
        tch::manual_seed(3);
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = bag(&vs);
        let before: Vec<Tensor> = [&model.emb.ws, &model.out.ws].iter().map(|t| t.copy()).collect();
        let cfg = TrainConfig {
            epochs: 1,
            batch_size: 8,
            lr: 0.01,
            schedule: Schedule::Constant,
            head_prefix: Some("out.".into()),
            head_lr_mult: mult,
            ..Default::default()
        };
        // each run its own checkpoint: a finished run's snapshot would be taken up again
        let ckpt = dir.path().join(format!("{mult:?}.safetensors"));
        fit("bag", trainee(&model, &mut vs), &src, &src, &cfg, &ckpt).unwrap();
        (max_moved(&model.emb.ws, &before[0]), max_moved(&model.out.ws, &before[1]))
    };
    let (body, head) = moved(Some(0.0));
    assert!(body > 1e-3 && head == 0.0, "mult 0 freezes the head only: body {body}, head {head}");
    let (body1, head1) = moved(None);
    assert!(body1 > 1e-3 && head1 > 1e-3);
    // the head prefix must name something, and a head rate needs a model with a head group
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = bag(&vs);
    let cfg = TrainConfig { epochs: 1, head_prefix: Some("classifier.".into()), ..Default::default() };
    assert!(fit("bag", trainee(&model, &mut vs), &src, &src, &cfg, &ckpt)
        .unwrap_err()
        .to_string()
        .contains("classifier."));
    let cfg = TrainConfig { head_lr_mult: Some(10.0), ..Default::default() };
    let headless = Trainee { model: &model, vs: &mut vs, groups: Groups::default() };
    assert!(fit("bag", headless, &src, &src, &cfg, &ckpt).unwrap_err().to_string().contains("no separate head group"));
}

#[test]
fn layer_lr_decay_scales_each_layer_rate() {
    let src = token_task(16);
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("best.safetensors");
    let mut vs = nn::VarStore::new(Device::Cpu);
    // a two-layer stack: emb at the bottom, out on top
    let model = bag_in(&vs, groups::layer(0), groups::layer(1));
    let before: Vec<Tensor> = [&model.emb.ws, &model.out.ws].iter().map(|t| t.copy()).collect();
    // One Adam step moves every weight with a gradient by its group's rate exactly (no decay).
    let cfg = TrainConfig {
        epochs: 1,
        batch_size: 16,
        lr: 0.01,
        weight_decay: 0.0,
        schedule: Schedule::Constant,
        layer_lr_decay: Some(LayerDecay { decay: 0.25 }),
        ..Default::default()
    };
    let stack = Groups { head: false, layers: 2 };
    fit("bag", Trainee { model: &model, vs: &mut vs, groups: stack }, &src, &src, &cfg, &ckpt).unwrap();
    let (emb, out) = (max_moved(&model.emb.ws, &before[0]), max_moved(&model.out.ws, &before[1]));
    assert!((out - 0.01).abs() < 1e-4 && (emb - 0.0025).abs() < 1e-4, "emb moved {emb}, out {out}");
    let flat = Trainee { model: &model, vs: &mut vs, groups: Groups::default() };
    assert!(fit("bag", flat, &src, &src, &cfg, &ckpt).unwrap_err().to_string().contains("no layer groups"));
    let cfg = TrainConfig { layer_lr_decay: Some(LayerDecay { decay: 1.5 }), ..cfg };
    assert!(fit("bag", trainee(&model, &mut vs), &src, &src, &cfg, &ckpt).unwrap_err().to_string().contains("decay"));
}

#[test]
fn frozen_prefixes_stay_put_with_a_head_and_come_back_trainable() {
    let src = token_task(32);
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("best.safetensors");
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = bag(&vs);
    let before: Vec<Tensor> = [&model.emb.ws, &model.out.ws].iter().map(|t| t.copy()).collect();
    // head_prefix re-enables the body every epoch: the frozen prefix must win over it.
    let cfg = TrainConfig {
        epochs: 2,
        batch_size: 8,
        lr: 0.05,
        frozen_prefixes: vec!["emb.".into()],
        head_prefix: Some("out.".into()),
        ..Default::default()
    };
    fit("bag", trainee(&model, &mut vs), &src, &src, &cfg, &ckpt).unwrap();
    assert_eq!(max_moved(&model.emb.ws, &before[0]), 0.0, "a frozen variable moved (weight decay or a step)");
    assert!(max_moved(&model.out.ws, &before[1]) > 1e-3);
    assert!(model.emb.ws.requires_grad(), "fit must hand the model back trainable");
    let cfg = TrainConfig { frozen_prefixes: vec!["embedding.".into()], ..cfg };
    assert!(fit("bag", trainee(&model, &mut vs), &src, &src, &cfg, &ckpt)
        .unwrap_err()
        .to_string()
        .contains("embedding."));
}
