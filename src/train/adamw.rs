//! AdamW with its state in our hands. libtorch's optimizer (behind tch's `nn::Optimizer`) keeps
//! the moments and step counts where they cannot be read or restored, so a run could not resume
//! exactly; this one holds them as named tensors that a resume snapshot saves and loads. The
//! update is libtorch's AdamW (decoupled weight decay, bias correction, per-parameter step
//! counts starting at a parameter's first gradient), and a test checks it against tch's.
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use tch::{nn, Kind, Tensor};

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

struct Param {
    name: String,
    tensor: Tensor,
    group: usize,
    /// None until the first gradient.
    state: Option<Moments>,
}

struct Moments {
    m: Tensor,
    v: Tensor,
    steps: i64,
    /// Scratch for the update's denominator: the step allocates nothing (fresh allocations of
    /// large tensors cost page faults on every step).
    denom: Tensor,
}

impl Moments {
    fn zeros_like(t: &Tensor) -> Self {
        Moments { m: t.zeros_like(), v: t.zeros_like(), steps: 0, denom: t.zeros_like() }
    }
}

pub struct AdamW {
    params: Vec<Param>,
    weight_decay: f64,
    /// Learning rate per group; `default_lr` for groups never set.
    lrs: BTreeMap<usize, f64>,
    default_lr: f64,
}

impl AdamW {
    /// Over every trainable variable of `vs`, in the group it was created in.
    pub fn new(vs: &nn::VarStore, lr: f64, weight_decay: f64) -> Self {
        // tch exposes a variable's group only through the store's variable table
        let vars = vs.variables_.lock().unwrap_or_else(|p| p.into_inner());
        let names: BTreeMap<usize, String> =
            vars.named_variables.iter().map(|(n, t)| (t.data_ptr() as usize, n.clone())).collect();
        let params = vars
            .trainable_variables
            .iter()
            .map(|v| Param {
                name: names.get(&(v.tensor.data_ptr() as usize)).cloned().unwrap_or_default(),
                tensor: v.tensor.shallow_clone(),
                group: v.group,
                state: None,
            })
            .collect();
        AdamW { params, weight_decay, lrs: BTreeMap::new(), default_lr: lr }
    }

    /// The rate of every group.
    pub fn set_lr(&mut self, lr: f64) {
        self.lrs.clear();
        self.default_lr = lr;
    }

    pub fn set_lr_group(&mut self, group: usize, lr: f64) {
        self.lrs.insert(group, lr);
    }

    fn lr(&self, group: usize) -> f64 {
        *self.lrs.get(&group).unwrap_or(&self.default_lr)
    }

    pub fn zero_grad(&self) {
        for p in &self.params {
            let mut t = p.tensor.shallow_clone();
            t.zero_grad();
        }
    }

    /// Scale all gradients so their joint L2 norm is at most `max` (as torch's clip_grad_norm_).
    pub fn clip_grad_norm(&self, max: f64) {
        tch::no_grad(|| {
            let grads: Vec<Tensor> = self.params.iter().map(|p| p.tensor.grad()).filter(|g| g.defined()).collect();
            if grads.is_empty() {
                return;
            }
            let norms: Vec<Tensor> = grads.iter().map(|g| g.norm()).collect();
            let total = Tensor::stack(&norms, 0).norm().double_value(&[]);
            let coef = max / (total + 1e-6);
            if coef < 1.0 {
                for mut g in grads {
                    let _ = g.g_mul_scalar_(coef);
                }
            }
        })
    }

    /// One update of every parameter that has a gradient, in place.
    pub fn step(&mut self) {
        let wd = self.weight_decay;
        let lrs: Vec<f64> = self.params.iter().map(|p| self.lr(p.group)).collect();
        tch::no_grad(|| {
            for (p, lr) in self.params.iter_mut().zip(lrs) {
                let grad = p.tensor.grad();
                if !grad.defined() {
                    continue;
                }
                let s = p.state.get_or_insert_with(|| Moments::zeros_like(&p.tensor));
                s.steps += 1;
                if wd != 0.0 {
                    let _ = p.tensor.g_mul_scalar_(1.0 - lr * wd);
                }
                let bias1 = 1.0 - BETA1.powi(s.steps as i32);
                let bias2 = 1.0 - BETA2.powi(s.steps as i32);
                // m = b1 m + (1 - b1) g
                let _ = s.m.lerp_(&grad, 1.0 - BETA1);
                // v = b2 v + (1 - b2) g^2, with addcmul_'s fixed factor of 1
                let _ = s.v.g_mul_scalar_(BETA2 / (1.0 - BETA2));
                let _ = s.v.addcmul_(&grad, &grad);
                let _ = s.v.g_mul_scalar_(1.0 - BETA2);
                // p -= lr / bias1 * m / (sqrt(v / bias2) + eps)
                let _ = s.v.sqrt_out(&s.denom);
                let _ = s.denom.g_mul_scalar_(1.0 / bias2.sqrt());
                let _ = s.denom.g_add_scalar_(EPS);
                let _ = s.denom.g_mul_scalar_(-bias1 / lr);
                let _ = p.tensor.addcdiv_(&s.m, &s.denom);
            }
        })
    }

