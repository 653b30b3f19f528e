//! EmotionNetV1 (slides 8-10): a local pathway of small 3x3 kernels and a global pathway of one
//! large kernel look at the same image side by side; their maps are concatenated, flattened and
//! classified by a wide fully connected head. Because the flatten size grows with the image area,
//! almost all parameters sit in the first linear layer: a simple model with very many parameters,
//! which overfits (slide 11). There is deliberately no BatchNorm; V2 adds the regularisation.
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub num_classes: i64,
    /// Square input side. The classifier's input size depends on it, so inputs must match.
    pub image_size: i64,
    /// Output channels of the two 3x3 convs of the local pathway.
    pub local_widths: [i64; 2],
    pub global_width: i64,
    /// Kernel of the global pathway's single conv (odd).
    pub global_kernel: i64,
    pub hidden: i64,
    pub dropout: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            num_classes: 7,
            image_size: 64,
            local_widths: [32, 32],
            global_width: 32,
            global_kernel: 7,
            hidden: 512,
            dropout: 0.5,
        }
    }
}

impl Config {
    pub fn validate(&self) -> Result<()> {
        let positive = [self.num_classes, self.local_widths[0], self.local_widths[1], self.global_width, self.hidden];
        if positive.iter().any(|&v| v < 1) {
            return Err(Error::Config(format!("EmotionNetV1: classes, widths and hidden must be >= 1: {self:?}")));
        }
        if self.image_size < 2 {
            return Err(Error::Config(format!(
                "EmotionNetV1: image_size {} is below 2 (the pathways pool by 2)",
                self.image_size
            )));
        }
        if self.global_kernel < 1 || self.global_kernel % 2 == 0 {
            return Err(Error::Config(format!("EmotionNetV1: global_kernel must be odd, got {}", self.global_kernel)));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Config(format!("EmotionNetV1: dropout must be in [0,1), got {}", self.dropout)));
        }
        Ok(())
    }

    /// Side of the concatenated map: both pathways keep the size, then max-pool by 2.
    pub fn pooled_size(&self) -> i64 {
        self.image_size / 2
    }

    /// Number of features entering the classifier.
    pub fn flat_features(&self) -> i64 {
        (self.local_widths[1] + self.global_width) * self.pooled_size() * self.pooled_size()
    }
}

#[derive(Debug)]
pub struct EmotionNetV1 {
    local1: nn::Conv2D,
    local2: nn::Conv2D,
    global: nn::Conv2D,
    fc1: nn::Linear,
    fc2: nn::Linear,
    image_size: i64,
    dropout: f64,
}

impl EmotionNetV1 {
    pub fn new(p: &nn::Path, cfg: &Config) -> Result<Self> {
        cfg.validate()?;
        let conv = |p: nn::Path, c_in, c_out, k: i64| {
            nn::conv2d(p, c_in, c_out, k, nn::ConvConfig { padding: k / 2, ..Default::default() })
        };
        let [l1, l2] = cfg.local_widths;
        Ok(Self {
            local1: conv(p / "local" / "conv1", 3, l1, 3),
            local2: conv(p / "local" / "conv2", l1, l2, 3),
            global: conv(p / "global" / "conv", 3, cfg.global_width, cfg.global_kernel),
            fc1: nn::linear(p / "classifier" / "fc1", cfg.flat_features(), cfg.hidden, Default::default()),
            fc2: nn::linear(p / "classifier" / "fc2", cfg.hidden, cfg.num_classes, Default::default()),
            image_size: cfg.image_size,
            dropout: cfg.dropout,
        })
    }
}

impl ModuleT for EmotionNetV1 {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let (_, _, h, w) = xs.size4().expect("EmotionNetV1 input must be [N,3,H,W]");
        assert!(
            h == self.image_size && w == self.image_size,
            "EmotionNetV1 was built for {s}x{s} images (its classifier size depends on it), got {h}x{w}",
            s = self.image_size
        );
        let local = xs.apply(&self.local1).relu().apply(&self.local2).relu().max_pool2d_default(2);
        let global = xs.apply(&self.global).relu().max_pool2d_default(2);
        Tensor::cat(&[local, global], 1)
            .flatten(1, -1)
            .apply(&self.fc1)
            .relu()
            .dropout(self.dropout, train)
            .apply(&self.fc2)
    }
}

