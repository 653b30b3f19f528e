//! The from-scratch text model of the slides: word embedding -> bidirectional LSTM -> fully
//! connected layers.
//!
//! Padding-aware without packed sequences: the forward direction is causal, so its outputs at
//! real tokens never see the padding that follows them; the backward direction runs over each
//! sequence reversed *within its own length* (padding stays at the end) and is un-reversed
//! afterwards. This is exactly what PyTorch's packed bidirectional LSTM computes. The sequence
//! representation is the masked mean and masked max of the BiLSTM outputs over real tokens, so
//! adding padding to a batch cannot change the logits.
//!
//! LSTM variables use PyTorch's `nn.LSTM` names under `lstm.` (`weight_ih_l0`,
//! `weight_hh_l0_reverse`, ...), with its initialisation U(-1/sqrt(hidden), 1/sqrt(hidden)).
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, ModuleT};
use tch::{Kind, Tensor};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub vocab_size: i64,
    /// Id of `<pad>` (0 in [`crate::data::text::vocab::Vocab`]).
    pub pad_id: i64,
    pub embed_dim: i64,
    /// LSTM hidden size per direction.
    pub hidden: i64,
    /// Stacked BiLSTM layers (1 or 2).
    pub layers: i64,
    /// Dropout on embeddings, between LSTM layers and in the classifier.
    pub dropout: f64,
    /// Width of the hidden fully connected layer; 0 = a single linear layer.
    pub fc_hidden: i64,
    pub num_classes: i64,
}

impl Config {
    pub fn new(vocab_size: i64, num_classes: i64) -> Self {
        Config {
            vocab_size,
            pad_id: 0,
            embed_dim: 128,
            hidden: 128,
            layers: 1,
            dropout: 0.3,
            fc_hidden: 64,
            num_classes,
        }
    }

    pub fn validate(&self) -> Result<()> {
        if [self.vocab_size, self.embed_dim, self.hidden, self.num_classes].iter().any(|&v| v <= 0)
            || self.fc_hidden < 0
        {
            return Err(Error::Config(format!("BiLSTM sizes must be positive: {self:?}")));
        }
        if !(1..=2).contains(&self.layers) {
            return Err(Error::Config(format!("BiLSTM layers must be 1 or 2, got {}", self.layers)));
        }
        if !(0..self.vocab_size).contains(&self.pad_id) {
            return Err(Error::Config(format!("pad_id {} outside vocab {}", self.pad_id, self.vocab_size)));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Config(format!("dropout must be in [0,1), got {}", self.dropout)));
        }
        Ok(())
    }

    /// Size of the pooled sequence representation: mean and max of both directions.
    fn pooled_dim(&self) -> i64 {
        4 * self.hidden
    }
}

/// One direction of one LSTM layer, in `Tensor::lstm`'s parameter order.
#[derive(Debug)]
struct Direction {
    params: [Tensor; 4],
}

impl Direction {
    fn new(p: &nn::Path, layer: i64, reverse: bool, input: i64, hidden: i64) -> Self {
        let sfx = format!("l{layer}{}", if reverse { "_reverse" } else { "" });
        let k = 1.0 / (hidden as f64).sqrt();
        let init = nn::Init::Uniform { lo: -k, up: k };
        let g = 4 * hidden;
        Direction {
            params: [
                p.var(&format!("weight_ih_{sfx}"), &[g, input], init),
                p.var(&format!("weight_hh_{sfx}"), &[g, hidden], init),
                p.var(&format!("bias_ih_{sfx}"), &[g], init),
                p.var(&format!("bias_hh_{sfx}"), &[g], init),
            ],
        }
    }

    /// `x` [N,L,in] -> outputs [N,L,hidden], left to right from zero state.
    fn run(&self, x: &Tensor, hidden: i64, train: bool) -> Tensor {
        let h0 = Tensor::zeros([1, x.size()[0], hidden], (x.kind(), x.device()));
        let (out, _, _) = x.lstm(&[&h0, &h0], &self.params.each_ref(), true, 1, 0.0, train, false, true);
        out
    }
}

#[derive(Debug)]
pub struct BiLstm {
    embedding: nn::Embedding,
    lstm: Vec<[Direction; 2]>,
    fc_hidden: Option<nn::Linear>,
    fc_out: nn::Linear,
    cfg: Config,
}

