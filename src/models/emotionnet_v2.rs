//! EmotionNetV2 (slides 14-22): V1's two pathways rebuilt from residual blocks with BatchNorm,
//! each followed by max-pooling and SAGAN self-attention; cross-pathway attention lets each
//! pathway attend to the other; a fusion module (residual block, self-attention, global average
//! pool, Dropout2d) feeds a single linear classifier. Deeper than V1 but with ~54x fewer
//! parameters at 64 px, because global pooling replaces the huge flattened classifier.
//!
//! Self-attention costs O((HW)^2) and every conv at full resolution is expensive on a CPU, so a
//! ResNet-like stem (strided conv, then max-pool) shrinks the image by 4 first: at 64 px the
//! pathways attend over 8x8 positions and the fusion module over 4x4.
use crate::error::{Error, Result};
use crate::models::blocks::{ConvBnRelu, ResidualBlock, SelfAttention};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub num_classes: i64,
    /// Nominal square input side (the model itself accepts any size that survives the
    /// downsampling); used for validation and `describe`.
    pub image_size: i64,
    pub stem_channels: i64,
    pub stem_stride: i64,
    /// Max-pool 2 after the stem conv. Without it the pathway convs run on 4x as many
    /// positions: about 4x slower, for the same parameter count.
    pub stem_pool: bool,
    /// Channels of each pathway.
    pub pathway_channels: i64,
    pub blocks_per_pathway: i64,
    /// First conv of the global pathway: a larger kernel and/or dilation widens its view so the
    /// two pathways start different (the local pathway uses plain 3x3).
    pub global_kernel: i64,
    pub global_dilation: i64,
    pub fusion_channels: i64,
    pub fusion_stride: i64,
    /// Dropout2d before the classifier.
    pub dropout: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            num_classes: 7,
            image_size: 64,
            stem_channels: 32,
            stem_stride: 2,
            stem_pool: true,
            pathway_channels: 64,
            blocks_per_pathway: 2,
            global_kernel: 3,
            global_dilation: 2,
            fusion_channels: 128,
            fusion_stride: 2,
            dropout: 0.3,
        }
    }
}

/// Output side of a "same"-padded conv with this stride.
fn strided(size: i64, stride: i64) -> i64 {
    (size - 1) / stride + 1
}

impl Config {
    pub fn validate(&self) -> Result<()> {
        let positive = [
            self.num_classes,
            self.stem_channels,
            self.stem_stride,
            self.pathway_channels,
            self.blocks_per_pathway,
            self.global_dilation,
            self.fusion_channels,
            self.fusion_stride,
        ];
        if positive.iter().any(|&v| v < 1) {
            return Err(Error::Config(format!("EmotionNetV2: counts, widths and strides must be >= 1: {self:?}")));
        }
        if self.global_kernel < 1 || self.global_kernel % 2 == 0 {
            return Err(Error::Config(format!("EmotionNetV2: global_kernel must be odd, got {}", self.global_kernel)));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Config(format!("EmotionNetV2: dropout must be in [0,1), got {}", self.dropout)));
        }
        if self.pathway_size() < 1 {
            return Err(Error::Config(format!(
                "EmotionNetV2: image_size {} is too small for the stem and pooling",
                self.image_size
            )));
        }
        Ok(())
    }

    /// Side of the maps the pathways start from.
    pub fn stem_size(&self) -> i64 {
        let s = strided(self.image_size, self.stem_stride);
        if self.stem_pool {
            s / 2
        } else {
            s
        }
    }

    /// Side of the maps the pathway attention sees (the pathways max-pool by 2).
    pub fn pathway_size(&self) -> i64 {
        self.stem_size() / 2
    }

    /// Side of the maps the fusion attention sees.
    pub fn fusion_size(&self) -> i64 {
        strided(self.pathway_size(), self.fusion_stride)
    }
}

/// Residual blocks -> max-pool 2 -> self-attention.
#[derive(Debug)]
struct Pathway {
    blocks: Vec<ResidualBlock>,
    attn: SelfAttention,
}

