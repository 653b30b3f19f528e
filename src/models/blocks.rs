//! Small building blocks shared by the EmotionNet models (V1-V3): conv-BN-ReLU, a ResNet-style
//! residual block, SAGAN self/cross attention, and CBAM channel and spatial attention.
//! Every block works on `[N,C,H,W]` feature maps.
use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

/// `nn::conv2d` without bias (a BatchNorm follows, whose shift makes a bias redundant) and with
/// "same" padding for odd kernels at stride 1, including dilated ones.
pub fn conv_no_bias(p: &nn::Path, c_in: i64, c_out: i64, kernel: i64, stride: i64, dilation: i64) -> nn::Conv2D {
    let cfg =
        nn::ConvConfig { stride, padding: dilation * (kernel - 1) / 2, dilation, bias: false, ..Default::default() };
    nn::conv2d(p, c_in, c_out, kernel, cfg)
}

/// BatchNorm with PyTorch's initialisation (scale 1, shift 0); tch's default draws the scale
/// from U(0,1), which would make a freshly built block behave unlike its PyTorch original.
pub fn batch_norm(p: &nn::Path, channels: i64) -> nn::BatchNorm {
    nn::batch_norm2d(p, channels, nn::BatchNormConfig { ws_init: nn::Init::Const(1.), ..Default::default() })
}

/// conv (no bias) -> BatchNorm -> ReLU.
#[derive(Debug)]
pub struct ConvBnRelu {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
}

impl ConvBnRelu {
    pub fn new(p: &nn::Path, c_in: i64, c_out: i64, kernel: i64, stride: i64, dilation: i64) -> Self {
        Self {
            conv: conv_no_bias(&(p / "conv"), c_in, c_out, kernel, stride, dilation),
            bn: batch_norm(&(p / "bn"), c_out),
        }
    }
}

impl ModuleT for ConvBnRelu {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.apply(&self.conv).apply_t(&self.bn, train).relu()
    }
}

/// ResNet basic block: conv-BN-ReLU-conv3x3-BN plus a shortcut, ReLU after the sum. The shortcut
/// is the identity unless the channel count or stride changes, then a 1x1 conv + BN projection.
/// The first conv may use a larger kernel or a dilation (EmotionNetV2's global pathway).
#[derive(Debug)]
pub struct ResidualBlock {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    conv2: nn::Conv2D,
    bn2: nn::BatchNorm,
    downsample: Option<(nn::Conv2D, nn::BatchNorm)>,
}

impl ResidualBlock {
    /// The plain 3x3 block.
    pub fn new(p: &nn::Path, c_in: i64, c_out: i64, stride: i64) -> Self {
        Self::with_first_conv(p, c_in, c_out, stride, 3, 1)
    }

    pub fn with_first_conv(p: &nn::Path, c_in: i64, c_out: i64, stride: i64, kernel: i64, dilation: i64) -> Self {
        let downsample = (stride != 1 || c_in != c_out).then(|| {
            let d = p / "downsample";
            (conv_no_bias(&(&d / "0"), c_in, c_out, 1, stride, 1), batch_norm(&(&d / "1"), c_out))
        });
        Self {
            conv1: conv_no_bias(&(p / "conv1"), c_in, c_out, kernel, stride, dilation),
            bn1: batch_norm(&(p / "bn1"), c_out),
            conv2: conv_no_bias(&(p / "conv2"), c_out, c_out, 3, 1, 1),
            bn2: batch_norm(&(p / "bn2"), c_out),
            downsample,
        }
    }
}

impl ModuleT for ResidualBlock {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let ys = xs.apply(&self.conv1).apply_t(&self.bn1, train).relu().apply(&self.conv2).apply_t(&self.bn2, train);
        let shortcut = match &self.downsample {
            Some((conv, bn)) => xs.apply(conv).apply_t(bn, train),
            None => xs.shallow_clone(),
        };
        (ys + shortcut).relu()
    }
}

