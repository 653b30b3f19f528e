//! A finished run directory and the models rebuilt from it: architecture, classes and
//! preprocessing from its `results.json`, weights strictly from its checkpoints.
use crate::config::run;
use crate::data::augment::Transform;
use crate::data::batches::{BatchSource, TokenSource};
use crate::data::faces::FaceItem;
use crate::data::image_source::ImageSource;
use crate::data::text::tokenize::HfTokenizer;
use crate::data::text::vocab::{self, Vocab};
use crate::error::{Error, Result};
use crate::experiments::{part1, part2};
use crate::models::weights;
use crate::models::{bilstm, minilm};
use crate::numerics::Numerics;
use crate::train::eval_log_probs;
use std::path::{Path, PathBuf};
use tch::{nn, nn::ModuleT, Device};

/// Evaluation batch size: the one the run scored its test split with, so that scoring the same
/// data again gives the same batches and the same numbers.
pub const EVAL_BATCH: usize = 64;

/// A run directory with the results of the parts it finished.
pub struct RunDir {
    pub root: PathBuf,
    pub part1: Option<part1::Results>,
    pub part2: Option<part2::Results>,
}

impl RunDir {
    pub fn open(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(Error::data(root, None, "run directory not found"));
        }
        let part1 = run::load_results::<part1::Results>(root, part1::PART)?;
        let part2 = run::load_results::<part2::Results>(root, part2::PART)?;
        if part1.is_none() && part2.is_none() {
            return Err(Error::data(
                root,
                None,
                "not a finished run: it holds neither part1/results.json nor part2/results.json",
            ));
        }
        Ok(RunDir { root: root.to_path_buf(), part1, part2 })
    }

    /// Names of the trained rows of both parts.
    pub fn model_names(&self) -> Vec<String> {
        let one = self.part1.iter().flat_map(|r| r.rows.iter().map(|x| x.model.clone()));
        let two = self.part2.iter().flat_map(|r| r.rows.iter().map(part2::Row::name));
        one.chain(two).collect()
    }

    fn unknown(&self, model: &str) -> Error {
        Error::data(
            &self.root,
            None,
            format!("no trained model `{model}` in this run; it has: {}", self.model_names().join(", ")),
        )
    }

    pub fn part1_row(&self, model: &str) -> Result<(&part1::Results, &part1::Row)> {
        let r = self.part1.as_ref().ok_or_else(|| self.unknown(model))?;
        let row = r.rows.iter().find(|x| x.model == model).ok_or_else(|| self.unknown(model))?;
        Ok((r, row))
    }

    pub fn part2_row(&self, model: &str) -> Result<(&part2::Results, &part2::Row)> {
        let r = self.part2.as_ref().ok_or_else(|| self.unknown(model))?;
        let row = r.rows.iter().find(|x| x.name() == model).ok_or_else(|| self.unknown(model))?;
        Ok((r, row))
    }

    fn checkpoint(&self, part: &str, model: &str) -> Result<PathBuf> {
        let path = self.root.join(part).join("checkpoints").join(format!("{model}.safetensors"));
        if !path.is_file() {
            return Err(Error::weights(&path, format!("checkpoint of `{model}` is missing from the run directory")));
        }
        Ok(path)
    }

    /// Load the model named `model` from whichever part trained it.
    pub fn load(&self, model: &str, device: Device) -> Result<TrainedModel> {
        if self.part1_row(model).is_ok() {
            return FaceModel::load(self, model, device).map(TrainedModel::Faces);
        }
        TextModel::load(self, model, device).map(|m| TrainedModel::Reviews(Box::new(m)))
    }
}

/// Either kind of trained model.
pub enum TrainedModel {
    Faces(FaceModel),
    Reviews(Box<TextModel>),
}

impl TrainedModel {
    pub fn name(&self) -> &str {
        match self {
            TrainedModel::Faces(m) => &m.name,
            TrainedModel::Reviews(m) => &m.name,
        }
    }
    pub fn classes(&self) -> &[String] {
        match self {
            TrainedModel::Faces(m) => &m.classes,
            TrainedModel::Reviews(m) => &m.classes,
        }
    }