impl BiLstm {
    pub fn new(p: &nn::Path, cfg: &Config) -> Result<Self> {
        cfg.validate()?;
        let emb_cfg = nn::EmbeddingConfig { padding_idx: cfg.pad_id, ..Default::default() };
        let lp = p / "lstm";
        let lstm = (0..cfg.layers)
            .map(|l| {
                let input = if l == 0 { cfg.embed_dim } else { 2 * cfg.hidden };
                [Direction::new(&lp, l, false, input, cfg.hidden), Direction::new(&lp, l, true, input, cfg.hidden)]
            })
            .collect();
        let (fc_hidden, out_in) = match cfg.fc_hidden {
            0 => (None, cfg.pooled_dim()),
            f => (Some(nn::linear(p / "fc1", cfg.pooled_dim(), f, Default::default())), f),
        };
        Ok(BiLstm {
            embedding: nn::embedding(p / "embedding", cfg.vocab_size, cfg.embed_dim, emb_cfg),
            lstm,
            fc_hidden,
            fc_out: nn::linear(p / "fc_out", out_in, cfg.num_classes, Default::default()),
            cfg: cfg.clone(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// BiLSTM outputs [N,L,2*hidden] (forward ++ backward) and the token mask [N,L] (bool).
    /// Outputs at padding positions are meaningless; at real tokens they ignore padding.
    pub fn sequence_outputs(&self, ids: &Tensor, train: bool) -> (Tensor, Tensor) {
        let (n, l) = (ids.size()[0], ids.size()[1]);
        let mask = ids.ne(self.cfg.pad_id);
        let lengths = mask.sum_dim_intlist(1, true, Kind::Int64); // [N,1]
                                                                  // Per-row index that reverses the first `len` steps and leaves padding in place;
                                                                  // applying it twice is the identity.
        let t = Tensor::arange(l, (Kind::Int64, ids.device())).unsqueeze(0);
        let rev = (&lengths - 1 - &t).where_self(&t.lt_tensor(&lengths), &t.expand([n, l], false));
        let flip = |x: &Tensor| x.gather(1, &rev.unsqueeze(-1).expand([n, l, x.size()[2]], false), false);

        let mut x = self.embedding.forward(ids).dropout(self.cfg.dropout, train);
        for (i, [fwd, bwd]) in self.lstm.iter().enumerate() {
            if i > 0 {
                x = x.dropout(self.cfg.dropout, train);
            }
            let f = fwd.run(&x, self.cfg.hidden, train);
            let b = flip(&bwd.run(&flip(&x), self.cfg.hidden, train));
            x = Tensor::cat(&[f, b], 2);
        }
        (x, mask)
    }

    /// Masked mean ++ masked max over real tokens: [N, 4*hidden]. A row with no real token
    /// gets zeros.
    pub fn pooled(&self, ids: &Tensor, train: bool) -> Tensor {
        let (out, mask) = self.sequence_outputs(ids, train);
        let m = mask.unsqueeze(-1);
        let count = m.sum_dim_intlist(1, false, Kind::Float).clamp_min(1.0);
        let mean = out.masked_fill(&m.logical_not(), 0.0).sum_dim_intlist(1, false, None) / count;
        let max = out.masked_fill(&m.logical_not(), f64::NEG_INFINITY).amax(1, false);
        let empty = mask.any_dim(1, false).logical_not().unsqueeze(-1);
        Tensor::cat(&[mean, max.masked_fill(&empty, 0.0)], 1)
    }
}

impl ModuleT for BiLstm {
    fn forward_t(&self, ids: &Tensor, train: bool) -> Tensor {
        let mut x = self.pooled(ids, train).dropout(self.cfg.dropout, train);
        if let Some(fc) = &self.fc_hidden {
            x = fc.forward(&x).relu().dropout(self.cfg.dropout, train);
        }
        self.fc_out.forward(&x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::text::review_sample::balanced_reviews;
    use crate::data::text::vocab::Vocab;
    use crate::testing::{assert_loss_drops, overfit_losses, param_count};
    use tch::Device;

    fn cfg(layers: i64, fc_hidden: i64) -> Config {
        Config { vocab_size: 50, pad_id: 0, embed_dim: 12, hidden: 10, layers, dropout: 0.2, fc_hidden, num_classes: 3 }
    }

    /// nn.LSTM(E, H, num_layers, bidirectional=True) + Embedding + Linear layers, by formula.
    fn expected_params(c: &Config) -> i64 {
        let (e, h) = (c.embed_dim, c.hidden);
        let lstm: i64 =
            (0..c.layers).map(|l| if l == 0 { e } else { 2 * h }).map(|i| 2 * (4 * h * i + 4 * h * h + 8 * h)).sum();
        let fc = if c.fc_hidden == 0 {
            4 * h * c.num_classes + c.num_classes
        } else {
            4 * h * c.fc_hidden + c.fc_hidden + c.fc_hidden * c.num_classes + c.num_classes
        };
        c.vocab_size * e + lstm + fc
    }

    fn ids() -> Tensor {
        Tensor::from_slice2(&[[3i64, 4, 5, 6, 7], [8, 9, 10, 0, 0], [11, 0, 0, 0, 0]])
    }

    #[test]
    fn shapes_and_param_count() {
        for (layers, fc) in [(1, 0), (1, 16), (2, 16)] {
            let c = cfg(layers, fc);
            let vs = nn::VarStore::new(Device::Cpu);
            let m = BiLstm::new(&vs.root(), &c).unwrap();
            assert_eq!(m.forward_t(&ids(), true).size(), [3, 3]);
            assert_eq!(m.pooled(&ids(), false).size(), [3, 40]);
            assert_eq!(param_count(&vs), expected_params(&c), "layers {layers} fc {fc}");
        }
        // The default slide configuration.
        let c = Config::new(20_000, 2);
        let vs = nn::VarStore::new(Device::Cpu);
        BiLstm::new(&vs.root(), &c).unwrap();
        assert_eq!(param_count(&vs), 20_000 * 128 + 2 * (4 * 128 * 128 * 2 + 8 * 128) + (512 * 64 + 64) + (64 * 2 + 2));
    }

    #[test]
    fn invalid_config_is_an_error() {
        let vs = nn::VarStore::new(Device::Cpu);
        assert!(BiLstm::new(&vs.root(), &cfg(3, 0)).is_err());
        let mut c = cfg(1, 0);
        c.pad_id = 50;
        assert!(BiLstm::new(&vs.root(), &c).is_err());
    }

    /// Without padding our two unidirectional passes must equal libtorch's own bidirectional
    /// LSTM with the same weights (known answer for the per-direction plumbing).
    #[test]
    fn matches_torch_bidirectional_lstm_without_padding() {
        tch::manual_seed(3);
        let c = cfg(2, 0);
        let vs = nn::VarStore::new(Device::Cpu);
        let m = BiLstm::new(&vs.root(), &c).unwrap();
        let ids = Tensor::randint_low(1, 50, [4, 9], (Kind::Int64, Device::Cpu));
        let (ours, _) = m.sequence_outputs(&ids, false);
        let params: Vec<&Tensor> = m.lstm.iter().flat_map(|[f, b]| f.params.iter().chain(b.params.iter())).collect();
        let h0 = Tensor::zeros([2 * c.layers, 4, c.hidden], (Kind::Float, Device::Cpu));
        let x = m.embedding.forward(&ids);
        let (theirs, _, _) = x.lstm(&[&h0, &h0], &params, true, c.layers, 0.0, false, true, true);
        let diff = (ours - theirs).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "differs from torch bidirectional LSTM by {diff}");
    }

    #[test]
    fn padding_does_not_change_logits() {
        tch::manual_seed(4);
        for layers in [1, 2] {
            let vs = nn::VarStore::new(Device::Cpu);
            let m = BiLstm::new(&vs.root(), &cfg(layers, 16)).unwrap();
            let padded = Tensor::cat(&[ids(), Tensor::zeros([3, 7], (Kind::Int64, Device::Cpu))], 1);
            let diff = (m.forward_t(&ids(), false) - m.forward_t(&padded, false)).abs().max().double_value(&[]);
            assert!(diff < 1e-6, "extra padding changed logits by {diff} ({layers} layers)");
            // Each row alone (no padding at all) gives the same logits as in the padded batch.
            let alone = m.forward_t(&Tensor::from_slice2(&[[8i64, 9, 10]]), false);
            let diff = (alone - m.forward_t(&padded, false).get(1)).abs().max().double_value(&[]);
            assert!(diff < 1e-6, "row 1 alone vs padded differs by {diff}");
        }
    }

    #[test]
    fn all_padding_row_is_finite() {
        let vs = nn::VarStore::new(Device::Cpu);
        let m = BiLstm::new(&vs.root(), &cfg(1, 0)).unwrap();
        let out = m.forward_t(&Tensor::zeros([2, 4], (Kind::Int64, Device::Cpu)), false);
        assert!(bool::try_from(out.isfinite().all()).unwrap());
    }

    #[test]
    fn loss_drops_on_real_reviews() {
        tch::manual_seed(0);
        let (texts, labels) = balanced_reviews(16);
        let vocab = Vocab::build(&texts, 1, 5000).unwrap();
        let ids = vocab.encode(&texts, 128);
        let ys = Tensor::from_slice(&labels);
        let vs = nn::VarStore::new(Device::Cpu);
        let m = BiLstm::new(&vs.root(), &Config::new(vocab.len() as i64, 2)).unwrap();
        let losses = overfit_losses(&vs, &m, &ids, &ys, 3e-3, 30);
        assert_loss_drops("BiLSTM", &losses, 0.5);
    }
}
