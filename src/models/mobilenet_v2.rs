//! MobileNetV2 (Sandler et al. 2018), width 1.0, laid out exactly like torchvision's
//! `mobilenet_v2` so its state dicts load strictly:
//! `features.0` (stem conv-BN-ReLU6), `features.1..=17` (inverted residual blocks, `.conv.N`),
//! `features.18` (1x1 conv to 1280), `classifier.1` (the linear head after dropout).
use super::groups;
use super::torchvision::{batch_norm, conv};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Init, ModuleT};
use tch::Tensor;

/// Name prefix of the classification head (relative to the path the model was built under).
pub const HEAD_PREFIX: &str = "classifier.1.";

/// Channels after the last 1x1 conv (the head's input).
pub const LAST_CHANNELS: i64 = 1280;

/// (expansion t, output channels c, repeats n, first stride s), from the paper's Table 2.
const BLOCKS: [(i64, i64, usize, i64); 7] =
    [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];
const STEM_CHANNELS: i64 = 32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub num_classes: i64,
    /// Dropout before the head (torchvision: 0.2).
    pub dropout: f64,
}

impl Config {
    pub fn new(num_classes: i64) -> Self {
        Config { num_classes, dropout: 0.2 }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new(1000)
    }
}

/// Conv (no bias) + BN, optionally followed by ReLU6. The conv and BN paths are given
/// separately because torchvision nests them differently in different places.
#[derive(Debug)]
struct ConvBn {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
    relu6: bool,
}

impl ConvBn {
    #[allow(clippy::too_many_arguments)]
    fn new(
        conv_p: nn::Path,
        bn_p: nn::Path,
        c_in: i64,
        c_out: i64,
        kernel: i64,
        stride: i64,
        groups: i64,
        relu6: bool,
    ) -> Self {
        ConvBn { conv: conv(conv_p, c_in, c_out, kernel, stride, groups), bn: batch_norm(bn_p, c_out), relu6 }
    }

    /// torchvision's `Conv2dNormActivation` at `p`: conv at `p.0`, BN at `p.1`, ReLU6.
    fn activated(p: nn::Path, c_in: i64, c_out: i64, kernel: i64, stride: i64, groups: i64) -> Self {
        ConvBn::new(&p / 0, &p / 1, c_in, c_out, kernel, stride, groups, true)
    }
}

impl ModuleT for ConvBn {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let ys = self.bn.forward_t(&self.conv.forward_t(xs, train), train);
        if self.relu6 {
            ys.relu6()
        } else {
            ys
        }
    }
}

/// Expand (1x1, skipped when t = 1) -> depthwise 3x3 -> linear projection (1x1, no activation),
/// with an identity shortcut when shape is preserved.
#[derive(Debug)]
struct InvertedResidual {
    layers: Vec<ConvBn>,
    residual: bool,
}

impl InvertedResidual {
    fn new(p: nn::Path, c_in: i64, c_out: i64, stride: i64, expand: i64) -> Self {
        let p = &p / "conv";
        let hidden = c_in * expand;
        let mut layers = Vec::new();
        if expand != 1 {
            layers.push(ConvBn::activated(&p / 0, c_in, hidden, 1, 1, 1));
        }
        let i = layers.len() as i64;
        layers.push(ConvBn::activated(&p / i, hidden, hidden, 3, stride, hidden));
        layers.push(ConvBn::new(&p / (i + 1), &p / (i + 2), hidden, c_out, 1, 1, 1, false));
        InvertedResidual { layers, residual: stride == 1 && c_in == c_out }
    }
}

impl ModuleT for InvertedResidual {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let ys = self.layers.iter().fold(xs.shallow_clone(), |ys, l| l.forward_t(&ys, train));
        if self.residual {
            ys + xs
        } else {
            ys
        }
    }
}

#[derive(Debug)]
pub struct MobileNetV2 {
    stem: ConvBn,
    blocks: Vec<InvertedResidual>,
    last: ConvBn,
    classifier: nn::Linear,
    cfg: Config,
}

impl MobileNetV2 {
    pub fn new(p: &nn::Path, cfg: &Config) -> Self {
        let features = p / "features";
        let stem = ConvBn::activated(&features / 0, 3, STEM_CHANNELS, 3, 2, 1);
        let mut blocks = Vec::new();
        let mut c_in = STEM_CHANNELS;
        for &(t, c, n, s) in BLOCKS.iter() {
            for i in 0..n {
                let stride = if i == 0 { s } else { 1 };
                blocks.push(InvertedResidual::new(&features / (blocks.len() + 1), c_in, c, stride, t));
                c_in = c;
            }
        }
        let last = ConvBn::activated(&features / (blocks.len() + 1), c_in, LAST_CHANNELS, 1, 1, 1);
        // torchvision: normal(0, 0.01) weights, zero bias.
        let head_cfg = nn::LinearConfig {
            ws_init: Init::Randn { mean: 0.0, stdev: 0.01 },
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        };
        let classifier = nn::linear(&groups::head(p) / "classifier" / 1, LAST_CHANNELS, cfg.num_classes, head_cfg);
        MobileNetV2 { stem, blocks, last, classifier, cfg: cfg.clone() }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Pooled features before dropout and the head: `[N, 1280]`.
    pub fn features_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let ys = self.blocks.iter().fold(self.stem.forward_t(xs, train), |ys, b| b.forward_t(&ys, train));
        self.last.forward_t(&ys, train).adaptive_avg_pool2d([1, 1]).flatten(1, -1)
    }
}

