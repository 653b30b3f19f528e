//! What the benchmark measures, as data both sides read (the Rust run writes the list, the
//! PyTorch reference script runs the same list), and the Rust side of each measurement.
use super::measure::{self, Repeats, Stats, Turns};
use crate::data::augment::Transform;
use crate::data::batches::BatchSource;
use crate::data::image_source::ImageSource;
use crate::error::{Error, Result};
pub use crate::eval::bench_file::{short_name, Case};
use crate::experiments::part1;
use crate::models::bilstm::{self, BiLstm};
use crate::models::minilm::{MiniLm, Pooling};
use crate::models::registry::{image_model, Init};
use crate::numerics::{self, Numerics};
use crate::train::adamw::AdamW;
use crate::train::steps::weighted_ce;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{nn::ModuleT, Device, Kind, Tensor};

/// Classes of the image heads (the faces' seven emotions) and of the review heads.
const IMAGE_CLASSES: i64 = 7;
const REVIEW_CLASSES: i64 = 2;
/// The vocabulary the BiLSTM is timed with (its embedding's rows; the cost barely depends on it).
pub const BILSTM_VOCAB: i64 = 20_000;
/// Gradient clipping and optimizer settings of the profiles' recipes, on both sides.
pub const CLIP: f64 = 5.0;
pub const LR: f64 = 1e-3;
pub const WEIGHT_DECAY: f64 = 1e-2;
/// Batches per timed call of an epoch case: 1024 faces of the 3500, long enough that a
/// DataLoader's worker start is a small part of it.
pub const EPOCH_BATCHES: usize = 16;

impl Case {
    /// Run on this side, its timed rounds in `turns` with another process's.
    pub fn measure(&self, r: Repeats, turns: &mut Turns, data_root: &Path) -> Result<Timing> {
        let alone = |stats: Result<Stats>| stats.map(|stats| Timing { stats, bare: None });
        let t = (r, turns);
        match self {
            Case::Train { arch, size, batch, numerics } => alone(train_images(arch, *size, *batch, *numerics, t)),
            Case::Infer { arch, size, batch, numerics } => alone(infer_images(arch, *size, *batch, *numerics, t)),
            Case::MinilmTrain { batch, seq, numerics } => alone(train_minilm(*batch, *seq, *numerics, t)),
            Case::BilstmTrain { batch, seq, numerics } => alone(train_bilstm(*batch, *seq, *numerics, t)),
            Case::Data { size, batch } => alone(data_pipeline(data_root, *size, *batch, t)),
            Case::Epoch { arch, size, batch, numerics, batches } => {
                train_epoch(data_root, (arch, *size, *numerics), *batch, *batches, t)
            }
        }
    }
}

/// One case's speed on one side. An epoch case also times the bare training step at its numerics
/// (the train case's step, on one random batch), in rounds alternating with the epoch's: the two
/// are measured within seconds of each other, where the train case ran minutes earlier.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timing {
    pub stats: Stats,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bare: Option<Stats>,
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Image networks (registry `arch` names) with the sizes each is timed at.
    pub images: Vec<(String, Vec<u32>)>,
    pub numerics: Vec<Numerics>,
    pub batch: usize,
    pub text: bool,
    pub data: bool,
    /// End-to-end training on the real faces, per network at its own size: this many batches per
    /// timed call, in the numerics a profile could train in here (0: none; see [`epoch_numerics`]).
    pub epoch_batches: usize,
}

impl Selection {
    /// The issue's list: MobileNetV2, ResNet18, EmotionNet V2 and V3 at 96 px and at the size the
    /// quick profile trains them at; every precision and memory format.
    pub fn standard() -> Result<Selection> {
        let plan = part1::Plan::for_profile(crate::Profile::Quick, 42)?;
        let sizes = |custom: bool| {
            let own = if custom { plan.custom_image_size } else { plan.image_size };
            let mut s = vec![96, own];
            s.dedup();
            s
        };
        let images = ["mobile_net_v2", "res_net18", "emotion_net_v2", "emotion_net_v3"]
            .iter()
            .map(|a| Ok((a.to_string(), sizes(image_model(a)?.is_custom()))))
            .collect::<Result<Vec<_>>>()?;
        Ok(Selection {
            images,
            numerics: Numerics::ALL.to_vec(),
            batch: 64,
            text: true,
            data: true,
            epoch_batches: EPOCH_BATCHES,
        })
    }