    /// Made ready to score one input at a time, as `predict` does ([`FaceModel::for_single_images`];
    /// text models are as loaded).
    pub fn for_single_inputs(self) -> Self {
        match self {
            TrainedModel::Faces(m) => TrainedModel::Faces(m.for_single_images()),
            text => text,
        }
    }
}

/// A Part 1 model with its input size and class names.
pub struct FaceModel {
    pub name: String,
    pub classes: Vec<String>,
    pub image_size: u32,
    pub device: Device,
    /// NCHW fp32 as loaded; channels-last for single images ([`FaceModel::for_single_images`]).
    numerics: Numerics,
    net: Box<dyn ModuleT>,
    vs: nn::VarStore,
}

impl FaceModel {
    pub fn load(run: &RunDir, model: &str, device: Device) -> Result<Self> {
        let (res, row) = run.part1_row(model)?;
        let ckpt = run.checkpoint(part1::PART, model)?;
        let built = part1::trained_net(row, res.classes.len(), &ckpt, device)?;
        Ok(FaceModel {
            name: row.model.clone(),
            classes: res.classes.clone(),
            image_size: row.image_size,
            device,
            numerics: Numerics::FP32,
            net: built.model,
            vs: built.vs,
        })
    }

    /// The model made ready to score one image at a time (`predict`): input and weights
    /// channels-last, which at batch 1 ran every network 1.2-1.5x faster than NCHW (ResNet18 at
    /// 96 px 7.9 against 12.1 ms/image, docs/speed.md). Its probabilities agree with the NCHW
    /// pass to float rounding; `evaluate` keeps NCHW, which reproduces a run's metrics bit for bit.
    pub fn for_single_images(mut self) -> Self {
        self.numerics = Numerics::SINGLE_IMAGES;
        self.numerics.prepare_for_inference(&self.vs);
        self
    }

    /// The memory format and precision [`probabilities`] should run this model in.
    pub fn numerics(&self) -> Numerics {
        self.numerics
    }

    /// Images resized and normalised as the run evaluated its test split (no augmentation).
    pub fn source(&self, items: Vec<FaceItem>) -> ImageSource {
        let tf = Transform::eval(self.image_size);
        ImageSource::new(items, tf.clone(), tf, 0)
    }

    pub fn net(&self) -> &dyn ModuleT {
        self.net.as_ref()
    }

    /// Class probabilities of images already in memory (face crops), one at a time, through the
    /// same evaluation transform as files.
    pub fn classify(&self, images: &[image::RgbImage]) -> Result<Vec<Vec<f32>>> {
        let tf = Transform::eval(self.image_size);
        let s = self.image_size as i64;
        tch::no_grad(|| {
            images
                .iter()
                .map(|img| -> Result<Vec<f32>> {
                    let x = tch::Tensor::from_slice(&tf.apply(img, &mut Transform::rng(0, 0, 0))).view([1, 3, s, s]);
                    let probs = eval_log_probs(self.net(), &x, self.device, self.numerics).exp();
                    Ok(Vec::<f32>::try_from(&probs.get(0))?)
                })
                .collect()
        })
    }
}

enum Encoder {
    MiniLm(Box<HfTokenizer>),
    BiLstm { vocab: Vocab, max_len: usize },
}

/// A Part 2 model with its tokenizer (MiniLM) or vocabulary (BiLSTM).
pub struct TextModel {
    pub name: String,
    pub classes: Vec<String>,
    pub device: Device,
    encoder: Encoder,
    net: Box<dyn ModuleT>,
    _vs: nn::VarStore,
}

