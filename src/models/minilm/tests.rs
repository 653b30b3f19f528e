use super::*;
use crate::data::text::review_sample::balanced_reviews;
use crate::data::text::tokenize::HfTokenizer;
use crate::models::weights::minilm_dir;
use crate::testing::{assert_loss_drops, overfit_losses, param_count};
use tch::Device;

fn tiny(pooling: Pooling) -> Config {
    Config {
        hidden: 32,
        layers: 2,
        heads: 4,
        intermediate: 64,
        vocab: 100,
        max_position: 40,
        type_vocab: 2,
        pad_token_id: 0,
        layer_norm_eps: 1e-12,
        pooling,
        dropout: 0.1,
        attention_dropout: 0.1,
        num_classes: 3,
        bf16_matmuls: false,
    }
}

/// Count from BERT's architecture, not from the VarStore.
fn bert_params(c: &Config) -> i64 {
    let (h, i) = (c.hidden, c.intermediate);
    let emb = (c.vocab + c.max_position + c.type_vocab) * h + 2 * h;
    let layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
    emb + c.layers * layer + h * c.num_classes + c.num_classes
}

#[test]
fn shapes_and_param_count() {
    for pooling in [Pooling::Mean, Pooling::Cls] {
        let cfg = tiny(pooling);
        let vs = nn::VarStore::new(Device::Cpu);
        let m = MiniLm::new(&vs.root(), &cfg).unwrap();
        let ids = Tensor::randint_low(1, 100, [5, 17], (Kind::Int64, Device::Cpu));
        assert_eq!(m.forward_t(&ids, true).size(), [5, 3]);
        assert_eq!(m.embed(&ids, false).size(), [5, 32]);
        assert_eq!(param_count(&vs), bert_params(&cfg));
    }
}

#[test]
fn reads_hf_config() {
    let cfg = Config::from_hf_json(&minilm_dir().unwrap().join("config.json"), 2, Pooling::Mean).unwrap();
    assert_eq!((cfg.hidden, cfg.layers, cfg.heads, cfg.intermediate), (384, 6, 12, 1536));
    assert_eq!((cfg.vocab, cfg.max_position, cfg.type_vocab, cfg.pad_token_id), (30522, 512, 2, 0));
    assert_eq!((cfg.layer_norm_eps, cfg.dropout), (1e-12, 0.1));
    // all-MiniLM-L6-v2 is about 22.7M parameters (+ our 2-class head).
    assert_eq!(bert_params(&cfg), 22_713_216 - 384 * 384 - 384 + 384 * 2 + 2);
}

#[test]
fn invalid_config_is_an_error() {
    let mut c = tiny(Pooling::Mean);
    c.heads = 5;
    let vs = nn::VarStore::new(Device::Cpu);
    assert!(MiniLm::new(&vs.root(), &c).unwrap_err().to_string().contains("divisible"));
}

#[test]
fn padding_does_not_change_outputs() {
    tch::manual_seed(1);
    let vs = nn::VarStore::new(Device::Cpu);
    let m = MiniLm::new(&vs.root(), &tiny(Pooling::Mean)).unwrap();
    let ids = Tensor::from_slice2(&[[5i64, 6, 7, 8, 0], [9, 10, 0, 0, 0]]);
    let padded = Tensor::cat(&[&ids, &Tensor::zeros([2, 9], (Kind::Int64, Device::Cpu))], 1);
    let diff = (m.forward_t(&ids, false) - m.forward_t(&padded, false)).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "extra padding changed logits by {diff}");
    // A row alone (no padding at all: the unmasked attention path) equals its padded self.
    let alone = m.forward_t(&Tensor::from_slice2(&[[9i64, 10]]), false);
    let diff = (alone - m.forward_t(&padded, false).get(1)).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "unpadded row differs from its padded self by {diff}");
    // Sanity: the mask matters (changing a real token changes the output).
    let other = Tensor::from_slice2(&[[5i64, 6, 7, 9, 0], [9, 10, 0, 0, 0]]);
    let moved = (m.embed(&ids, false) - m.embed(&other, false)).abs().max().double_value(&[]);
    assert!(moved > 1e-4);
}