impl Pathway {
    fn new(p: &nn::Path, cfg: &Config, kernel: i64, dilation: i64) -> Self {
        let c = cfg.pathway_channels;
        let blocks = (0..cfg.blocks_per_pathway)
            .map(|i| {
                let bp = p / "blocks" / i;
                if i == 0 {
                    ResidualBlock::with_first_conv(&bp, cfg.stem_channels, c, 1, kernel, dilation)
                } else {
                    ResidualBlock::new(&bp, c, c, 1)
                }
            })
            .collect();
        Self { blocks, attn: SelfAttention::new(&(p / "attn"), c) }
    }

    /// Features before the attention; split out so tests can check the attention in place.
    fn features(&self, xs: &Tensor, train: bool) -> Tensor {
        self.blocks.iter().fold(xs.shallow_clone(), |h, b| b.forward_t(&h, train)).max_pool2d_default(2)
    }

    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.attn.forward(&self.features(xs, train))
    }
}

#[derive(Debug)]
pub struct EmotionNetV2 {
    stem: ConvBnRelu,
    stem_pool: bool,
    local: Pathway,
    global: Pathway,
    /// Local queries over global keys/values, and the reverse.
    cross_local: SelfAttention,
    cross_global: SelfAttention,
    fusion_block: ResidualBlock,
    fusion_attn: SelfAttention,
    classifier: nn::Linear,
    dropout: f64,
}

impl EmotionNetV2 {
    pub fn new(p: &nn::Path, cfg: &Config) -> Result<Self> {
        cfg.validate()?;
        let c = cfg.pathway_channels;
        Ok(Self {
            stem: ConvBnRelu::new(&(p / "stem"), 3, cfg.stem_channels, 3, cfg.stem_stride, 1),
            stem_pool: cfg.stem_pool,
            local: Pathway::new(&(p / "local"), cfg, 3, 1),
            global: Pathway::new(&(p / "global"), cfg, cfg.global_kernel, cfg.global_dilation),
            cross_local: SelfAttention::new(&(p / "cross_local"), c),
            cross_global: SelfAttention::new(&(p / "cross_global"), c),
            fusion_block: ResidualBlock::new(&(p / "fusion" / "block"), 2 * c, cfg.fusion_channels, cfg.fusion_stride),
            fusion_attn: SelfAttention::new(&(p / "fusion" / "attn"), cfg.fusion_channels),
            classifier: nn::linear(p / "classifier", cfg.fusion_channels, cfg.num_classes, Default::default()),
            dropout: cfg.dropout,
        })
    }

    fn stem(&self, xs: &Tensor, train: bool) -> Tensor {
        let ys = self.stem.forward_t(xs, train);
        if self.stem_pool {
            ys.max_pool2d_default(2)
        } else {
            ys
        }
    }

    /// The fusion module's output before the classifier: `[N, fusion_channels]`.
    fn fuse(&self, local: &Tensor, global: &Tensor, train: bool) -> Tensor {
        Tensor::cat(&[local, global], 1)
            .apply_t(&self.fusion_block, train)
            .apply(&self.fusion_attn)
            .adaptive_avg_pool2d([1, 1])
            .feature_dropout(self.dropout, train)
            .flatten(1, -1)
    }
}

impl ModuleT for EmotionNetV2 {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let stem = self.stem(xs, train);
        let local = self.local.forward_t(&stem, train);
        let global = self.global.forward_t(&stem, train);
        // Both directions read the pre-cross features, so neither pathway gets to go first.
        let local_x = self.cross_local.attend(&local, &global);
        let global_x = self.cross_global.attend(&global, &local);
        self.fuse(&local_x, &global_x, train).apply(&self.classifier)
    }
}

