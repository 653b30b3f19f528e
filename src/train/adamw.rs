//! AdamW with its state in our hands. libtorch's optimizer (behind tch's `nn::Optimizer`) keeps
//! the moments and step counts where they cannot be read or restored, so a run could not resume
//! exactly; this one holds them as named tensors that a resume snapshot saves and loads. The
//! update is libtorch's fused AdamW kernel (`torch.optim.AdamW(fused=True)`: decoupled weight
//! decay, bias correction, per-parameter step counts starting at a parameter's first gradient),
//! reached through `csrc/fused_adamw.cpp`, and a test checks it against tch's AdamW.
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use tch::{nn, Kind, Tensor};

extern "C" {
    #[allow(clippy::too_many_arguments)]
    fn affect_fused_adamw(
        params: *const *const c_void,
        grads: *const *const c_void,
        exp_avgs: *const *const c_void,
        exp_avg_sqs: *const *const c_void,
        steps: *const *const c_void,
        n: c_int,
        lr: f64,
        beta1: f64,
        beta2: f64,
        weight_decay: f64,
        eps: f64,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
}

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
    /// Updates so far, as the float scalar tensor the fused kernel reads.
    steps: Tensor,
}

impl Moments {
    fn new(m: Tensor, v: Tensor, steps: i64) -> Self {
        let steps = Tensor::from_slice(&[steps as f32]).squeeze().to_device(m.device());
        Moments { m, v, steps }
    }
    fn zeros_like(t: &Tensor) -> Self {
        Moments::new(t.zeros_like(), t.zeros_like(), 0)
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

    /// One update of every parameter that has a gradient, in place: one fused call per group.
    pub fn step(&mut self) {
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (k, p) in self.params.iter().enumerate() {
            groups.entry(p.group).or_default().push(k);
        }
        for (group, members) in groups {
            let lr = self.lr(group);
            self.step_group(&members, lr);
        }
    }

    fn step_group(&mut self, members: &[usize], lr: f64) {
        tch::no_grad(|| {
            let ptr = |t: &Tensor| t.as_ptr() as *const c_void;
            // the gradients are handles of their own: they stay alive here until the call returns
            let mut grads = Vec::new();
            let (mut params, mut exp_avgs, mut exp_avg_sqs, mut steps) = (vec![], vec![], vec![], vec![]);
            for &k in members {
                let p = &mut self.params[k];
                let grad = p.tensor.grad();
                if !grad.defined() {
                    continue;
                }
                let s = p.state.get_or_insert_with(|| Moments::zeros_like(&p.tensor));
                let _ = s.steps.g_add_scalar_(1.0);
                params.push(ptr(&p.tensor));
                exp_avgs.push(ptr(&s.m));
                exp_avg_sqs.push(ptr(&s.v));
                steps.push(ptr(&s.steps));
                grads.push(grad);
            }
            if grads.is_empty() {
                return;
            }
            let grad_ptrs: Vec<*const c_void> = grads.iter().map(ptr).collect();
            let mut err = [0 as c_char; 512];
            // SAFETY: every pointer is a live at::Tensor owned by `self.params` or `grads` for the
            // whole call, the five lists have `grads.len()` entries, and `err` is writable.
            let status = unsafe {
                affect_fused_adamw(
                    params.as_ptr(),
                    grad_ptrs.as_ptr(),
                    exp_avgs.as_ptr(),
                    exp_avg_sqs.as_ptr(),
                    steps.as_ptr(),
                    grads.len() as c_int,
                    lr,
                    BETA1,
                    BETA2,
                    self.weight_decay,
                    EPS,
                    err.as_mut_ptr(),
                    err.len(),
                )
            };
            if status != 0 {
                // SAFETY: the shim wrote a NUL-terminated message into `err`.
                let msg = unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy();
                panic!("libtorch's fused AdamW failed: {msg}");
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
                out.push((format!("steps.{}", p.name), Tensor::from_slice(&[s.steps.int64_value(&[])])));
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
                    Some(Moments::new(to(m), to(v), steps))
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

    /// A conv layer fed channels-last input (as every conv net trains): autograd hands its
    /// gradient over in the parameter's own layout, and the update matches libtorch's AdamW.
    #[test]
    fn matches_libtorch_adamw_on_a_conv_fed_channels_last_input() {
        let run = |ours: bool| {
            let vs = nn::VarStore::new(Device::Cpu);
            let conv = nn::conv2d(vs.root() / "c", 3, 4, 3, Default::default());
            tch::no_grad(|| {
                for (k, (_, mut var)) in vs.variables().into_iter().collect::<BTreeMap<_, _>>().into_iter().enumerate()
                {
                    var.copy_(&wave(&var.size(), k as f64));
                }
            });
            let x = crate::numerics::channels_last(&wave(&[2, 3, 6, 6], 0.3));
            let mut mine = AdamW::new(&vs, 0.01, 0.05);
            let mut theirs =
                nn::AdamW { beta1: BETA1, beta2: BETA2, wd: 0.05, eps: EPS, amsgrad: false }.build(&vs, 0.01).unwrap();
            for i in 0..5 {
                let loss = (conv.forward(&x) * wave(&[2, 4, 4, 4], i as f64)).sum(Kind::Float);
                if ours {
                    mine.zero_grad();
                    loss.backward();
                    assert!(conv.ws.grad().is_contiguous(), "the gradient follows the parameter's layout");
                    mine.step();
                } else {
                    theirs.zero_grad();
                    loss.backward();
                    theirs.step();
                }
            }
            conv.ws.copy()
        };
        let (ours, theirs) = (run(true), run(false));
        let diff = (&ours - &theirs).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "largest difference {diff}");
        assert!((ours - wave(&[4, 3, 3, 3], 1.0)).abs().max().double_value(&[]) > 1e-3, "the weights moved");
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