    pub fn cases(&self) -> Vec<Case> {
        let mut out = Vec::new();
        for (arch, sizes) in &self.images {
            for &size in sizes {
                for &numerics in &self.numerics {
                    out.push(Case::Train { arch: arch.clone(), size, batch: self.batch, numerics });
                }
                for batch in [1, self.batch] {
                    for &numerics in &self.numerics {
                        out.push(Case::Infer { arch: arch.clone(), size, batch, numerics });
                    }
                }
            }
        }
        // channels-last means nothing to token ids: each precision once, in the order asked
        let mut text_numerics: Vec<Numerics> = Vec::new();
        for n in self.numerics.iter().map(|n| Numerics { channels_last: false, ..*n }) {
            if !text_numerics.contains(&n) {
                text_numerics.push(n);
            }
        }
        if self.text {
            for &numerics in &text_numerics {
                out.push(Case::MinilmTrain { batch: 16, seq: 128, numerics });
            }
            for &numerics in &text_numerics {
                out.push(Case::BilstmTrain { batch: self.batch, seq: 128, numerics });
            }
        }
        if self.epoch_batches > 0 {
            let trainable = epoch_numerics(crate::numerics::cpu_has_bf16_units());
            for (arch, sizes) in &self.images {
                let size = *sizes.last().expect("every network has a size");
                for numerics in trainable.iter().copied().filter(|n| self.numerics.contains(n)) {
                    let (arch, batch, batches) = (arch.clone(), self.batch, self.epoch_batches);
                    out.push(Case::Epoch { arch, size, batch, numerics, batches });
                }
            }
        }
        if self.data {
            let mut sizes: Vec<u32> = self.images.iter().flat_map(|(_, s)| s.iter().copied()).collect();
            sizes.sort_unstable();
            sizes.dedup();
            out.extend(sizes.into_iter().map(|size| Case::Data { size, batch: self.batch }));
        }
        out
    }
}

/// The numerics an epoch case runs in: fp32 and channels-last, and bf16 with channels-last where
/// the CPU has the units that make bf16 pay (elsewhere a run would fall back to fp32, so an epoch
/// in bf16 would time what no run does).
pub fn epoch_numerics(bf16_units: bool) -> Vec<Numerics> {
    let mut n = vec![Numerics::FP32, Numerics { channels_last: true, bf16: false }];
    if bf16_units {
        n.push(Numerics { channels_last: true, bf16: true });
    }
    n
}

/// A training step as `train::fit` takes it, timed until its loss is read back.
fn step(model: &dyn ModuleT, opt: &mut AdamW, x: &Tensor, y: &Tensor, numerics: Numerics) {
    let logits = numerics::forward(model, x, true, numerics);
    let loss = weighted_ce(&logits, y, None);
    opt.zero_grad();
    loss.backward();
    opt.clip_grad_norm(CLIP);
    opt.step();
    let _ = loss.double_value(&[]);
}

/// How often to time, and in turn with whom.
type Schedule<'t, 'a> = (Repeats, &'t mut Turns<'a>);

fn train_images(arch: &str, size: u32, batch: usize, numerics: Numerics, (r, turns): Schedule) -> Result<Stats> {
    let built = image_model(arch)?.build(Init::Random, IMAGE_CLASSES, size, Device::Cpu)?;
    let mut opt = AdamW::new(&built.vs, LR, WEIGHT_DECAY);
    let (x, y) = random_images(batch, size);
    measure::throughput(r, turns, batch, || step(built.model.as_ref(), &mut opt, &x, &y, numerics))
}

/// A batch of random NCHW images and labels, the input of a bare training step.
fn random_images(batch: usize, size: u32) -> (Tensor, Tensor) {
    let (b, s) = (batch as i64, size as i64);
    let x = Tensor::randn([b, 3, s, s], (Kind::Float, Device::Cpu));
    (x, Tensor::randint(IMAGE_CLASSES, [b], (Kind::Int64, Device::Cpu)))
}

fn infer_images(arch: &str, size: u32, batch: usize, numerics: Numerics, (r, turns): Schedule) -> Result<Stats> {
    let built = image_model(arch)?.build(Init::Random, IMAGE_CLASSES, size, Device::Cpu)?;
    numerics.prepare_for_inference(&built.vs);
    let (b, s) = (batch as i64, size as i64);
    let x = Tensor::randn([b, 3, s, s], (Kind::Float, Device::Cpu));
    tch::no_grad(|| {
        measure::latency_ms(r, turns, batch, || {
            let _ = numerics::forward(built.model.as_ref(), &x, false, numerics).sum(Kind::Float).double_value(&[]);
        })
    })
}

