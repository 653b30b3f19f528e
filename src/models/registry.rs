//! Every image network Part 1 can train, by name: how it is built, which head fine-tuning
//! replaces, and where its ImageNet weights come from. Adding a network is one file in
//! `models/` and one entry in [`IMAGE_MODELS`]; the experiment's rows, `--models`, `evaluate`,
//! `predict` and the weight tables of `scripts/convert_weights.py` (checked by a test) follow.
use super::groups::Groups;
use super::weights::{self, TorchvisionWeights};
use super::{emotionnet_v1, emotionnet_v2, emotionnet_v3, mobilenet_v2, resnet};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{nn, nn::ModuleT, Device};

/// Builds a network with fresh weights under a path, for `classes` outputs at a square input side.
pub type Builder = fn(&nn::Path, i64, u32) -> Result<Box<dyn ModuleT>>;

#[derive(Debug, Clone, Copy)]
pub struct ImageModel {
    /// The architecture's name (`arch` in results.json).
    pub arch: &'static str,
    /// The experiment's row (and checkpoint) name when trained with its usual initialisation.
    pub row: &'static str,
    /// Its name in tables and figures.
    pub label: &'static str,
    pub build: Builder,
    /// Variables of the classification head, replaced when ImageNet weights are loaded; the
    /// network builds them in the head optimizer group. None: no pretrained variant.
    pub head: Option<&'static str>,
    pub imagenet: Option<TorchvisionWeights>,
    /// Also trained from random init (`<row>_random`), to separate pretraining from architecture.
    pub random_init_ablation: bool,
}

/// Part 1's networks, in presentation order.
pub const IMAGE_MODELS: &[ImageModel] = &[
    ImageModel {
        arch: "emotion_net_v1",
        row: "emotionnet_v1",
        label: "EmotionNetV1",
        build: |p, classes, size| {
            let cfg = emotionnet_v1::Config { num_classes: classes, image_size: size as i64, ..Default::default() };
            Ok(Box::new(emotionnet_v1::EmotionNetV1::new(p, &cfg)?))
        },
        head: None,
        imagenet: None,
        random_init_ablation: false,
    },
    ImageModel {
        arch: "emotion_net_v2",
        row: "emotionnet_v2",
        label: "EmotionNetV2",
        build: |p, classes, _| {
            let cfg = emotionnet_v2::Config { num_classes: classes, ..Default::default() };
            Ok(Box::new(emotionnet_v2::EmotionNetV2::new(p, &cfg)?))
        },
        head: None,
        imagenet: None,
        random_init_ablation: false,
    },
    ImageModel {
        arch: "emotion_net_v3",
        row: "emotionnet_v3",
        label: "EmotionNetV3",
        build: |p, classes, _| {
            let cfg = emotionnet_v3::Config { num_classes: classes, ..Default::default() };
            Ok(Box::new(emotionnet_v3::EmotionNetV3::new(p, &cfg)?))
        },
        head: None,
        imagenet: None,
        random_init_ablation: false,
    },
    ImageModel {
        arch: "res_net18",
        row: "resnet18",
        label: "ResNet18",
        build: |p, classes, _| Ok(Box::new(resnet::ResNet::new(p, &resnet::Config::resnet18(classes)))),
        head: Some(resnet::HEAD_PREFIX),
        imagenet: Some(weights::RESNET18_IMAGENET),
        random_init_ablation: true,
    },
    ImageModel {
        arch: "res_net50",
        row: "resnet50",
        label: "ResNet50",
        build: |p, classes, _| Ok(Box::new(resnet::ResNet::new(p, &resnet::Config::resnet50(classes)))),
        head: Some(resnet::HEAD_PREFIX),
        imagenet: Some(weights::RESNET50_IMAGENET),
        random_init_ablation: false,
    },
    ImageModel {
        arch: "mobile_net_v2",
        row: "mobilenet_v2",
        label: "MobileNetV2",
        build: |p, classes, _| Ok(Box::new(mobilenet_v2::MobileNetV2::new(p, &mobilenet_v2::Config::new(classes)))),
        head: Some(mobilenet_v2::HEAD_PREFIX),
        imagenet: Some(weights::MOBILENET_V2_IMAGENET),
        random_init_ablation: true,
    },
];

/// How a network's weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    Random,
    Imagenet,
}

/// A constructed network with its variables.
pub struct Built {
    pub vs: nn::VarStore,
    pub model: Box<dyn ModuleT>,
    pub groups: Groups,
    pub head_prefix: Option<&'static str>,
    pub weights_source: String,
}

