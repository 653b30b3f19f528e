//! How a network built from scratch draws its first weights.
//!
//! tch's `conv2d` and `linear` draw weights He-uniform, bound sqrt(6 / fan_in). PyTorch's
//! `nn.Conv2d` and `nn.Linear`, which the seed's EmotionNets are made of, draw them with
//! `kaiming_uniform_(a = sqrt(5))`, bound 1 / sqrt(fan_in), 2.45x narrower, and their biases
//! uniform in the same bound. Which of the two a from-scratch row starts from is a recipe choice
//! (`custom_init` in Part 1's plan); the torchvision networks already start as torchvision
//! starts them (`models/torchvision.rs`).
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tch::nn::VarStore;
use tch::Tensor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScratchInit {
    /// tch's layer defaults, as the networks are built.
    #[default]
    Tch,
    /// PyTorch's `reset_parameters` of every convolution and linear layer.
    Pytorch,
}

impl ScratchInit {
    /// Apply to a freshly built network (its draws come from tch's seeded generator); for a
    /// redrawn network, how results name its start after "random init (seeded".
    pub fn apply(self, vs: &VarStore) -> Option<&'static str> {
        match self {
            ScratchInit::Tch => None,
            ScratchInit::Pytorch => {
                pytorch_defaults(vs);
                Some("PyTorch's layer defaults")
            }
        }
    }
}

/// Redraw every convolution and linear layer as PyTorch's `reset_parameters` does: weight and
/// bias uniform in ±1/sqrt(fan_in), fan_in = input channels per group x kernel area (or the
/// input features). Normalisation scales and shifts, attention gains and buffers keep their
/// values (they are 1-D, or are not named `weight`). Variables are visited in name order, so
/// a seed gives one network.
pub fn pytorch_defaults(vs: &VarStore) {
    let vars = vs.variables();
    tch::no_grad(|| {
        for (weight, bias) in layers(&vars) {
            let w = &vars[&weight];
            let fan_in: i64 = w.size()[1..].iter().product();
            let bound = 1.0 / (fan_in as f64).sqrt();
            let _ = w.shallow_clone().uniform_(-bound, bound);
            if let Some(b) = bias {
                let _ = vars[&b].shallow_clone().uniform_(-bound, bound);
            }
        }
    });
}

/// The convolution and linear layers among `vars`: each weight (a `weight` variable, 2-D or more)
/// with its bias where it has one, in name order.
fn layers(vars: &HashMap<String, Tensor>) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = vars
        .iter()
        .filter(|(n, t)| (*n == "weight" || n.ends_with(".weight")) && t.dim() >= 2)
        .map(|(n, _)| {
            let bias = format!("{}bias", &n[..n.len() - "weight".len()]);
            (n.clone(), vars.contains_key(&bias).then_some(bias))
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn;
    use tch::{Device, Kind};

    fn bound(t: &Tensor) -> f64 {
        t.abs().max().double_value(&[])
    }

    /// A conv with bias, a grouped conv, a BatchNorm, a gain and a linear layer, as the EmotionNets hold them.
    fn net(vs: &VarStore) -> (nn::Conv2D, nn::Conv2D, nn::BatchNorm, Tensor, nn::Linear) {
        let p = vs.root();
        let conv =
            nn::conv2d(&p / "conv", 8, 16, 3, nn::ConvConfig { bs_init: nn::Init::Const(0.5), ..Default::default() });
        let grouped = nn::conv2d(&p / "dw", 16, 16, 3, nn::ConvConfig { groups: 4, bias: false, ..Default::default() });
        let bn = nn::batch_norm2d(
            &p / "bn",
            16,
            nn::BatchNormConfig { ws_init: nn::Init::Const(1.0), ..Default::default() },
        );
        let gamma = p.var("gamma", &[1], nn::Init::Const(0.0));
        let fc = nn::linear(&p / "fc", 200, 7, Default::default());
        (conv, grouped, bn, gamma, fc)
    }

    #[test]
    fn pytorch_defaults_redraw_convs_and_linears_in_their_bound_and_leave_the_rest() {
        tch::manual_seed(0);
        let vs = VarStore::new(Device::Cpu);
        let (conv, grouped, bn, gamma, fc) = net(&vs);
        // tch's draw reaches past PyTorch's bound (sqrt 6 = 2.45x wider)
        assert!(bound(&conv.ws) > 1.5 / (8.0 * 9.0f64).sqrt(), "{}", bound(&conv.ws));
        let fc_bias_before = fc.bs.as_ref().unwrap().copy();
        pytorch_defaults(&vs);
        let cases = [(&conv.ws, 8 * 9), (&grouped.ws, 4 * 9), (&fc.ws, 200)];
        for (w, fan_in) in cases {
            let b = 1.0 / (fan_in as f64).sqrt();
            // a uniform draw in ±b: inside it, nearly filling it, with the spread of a uniform
            let std = w.std(true).double_value(&[]);
            assert!(bound(w) <= b && bound(w) > 0.9 * b, "{:?}: max {} vs {b}", w.size(), bound(w));
            assert!((std - b / 3f64.sqrt()).abs() < 0.1 * b, "{:?}: std {std} vs {}", w.size(), b / 3f64.sqrt());
        }
        let conv_bias = conv.bs.as_ref().unwrap();
        assert!(bound(conv_bias) <= 1.0 / 72f64.sqrt() && bound(conv_bias) < 0.5, "the conv's bias is redrawn");
        let fc_bias = fc.bs.as_ref().unwrap();
        assert!(
            bound(fc_bias) <= 1.0 / 200f64.sqrt() && !fc_bias.equal(&fc_bias_before),
            "the linear's bias is redrawn"
        );
        assert!(bn.ws.as_ref().unwrap().equal(&Tensor::ones([16], (Kind::Float, Device::Cpu))), "BN scale kept");
        assert_eq!(bound(bn.bs.as_ref().unwrap()), 0.0, "BN shift kept");
        assert_eq!(bound(&gamma), 0.0, "attention gain kept");
    }

    #[test]
    fn layers_are_visited_in_name_order_with_their_biases() {
        // the draws follow the visiting order, so a seed gives one network only if it is fixed
        let vs = VarStore::new(Device::Cpu);
        let _ = net(&vs);
        let found = layers(&vs.variables());
        let want = [("conv.weight", Some("conv.bias")), ("dw.weight", None), ("fc.weight", Some("fc.bias"))]
            .map(|(w, b)| (w.to_string(), b.map(str::to_string)));
        assert_eq!(found, want);
    }
}