fn train_minilm(batch: usize, seq: usize, numerics: Numerics, (r, turns): Schedule) -> Result<Stats> {
    let dir = crate::models::weights::minilm_dir()?;
    let mut vs = tch::nn::VarStore::new(Device::Cpu);
    let model = MiniLm::pretrained(&mut vs, &dir, REVIEW_CLASSES, Pooling::Mean)?;
    let mut opt = AdamW::new(&vs, 2e-5, WEIGHT_DECAY);
    let ids = Tensor::randint_low(1000, 30000, [batch as i64, seq as i64], (Kind::Int64, Device::Cpu));
    let y = Tensor::randint(REVIEW_CLASSES, [batch as i64], (Kind::Int64, Device::Cpu));
    measure::throughput(r, turns, batch * seq, || step(&model, &mut opt, &ids, &y, numerics))
}

fn train_bilstm(batch: usize, seq: usize, numerics: Numerics, (r, turns): Schedule) -> Result<Stats> {
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let model = BiLstm::new(&vs.root(), &bilstm::Config::new(BILSTM_VOCAB, REVIEW_CLASSES))?;
    let mut opt = AdamW::new(&vs, LR, WEIGHT_DECAY);
    // ids from 1: 0 is padding, and every review is full length as in a length-sorted batch
    let ids = Tensor::randint_low(1, BILSTM_VOCAB, [batch as i64, seq as i64], (Kind::Int64, Device::Cpu));
    let y = Tensor::randint(REVIEW_CLASSES, [batch as i64], (Kind::Int64, Device::Cpu));
    measure::throughput(r, turns, batch, || step(&model, &mut opt, &ids, &y, numerics))
}

/// `batches` x `batch` training faces as Part 1 feeds them (the quick profile's augmentation),
/// decoded once so that every timed call sees them as epochs after the first do. They are spaced
/// evenly through the split (every class appears; the reference script takes the same ones), and
/// they are all the source holds: its prefetching thread stops at their end as at an epoch's,
/// instead of preparing batches that no timed call takes.
fn training_faces(data_root: &Path, size: u32, batch: usize, batches: usize) -> Result<ImageSource> {
    let root = data_root.join(crate::config::paths::FACES.dir);
    let ds = crate::data::faces::load(&root, crate::data::faces::LoadOptions { skip_bad_images: false })?;
    let n = batches * batch;
    if ds.train.len() < n {
        return Err(Error::Config(format!("{}: fewer than {n} training faces", root.display())));
    }
    let items = evenly_spaced(&ds.train, n);
    let src = ImageSource::new(items, Transform::train(size, quick_augment()?), Transform::eval(size), 42);
    src.batches(0, true, batch).collect::<Result<Vec<_>>>()?;
    Ok(src)
}

/// `n` of `items` at evenly spaced positions (i * len / n).
fn evenly_spaced<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    (0..n).map(|i| items[i * items.len() / n].clone()).collect()
}

/// The augmentation both sides of an epoch case apply (the quick profile's).
pub fn quick_augment() -> Result<crate::data::augment::AugmentConfig> {
    Ok(part1::Plan::for_profile(crate::Profile::Quick, 42)?.augment)
}

/// Training batches alone, ten per timed call.
fn data_pipeline(data_root: &Path, size: u32, batch: usize, (r, turns): Schedule) -> Result<Stats> {
    const BATCHES: usize = 10;
    let src = training_faces(data_root, size, batch, BATCHES)?;
    let mut epoch = 0;
    let mut failed = None;
    let stats = measure::throughput(r, turns, BATCHES * batch, || {
        epoch += 1;
        for b in src.batches(epoch, true, batch) {
            if let Err(e) = b {
                failed.get_or_insert(e);
            }
        }
    })?;
    failed.map_or(Ok(stats), Err)
}

