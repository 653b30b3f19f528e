//! A BERT encoder (the all-MiniLM-L6-v2 sentence-transformer) with a linear classification head.
//!
//! Variables carry Hugging Face's `BertModel` names with no `bert.` prefix (`embeddings.…`,
//! `encoder.layer.{i}.…`), which is how all-MiniLM-L6-v2's `model.safetensors` names them, so the
//! model must be built at the root of its VarStore. The head is `classifier.{weight,bias}`.
//!
//! Loading the pretrained file is strict (via [`crate::models::weights::load_strict`]): every encoder
//! tensor must be present with the right shape. Three things are skipped on purpose
//! ([`PRETRAINED_SKIP`]): `classifier.` (ours, new, left at its initial values), the file's
//! `pooler.` (BERT's tanh pooler, which sentence-transformers does not use: it mean-pools) and
//! the `embeddings.position_ids` buffer (always `arange(max_position)`; we compute it).
//!
//! The sentence embedding is sentence-transformers' mean pooling over the attention mask, not
//! normalised. The mask is `ids != pad_token_id`, computed inside, so callers pass ids only.
use super::groups::{self, Groups};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::nn::{self, Module, ModuleT};
use tch::{Kind, Tensor};

/// Tensor-name prefixes of the pretrained file that are not loaded (see the module docs).
pub const PRETRAINED_SKIP: &[&str] = &["classifier.", "pooler.", "embeddings.position_ids"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pooling {
    /// Masked mean over tokens, as sentence-transformers does for all-MiniLM-L6-v2.
    Mean,
    /// The `[CLS]` token's final hidden state.
    Cls,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub hidden: i64,
    pub layers: i64,
    pub heads: i64,
    pub intermediate: i64,
    pub vocab: i64,
    pub max_position: i64,
    pub type_vocab: i64,
    pub pad_token_id: i64,
    pub layer_norm_eps: f64,
    pub pooling: Pooling,
    /// Dropout on embeddings, sub-layer outputs and before the classifier (`hidden_dropout_prob`).
    pub dropout: f64,
    /// Dropout on attention probabilities (`attention_probs_dropout_prob`).
    pub attention_dropout: f64,
    pub num_classes: i64,
    /// Run the encoder layers' matrix products and attention in bfloat16, as PyTorch's CPU
    /// autocast would: weights stay fp32 (and get fp32 gradients through the cast), while
    /// embeddings, residual sums, LayerNorm, pooling and the head stay fp32. Not gated on the CPU
    /// (off in every profile): bf16 autocast fine-tunes faster than fp32 with AMX-BF16 tiles and
    /// on an AMD CPU with AVX512-BF16, slower on an Intel CPU with AVX512-BF16 alone
    /// (docs/speed.md).
    #[serde(default)]
    pub bf16_matmuls: bool,
}

/// The fields we read from a Hugging Face `config.json`.
#[derive(Deserialize)]
struct HfConfig {
    hidden_size: i64,
    num_hidden_layers: i64,
    num_attention_heads: i64,
    intermediate_size: i64,
    vocab_size: i64,
    max_position_embeddings: i64,
    #[serde(default = "two")]
    type_vocab_size: i64,
    #[serde(default)]
    pad_token_id: i64,
    #[serde(default = "bert_eps")]
    layer_norm_eps: f64,
    #[serde(default = "point_one")]
    hidden_dropout_prob: f64,
    #[serde(default = "point_one")]
    attention_probs_dropout_prob: f64,
    #[serde(default = "gelu")]
    hidden_act: String,
    #[serde(default = "absolute")]
    position_embedding_type: String,
}
fn two() -> i64 {
    2
}
fn bert_eps() -> f64 {
    1e-12
}
fn point_one() -> f64 {
    0.1
}
fn gelu() -> String {
    "gelu".into()
}
fn absolute() -> String {
    "absolute".into()
}

impl Config {
    /// Read a BERT `config.json`; the head size and pooling are ours to choose.
    pub fn from_hf_json(path: &Path, num_classes: i64, pooling: Pooling) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let hf: HfConfig = serde_json::from_slice(&bytes).map_err(|e| Error::Json { path: path.into(), source: e })?;
        // Only what this file implements: exact-erf GELU and absolute position embeddings.
        if hf.hidden_act != "gelu" || hf.position_embedding_type != "absolute" {
            return Err(Error::weights(
                path,
                format!(
                    "unsupported hidden_act {:?} / position_embedding_type {:?}",
                    hf.hidden_act, hf.position_embedding_type
                ),
            ));
        }
        let cfg = Config {
            hidden: hf.hidden_size,
            layers: hf.num_hidden_layers,
            heads: hf.num_attention_heads,
            intermediate: hf.intermediate_size,
            vocab: hf.vocab_size,
            max_position: hf.max_position_embeddings,
            type_vocab: hf.type_vocab_size,
            pad_token_id: hf.pad_token_id,
            layer_norm_eps: hf.layer_norm_eps,
            pooling,
            dropout: hf.hidden_dropout_prob,
            attention_dropout: hf.attention_probs_dropout_prob,
            num_classes,
            bf16_matmuls: false,
        };
        cfg.validate().map_err(|e| Error::weights(path, e.to_string()))?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        let positive = [
            self.hidden,
            self.layers,
            self.heads,
            self.intermediate,
            self.vocab,
            self.max_position,
            self.type_vocab,
            self.num_classes,
        ];
        if positive.iter().any(|&v| v <= 0) {
            return Err(Error::Config(format!("MiniLM sizes must be positive: {self:?}")));
        }
        if self.hidden % self.heads != 0 {
            return Err(Error::Config(format!("hidden {} is not divisible by heads {}", self.hidden, self.heads)));
        }
        if !(0.0..1.0).contains(&self.dropout) || !(0.0..1.0).contains(&self.attention_dropout) {
            return Err(Error::Config(format!(
                "dropout must be in [0,1): {} / {}",
                self.dropout, self.attention_dropout
            )));
        }
        if !(0..self.vocab).contains(&self.pad_token_id) {
            return Err(Error::Config(format!("pad_token_id {} outside vocab {}", self.pad_token_id, self.vocab)));
        }
        Ok(())
    }
}

