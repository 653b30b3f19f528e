//! Shared pieces of the torchvision-compatible backbones (ResNet, MobileNetV2): torchvision's
//! layer initialisations, and freezing the backbone while a new head warms up.
//!
//! Typical transfer set-up, with `HEAD_PREFIX` from the model's file:
//! ```ignore
//! let mut vs = nn::VarStore::new(device);
//! let net = resnet::ResNet::new(&vs.root(), &resnet::Config::resnet18(7));
//! crate::models::weights::load_strict(&mut vs, &imagenet_path, &[resnet::HEAD_PREFIX])?; // new 7-class head
//! set_backbone_trainable(&vs, resnet::HEAD_PREFIX, false); // warm the head up first
//! ```
use std::collections::HashSet;
use tch::nn::init::{FanInOut, NonLinearity, NormalOrUniform};
use tch::nn::{self, Init};

/// Turn gradient tracking of every trainable variable whose name does NOT start with
/// `head_prefix` on or off. BN running statistics are buffers, never trainable, and are left
/// alone. Returns how many variables were changed.
///
/// Frozen variables get no gradient, and tch's optimizers skip variables without one, so an
/// optimizer built over the whole VarStore can be kept across the warm-up. Note that in
/// `train` mode BN layers of a frozen backbone still normalise with batch statistics and
/// update their running averages; run the backbone with `train=false` if that is not wanted.
pub fn set_backbone_trainable(vs: &nn::VarStore, head_prefix: &str, trainable: bool) -> usize {
    set_requires_grad_where(vs, |name| !name.starts_with(head_prefix), trainable)
}

/// Turn gradient tracking on or off for every trainable variable whose name starts with one of
/// `prefixes`. Returns how many variables matched.
pub fn set_trainable(vs: &nn::VarStore, prefixes: &[String], trainable: bool) -> usize {
    if prefixes.is_empty() {
        return 0;
    }
    set_requires_grad_where(vs, |name| prefixes.iter().any(|p| name.starts_with(p.as_str())), trainable)
}

/// Set gradient tracking of the trainable variables whose name passes `pick`; returns how many.
fn set_requires_grad_where(vs: &nn::VarStore, pick: impl Fn(&str) -> bool, trainable: bool) -> usize {
    // `variables()` also lists buffers; the trainable set is the one tch's optimizers see.
    let trainable_ptrs: HashSet<usize> = vs.trainable_variables().iter().map(|t| t.data_ptr() as usize).collect();
    let mut changed = 0;
    for (name, var) in vs.variables() {
        if pick(&name) && trainable_ptrs.contains(&(var.data_ptr() as usize)) {
            let _ = var.set_requires_grad(trainable);
            changed += 1;
        }
    }
    changed
}

/// The optimizer parameter group [`move_head_to_group`] puts the head in.
pub const HEAD_GROUP: usize = 1;

/// Put the trainable variables named `head_prefix*` into [`HEAD_GROUP`] so an optimizer built
/// afterwards can give the new head its own learning rate. Returns how many were moved.
pub fn move_head_to_group(vs: &nn::VarStore, head_prefix: &str) -> usize {
    move_to_group(vs, head_prefix, HEAD_GROUP)
}

/// Put the trainable variables named `prefix*` into optimizer parameter group `group` (build
/// the optimizer afterwards). Returns how many were moved.
pub fn move_to_group(vs: &nn::VarStore, prefix: &str, group: usize) -> usize {
    let named: HashSet<usize> =
        vs.variables().iter().filter(|(n, _)| n.starts_with(prefix)).map(|(_, t)| t.data_ptr() as usize).collect();
    let mut vars = vs.variables_.lock().unwrap_or_else(|e| e.into_inner());
    let mut moved = 0;
    for v in vars.trainable_variables.iter_mut().filter(|v| named.contains(&(v.tensor.data_ptr() as usize))) {
        v.group = group;
        moved += 1;
    }
    moved
}

/// Number of scalar parameters that currently track gradients (i.e. will be trained).
pub fn params_requiring_grad(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables().iter().filter(|t| t.requires_grad()).map(|t| t.numel() as i64).sum()
}

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
    use tch::{nn::ModuleT, Device, Kind, Tensor};

    /// A two-layer net whose "backbone" has a BN layer, so buffers are present too.
    fn tiny(vs: &nn::VarStore) -> (nn::Conv2D, nn::BatchNorm, nn::Linear) {
        let root = vs.root();
        (conv(&root / "body", 3, 4, 3, 1, 1), batch_norm(&root / "bn", 4), torch_default_linear(&root / "head", 4, 2))
    }

    #[test]
    fn freezing_leaves_head_and_buffers_alone_and_stops_backbone_gradients() {
        let vs = nn::VarStore::new(Device::Cpu);
        let (c, bn, fc) = tiny(&vs);
        let total = crate::testing::param_count(&vs);
        assert_eq!(total, 3 * 4 * 9 + 4 + 4 + 4 * 2 + 2);
        assert_eq!(params_requiring_grad(&vs), total);

        // body.weight, bn.weight, bn.bias; not head.*, not bn.running_*.
        assert_eq!(set_backbone_trainable(&vs, "head.", false), 3);
        assert_eq!(params_requiring_grad(&vs), 4 * 2 + 2);
        for (name, t) in vs.variables() {
            assert!(!name.starts_with("bn.running") || !t.requires_grad(), "{name} became trainable");
        }

        let x = Tensor::randn([2, 3, 5, 5], (Kind::Float, Device::Cpu));
        let y = fc.forward_t(
            &bn.forward_t(&c.forward_t(&x, true), true).mean_dim([2i64, 3].as_slice(), false, Kind::Float),
            true,
        );
        y.sum(Kind::Float).backward();
        assert!(!c.ws.grad().defined(), "frozen conv got a gradient");
        assert!(fc.ws.grad().defined(), "head got no gradient");

        assert_eq!(set_backbone_trainable(&vs, "head.", true), 3);
        assert_eq!(params_requiring_grad(&vs), total);
        for (name, t) in vs.variables() {
            assert_eq!(t.requires_grad(), !name.contains("running"), "{name}");
        }
    }

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