/// One paragraph on the architecture, with the sizes that follow from `cfg`.
pub fn describe(cfg: &Config) -> String {
    let (s, ps, fs) = (cfg.image_size, cfg.pathway_size(), cfg.fusion_size());
    let c = cfg.pathway_channels;
    format!(
        "EmotionNetV2 ({s}x{s} input): a stem conv3x3/{st}-BN-ReLU (3->{sc}){pool} gives {ss}x{ss} maps to two \
         pathways, each {b} residual block(s) (conv-BN-ReLU-conv-BN plus shortcut) to {c} channels, max-pool 2 and SAGAN self-attention over \
         {ps}x{ps} positions; the local pathway uses 3x3 kernels, the global one opens with a {k}x{k} kernel at \
         dilation {dil}. Cross-pathway attention then lets local queries attend to global keys/values and vice versa. \
         The fusion module concatenates both ({c2} channels), applies a residual block (stride {fst}, {fc} channels), \
         self-attention over {fs}x{fs} positions, global average pooling and Dropout2d({d}); one linear layer maps \
         the {fc} features to {n} classes. Every attention output is scaled by a learnable gamma that starts at 0, so \
         the untrained network is a plain residual CNN that learns how much attention to use.",
        st = cfg.stem_stride,
        pool = if cfg.stem_pool { " and max-pool 2" } else { "" },
        ss = cfg.stem_size(),
        sc = cfg.stem_channels,
        b = cfg.blocks_per_pathway,
        k = cfg.global_kernel,
        dil = cfg.global_dilation,
        c2 = 2 * c,
        fst = cfg.fusion_stride,
        fc = cfg.fusion_channels,
        d = cfg.dropout,
        n = cfg.num_classes,
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testing::{assert_loss_drops, overfit_losses, param_count, small_face_batch};
    use tch::{Device, Kind};

    fn build(cfg: &Config) -> (nn::VarStore, EmotionNetV2) {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = EmotionNetV2::new(&vs.root(), cfg).unwrap();
        (vs, net)
    }

    /// Default config with `blocks` residual blocks per pathway, layer by layer. conv without bias: k*k*in*out; BN: 2*c; attention on c
    /// channels: query and key 1x1 convs to c/8 with bias, value 1x1 conv c->c with bias, gamma.
    pub(crate) fn expected_params(blocks: i64) -> i64 {
        let bn = |c: i64| 2 * c;
        let attn = |c: i64| 2 * (c * (c / 8) + c / 8) + (c * c + c) + 1;
        let stem = 3 * 3 * 3 * 32 + bn(32);
        // 32 -> 64: conv1 (3x3, dilated or not: same weight count), conv2, 1x1 projection
        let first_block = 3 * 3 * 32 * 64 + bn(64) + 3 * 3 * 64 * 64 + bn(64) + 32 * 64 + bn(64);
        // 64 -> 64 at stride 1: identity shortcut
        let later_block = 2 * (3 * 3 * 64 * 64 + bn(64));
        let pathways = 2 * (first_block + (blocks - 1) * later_block + attn(64));
        let cross = 2 * attn(64);
        // 128 -> 128 at stride 2: the stride alone forces the projection
        let fusion = 3 * 3 * 128 * 128 + bn(128) + 3 * 3 * 128 * 128 + bn(128) + 128 * 128 + bn(128) + attn(128);
        let classifier = 128 * 7 + 7;
        stem + pathways + cross + fusion + classifier
    }

    fn gammas(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
        let mut g: Vec<_> = vs.variables().into_iter().filter(|(name, _)| name.ends_with("gamma")).collect();
        g.sort_by(|a, b| a.0.cmp(&b.0));
        g
    }

    #[test]
    fn output_shapes() {
        let (_vs, net) = build(&Config::default());
        let (_vs2, unpooled) =
            build(&Config { stem_pool: false, global_kernel: 5, num_classes: 3, ..Default::default() });
        for size in [48, 64, 96] {
            let x = Tensor::rand([2, 3, size, size], (Kind::Float, Device::Cpu));
            assert_eq!(net.forward_t(&x, false).size(), [2, 7], "size {size}");
            assert_eq!(net.forward_t(&x, true).size(), [2, 7], "size {size}");
            assert_eq!(unpooled.forward_t(&x, true).size(), [2, 3], "size {size}");
        }
    }

    #[test]
    fn exact_parameter_count() {
        let (vs, _) = build(&Config::default());
        assert_eq!(param_count(&vs), expected_params(2));
        // The stem pool and the image size change no weight.
        let shallow = Config { blocks_per_pathway: 1, stem_pool: false, image_size: 96, ..Default::default() };
        let (vs1, _) = build(&shallow);
        assert_eq!(param_count(&vs1), expected_params(1));
    }

    #[test]
    fn gammas_start_at_zero_and_every_attention_is_the_identity() {
        let (vs, net) = build(&Config::default());
        let g = gammas(&vs);
        let names: Vec<&str> = g.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["cross_global.gamma", "cross_local.gamma", "fusion.attn.gamma", "global.attn.gamma", "local.attn.gamma"]
        );
        for (name, t) in &g {
            assert_eq!(t.double_value(&[0]), 0.0, "{name}");
        }
        // In place: the whole network equals the same network with every attention skipped.
        let x = Tensor::rand([3, 3, 48, 48], (Kind::Float, Device::Cpu));
        let with_attn = net.forward_t(&x, false);
        let stem = net.stem(&x, false);
        let (l, gl) = (net.local.features(&stem, false), net.global.features(&stem, false));
        let fused =
            Tensor::cat(&[l, gl], 1).apply_t(&net.fusion_block, false).adaptive_avg_pool2d([1, 1]).flatten(1, -1);
        assert!(with_attn.equal(&fused.apply(&net.classifier)));
        let y = Tensor::randn([2, 64, 5, 5], (Kind::Float, Device::Cpu));
        let z = Tensor::randn([2, 64, 5, 5], (Kind::Float, Device::Cpu));
        assert!(net.cross_local.attend(&y, &z).equal(&y));
    }

    #[test]
    fn gammas_are_trainable_and_get_gradients() {
        let (vs, net) = build(&Config::default());
        let x = Tensor::rand([4, 3, 48, 48], (Kind::Float, Device::Cpu));
        let y = Tensor::from_slice(&[0i64, 3, 5, 6]);
        net.forward_t(&x, true).cross_entropy_for_logits(&y).backward();
        for (name, g) in gammas(&vs) {
            assert!(g.requires_grad(), "{name}");
            let grad = g.grad();
            assert!(grad.defined() && grad.abs().double_value(&[0]) > 0.0, "{name} got no gradient");
        }
    }

    #[test]
    fn rejects_bad_configs() {
        let vs = nn::VarStore::new(Device::Cpu);
        for cfg in [
            Config { image_size: 2, ..Default::default() },
            Config { global_kernel: 4, ..Default::default() },
            Config { dropout: -0.1, ..Default::default() },
            Config { stem_stride: 0, ..Default::default() },
        ] {
            assert!(matches!(EmotionNetV2::new(&vs.root(), &cfg), Err(Error::Config(_))), "{cfg:?}");
        }
    }

    #[test]
    fn describe_gives_attention_sizes() {
        let text = describe(&Config::default());
        assert!(text.contains("8x8 positions") && text.contains("4x4 positions"), "{text}");
    }

    #[test]
    fn loss_drops_on_a_small_real_batch() {
        tch::manual_seed(2);
        let (xs, ys) = small_face_batch(2, 48);
        let (vs, net) = build(&Config { image_size: 48, ..Default::default() });
        let losses = overfit_losses(&vs, &net, &xs, &ys, 1e-3, 30);
        assert_loss_drops("EmotionNetV2", &losses, 0.3);
        let moved = gammas(&vs).iter().filter(|(_, g)| g.double_value(&[0]) != 0.0).count();
        assert_eq!(moved, 5, "every attention gamma should have left 0 during training");
    }
}
