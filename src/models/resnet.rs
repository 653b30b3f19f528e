//! ResNet-18 / ResNet-50 (He et al. 2015) laid out exactly like torchvision's `resnet18` /
//! `resnet50` (v1.5: the stride of a bottleneck sits on its 3x3 conv), so that torchvision
//! state dicts load strictly: `conv1`, `bn1`, `layer{1..4}.{i}.conv{k}` / `.bn{k}` /
//! `.downsample.{0,1}`, `fc`.
use super::groups;
use super::torchvision::{batch_norm, conv, torch_default_linear};
use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

/// Name prefix of the classification head (relative to the path the model was built under).
pub const HEAD_PREFIX: &str = "fc.";

/// Supported depths; serialised as the number (`"depth": 18`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub enum Depth {
    R18,
    R50,
}

impl TryFrom<u32> for Depth {
    type Error = String;
    fn try_from(d: u32) -> std::result::Result<Self, String> {
        match d {
            18 => Ok(Depth::R18),
            50 => Ok(Depth::R50),
            _ => Err(format!("unsupported ResNet depth {d} (use 18 or 50)")),
        }
    }
}

impl From<Depth> for u32 {
    fn from(d: Depth) -> u32 {
        match d {
            Depth::R18 => 18,
            Depth::R50 => 50,
        }
    }
}

impl Depth {
    fn blocks_per_stage(self) -> [usize; 4] {
        match self {
            Depth::R18 => [2, 2, 2, 2],
            Depth::R50 => [3, 4, 6, 3],
        }
    }
    fn bottleneck(self) -> bool {
        matches!(self, Depth::R50)
    }
    /// Output channels of a block = its stage width times this.
    fn expansion(self) -> i64 {
        if self.bottleneck() {
            4
        } else {
            1
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub depth: Depth,
    pub num_classes: i64,
}

impl Config {
    pub fn resnet18(num_classes: i64) -> Self {
        Config { depth: Depth::R18, num_classes }
    }
    pub fn resnet50(num_classes: i64) -> Self {
        Config { depth: Depth::R50, num_classes }
    }
}

/// One residual block. A BasicBlock is two 3x3 convs; a Bottleneck is 1x1 -> 3x3 -> 1x1. Both
/// are "conv-BN, ReLU between, add the shortcut, ReLU", so one struct serves both.
#[derive(Debug)]
struct Block {
    convs: Vec<(nn::Conv2D, nn::BatchNorm)>,
    downsample: Option<(nn::Conv2D, nn::BatchNorm)>,
}

impl Block {
    fn new(p: nn::Path, depth: Depth, c_in: i64, width: i64, stride: i64) -> Self {
        let c_out = width * depth.expansion();
        // (in, out, kernel, stride) of each conv, in torchvision's order.
        let shapes: Vec<(i64, i64, i64, i64)> = if depth.bottleneck() {
            vec![(c_in, width, 1, 1), (width, width, 3, stride), (width, c_out, 1, 1)]
        } else {
            vec![(c_in, width, 3, stride), (width, c_out, 3, 1)]
        };
        let convs = shapes
            .iter()
            .enumerate()
            .map(|(i, &(ci, co, k, s))| {
                (conv(&p / format!("conv{}", i + 1), ci, co, k, s, 1), batch_norm(&p / format!("bn{}", i + 1), co))
            })
            .collect();
        let downsample = (stride != 1 || c_in != c_out).then(|| {
            (conv(&p / "downsample" / 0, c_in, c_out, 1, stride, 1), batch_norm(&p / "downsample" / 1, c_out))
        });
        Block { convs, downsample }
    }
}

impl ModuleT for Block {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let last = self.convs.len() - 1;
        let mut ys = xs.shallow_clone();
        for (i, (c, bn)) in self.convs.iter().enumerate() {
            ys = bn.forward_t(&c.forward_t(&ys, train), train);
            if i < last {
                ys = ys.relu();
            }
        }
        let shortcut = match &self.downsample {
            Some((c, bn)) => bn.forward_t(&c.forward_t(xs, train), train),
            None => xs.shallow_clone(),
        };
        (ys + shortcut).relu()
    }
}

#[derive(Debug)]
pub struct ResNet {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    blocks: Vec<Block>,
    fc: nn::Linear,
    cfg: Config,
}

impl ResNet {
    pub fn new(p: &nn::Path, cfg: &Config) -> Self {
        let conv1 = conv(p / "conv1", 3, 64, 7, 2, 1);
        let bn1 = batch_norm(p / "bn1", 64);
        let mut blocks = Vec::new();
        let mut c_in = 64;
        for (stage, &n) in cfg.depth.blocks_per_stage().iter().enumerate() {
            let width = 64 << stage;
            let layer = p / format!("layer{}", stage + 1);
            for i in 0..n {
                let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                blocks.push(Block::new(&layer / i, cfg.depth, c_in, width, stride));
                c_in = width * cfg.depth.expansion();
            }
        }
        let fc = torch_default_linear(&groups::head(p) / "fc", c_in, cfg.num_classes);
        ResNet { conv1, bn1, blocks, fc, cfg: cfg.clone() }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Pooled features before the head: `[N, 512]` (ResNet-18) or `[N, 2048]` (ResNet-50).
    pub fn features_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let ys = self.bn1.forward_t(&self.conv1.forward_t(xs, train), train).relu();
        let mut ys = ys.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        for b in &self.blocks {
            ys = b.forward_t(&ys, train);
        }
        ys.adaptive_avg_pool2d([1, 1]).flatten(1, -1)
    }
}

impl ModuleT for ResNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.fc.forward_t(&self.features_t(xs, train), train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_loss_drops, overfit_losses, param_count, small_face_batch};
    use tch::{Device, Kind};