/// `batches` optimizer steps fed by the pipeline (prefetching on its own thread, as `fit` reads it),
/// in rounds alternating with as many bare steps of the same model on one random batch.
fn train_epoch(
    data_root: &Path,
    (arch, size, numerics): (&str, u32, Numerics),
    batch: usize,
    batches: usize,
    (r, turns): Schedule,
) -> Result<Timing> {
    let src = training_faces(data_root, size, batch, batches)?.channels_last(numerics.channels_last);
    let built = image_model(arch)?.build(Init::Random, IMAGE_CLASSES, size, Device::Cpu)?;
    let opt = std::cell::RefCell::new(AdamW::new(&built.vs, LR, WEIGHT_DECAY));
    let (x, y) = random_images(batch, size);
    let mut epoch = 0;
    let mut failed = None;
    let (stats, bare) = measure::throughput_alternating(
        r,
        turns,
        batches * batch,
        || {
            epoch += 1;
            for b in src.batches(epoch, true, batch) {
                match b {
                    Ok(b) => step(built.model.as_ref(), &mut opt.borrow_mut(), &b.x, &b.y, numerics),
                    Err(e) => {
                        failed.get_or_insert(e);
                    }
                }
            }
        },
        || (0..batches).for_each(|_| step(built.model.as_ref(), &mut opt.borrow_mut(), &x, &y, numerics)),
    )?;
    failed.map_or(Ok(Timing { stats, bare: Some(bare) }), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_case_prepares_exactly_its_batches_from_every_class() {
        assert_eq!(evenly_spaced(&(0..10).collect::<Vec<_>>(), 4), vec![0, 2, 5, 7]);
        crate::testing::require(crate::config::paths::FACES);
        let src = training_faces(&crate::testing::data_root(), 32, 16, 10).unwrap();
        assert_eq!(src.len(), 160);
        let classes: std::collections::BTreeSet<i64> = src.labels().into_iter().collect();
        assert_eq!(classes.len(), 7, "{classes:?}");
        let batches: Vec<_> = src.batches(1, true, 16).collect::<Result<_>>().unwrap();
        assert_eq!(batches.iter().map(|b| b.y.size()[0]).collect::<Vec<_>>(), vec![16; 10]);
    }

    #[test]
    fn the_standard_list_covers_the_issue_and_round_trips_as_json() {
        let selection = Selection::standard().unwrap();
        // 96 px and the quick profile's size: the same for the pretrained networks, 64 for the EmotionNets
        let sizes = |arch: &str| selection.images.iter().find(|(a, _)| a == arch).map(|(_, s)| s.clone());
        assert_eq!(sizes("res_net18"), Some(vec![96]));
        assert_eq!(sizes("emotion_net_v3"), Some(vec![96, 64]));
        let cases = selection.cases();
        let trains: Vec<&Case> = cases.iter().filter(|c| matches!(c, Case::Train { .. })).collect();
        assert_eq!(trains.len(), (1 + 1 + 2 + 2) * 4, "every network at its sizes, four numerics");
        assert!(cases.iter().any(|c| c.label() == "train ResNet18 96px b64 bf16+cl"), "{:?}", trains[0].label());
        assert!(cases.contains(&Case::MinilmTrain { batch: 16, seq: 128, numerics: Numerics::FP32 }));
        assert!(cases.iter().any(|c| matches!(c, Case::Infer { batch: 1, .. })));
        assert!(cases.iter().any(|c| matches!(c, Case::Data { size: 96, .. })));
        let epochs: Vec<String> = cases.iter().filter(|c| matches!(c, Case::Epoch { .. })).map(|c| c.label()).collect();
        let trainable = epoch_numerics(crate::numerics::cpu_has_bf16_units()).len();
        assert_eq!(epochs.len(), 4 * trainable, "each network at its own size, in what trains here: {epochs:?}");
        assert!(epochs.contains(&"epoch EmotionNetV3 64px b64 fp32+cl".to_string()), "{epochs:?}");
        assert_eq!(epoch_numerics(false).len(), 2);
        assert_eq!(epoch_numerics(true).last(), Some(&Numerics { channels_last: true, bf16: true }));
        let json = serde_json::to_string(&cases).unwrap();
        assert!(json.contains(r#"{"kind":"train","arch":"mobile_net_v2","size":96,"batch":64,"numerics":{"channels_last":false,"bf16":false}}"#), "{json}");
        assert_eq!(serde_json::from_str::<Vec<Case>>(&json).unwrap(), cases);
    }

    #[test]
    fn a_small_image_case_measures_a_positive_speed_in_every_numerics() {
        let r = Repeats { warmup: 1, timed: 2 };
        for numerics in Numerics::ALL {
            let train = Case::Train { arch: "emotion_net_v2".into(), size: 32, batch: 4, numerics };
            let s = train.measure(r, &mut Turns::alone(), Path::new("/nonexistent")).unwrap().stats;
            assert!(s.min > 0.0 && s.min <= s.median && s.median <= s.max, "{s:?}");
            let infer = Case::Infer { arch: "emotion_net_v2".into(), size: 32, batch: 2, numerics };
            assert!(infer.measure(r, &mut Turns::alone(), Path::new("/nonexistent")).unwrap().stats.median > 0.0);
        }
    }
}
