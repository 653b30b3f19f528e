//! Which variables train, and at what rate. Freezing works on variable names (gradient
//! tracking on or off); rates work on the optimizer groups a model declared when it built its
//! variables ([`crate::models::groups`]).
use super::config::{LayerDecay, TrainConfig};
use crate::error::{Error, Result};
use crate::models::groups::{self, Groups};
use std::collections::HashSet;
use tch::nn;

/// Frozen-backbone warm-up and variables frozen for the whole run.
#[derive(Debug, Clone)]
pub struct Trainability {
    head_prefix: Option<String>,
    freeze_backbone_epochs: usize,
    frozen: Vec<String>,
}

impl Trainability {
    /// The policy of `cfg`; every prefix it names must name a trainable variable of `vs`.
    pub fn new(label: &str, cfg: &TrainConfig, vs: &nn::VarStore) -> Result<Self> {
        if cfg.freeze_backbone_epochs > 0 && cfg.head_prefix.is_none() {
            return Err(Error::Config(format!("{label}: freeze_backbone_epochs needs head_prefix")));
        }
        let names = |p: &str| set_trainable(vs, &[p.to_string()], true) > 0;
        if let Some(head) = cfg.head_prefix.as_deref().filter(|h| !names(h)) {
            return Err(Error::Config(format!("{label}: head_prefix: no trainable variable is named {head}*")));
        }
        if let Some(p) = cfg.frozen_prefixes.iter().find(|p| !names(p)) {
            return Err(Error::Config(format!("{label}: frozen_prefixes: no trainable variable is named {p}*")));
        }
        Ok(Trainability {
            head_prefix: cfg.head_prefix.clone(),
            freeze_backbone_epochs: cfg.freeze_backbone_epochs,
            frozen: cfg.frozen_prefixes.clone(),
        })
    }

    /// Set what trains in `epoch` (1-based); returns whether the backbone is frozen.
    pub fn begin_epoch(&self, vs: &nn::VarStore, epoch: usize) -> bool {
        let frozen = epoch <= self.freeze_backbone_epochs;
        if let Some(head) = &self.head_prefix {
            set_backbone_trainable(vs, head, !frozen);
        }
        // after the backbone: a frozen prefix wins over the head's re-enabling
        set_trainable(vs, &self.frozen, false);
        frozen
    }

    /// Hand the model back with every variable trainable.
    pub fn restore(&self, vs: &nn::VarStore) {
        if let Some(head) = &self.head_prefix {
            set_backbone_trainable(vs, head, true);
        }
        set_trainable(vs, &self.frozen, true);
    }
}

/// The learning rate of each optimizer group at a step.
#[derive(Debug, Clone)]
pub struct Rates {
    head_mult: Option<f64>,
    layer_decay: Option<(LayerDecay, usize)>,
}

impl Rates {
    /// Rates asked for by `cfg`, for a model built with `groups`.
    pub fn new(label: &str, cfg: &TrainConfig, groups: Groups) -> Result<Self> {
        if cfg.head_lr_mult.is_some() && !groups.head {
            return Err(Error::Config(format!("{label}: head_lr_mult: this model builds no separate head group")));
        }
        if cfg.layer_lr_decay.is_some() && groups.layers == 0 {
            return Err(Error::Config(format!("{label}: layer_lr_decay: this model builds no layer groups")));
        }
        Ok(Rates { head_mult: cfg.head_lr_mult, layer_decay: cfg.layer_lr_decay.clone().map(|d| (d, groups.layers)) })
    }

    /// Set every group's rate for base rate `lr`.
    pub fn apply(&self, opt: &mut super::adamw::AdamW, lr: f64) {
        opt.set_lr(lr);
        if let Some(mult) = self.head_mult {
            opt.set_lr_group(groups::HEAD, lr * mult);
        }
        if let Some((d, layers)) = &self.layer_decay {
            (0..*layers).for_each(|k| opt.set_lr_group(groups::layer(k), lr * d.mult(k, *layers)));
        }
    }
}

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

/// Number of scalar parameters that currently track gradients (i.e. will be trained).
pub fn params_requiring_grad(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables().iter().filter(|t| t.requires_grad()).map(|t| t.numel() as i64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::torchvision::{batch_norm, conv, torch_default_linear};
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
}