    fn build(cfg: &Config) -> (nn::VarStore, ResNet) {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = ResNet::new(&vs.root(), cfg);
        (vs, net)
    }

    /// Parameter count from the architecture's formula, independent of the code above:
    /// conv weights + 2 per BN channel + fc.
    fn expected_params(depth: Depth, classes: i64) -> i64 {
        let bn = |c: i64| 2 * c;
        let mut n = 3 * 64 * 49 + bn(64);
        let mut c_in = 64;
        for (stage, &blocks) in depth.blocks_per_stage().iter().enumerate() {
            let w = 64i64 << stage;
            for i in 0..blocks {
                let c_out = w * depth.expansion();
                n += if depth.bottleneck() {
                    c_in * w + bn(w) + w * w * 9 + bn(w) + w * c_out + bn(c_out)
                } else {
                    c_in * w * 9 + bn(w) + w * w * 9 + bn(w)
                };
                if i == 0 && (stage > 0 || c_in != c_out) {
                    n += c_in * c_out + bn(c_out);
                }
                c_in = c_out;
            }
        }
        n + c_in * classes + classes
    }

    #[test]
    fn parameter_counts_match_torchvision() {
        // torchvision.models.resnet18() / resnet50(): sum(p.numel() for p in m.parameters())
        for (cfg, want) in [(Config::resnet18(1000), 11_689_512), (Config::resnet50(1000), 25_557_032)] {
            let (vs, _) = build(&cfg);
            assert_eq!(param_count(&vs), want, "{cfg:?}");
            assert_eq!(expected_params(cfg.depth, 1000), want);
        }
        // torchvision.models.resnet18(num_classes=7) / resnet50(num_classes=7)
        for (cfg, want) in [(Config::resnet18(7), 11_180_103), (Config::resnet50(7), 23_522_375)] {
            let (vs, _) = build(&cfg);
            assert_eq!(param_count(&vs), want, "{cfg:?}");
            assert_eq!(expected_params(cfg.depth, 7), want);
        }
    }

    #[test]
    fn torchvision_names_and_buffers() {
        let (vs, _) = build(&Config::resnet50(7));
        let vars = vs.variables();
        for name in [
            "conv1.weight",
            "bn1.running_mean",
            "bn1.running_var",
            "layer1.0.downsample.0.weight",
            "layer1.0.downsample.1.bias",
            "layer4.2.conv3.weight",
            "layer4.2.bn3.running_var",
            "fc.weight",
            "fc.bias",
        ] {
            assert!(vars.contains_key(name), "missing {name}");
        }
        // conv(53) + bn(53 * 4) + fc(2): torchvision's resnet50 state_dict has 320 entries
        // counting 53 num_batches_tracked, which we do not keep.
        assert_eq!(vars.len(), 320 - 53);
        assert_eq!(vars["layer2.0.conv2.weight"].size(), [128, 128, 3, 3]);
        assert!(!vars.keys().any(|k| k.contains("__")), "a name was reused");
        let (vs18, _) = build(&Config::resnet18(7));
        let v18 = vs18.variables();
        assert!(!v18.contains_key("layer1.0.downsample.0.weight"));
        assert!(v18.contains_key("layer2.0.downsample.0.weight"));
        assert_eq!(v18.len(), 122 - 20);
    }

    #[test]
    fn output_shapes() {
        for cfg in [Config::resnet18(7), Config::resnet50(1000)] {
            let (_vs, net) = build(&cfg);
            for size in [64, 224] {
                let x = Tensor::randn([2, 3, size, size], (Kind::Float, Device::Cpu));
                let y = tch::no_grad(|| net.forward_t(&x, false));
                assert_eq!(y.size(), [2, cfg.num_classes], "{cfg:?} at {size}px");
                assert!(y.isfinite().all().int64_value(&[]) == 1);
            }
        }
    }

    #[test]
    fn train_mode_uses_batch_statistics_and_updates_running_stats() {
        let (vs, net) = build(&Config::resnet18(7));
        let x = Tensor::randn([4, 3, 64, 64], (Kind::Float, Device::Cpu)) * 3.0 + 1.0;
        let before = vs.variables()["bn1.running_mean"].copy();
        let eval1 = tch::no_grad(|| net.forward_t(&x, false));
        let train = tch::no_grad(|| net.forward_t(&x, true));
        let after = vs.variables()["bn1.running_mean"].copy();
        assert!((&after - &before).abs().max().double_value(&[]) > 1e-3, "running mean did not move");
        assert!((&train - &eval1).abs().max().double_value(&[]) > 1e-3, "train and eval agree");
    }

    #[test]
    fn config_serialises_depth_as_number() {
        let s = serde_json::to_string(&Config::resnet50(7)).unwrap();
        assert_eq!(s, r#"{"depth":50,"num_classes":7}"#);
        let back: Config = serde_json::from_str(&s).unwrap();
        assert_eq!(back, Config::resnet50(7));
        let bad = serde_json::from_str::<Config>(r#"{"depth":34,"num_classes":7}"#).unwrap_err();
        assert!(bad.to_string().contains("unsupported ResNet depth 34"), "{bad}");
    }

    #[test]
    fn loss_drops_on_a_small_real_batch() {
        let (xs, ys) = small_face_batch(2, 64);
        for (name, cfg) in [("ResNet18", Config::resnet18(7)), ("ResNet50", Config::resnet50(7))] {
            tch::manual_seed(4);
            let (vs, net) = build(&cfg);
            assert_loss_drops(name, &overfit_losses(&vs, &net, &xs, &ys, 1e-3, 20), 0.3);
        }
    }
}