    /// The moments and step counts as named tensors (`m.<var>`, `v.<var>`, `steps.<var>`), for a
    /// snapshot.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for p in &self.params {
            if let Some(s) = &p.state {
                out.push((format!("m.{}", p.name), s.m.shallow_clone()));
                out.push((format!("v.{}", p.name), s.v.shallow_clone()));
                out.push((format!("steps.{}", p.name), Tensor::from_slice(&[s.steps])));
            }
        }
        out
    }

    /// Take back what [`AdamW::state`] gave (read from `file`, named in errors).
    pub fn load_state(&mut self, tensors: &BTreeMap<String, Tensor>, file: &std::path::Path) -> Result<()> {
        let device = self.params.first().map(|p| p.tensor.device());
        for p in &mut self.params {
            let get = |prefix: &str| tensors.get(&format!("{prefix}.{}", p.name));
            p.state = match (get("m"), get("v"), get("steps")) {
                (Some(m), Some(v), Some(s)) if m.size() == p.tensor.size() && v.size() == p.tensor.size() => {
                    let to = |t: &Tensor| t.to_kind(p.tensor.kind()).to_device(device.unwrap_or(tch::Device::Cpu));
                    let steps = s.to_kind(Kind::Int64).int64_value(&[0]);
                    Some(Moments { m: to(m), v: to(v), steps, denom: p.tensor.zeros_like() })
                }
                (None, None, None) => None,
                _ => return Err(Error::weights(file, format!("optimizer state of `{}` is incomplete", p.name))),
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn::Module, nn::OptimizerConfig, Device};

    fn net(vs: &nn::VarStore) -> nn::Sequential {
        let root = vs.root();
        nn::seq().add(nn::linear(&root / "a", 5, 8, Default::default())).add_fn(|x| x.relu()).add(nn::linear(
            root.set_group(1) / "b",
            8,
            3,
            Default::default(),
        ))
    }

    /// Values that depend on nothing global (tests share torch's generator across threads).
    fn wave(shape: &[i64], phase: f64) -> Tensor {
        let n: i64 = shape.iter().product();
        ((Tensor::arange(n, (Kind::Float, Device::Cpu)) * 0.37 + phase).sin() * 0.5).view(shape)
    }

    fn train(steps: usize, ours: bool) -> Vec<f64> {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = net(&vs);
        tch::no_grad(|| {
            for (k, (_, mut var)) in vs.variables().into_iter().collect::<BTreeMap<_, _>>().into_iter().enumerate() {
                var.copy_(&wave(&var.size(), k as f64));
            }
        });
        let x = wave(&[16, 5], 0.5);
        let y = Tensor::from_slice(&[0i64, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
        let mut mine = AdamW::new(&vs, 0.01, 0.05);
        let mut theirs =
            nn::AdamW { beta1: BETA1, beta2: BETA2, wd: 0.05, eps: EPS, amsgrad: false }.build(&vs, 0.01).unwrap();
        let mut losses = Vec::new();
        for i in 0..steps {
            // the group rates change as a schedule would
            let (lr, head) = (0.01 / (1 + i) as f64, 0.05 / (1 + i) as f64);
            let loss = model.forward(&x).cross_entropy_for_logits(&y);
            losses.push(loss.double_value(&[]));
            if ours {
                mine.set_lr(lr);
                mine.set_lr_group(1, head);
                mine.zero_grad();
                loss.backward();
                mine.clip_grad_norm(0.5);
                mine.step();
            } else {
                theirs.set_lr(lr);
                theirs.set_lr_group(1, head);
                theirs.zero_grad();
                loss.backward();
                theirs.clip_grad_norm(0.5);
                theirs.step();
            }
        }
        losses
    }

    #[test]
    fn matches_libtorch_adamw_with_groups_decay_and_clipping() {
        let (ours, theirs) = (train(12, true), train(12, false));
        for (a, b) in ours.iter().zip(&theirs) {
            assert!((a - b).abs() < 1e-5, "ours {ours:?}\nlibtorch {theirs:?}");
        }
        assert!(ours[11] < ours[0] - 0.05, "the loss fell: {ours:?}");
    }

    #[test]
    fn state_round_trips_and_an_incomplete_state_is_an_error() {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = net(&vs);
        let mut opt = AdamW::new(&vs, 0.01, 0.0);
        let x = wave(&[4, 5], 0.0);
        opt.zero_grad();
        model.forward(&x).sum(Kind::Float).backward();
        opt.step();
        let saved: BTreeMap<String, Tensor> = opt.state().into_iter().collect();
        assert_eq!(saved.len(), 4 * 3, "m, v and steps of 4 variables");
        let mut fresh = AdamW::new(&vs, 0.01, 0.0);
        fresh.load_state(&saved, std::path::Path::new("s")).unwrap();
        let again: BTreeMap<String, Tensor> = fresh.state().into_iter().collect();
        for (k, t) in &saved {
            assert!(t.equal(&again[k]), "{k}");
        }
        let partial: BTreeMap<String, Tensor> =
            saved.iter().filter(|(k, _)| !k.starts_with("v.a.")).map(|(k, t)| (k.clone(), t.shallow_clone())).collect();
        let err = AdamW::new(&vs, 0.01, 0.0).load_state(&partial, std::path::Path::new("state.safetensors"));
        let msg = err.unwrap_err().to_string();
        assert!(msg.contains("state.safetensors") && msg.contains("a."), "{msg}");
    }
}