/// SAGAN attention (Zhang et al. 2019). Queries come from `x`, keys and values from `context`:
/// `attn[i,j] = softmax_j(q_i . k_j)` over spatial positions, `out_i = sum_j attn[i,j] v_j`,
/// result `gamma * out + x`. With `context == x` this is self-attention; with the other
/// pathway's features it is EmotionNetV2's cross-pathway attention. `gamma` starts at 0, so a
/// new block is exactly the identity and the network learns how much attention to mix in.
/// Cost is O((HW)^2) per image: use it on downsampled maps.
#[derive(Debug)]
pub struct SelfAttention {
    query: nn::Conv2D,
    key: nn::Conv2D,
    value: nn::Conv2D,
    pub gamma: Tensor,
}

impl SelfAttention {
    pub fn new(p: &nn::Path, channels: i64) -> Self {
        Self::cross(p, channels, channels)
    }

    /// Attention of `channels`-channel queries over a `context_channels`-channel context.
    pub fn cross(p: &nn::Path, channels: i64, context_channels: i64) -> Self {
        let qk = Self::key_channels(channels);
        let c = nn::ConvConfig::default();
        Self {
            query: nn::conv2d(p / "query", channels, qk, 1, c),
            key: nn::conv2d(p / "key", context_channels, qk, 1, c),
            value: nn::conv2d(p / "value", context_channels, channels, 1, c),
            gamma: p.zeros("gamma", &[1]),
        }
    }

    /// Query/key width: C/8 as in SAGAN, at least 1.
    pub fn key_channels(channels: i64) -> i64 {
        (channels / 8).max(1)
    }

    pub fn attend(&self, xs: &Tensor, context: &Tensor) -> Tensor {
        let (n, c, h, w) = xs.size4().expect("SelfAttention input must be [N,C,H,W]");
        let (_, _, hc, wc) = context.size4().expect("SelfAttention context must be [N,C,H,W]");
        let q = xs.apply(&self.query).view([n, -1, h * w]).transpose(1, 2); // [N, HW, C/8]
        let k = context.apply(&self.key).view([n, -1, hc * wc]); // [N, C/8, M]
        let attn = q.bmm(&k).softmax(-1, xs.kind()); // [N, HW, M], rows sum to 1
        let v = context.apply(&self.value).view([n, c, hc * wc]); // [N, C, M]
        let out = v.bmm(&attn.transpose(1, 2)).view([n, c, h, w]);
        &self.gamma * out + xs
    }
}

impl Module for SelfAttention {
    fn forward(&self, xs: &Tensor) -> Tensor {
        self.attend(xs, xs)
    }
}

/// CBAM channel attention (Woo et al. 2018): average- and max-pooled channel descriptors go
/// through one shared bottleneck MLP (1x1 convs, no bias); `x * sigmoid(mlp(avg) + mlp(max))`.
#[derive(Debug)]
pub struct ChannelAttention {
    fc1: nn::Conv2D,
    fc2: nn::Conv2D,
}

impl ChannelAttention {
    pub fn new(p: &nn::Path, channels: i64, reduction: i64) -> Self {
        let hidden = Self::hidden_channels(channels, reduction);
        let c = nn::ConvConfig { bias: false, ..Default::default() };
        Self { fc1: nn::conv2d(p / "fc1", channels, hidden, 1, c), fc2: nn::conv2d(p / "fc2", hidden, channels, 1, c) }
    }

    pub fn hidden_channels(channels: i64, reduction: i64) -> i64 {
        (channels / reduction.max(1)).max(1)
    }

    fn mlp(&self, xs: &Tensor) -> Tensor {
        xs.apply(&self.fc1).relu().apply(&self.fc2)
    }
}

impl Module for ChannelAttention {
    fn forward(&self, xs: &Tensor) -> Tensor {
        let avg = xs.adaptive_avg_pool2d([1, 1]);
        let max = xs.amax([2, 3], true);
        xs * (self.mlp(&avg) + self.mlp(&max)).sigmoid()
    }
}