/// One paragraph on the architecture, with the sizes that follow from `cfg`.
pub fn describe(cfg: &Config) -> String {
    let [l1, l2] = cfg.local_widths;
    let (s, p, k) = (cfg.image_size, cfg.pooled_size(), cfg.global_kernel);
    let flat = cfg.flat_features();
    format!(
        "EmotionNetV1 ({s}x{s} input): a local pathway (conv3x3 3->{l1}, ReLU, conv3x3 {l1}->{l2}, ReLU, max-pool 2) \
         and a global pathway (conv{k}x{k} 3->{g}, ReLU, max-pool 2) read the image in parallel; their {p}x{p} maps are \
         concatenated to {c} channels and flattened to {flat} features, which a fully connected classifier maps through \
         {hidden} hidden units (ReLU, dropout {d}) to {n} classes. The first linear layer alone has {fc1} weights, so the \
         model size grows with the image area; there is no normalisation layer.",
        g = cfg.global_width,
        c = l2 + cfg.global_width,
        hidden = cfg.hidden,
        d = cfg.dropout,
        n = cfg.num_classes,
        fc1 = flat * cfg.hidden + cfg.hidden,
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testing::{assert_loss_drops, overfit_losses, param_count, small_face_batch};
    use tch::{Device, Kind};

    fn build(size: i64) -> (nn::VarStore, EmotionNetV1) {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = EmotionNetV1::new(&vs.root(), &Config { image_size: size, ..Default::default() }).unwrap();
        (vs, net)
    }

    /// Default config, written out layer by layer: conv = k*k*c_in*c_out + c_out, linear = in*out + out.
    pub(crate) fn expected_params(size: i64) -> i64 {
        let local = (3 * 3 * 3 * 32 + 32) + (3 * 3 * 32 * 32 + 32);
        let global = 7 * 7 * 3 * 32 + 32;
        let flat = (32 + 32) * (size / 2) * (size / 2);
        local + global + (flat * 512 + 512) + (512 * 7 + 7)
    }

    #[test]
    fn output_shapes() {
        for size in [48, 64, 96] {
            let (_vs, net) = build(size);
            let x = Tensor::rand([2, 3, size, size], (Kind::Float, Device::Cpu));
            assert_eq!(net.forward_t(&x, false).size(), [2, 7], "size {size}");
        }
    }

    #[test]
    fn exact_parameter_count() {
        for size in [48, 64] {
            let (vs, _) = build(size);
            assert_eq!(param_count(&vs), expected_params(size), "size {size}");
        }
        assert_eq!(expected_params(64), 33_573_415); // tens of millions at 64 px: the point of slide 10
    }

    #[test]
    fn rejects_bad_configs() {
        let vs = nn::VarStore::new(Device::Cpu);
        for cfg in [
            Config { image_size: 1, ..Default::default() },
            Config { global_kernel: 6, ..Default::default() },
            Config { dropout: 1.0, ..Default::default() },
            Config { hidden: 0, ..Default::default() },
        ] {
            assert!(matches!(EmotionNetV1::new(&vs.root(), &cfg), Err(Error::Config(_))), "{cfg:?}");
        }
    }

    #[test]
    #[should_panic(expected = "built for 48x48")]
    fn wrong_image_size_panics_with_a_clear_message() {
        let (_vs, net) = build(48);
        let _ = net.forward_t(&Tensor::zeros([1, 3, 64, 64], (Kind::Float, Device::Cpu)), false);
    }

    #[test]
    fn describe_mentions_the_flatten_size() {
        let text = describe(&Config::default());
        assert!(text.contains("65536 features"), "{text}");
    }

    #[test]
    fn loss_drops_on_a_small_real_batch() {
        tch::manual_seed(1);
        let (xs, ys) = small_face_batch(2, 48);
        let (vs, net) = build(48);
        let losses = overfit_losses(&vs, &net, &xs, &ys, 1e-4, 30);
        assert_loss_drops("EmotionNetV1", &losses, 0.3);
    }
}