fn layer_norm(p: nn::Path, cfg: &Config) -> nn::LayerNorm {
    nn::layer_norm(p, vec![cfg.hidden], nn::LayerNormConfig { eps: cfg.layer_norm_eps, ..Default::default() })
}

fn linear(p: nn::Path, i: i64, o: i64) -> nn::Linear {
    // BERT's initialisation (N(0, 0.02), zero bias); overwritten when pretrained weights load.
    let c = nn::LinearConfig {
        ws_init: nn::Init::Randn { mean: 0.0, stdev: 0.02 },
        bs_init: Some(nn::Init::Const(0.0)),
        bias: true,
    };
    nn::linear(p, i, o, c)
}

#[derive(Debug)]
struct Embeddings {
    word: nn::Embedding,
    position: nn::Embedding,
    token_type: nn::Embedding,
    norm: nn::LayerNorm,
}

impl Embeddings {
    fn new(p: nn::Path, cfg: &Config) -> Self {
        let init = nn::EmbeddingConfig { ws_init: nn::Init::Randn { mean: 0.0, stdev: 0.02 }, ..Default::default() };
        Embeddings {
            word: nn::embedding(&p / "word_embeddings", cfg.vocab, cfg.hidden, init),
            position: nn::embedding(&p / "position_embeddings", cfg.max_position, cfg.hidden, init),
            token_type: nn::embedding(&p / "token_type_embeddings", cfg.type_vocab, cfg.hidden, init),
            norm: layer_norm(&p / "LayerNorm", cfg),
        }
    }

