//! Part 1: training from scratch (EmotionNet V1-V3) vs transfer learning (ImageNet ResNet18,
//! ResNet50, MobileNetV2) on face emotions, plus the same ResNet18/MobileNetV2 from random
//! init as an ablation that separates pretraining from architecture. The networks come from
//! [`crate::models::registry`]; this part adds their rows, budgets, results and run loop.
mod latency;
pub use latency::trained_net;
mod plan;
mod results;
mod row;
mod run;
pub mod sizes;

pub use crate::models::registry::Init;
pub use plan::{plan, Plan, RowRate, MIN_IMAGE_SIZE};
pub use results::{comparisons, spreads, summary, Budget, EqualCompute, Results, Row, Sample};
pub use run::run;

use crate::error::Result;
use crate::models::registry::{self, ImageModel, IMAGE_MODELS};
use serde::{Deserialize, Serialize};

pub const PART: &str = "part1";
/// The datasets Part 1 reads.
pub const DATASETS: [crate::config::paths::DatasetSpec; 1] = [crate::config::paths::FACES];

/// A registered architecture, by the name results.json records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Arch(pub String);

impl Arch {
    pub fn model(&self) -> Result<&'static ImageModel> {
        registry::image_model(&self.0)
    }
    /// Trained from scratch only (an EmotionNet); an unknown name counts as not.
    pub fn is_custom(&self) -> bool {
        self.model().is_ok_and(|m| m.is_custom())
    }
}

/// One row of the experiment: a network and how its weights start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelSpec {
    pub name: String,
    pub arch: Arch,
    pub init: Init,
}

/// The experiment's rows, in presentation order: every registered network with its usual
/// initialisation, then the random-init ablations.
pub fn model_specs() -> Vec<ModelSpec> {
    let spec = |name: String, m: &ImageModel, init| ModelSpec { name, arch: Arch(m.arch.into()), init };
    let usual = IMAGE_MODELS.iter().map(|m| {
        let init = if m.imagenet.is_some() { Init::Imagenet } else { Init::Random };
        spec(m.row.into(), m, init)
    });
    let ablations =
        IMAGE_MODELS.iter().filter(|m| m.random_init_ablation).map(|m| spec(ablation_row(m), m, Init::Random));
    usual.chain(ablations).collect()
}

/// The row of a network trained from random init as the ablation of its pretrained row.
fn ablation_row(m: &ImageModel) -> String {
    format!("{}_random", m.row)
}

/// (pretrained row, its random-init ablation) for every network the registry ablates.
pub fn ablation_pairs() -> Vec<(String, String)> {
    IMAGE_MODELS.iter().filter(|m| m.random_init_ablation).map(|m| (m.row.to_string(), ablation_row(m))).collect()
}

/// The rows of pretrained backbones, each followed by its random-init ablation where it has one.
pub fn backbone_rows() -> Vec<String> {
    let with_ablation =
        |m: &ImageModel| std::iter::once(m.row.to_string()).chain(m.random_init_ablation.then(|| ablation_row(m)));
    IMAGE_MODELS.iter().filter(|m| m.imagenet.is_some()).flat_map(with_ablation).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_in_presentation_order() {
        let names: Vec<String> = model_specs().into_iter().map(|s| s.name).collect();
        let want = [
            "emotionnet_v1",
            "emotionnet_v2",
            "emotionnet_v3",
            "resnet18",
            "resnet50",
            "mobilenet_v2",
            "resnet18_random",
            "mobilenet_v2_random",
        ];
        assert_eq!(names, want);
        assert!(Arch("emotion_net_v2".into()).is_custom() && !Arch("res_net18".into()).is_custom());
        let pairs = ablation_pairs();
        assert_eq!(
            pairs,
            [("resnet18".into(), "resnet18_random".into()), ("mobilenet_v2".into(), "mobilenet_v2_random".into())]
        );
        let backbones = backbone_rows();
        assert_eq!(backbones, ["resnet18", "resnet18_random", "resnet50", "mobilenet_v2", "mobilenet_v2_random"]);
        let v: Arch = serde_json::from_str("\"mobile_net_v2\"").unwrap();
        assert_eq!(v.model().unwrap().row, "mobilenet_v2");
    }
}
