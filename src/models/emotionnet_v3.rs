//! EmotionNetV3 (slides 27-31): the smallest and fastest of the three. A shared strided stem
//! saves computing two pathways on the full image; V1's idea of a small-kernel local block next to
//! a large-kernel global block is kept, but V2's quadratic self-attention is replaced by CBAM
//! channel and spatial attention (linear in the number of positions), and the head is one conv
//! block, global average pooling and a single linear layer.
use crate::error::{Error, Result};
use crate::models::blocks::{ChannelAttention, ConvBnRelu, SpatialAttention};
use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub num_classes: i64,
    /// Nominal square input side (the model accepts any size that survives the downsampling);
    /// used for validation and `describe`.
    pub image_size: i64,
    pub stem_channels: i64,
    pub local_channels: i64,
    pub global_channels: i64,
    /// Kernel and dilation of the global block (the local block is plain 3x3).
    pub global_kernel: i64,
    pub global_dilation: i64,
    /// CBAM channel-attention bottleneck: hidden width = channels / reduction.
    pub reduction: i64,
    pub spatial_kernel: i64,
    pub final_channels: i64,
    pub dropout: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            num_classes: 7,
            image_size: 64,
            stem_channels: 32,
            local_channels: 32,
            global_channels: 32,
            global_kernel: 5,
            global_dilation: 1,
            reduction: 8,
            spatial_kernel: 7,
            final_channels: 64,
            dropout: 0.2,
        }
    }
}

impl Config {
    pub fn validate(&self) -> Result<()> {
        let positive = [
            self.num_classes,
            self.stem_channels,
            self.local_channels,
            self.global_channels,
            self.global_dilation,
            self.reduction,
            self.final_channels,
        ];
        if positive.iter().any(|&v| v < 1) {
            return Err(Error::Config(format!("EmotionNetV3: counts and widths must be >= 1: {self:?}")));
        }
        for (name, k) in [("global_kernel", self.global_kernel), ("spatial_kernel", self.spatial_kernel)] {
            if k < 1 || k % 2 == 0 {
                return Err(Error::Config(format!("EmotionNetV3: {name} must be odd, got {k}")));
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Config(format!("EmotionNetV3: dropout must be in [0,1), got {}", self.dropout)));
        }
        if self.attention_size() < 1 {
            return Err(Error::Config(format!(
                "EmotionNetV3: image_size {} is too small for the stem and pooling",
                self.image_size
            )));
        }
        Ok(())
    }

    /// Side of the maps the CBAM attention sees: stem stride 2, then max-pool 2.
    pub fn attention_size(&self) -> i64 {
        ((self.image_size - 1) / 2 + 1) / 2
    }

    fn merged_channels(&self) -> i64 {
        self.local_channels + self.global_channels
    }
}

#[derive(Debug)]
pub struct EmotionNetV3 {
    stem: ConvBnRelu,
    local: ConvBnRelu,
    global: ConvBnRelu,
    channel_attn: ChannelAttention,
    spatial_attn: SpatialAttention,
    final_block: ConvBnRelu,
    classifier: nn::Linear,
    dropout: f64,
}

impl EmotionNetV3 {
    pub fn new(p: &nn::Path, cfg: &Config) -> Result<Self> {
        cfg.validate()?;
        let (s, c) = (cfg.stem_channels, cfg.merged_channels());
        Ok(Self {
            stem: ConvBnRelu::new(&(p / "stem"), 3, s, 3, 2, 1),
            local: ConvBnRelu::new(&(p / "local"), s, cfg.local_channels, 3, 1, 1),
            global: ConvBnRelu::new(&(p / "global"), s, cfg.global_channels, cfg.global_kernel, 1, cfg.global_dilation),
            channel_attn: ChannelAttention::new(&(p / "channel_attn"), c, cfg.reduction),
            spatial_attn: SpatialAttention::new(&(p / "spatial_attn"), cfg.spatial_kernel),
            final_block: ConvBnRelu::new(&(p / "final"), c, cfg.final_channels, 3, 2, 1),
            classifier: nn::linear(p / "classifier", cfg.final_channels, cfg.num_classes, Default::default()),
            dropout: cfg.dropout,
        })
    }
}