/// CBAM spatial attention: channel-wise mean and max maps -> k x k conv (no bias) -> sigmoid,
/// which scales every position of `x`.
#[derive(Debug)]
pub struct SpatialAttention {
    conv: nn::Conv2D,
}

impl SpatialAttention {
    pub fn new(p: &nn::Path, kernel: i64) -> Self {
        Self { conv: conv_no_bias(&(p / "conv"), 2, 1, kernel, 1, 1) }
    }
}

impl Module for SpatialAttention {
    fn forward(&self, xs: &Tensor) -> Tensor {
        let maps = Tensor::cat(&[xs.mean_dim(1, true, xs.kind()), xs.amax([1], true)], 1);
        xs * maps.apply(&self.conv).sigmoid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::param_count;
    use tch::{nn::VarStore, Device, Kind};

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    #[test]
    fn conv_bn_relu_keeps_size_at_stride_1_and_halves_at_stride_2() {
        let vs = VarStore::new(Device::Cpu);
        let same = ConvBnRelu::new(&(vs.root() / "a"), 3, 8, 5, 1, 2);
        let down = ConvBnRelu::new(&(vs.root() / "b"), 3, 8, 3, 2, 1);
        let x = Tensor::randn([2, 3, 12, 12], (Kind::Float, Device::Cpu));
        assert_eq!(same.forward_t(&x, true).size(), [2, 8, 12, 12]);
        let y = down.forward_t(&x, true);
        assert_eq!(y.size(), [2, 8, 6, 6]);
        assert!(y.min().double_value(&[]) >= 0.0, "ReLU output must be non-negative");
        // conv weights + BN scale and shift, no conv bias
        assert_eq!(param_count(&vs), (3 * 8 * 25 + 16) + (3 * 8 * 9 + 16));
    }

    #[test]
    fn residual_block_params_with_and_without_projection() {
        let vs = VarStore::new(Device::Cpu);
        let _same = ResidualBlock::new(&(vs.root() / "same"), 16, 16, 1);
        let plain = 16 * 16 * 9 + 32 + 16 * 16 * 9 + 32;
        assert_eq!(param_count(&vs), plain);
        let vs = VarStore::new(Device::Cpu);
        let _proj = ResidualBlock::with_first_conv(&vs.root(), 8, 16, 2, 5, 1);
        assert_eq!(param_count(&vs), 8 * 16 * 25 + 32 + 16 * 16 * 9 + 32 + 8 * 16 + 32);
    }

    #[test]
    fn residual_block_is_relu_of_shortcut_when_second_conv_is_zero() {
        // With conv2 = 0 and a fresh BN (scale 1, shift 0) the residual branch is exactly 0.
        let vs = VarStore::new(Device::Cpu);
        let block = ResidualBlock::new(&vs.root(), 4, 4, 1);
        tch::no_grad(|| {
            let _ = block.conv2.ws.shallow_clone().zero_();
        });
        let x = Tensor::randn([2, 4, 5, 5], (Kind::Float, Device::Cpu));
        assert!(max_diff(&block.forward_t(&x, true), &x.relu()) < 1e-6);
        let down = ResidualBlock::new(&(vs.root() / "down"), 4, 8, 2);
        assert_eq!(down.forward_t(&x, true).size(), [2, 8, 3, 3]);
    }

    #[test]
    fn attention_starts_as_identity_with_trainable_zero_gamma() {
        let vs = VarStore::new(Device::Cpu);
        let attn = SelfAttention::new(&vs.root(), 16);
        assert_eq!(attn.gamma.double_value(&[0]), 0.0);
        assert!(attn.gamma.requires_grad());
        let x = Tensor::randn([2, 16, 4, 5], (Kind::Float, Device::Cpu));
        assert!(attn.forward(&x).equal(&x), "gamma = 0 must give the input back exactly");
        // q, k: 16 -> 2 with bias; v: 16 -> 16 with bias; gamma
        assert_eq!(param_count(&vs), 2 * (16 * 2 + 2) + 16 * 16 + 16 + 1);
        attn.forward(&x).square().sum(Kind::Float).backward();
        assert!(attn.gamma.grad().abs().double_value(&[0]) > 0.0, "gamma must receive a gradient");
    }

    #[test]
    fn attention_matches_a_per_position_computation() {
        let vs = VarStore::new(Device::Cpu);
        let attn = SelfAttention::cross(&vs.root(), 8, 4);
        tch::no_grad(|| {
            let _ = attn.gamma.shallow_clone().fill_(0.7);
        });
        let x = Tensor::randn([1, 8, 2, 3], (Kind::Float, Device::Cpu));
        let ctx = Tensor::randn([1, 4, 2, 2], (Kind::Float, Device::Cpu));
        let got = tch::no_grad(|| attn.attend(&x, &ctx));
        // Reference: loop over query positions, softmax over the 4 context positions.
        let q = x.apply(&attn.query).view([1, -1]).view([1, 6]); // C/8 = 1 channel
        let k = ctx.apply(&attn.key).view([4]);
        let v = ctx.apply(&attn.value).view([8, 4]);
        let xf = x.view([8, 6]);
        for i in 0..6 {
            let qi = q.double_value(&[0, i]);
            let scores: Vec<f64> = (0..4).map(|j| qi * k.double_value(&[j])).collect();
            let m = scores.iter().cloned().fold(f64::MIN, f64::max);
            let z: f64 = scores.iter().map(|s| (s - m).exp()).sum();
            for c in 0..8 {
                let out: f64 = (0..4).map(|j| (scores[j as usize] - m).exp() / z * v.double_value(&[c, j])).sum();
                let want = 0.7 * out + xf.double_value(&[c, i]);
                let have = got.view([8, 6]).double_value(&[c, i]);
                assert!((want - have).abs() < 1e-4, "position {i} channel {c}: {have} vs {want}");
            }
        }
    }

    #[test]
    fn channel_attention_known_answer() {
        // Hidden width 1 and all-ones weights: every channel gets sigmoid(sum(avg) + sum(max)).
        let vs = VarStore::new(Device::Cpu);
        let ca = ChannelAttention::new(&vs.root(), 4, 4);
        assert_eq!(param_count(&vs), 4 + 4);
        tch::no_grad(|| {
            let _ = ca.fc1.ws.shallow_clone().fill_(1.0);
            let _ = ca.fc2.ws.shallow_clone().fill_(1.0);
        });
        let x = Tensor::rand([1, 4, 3, 3], (Kind::Float, Device::Cpu)); // positive, so ReLU passes
        let (avg_sum, max_sum) = (0..4).fold((0.0, 0.0), |(a, m), c| {
            let ch = x.get(0).get(c);
            (a + ch.mean(Kind::Float).double_value(&[]), m + ch.max().double_value(&[]))
        });
        let scale = 1.0 / (1.0 + (-(avg_sum + max_sum)).exp());
        assert!(max_diff(&ca.forward(&x), &(&x * scale)) < 1e-5);
    }

    #[test]
    fn spatial_attention_known_answer() {
        // Only the centre tap of the max map is 1: each position is scaled by sigmoid(max over channels).
        let vs = VarStore::new(Device::Cpu);
        let sa = SpatialAttention::new(&vs.root(), 7);
        assert_eq!(param_count(&vs), 2 * 49);
        tch::no_grad(|| {
            let mut w = sa.conv.ws.shallow_clone();
            let _ = w.zero_();
            let _ = w.get(0).get(1).get(3).get(3).fill_(1.0);
        });
        let x = Tensor::randn([2, 3, 5, 6], (Kind::Float, Device::Cpu));
        let want = &x * x.amax([1], true).sigmoid();
        assert!(max_diff(&sa.forward(&x), &want) < 1e-6);
    }
}