/// The network named `arch`.
pub fn image_model(arch: &str) -> Result<&'static ImageModel> {
    IMAGE_MODELS.iter().find(|m| m.arch == arch).ok_or_else(|| {
        let known: Vec<&str> = IMAGE_MODELS.iter().map(|m| m.arch).collect();
        Error::Config(format!("unknown architecture `{arch}` (known: {})", known.join(", ")))
    })
}

impl ImageModel {
    /// Trained from scratch only: no pretrained weights exist for it.
    pub fn is_custom(&self) -> bool {
        self.imagenet.is_none()
    }

    /// Build for `classes` outputs at `image_size`, loading ImageNet weights for `Init::Imagenet`.
    pub fn build(&self, init: Init, classes: i64, image_size: u32, device: Device) -> Result<Built> {
        let mut vs = nn::VarStore::new(device);
        let model = (self.build)(&vs.root(), classes, image_size)?;
        let weights_source = match (init, self.imagenet) {
            (Init::Random, _) => "random init (seeded)".to_string(),
            (Init::Imagenet, None) => return Err(Error::Config(format!("{} has no ImageNet weights", self.arch))),
            (Init::Imagenet, Some(w)) => {
                let path = w.find().ok_or_else(|| {
                    Error::weights(
                        weights::weights_dir().join(w.safetensors_name()),
                        format!(
                            "ImageNet weights for {} not installed: download {} and run `affect-lab fetch-weights`",
                            w.model, w.url
                        ),
                    )
                })?;
                weights::load_strict(&mut vs, &path, &[self.head.unwrap_or("")])?;
                format!("torchvision ImageNet {} ({})", w.pth, path.display())
            }
        };
        let groups = Groups { head: self.head.is_some(), layers: 0 };
        Ok(Built { vs, model, groups, head_prefix: self.head, weights_source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::groups;
    use tch::{nn::OptimizerConfig, Kind, Tensor};

    #[test]
    fn names_are_unique_and_found() {
        for (i, m) in IMAGE_MODELS.iter().enumerate() {
            assert_eq!(image_model(m.arch).unwrap().row, m.row);
            assert!(IMAGE_MODELS[..i].iter().all(|o| o.arch != m.arch && o.row != m.row), "{} twice", m.arch);
            assert_eq!(m.head.is_some(), m.imagenet.is_some(), "{}: a pretrained net needs a head to replace", m.arch);
        }
        assert!(image_model("vgg16").unwrap_err().to_string().contains("res_net18"));
    }

    /// Every network builds, maps a batch to one logit per class, and builds its head (exactly
    /// the variables named by `head`) in the head group: a step at rate 0 for the head group moves
    /// no head variable, and a step at rate 0 for every other group moves nothing else.
    #[test]
    fn every_network_builds_and_puts_its_head_in_the_head_group() {
        for m in IMAGE_MODELS {
            tch::manual_seed(0);
            let built = m.build(Init::Random, 5, 32, Device::Cpu).unwrap();
            let x = Tensor::randn([2, 3, 32, 32], (Kind::Float, Device::Cpu));
            assert_eq!(built.model.forward_t(&x, false).size(), [2, 5], "{}", m.arch);
            let Some(head) = m.head else { continue };
            let mut opt = nn::Sgd::default().build(&built.vs, 0.1).unwrap();
            for head_only in [false, true] {
                let before: Vec<(String, Tensor)> =
                    built.vs.trainable_variables().iter().map(|t| (name_of(&built.vs, t), t.copy())).collect();
                opt.set_lr(if head_only { 0.0 } else { 0.1 });
                opt.set_lr_group(groups::HEAD, if head_only { 0.1 } else { 0.0 });
                opt.backward_step(&built.model.forward_t(&x, true).sum(Kind::Float));
                for (name, old) in &before {
                    let moved = (&built.vs.variables()[name] - old).abs().max().double_value(&[]) > 0.0;
                    let in_head = name.starts_with(head);
                    assert!(!moved || in_head == head_only, "{}: {name} moved with head_only={head_only}", m.arch);
                    assert!(
                        moved || !(head_only && name.ends_with("weight") && in_head),
                        "{}: head {name} did not move",
                        m.arch
                    );
                }
            }
        }
    }

    fn name_of(vs: &nn::VarStore, t: &Tensor) -> String {
        vs.variables().into_iter().find(|(_, v)| v.data_ptr() == t.data_ptr()).map(|(n, _)| n).unwrap()
    }
}
