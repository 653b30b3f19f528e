//! Layers as torchvision builds them (ResNet, MobileNetV2): its initialisations, so a network
//! from random init here starts like the same network in PyTorch.
use tch::nn::init::{FanInOut, NonLinearity, NormalOrUniform};
use tch::nn::{self, Init};

/// torchvision initialises convolutions with `kaiming_normal_(mode="fan_out", nonlinearity="relu")`.
pub(crate) const CONV_INIT: Init =
    Init::Kaiming { dist: NormalOrUniform::Normal, fan: FanInOut::FanOut, non_linearity: NonLinearity::ReLU };

/// A bias-free convolution as torchvision builds them (every conv here is followed by BN).
pub(crate) fn conv(p: nn::Path, c_in: i64, c_out: i64, kernel: i64, stride: i64, groups: i64) -> nn::Conv2D {
    let cfg =
        nn::ConvConfig { stride, padding: kernel / 2, groups, bias: false, ws_init: CONV_INIT, ..Default::default() };
    nn::conv2d(p, c_in, c_out, kernel, cfg)
}

/// BatchNorm2d with PyTorch's defaults (eps 1e-5, momentum 0.1) and torchvision's init
/// (weight 1, bias 0); tch's default would draw the weight uniformly from [0, 1].
pub(crate) fn batch_norm(p: nn::Path, channels: i64) -> nn::BatchNorm {
    let cfg = nn::BatchNormConfig { ws_init: Init::Const(1.0), bs_init: Init::Const(0.0), ..Default::default() };
    nn::batch_norm2d(p, channels, cfg)
}

/// `nn.Linear`'s default init in PyTorch: weight and bias uniform in ±1/sqrt(fan_in).
pub(crate) fn torch_default_linear(p: nn::Path, c_in: i64, c_out: i64) -> nn::Linear {
    let bound = 1.0 / (c_in as f64).sqrt();
    let init = Init::Uniform { lo: -bound, up: bound };
    nn::linear(p, c_in, c_out, nn::LinearConfig { ws_init: init, bs_init: Some(init), bias: true })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn inits_follow_torchvision() {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        let bn = batch_norm(&root / "bn", 8);
        assert_eq!(bn.ws.as_ref().unwrap().min().double_value(&[]), 1.0);
        assert_eq!(bn.bs.as_ref().unwrap().abs().max().double_value(&[]), 0.0);
        // fan_out = 64 * 3 * 3, std = sqrt(2 / fan_out)
        let c = conv(&root / "c", 64, 64, 3, 1, 1);
        let std = c.ws.std(true).double_value(&[]);
        let want = (2.0f64 / 576.0).sqrt();
        assert!((std / want - 1.0).abs() < 0.03, "conv std {std} vs {want}");
        assert!(c.bs.is_none());
        let fc = torch_default_linear(&root / "fc", 100, 50);
        assert!(fc.ws.abs().max().double_value(&[]) <= 0.1);
        assert!(fc.ws.abs().max().double_value(&[]) > 0.09);
    }
}