#[test]
fn pretrained_loads_strictly_and_skips_only_the_head() {
    let dir = minilm_dir().unwrap();
    let mut vs = nn::VarStore::new(Device::Cpu);
    let _m = MiniLm::pretrained(&mut vs, &dir, 2, Pooling::Mean).unwrap();
    let skipped = MiniLm::load_pretrained(&mut vs, &dir).unwrap();
    assert_eq!(skipped, ["classifier.bias", "classifier.weight"]);
}

#[test]
fn missing_tensor_fails_and_names_it() {
    let dir = minilm_dir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut file = crate::models::weights::read_safetensors(&dir.join("model.safetensors")).unwrap();
    assert!(file.remove("encoder.layer.3.attention.self.key.weight").is_some());
    let named: Vec<(String, Tensor)> = file.into_iter().collect();
    Tensor::write_safetensors(&named, tmp.path().join("model.safetensors")).unwrap();
    std::fs::copy(dir.join("config.json"), tmp.path().join("config.json")).unwrap();
    let mut vs = nn::VarStore::new(Device::Cpu);
    let e = MiniLm::pretrained(&mut vs, tmp.path(), 2, Pooling::Mean).unwrap_err().to_string();
    assert!(e.contains("missing tensor `encoder.layer.3.attention.self.key.weight`"), "{e}");
    assert!(e.contains(&tmp.path().join("model.safetensors").display().to_string()), "{e}");
}

/// bf16 matrix products change the pretrained sentence embeddings only at bf16's precision
/// (8 significant bits), and gradients still reach the fp32 weights.
#[test]
fn bf16_matmuls_track_fp32() {
    let dir = minilm_dir().unwrap();
    let (texts, _) = balanced_reviews(4);
    let ids = HfTokenizer::from_dir(&dir, 64).unwrap().encode(&texts).unwrap();
    let mut vs = nn::VarStore::new(Device::Cpu);
    let fp32 = MiniLm::pretrained(&mut vs, &dir, 2, Pooling::Mean).unwrap();
    let mut vs16 = nn::VarStore::new(Device::Cpu);
    let bf16 = MiniLm::new(&vs16.root(), &Config { bf16_matmuls: true, ..fp32.config().clone() }).unwrap();
    MiniLm::load_pretrained(&mut vs16, &dir).unwrap();
    let (a, b) = (fp32.embed(&ids, false), bf16.embed(&ids, false));
    assert_eq!(b.kind(), Kind::Float);
    let worst = Tensor::cosine_similarity(&a, &b, -1, 1e-8).min().double_value(&[]);
    assert!(worst > 0.999, "bf16 embeddings drift from fp32: cosine {worst}");
    let rel = ((&a - &b).norm() / a.norm()).double_value(&[]);
    assert!(rel > 1e-5, "bf16 changed nothing ({rel}): the flag is not wired");
    bf16.forward_t(&ids, true).sum(Kind::Float).backward();
    let w = &vs16.variables()["encoder.layer.0.attention.self.query.weight"];
    assert_eq!((w.kind(), w.grad().kind()), (Kind::Float, Kind::Float));
    assert!(w.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0);
}

/// Fine-tuning the pretrained encoder on 32 real reviews: the training loss falls.
#[test]
fn loss_drops_on_real_reviews() {
    tch::manual_seed(0);
    let dir = minilm_dir().unwrap();
    let (texts, labels) = balanced_reviews(16);
    // 48 tokens keep this test to ~1 minute on 2 CPU cores; reviews are longer, so every row is full.
    let ids = HfTokenizer::from_dir(&dir, 48).unwrap().encode(&texts).unwrap();
    let ys = Tensor::from_slice(&labels);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let m = MiniLm::pretrained(&mut vs, &dir, 2, Pooling::Mean).unwrap();
    let losses = overfit_losses(&vs, &m, &ids, &ys, 5e-5, 20);
    assert_loss_drops("MiniLM", &losses, 0.5);
}