    /// Single-segment input: every token has token type 0.
    fn forward(&self, ids: &Tensor) -> Tensor {
        let len = ids.size()[1];
        let positions = Tensor::arange(len, (Kind::Int64, ids.device()));
        let x = self.word.forward(ids) + self.position.forward(&positions).unsqueeze(0) + self.token_type.ws.get(0);
        self.norm.forward(&x)
    }
}

#[derive(Debug)]
struct Layer {
    query: nn::Linear,
    key: nn::Linear,
    value: nn::Linear,
    attn_out: nn::Linear,
    attn_norm: nn::LayerNorm,
    intermediate: nn::Linear,
    output: nn::Linear,
    out_norm: nn::LayerNorm,
}

impl Layer {
    fn new(p: nn::Path, cfg: &Config) -> Self {
        let (h, i) = (cfg.hidden, cfg.intermediate);
        let att = &p / "attention";
        Layer {
            query: linear(&att / "self" / "query", h, h),
            key: linear(&att / "self" / "key", h, h),
            value: linear(&att / "self" / "value", h, h),
            attn_out: linear(&att / "output" / "dense", h, h),
            attn_norm: layer_norm(&att / "output" / "LayerNorm", cfg),
            intermediate: linear(&p / "intermediate" / "dense", h, i),
            output: linear(&p / "output" / "dense", i, h),
            out_norm: layer_norm(&p / "output" / "LayerNorm", cfg),
        }
    }

    /// `x` [N,L,H] fp32; `attend` [N,1,1,L] bool, true where a key is a real token (None: all are).
    fn forward(&self, x: &Tensor, attend: Option<&Tensor>, cfg: &Config, train: bool) -> Tensor {
        let (n, l) = (x.size()[0], x.size()[1]);
        let lin = |m: &nn::Linear, t: &Tensor| matmul_linear(m, t, cfg.bf16_matmuls);
        // the input of a matrix product, in its precision
        let mm_in = |t: &Tensor| if cfg.bf16_matmuls { t.to_kind(Kind::BFloat16) } else { t.shallow_clone() };
        let xin = mm_in(x);
        let heads = |t: Tensor| t.view([n, l, cfg.heads, cfg.hidden / cfg.heads]).transpose(1, 2);
        let (q, k, v) = (heads(lin(&self.query, &xin)), heads(lin(&self.key, &xin)), heads(lin(&self.value, &xin)));
        let p_drop = if train { cfg.attention_dropout } else { 0.0 };
        // Same maths as BERT's masked softmax(QK^T/sqrt(d))V, through libtorch's fused kernel
        // (on this CPU ~1.6-2.5x faster than the explicit form, with or without dropout).
        let ctx = Tensor::scaled_dot_product_attention(&q, &k, &v, attend, p_drop, false, None, false);
        let ctx = ctx.transpose(1, 2).contiguous().view([n, l, cfg.hidden]);
        let x =
            self.attn_norm.forward(&(lin(&self.attn_out, &ctx).to_kind(Kind::Float).dropout(cfg.dropout, train) + x));
        let h = lin(&self.intermediate, &mm_in(&x)).gelu("none");
        self.out_norm.forward(&(lin(&self.output, &h).to_kind(Kind::Float).dropout(cfg.dropout, train) + x))
    }
}

/// `m.forward(x)`, in bfloat16 when `bf16` (`x` must then already be bf16): the fp32 weights
/// are cast per call, so autograd carries their gradients back in fp32.
fn matmul_linear(m: &nn::Linear, x: &Tensor, bf16: bool) -> Tensor {
    if !bf16 {
        return m.forward(x);
    }
    let bf = |t: &Tensor| t.to_kind(Kind::BFloat16);
    x.linear(&bf(&m.ws), m.bs.as_ref().map(bf))
}