impl TextModel {
    pub fn load(run: &RunDir, model: &str, device: Device) -> Result<Self> {
        let (res, row) = run.part2_row(model)?;
        let ckpt = run.checkpoint(part2::PART, model)?;
        let mut vs = nn::VarStore::new(device);
        let classes: Vec<String> = part2::CLASSES.iter().map(|s| s.to_string()).collect();
        let (net, encoder): (Box<dyn ModuleT>, Encoder) = match row.model {
            part2::Model::MiniLm => {
                let dir = weights::minilm_dir()?;
                let tok = HfTokenizer::from_dir(&dir, row.max_len)?.with_truncation(res.plan.truncation)?;
                let cfg = part2::minilm_config(&dir, &res.plan)?;
                (Box::new(minilm::MiniLm::new(&vs.root(), &cfg)?), Encoder::MiniLm(Box::new(tok)))
            }
            part2::Model::BiLstm => {
                let path = ckpt.with_file_name(format!("{model}.vocab.json"));
                if !path.is_file() {
                    return Err(Error::data(
                        &path,
                        None,
                        format!("vocabulary of `{model}` is missing from the run directory"),
                    ));
                }
                let vocab = Vocab::load(&path)?;
                let net =
                    bilstm::BiLstm::new(&vs.root(), &bilstm::Config::new(vocab.len() as i64, classes.len() as i64))?;
                (Box::new(net), Encoder::BiLstm { vocab, max_len: row.max_len })
            }
        };
        weights::load_trained(&mut vs, &ckpt)?;
        Ok(TextModel { name: model.to_string(), classes, device, encoder, net, _vs: vs })
    }

    /// Token ids of already-cleaned texts, cut as in training.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<i64>>> {
        match &self.encoder {
            Encoder::MiniLm(tok) => tok.encode_ids(texts),
            Encoder::BiLstm { vocab, max_len } => Ok(texts.iter().map(|t| vocab.encode_ids(t, *max_len)).collect()),
        }
    }

    fn pad_id(&self) -> i64 {
        match &self.encoder {
            Encoder::MiniLm(tok) => tok.pad_id(),
            Encoder::BiLstm { .. } => vocab::PAD_ID,
        }
    }

    /// Texts the loaders have already cleaned, encoded and batched as the run's test split was.
    pub fn source(&self, cleaned: &[&str], labels: Vec<i64>) -> Result<TokenSource> {
        Ok(TokenSource::new(self.encode(cleaned)?, labels, self.pad_id(), 0))
    }

    pub fn net(&self) -> &dyn ModuleT {
        self.net.as_ref()
    }
}

/// Class probabilities of every sample of `source` (rows in source order), computed as
/// [`crate::train::predict`] computes its confidences, the model run in `numerics`.
pub fn probabilities(
    model: &dyn ModuleT,
    source: &dyn BatchSource,
    device: Device,
    numerics: Numerics,
    batch_size: usize,
) -> Result<Vec<Vec<f32>>> {
    let mut out: Vec<Option<Vec<f32>>> = vec![None; source.len()];
    tch::no_grad(|| -> Result<()> {
        for batch in source.batches(0, false, batch_size) {
            let b = batch?;
            let probs = eval_log_probs(model, &b.x, device, numerics).exp();
            for (k, &i) in b.index.iter().enumerate() {
                out[i] = Some(Vec::<f32>::try_from(&probs.get(k as i64))?);
            }
        }
        Ok(())
    })?;
    out.into_iter()
        .enumerate()
        .map(|(i, p)| p.ok_or_else(|| Error::Config(format!("sample {i} was in no batch"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::registry::{image_model, Init};

    #[test]
    fn single_images_run_channels_last_with_the_probabilities_of_nchw() {
        for arch in ["emotion_net_v3", "res_net18"] {
            let built = image_model(arch).unwrap().build(Init::Random, 7, 32, Device::Cpu).unwrap();
            let model = FaceModel {
                name: arch.into(),
                classes: (0..7).map(|c| c.to_string()).collect(),
                image_size: 32,
                device: Device::Cpu,
                numerics: Numerics::FP32,
                net: built.model,
                vs: built.vs,
            };
            let faces: Vec<image::RgbImage> = (0..3u8)
                .map(|k| {
                    image::RgbImage::from_fn(40, 36, |x, y| image::Rgb([x as u8 * 5 + k, y as u8 * 7, 90 + k * 40]))
                })
                .collect();
            let nchw = model.classify(&faces).unwrap();
            let model = model.for_single_images();
            assert_eq!(model.numerics().label(), "fp32+cl");
            let (_, conv) = model.vs.variables().into_iter().find(|(_, w)| w.dim() == 4).unwrap();
            assert_eq!(conv.stride()[1], 1, "{arch}: the weights went channels-last");
            for (a, b) in nchw.iter().zip(&model.classify(&faces).unwrap()) {
                assert!(a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-5), "{arch}: {a:?} vs {b:?}");
            }
        }
    }
}