impl ModuleT for EmotionNetV3 {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let stem = self.stem.forward_t(xs, train);
        let merged = Tensor::cat(&[self.local.forward_t(&stem, train), self.global.forward_t(&stem, train)], 1);
        merged
            .max_pool2d_default(2)
            .apply(&self.channel_attn)
            .apply(&self.spatial_attn)
            .apply_t(&self.final_block, train)
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .dropout(self.dropout, train)
            .apply(&self.classifier)
    }
}

/// One paragraph on the architecture, with the sizes that follow from `cfg`.
pub fn describe(cfg: &Config) -> String {
    let (s, a) = (cfg.image_size, cfg.attention_size());
    format!(
        "EmotionNetV3 ({s}x{s} input): a shared stem conv3x3/2-BN-ReLU (3->{sc}) feeds a local block (conv3x3-BN-ReLU, \
         {lc} channels) and a global block (conv{k}x{k}, dilation {dil}, -BN-ReLU, {gc} channels); their outputs are \
         concatenated ({c} channels), max-pooled to {a}x{a}, and reweighted by CBAM channel attention (average- and \
         max-pooled descriptors through a shared {c}->{h}->{c} MLP, sigmoid) and then CBAM spatial attention \
         (channel-wise mean and max maps, {sk}x{sk} conv, sigmoid). A final conv3x3/2-BN-ReLU block to {fc} channels, \
         global average pooling, dropout {d} and one linear layer give {n} class logits.",
        sc = cfg.stem_channels,
        lc = cfg.local_channels,
        k = cfg.global_kernel,
        dil = cfg.global_dilation,
        gc = cfg.global_channels,
        c = cfg.merged_channels(),
        h = ChannelAttention::hidden_channels(cfg.merged_channels(), cfg.reduction),
        sk = cfg.spatial_kernel,
        fc = cfg.final_channels,
        d = cfg.dropout,
        n = cfg.num_classes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{emotionnet_v1, emotionnet_v2};
    use crate::testing::{assert_loss_drops, overfit_losses, param_count, small_face_batch};
    use tch::{Device, Kind};

    fn build(cfg: &Config) -> (nn::VarStore, EmotionNetV3) {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = EmotionNetV3::new(&vs.root(), cfg).unwrap();
        (vs, net)
    }

    /// Default config, layer by layer: conv (no bias) k*k*in*out + BN 2*out; CBAM MLP 64->8->64
    /// without bias; spatial 7x7 conv 2->1 without bias; linear in*out + out.
    fn expected_params() -> i64 {
        let stem = 3 * 3 * 3 * 32 + 2 * 32;
        let local = 3 * 3 * 32 * 32 + 2 * 32;
        let global = 5 * 5 * 32 * 32 + 2 * 32;
        let cbam = (64 * 8 + 8 * 64) + 7 * 7 * 2;
        let final_block = 3 * 3 * 64 * 64 + 2 * 64;
        stem + local + global + cbam + final_block + (64 * 7 + 7)
    }

    #[test]
    fn output_shapes() {
        let (_vs, net) = build(&Config::default());
        for size in [48, 64, 96] {
            let x = Tensor::rand([2, 3, size, size], (Kind::Float, Device::Cpu));
            assert_eq!(net.forward_t(&x, false).size(), [2, 7], "size {size}");
            assert_eq!(net.forward_t(&x, true).size(), [2, 7], "size {size}");
        }
    }

    #[test]
    fn exact_parameter_count() {
        let (vs, _) = build(&Config::default());
        assert_eq!(param_count(&vs), expected_params());
    }

    #[test]
    fn v1_has_more_parameters_than_v2_which_has_more_than_v3() {
        for size in [48, 64, 96] {
            let count = |f: &dyn Fn(&nn::Path)| {
                let vs = nn::VarStore::new(Device::Cpu);
                f(&vs.root());
                param_count(&vs)
            };
            let v1 = count(&|p| {
                drop(
                    emotionnet_v1::EmotionNetV1::new(
                        p,
                        &emotionnet_v1::Config { image_size: size, ..Default::default() },
                    )
                    .unwrap(),
                )
            });
            let v2 = count(&|p| {
                drop(
                    emotionnet_v2::EmotionNetV2::new(
                        p,
                        &emotionnet_v2::Config { image_size: size, ..Default::default() },
                    )
                    .unwrap(),
                )
            });
            let v3 =
                count(&|p| drop(EmotionNetV3::new(p, &Config { image_size: size, ..Default::default() }).unwrap()));
            assert!(v1 > v2 && v2 > v3, "size {size}: v1 {v1}, v2 {v2}, v3 {v3}");
        }
    }

    #[test]
    fn rejects_bad_configs() {
        let vs = nn::VarStore::new(Device::Cpu);
        for cfg in [
            Config { image_size: 1, ..Default::default() },
            Config { spatial_kernel: 6, ..Default::default() },
            Config { dropout: 1.5, ..Default::default() },
            Config { reduction: 0, ..Default::default() },
        ] {
            assert!(matches!(EmotionNetV3::new(&vs.root(), &cfg), Err(Error::Config(_))), "{cfg:?}");
        }
    }

    #[test]
    fn describe_gives_attention_size() {
        let text = describe(&Config { image_size: 96, ..Default::default() });
        assert!(text.contains("max-pooled to 24x24") && text.contains("64->8->64"), "{text}");
    }

    #[test]
    fn loss_drops_on_a_small_real_batch() {
        tch::manual_seed(3);
        let (xs, ys) = small_face_batch(2, 48);
        let (vs, net) = build(&Config { image_size: 48, ..Default::default() });
        let losses = overfit_losses(&vs, &net, &xs, &ys, 3e-3, 30);
        assert_loss_drops("EmotionNetV3", &losses, 0.3);
    }

    /// Measurement, not a check: `cargo test --lib emotionnet_v3 -- --ignored --nocapture`.
    /// Parameter counts at 64/96/224 px and forward+backward seconds for a batch of 32.
    #[test]
    #[ignore]
    fn report_size_and_speed() {
        type Build = fn(&nn::Path, i64) -> Box<dyn ModuleT>;
        let models: [(&str, Build); 3] = [
            ("EmotionNetV1", |p, s| {
                Box::new(
                    emotionnet_v1::EmotionNetV1::new(p, &emotionnet_v1::Config { image_size: s, ..Default::default() })
                        .unwrap(),
                )
            }),
            ("EmotionNetV2", |p, s| {
                Box::new(
                    emotionnet_v2::EmotionNetV2::new(p, &emotionnet_v2::Config { image_size: s, ..Default::default() })
                        .unwrap(),
                )
            }),
            ("EmotionNetV3", |p, s| {
                Box::new(EmotionNetV3::new(p, &Config { image_size: s, ..Default::default() }).unwrap())
            }),
        ];
        println!("threads: {}", tch::get_num_threads());
        for (name, build) in models {
            for size in [64i64, 96, 224] {
                let vs = nn::VarStore::new(Device::Cpu);
                let net = build(&vs.root(), size);
                let mut line = format!("{name} {size}px: {} params", param_count(&vs));
                if size <= 96 {
                    let x = Tensor::rand([32, 3, size, size], (Kind::Float, Device::Cpu));
                    let y = Tensor::randint(7, [32], (Kind::Int64, Device::Cpu));
                    let step = || {
                        for mut v in vs.trainable_variables() {
                            v.zero_grad();
                        }
                        net.forward_t(&x, true).cross_entropy_for_logits(&y).backward();
                    };
                    step(); // warm-up
                    let reps = 3;
                    let t = std::time::Instant::now();
                    (0..reps).for_each(|_| step());
                    line += &format!(", fwd+bwd batch 32: {:.3} s", t.elapsed().as_secs_f64() / reps as f64);
                }
                println!("{line}");
            }
        }
    }
}