impl ModuleT for MobileNetV2 {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let ys = self.features_t(xs, train).dropout(self.cfg.dropout, train);
        self.classifier.forward_t(&ys, train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_loss_drops, overfit_losses, param_count, small_face_batch};
    use tch::{Device, Kind};

    fn build(cfg: &Config) -> (nn::VarStore, MobileNetV2) {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = MobileNetV2::new(&vs.root(), cfg);
        (vs, net)
    }

    /// From the architecture table alone: conv weights + 2 per BN channel + head.
    fn expected_params(classes: i64) -> i64 {
        let conv_bn = |c_in: i64, c_out: i64, k: i64, groups: i64| c_in / groups * c_out * k * k + 2 * c_out;
        let mut n = conv_bn(3, 32, 3, 1);
        let mut c_in = 32;
        for &(t, c, reps, _) in BLOCKS.iter() {
            for _ in 0..reps {
                let h = c_in * t;
                if t != 1 {
                    n += conv_bn(c_in, h, 1, 1);
                }
                n += conv_bn(h, h, 3, h) + conv_bn(h, c, 1, 1);
                c_in = c;
            }
        }
        n + conv_bn(c_in, 1280, 1, 1) + 1280 * classes + classes
    }

    #[test]
    fn parameter_counts_match_torchvision() {
        // torchvision.models.mobilenet_v2() and mobilenet_v2(num_classes=7): sum of parameters.
        for (classes, want) in [(1000, 3_504_872), (7, 2_232_839)] {
            let (vs, _) = build(&Config::new(classes));
            assert_eq!(param_count(&vs), want, "{classes} classes");
            assert_eq!(expected_params(classes), want);
        }
    }

    #[test]
    fn torchvision_names_and_buffers() {
        let (vs, _) = build(&Config::new(7));
        let vars = vs.variables();
        for name in [
            "features.0.0.weight",
            "features.0.1.running_mean",
            "features.1.conv.0.0.weight",
            "features.1.conv.1.weight",
            "features.1.conv.2.running_var",
            "features.2.conv.0.0.weight",
            "features.2.conv.1.1.bias",
            "features.2.conv.2.weight",
            "features.2.conv.3.running_mean",
            "features.17.conv.3.weight",
            "features.18.0.weight",
            "features.18.1.running_var",
            "classifier.1.weight",
            "classifier.1.bias",
        ] {
            assert!(vars.contains_key(name), "missing {name}");
        }
        // torchvision's state_dict: 314 entries of which 52 are num_batches_tracked.
        assert_eq!(vars.len(), 314 - 52);
        assert_eq!(vars["features.2.conv.1.0.weight"].size(), [96, 1, 3, 3]);
        assert!(!vars.keys().any(|k| k.contains("__")), "a name was reused");
    }

    #[test]
    fn output_shapes() {
        for classes in [7, 1000] {
            let (_vs, net) = build(&Config::new(classes));
            for size in [64, 224] {
                let x = Tensor::randn([2, 3, size, size], (Kind::Float, Device::Cpu));
                let y = tch::no_grad(|| net.forward_t(&x, false));
                assert_eq!(y.size(), [2, classes], "{classes} classes at {size}px");
                assert!(y.isfinite().all().int64_value(&[]) == 1);
            }
        }
    }

    #[test]
    fn dropout_and_batch_norm_only_in_train_mode() {
        let (vs, net) = build(&Config::new(7));
        // Non-zero mean input: later BN inputs are zero-mean by construction, so watch the stem's.
        let x = Tensor::randn([4, 3, 64, 64], (Kind::Float, Device::Cpu)) * 2.0 + 1.0;
        let e1 = tch::no_grad(|| net.forward_t(&x, false));
        let e2 = tch::no_grad(|| net.forward_t(&x, false));
        assert_eq!((&e1 - &e2).abs().max().double_value(&[]), 0.0, "eval is not deterministic");
        let before = vs.variables()["features.0.1.running_mean"].copy();
        let t = tch::no_grad(|| net.forward_t(&x, true));
        let after = vs.variables()["features.0.1.running_mean"].copy();
        assert!((&after - &before).abs().max().double_value(&[]) > 1e-4, "running mean did not move");
        assert!((&t - &e1).abs().max().double_value(&[]) > 1e-4, "train and eval agree");
    }

    #[test]
    fn loss_drops_on_a_small_real_batch() {
        tch::manual_seed(5);
        let (xs, ys) = small_face_batch(2, 64);
        let (vs, net) = build(&Config::new(7));
        assert_loss_drops("MobileNetV2", &overfit_losses(&vs, &net, &xs, &ys, 1e-3, 20), 0.3);
    }
}
