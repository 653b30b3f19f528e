//! How each Part 2 model is built and fed: MiniLM with its WordPiece tokenizer and pretrained
//! encoder, the BiLSTM with a vocabulary built on its own training texts.
use super::prepare::{labels, texts, Prepared};
use super::{Model, Plan};
use crate::data::batches::TokenSource;
use crate::data::text::tokenize::HfTokenizer;
use crate::data::text::vocab::{self, Vocab};
use crate::data::text::Review;
use crate::error::Result;
use crate::models::groups::Groups;
use crate::models::{bilstm, minilm, weights};
use crate::train::TrainConfig;
use std::path::Path;
use tch::{nn, nn::ModuleT};

/// A model built for one training source, with its encoded splits.
pub(super) struct Recipe {
    pub net: Box<dyn ModuleT>,
    pub groups: Groups,
    /// Train, validation and test batches.
    pub train: TokenSource,
    pub valid: TokenSource,
    pub test: TokenSource,
    pub weights_source: String,
    /// "pretrained" or "random".
    pub init: &'static str,
    pub cfg: TrainConfig,
    pub vocab_size: Option<usize>,
}

/// Build `model` in `vs` for `src` (BiLSTM vocabularies are saved as `vocab_file`).
pub(super) fn recipe(
    model: Model,
    vs: &mut nn::VarStore,
    plan: &Plan,
    src: &Prepared,
    test: &[Review],
    seed: u64,
    vocab_file: &Path,
) -> Result<Recipe> {
    match model {
        Model::MiniLm => minilm_recipe(vs, plan, src, test, seed),
        Model::BiLstm => bilstm_recipe(vs, plan, src, test, seed, vocab_file),
    }
}

/// MiniLM's configuration under `plan`: the checkpoint's, with the plan's dropout and precision.
pub fn minilm_config(dir: &Path, plan: &Plan) -> Result<minilm::Config> {
    let mut cfg = minilm::Config::from_hf_json(&dir.join("config.json"), 2, minilm::Pooling::Mean)?;
    if let Some(p) = plan.minilm_dropout {
        (cfg.dropout, cfg.attention_dropout) = (p, p);
    }
    cfg.bf16_matmuls = plan.minilm_bf16;
    Ok(cfg)
}

fn minilm_recipe(vs: &mut nn::VarStore, plan: &Plan, src: &Prepared, test: &[Review], seed: u64) -> Result<Recipe> {
    let dir = weights::minilm_dir()?;
    let tok = HfTokenizer::from_dir(&dir, plan.max_len)?.with_truncation(plan.truncation)?;
    let net = minilm::MiniLm::new(&vs.root(), &minilm_config(&dir, plan)?)?;
    minilm::MiniLm::load_pretrained(vs, &dir)?;
    let enc = |r: &[Review]| -> Result<TokenSource> {
        Ok(TokenSource::new(tok.encode_ids(&texts(r))?, labels(r), tok.pad_id(), seed))
    };
    Ok(Recipe {
        groups: net.groups(),
        net: Box::new(net),
        train: enc(&src.train)?,
        valid: enc(&src.valid)?,
        test: enc(test)?,
        weights_source: format!("all-MiniLM-L6-v2 ({})", dir.display()),
        init: "pretrained",
        cfg: plan.minilm.clone(),
        vocab_size: None,
    })
}

fn bilstm_recipe(
    vs: &mut nn::VarStore,
    plan: &Plan,
    src: &Prepared,
    test: &[Review],
    seed: u64,
    vocab_file: &Path,
) -> Result<Recipe> {
    let voc = Vocab::build(texts(&src.train), plan.vocab_min_freq, plan.vocab_max_size)?;
    voc.save(vocab_file)?;
    let net = bilstm::BiLstm::new(&vs.root(), &bilstm::Config::new(voc.len() as i64, 2))?;
    let enc = |r: &[Review]| {
        let ids = r.iter().map(|r| voc.encode_ids(&r.text, plan.max_len)).collect();
        TokenSource::new(ids, labels(r), vocab::PAD_ID, seed)
    };
    Ok(Recipe {
        net: Box::new(net),
        groups: Groups::default(),
        train: enc(&src.train),
        valid: enc(&src.valid),
        test: enc(test),
        weights_source: "random init (seeded)".into(),
        init: "random",
        cfg: plan.bilstm.clone(),
        vocab_size: Some(voc.len()),
    })
}