#[derive(Debug)]
pub struct MiniLm {
    embeddings: Embeddings,
    layers: Vec<Layer>,
    classifier: nn::Linear,
    cfg: Config,
}

impl MiniLm {
    /// Build with fresh weights under `p` (use the VarStore root to load pretrained names).
    pub fn new(p: &nn::Path, cfg: &Config) -> Result<Self> {
        cfg.validate()?;
        let enc = p / "encoder" / "layer";
        Ok(MiniLm {
            // the embeddings are the bottom layer for layer-wise rates (groups::layer(0))
            embeddings: Embeddings::new(&p.set_group(groups::layer(0)) / "embeddings", cfg),
            layers: (0..cfg.layers)
                .map(|i| Layer::new(&enc.set_group(groups::layer(1 + i as usize)) / i, cfg))
                .collect(),
            classifier: linear(&groups::head(p) / "classifier", cfg.hidden, cfg.num_classes),
            cfg: cfg.clone(),
        })
    }

    /// Config from `dir/config.json`, model at the root of `vs`, encoder weights from
    /// `dir/model.safetensors`. The classifier stays freshly initialised.
    pub fn pretrained(vs: &mut nn::VarStore, dir: &Path, num_classes: i64, pooling: Pooling) -> Result<Self> {
        let cfg = Config::from_hf_json(&dir.join("config.json"), num_classes, pooling)?;
        let model = MiniLm::new(&vs.root(), &cfg)?;
        Self::load_pretrained(vs, dir)?;
        Ok(model)
    }

    /// Strictly load `dir/model.safetensors` into a VarStore holding a MiniLm at its root.
    /// Returns the variables left at their initial values (the classifier's).
    pub fn load_pretrained(vs: &mut nn::VarStore, dir: &Path) -> Result<Vec<String>> {
        crate::models::weights::load_strict(vs, &dir.join("model.safetensors"), PRETRAINED_SKIP)
    }

    /// The head, and the embeddings plus each encoder layer as a stack (bottom first).
    pub fn groups(&self) -> Groups {
        Groups { head: true, layers: 1 + self.cfg.layers as usize }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Final hidden states [N,L,H] and the token mask [N,L] (bool).
    pub fn hidden_states(&self, ids: &Tensor, train: bool) -> (Tensor, Tensor) {
        let len = ids.size()[1];
        assert!(
            len <= self.cfg.max_position,
            "MiniLM got {len} tokens but has {} positions: truncate when tokenising",
            self.cfg.max_position
        );
        let mask = ids.ne(self.cfg.pad_token_id);
        // A batch without padding needs no mask, and the unmasked fused kernel is faster.
        let attend =
            if bool::try_from(mask.all()).unwrap_or(false) { None } else { Some(mask.unsqueeze(1).unsqueeze(1)) };
        let mut x = self.embeddings.forward(ids).dropout(self.cfg.dropout, train);
        for layer in &self.layers {
            x = layer.forward(&x, attend.as_ref(), &self.cfg, train);
        }
        (x, mask)
    }

    /// Pooled sentence embedding [N,H] (mean over real tokens, or `[CLS]`), not normalised.
    pub fn embed(&self, ids: &Tensor, train: bool) -> Tensor {
        let (h, mask) = self.hidden_states(ids, train);
        match self.cfg.pooling {
            Pooling::Cls => h.select(1, 0),
            Pooling::Mean => {
                let m = mask.unsqueeze(-1).to_kind(h.kind());
                // clamp as sentence-transformers does, so an all-padding row gives zeros, not NaN.
                (h * &m).sum_dim_intlist(1, false, None) / m.sum_dim_intlist(1, false, None).clamp_min(1e-9)
            }
        }
    }
}

impl ModuleT for MiniLm {
    fn forward_t(&self, ids: &Tensor, train: bool) -> Tensor {
        self.classifier.forward(&self.embed(ids, train).dropout(self.cfg.dropout, train))
    }
}

#[cfg(test)]
mod tests;
