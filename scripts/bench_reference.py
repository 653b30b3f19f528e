#!/usr/bin/env python3
"""PyTorch eager side of `affect-lab bench`: runs the cases listed in a Rust bench result
(rust.json) with the same shapes, batch, thread count, optimizer and precision, and writes
pytorch.json in the same format, plus FLOPs per image of every network at every size
(FlopCounterMode). Networks: torchvision's (the Rust ones match them, tests/torchvision_parity.rs),
the EmotionNets and the BiLSTM re-implemented in scripts/bench_models.py (tests/bench_models_parity.rs),
MiniLM from transformers.

    .venv/bin/python scripts/bench_reference.py --rust OUT/rust.json --out OUT/pytorch.json
    affect-lab bench --pytorch scripts/bench_reference.py ...   (runs it with --serve, round by round)
"""
import argparse, contextlib, json, os, platform, statistics, sys, time, warnings
from pathlib import Path

warnings.filterwarnings("ignore")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
import logging; logging.disable(logging.WARNING)
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_models

IMAGE_CLASSES, REVIEW_CLASSES = 7, 2
# the same values as src/bench/cases.rs
BILSTM_VOCAB, CLIP, LR, WEIGHT_DECAY = 20_000, 5.0, 1e-3, 1e-2


def image_net(arch, size):
    import torchvision
    if arch == "res_net18":
        return torchvision.models.resnet18(num_classes=IMAGE_CLASSES)
    if arch == "res_net50":
        return torchvision.models.resnet50(num_classes=IMAGE_CLASSES)
    if arch == "mobile_net_v2":
        return torchvision.models.mobilenet_v2(num_classes=IMAGE_CLASSES)
    cls = {"emotion_net_v1": bench_models.EmotionNetV1, "emotion_net_v2": bench_models.EmotionNetV2,
           "emotion_net_v3": bench_models.EmotionNetV3}[arch]
    return cls(num_classes=IMAGE_CLASSES, image_size=size) if arch == "emotion_net_v1" else cls(num_classes=IMAGE_CLASSES)


def precision(numerics):
    """PyTorch's CPU recipe for these numerics: autocast to bf16 around the forward pass."""
    if numerics["bf16"]:
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def fmt(model, x, numerics):
    """channels_last as PyTorch's recipe has it: the model and the input."""
    if numerics["channels_last"] and x.dim() == 4:
        return model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    return model, x


def seconds_of(call):
    t = time.perf_counter(); call(); return time.perf_counter() - t


class Alone:
    """Timing on our own (a rust.json's list run after it, or the unrecorded warm-up case)."""
    def ready(self):
        pass

    def round(self, k, call):
        return call()


class Turns:
    """Timed rounds taken in turn with affect-lab's, one by one (a request with "rounds": true; as
    measure::Turns in src/eval/measure.rs): after our warm-up we say {"ready": true}, then time
    round k when told {"go": k} and answer {"done": k}."""
    SETTLE = 0.01  # seconds: the other process's threads spin for a moment after their round

    def __init__(self, answer):
        self.answer = answer

    def ready(self):
        send(self.answer, {"ready": True})

    def round(self, k, call):
        line = sys.stdin.readline()
        if json.loads(line or "{}").get("go") != k:
            sys.exit(f"bench_reference: expected {{\"go\": {k}}}, got {line.strip()!r}; nothing written")
        time.sleep(self.SETTLE)
        out = call()
        send(self.answer, {"done": k})
        return out


def send(answer, value):
    answer.write(json.dumps(value) + "\n")
    answer.flush()


def timed(warmup, repeats, items, call, turns=Alone()):
    for _ in range(warmup):
        call()
    turns.ready()
    return [turns.round(k, lambda: seconds_of(call)) for k in range(max(repeats, 1))]


def timed_alternating(warmup, repeats, a, b, turns=Alone()):
    """Seconds of a and of b in alternating rounds, a first in rounds 0, 3, 4, 7, 8, ... (as
    measure::throughput_alternating in src/eval/measure.rs); a round of `turns` is both calls."""
    for _ in range(warmup):
        a(); b()
    turns.ready()
    out = {a: [], b: []}

    def both(rnd):
        for call in ((a, b) if (rnd + 1) % 4 < 2 else (b, a)):
            out[call].append(seconds_of(call))
    for rnd in range(max(repeats, 1)):
        turns.round(rnd, lambda: both(rnd))
    return out[a], out[b]


def stats(values):
    s = sorted(values)
    return {"min": s[0], "median": statistics.median(s), "max": s[-1], "repeats": values}


def optimizer(model):
    # libtorch's fused AdamW kernel, the one ours calls (src/train/adamw.rs)
    return torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY, fused=True)


def train_step(model, opt, x, y, numerics):
    with precision(numerics):
        logits = model(x)
    loss = F.cross_entropy(logits.float(), y)
    opt.zero_grad(set_to_none=False)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
    opt.step()
    loss.item()


def train_stats(model, x, y, numerics, r, items, turns):
    opt = optimizer(model)
    model.train()
    step = lambda: train_step(model, opt, x, y, numerics)
    return stats([items / s for s in timed(r["warmup"], r["timed"], items, step, turns)])


def epoch_stats(case, faces_dir, augment, r, turns):
    """The usual PyTorch loop: ImageFolder + torchvision transforms (the same augmentation as
    ours), a DataLoader with one worker, the model stepping on what it yields; in rounds
    alternating with as many bare steps of the same model on one random batch (the train case's
    step), so that the two are timed within seconds of each other."""
    from torchvision import datasets, transforms as T
    s, b, n = case["size"], case["batch"], case["numerics"]
    tf = T.Compose([
        T.RandomResizedCrop(s, scale=tuple(augment["crop_scale"]), ratio=tuple(augment["crop_ratio"])),
        T.RandomHorizontalFlip(augment["flip_prob"]),
        T.RandomRotation(augment["rotate_deg"]),
        T.ColorJitter(augment["brightness"], augment["contrast"], augment["saturation"]),
        T.ToTensor(),
        T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    ])
    # the faces ours takes: batches x batch of them, evenly spaced through the sorted split, so the
    # loader's epoch is exactly the timed batches (no prefetched batch thrown away at a break)
    faces = datasets.ImageFolder(Path(faces_dir) / "train", tf)
    items = case["batches"] * b
    if len(faces) < items:
        raise SystemExit(f"{faces_dir}/train: {len(faces)} faces, fewer than the {items} an epoch case takes")
    subset = torch.utils.data.Subset(faces, [i * len(faces) // items for i in range(items)])
    loader = torch.utils.data.DataLoader(subset, batch_size=b, shuffle=True, num_workers=1, drop_last=True)
    model = image_net(case["arch"], s)
    if n["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    opt = optimizer(model)

    def call():
        for x, y in loader:
            if n["channels_last"]:
                x = x.contiguous(memory_format=torch.channels_last)
            train_step(model, opt, x, y, n)

    _, bare_x = fmt(model, torch.randn(b, 3, s, s), n)
    bare_y = torch.randint(IMAGE_CLASSES, (b,))

    def bare():
        for _ in range(case["batches"]):
            train_step(model, opt, bare_x, bare_y, n)
    loop, steps = timed_alternating(r["warmup"], r["timed"], call, bare, turns)
    return {"stats": stats([items / t for t in loop]), "bare": stats([items / t for t in steps])}


def measure(case, r, minilm_dir, rust, turns):
    """{"stats"} for the case ({"stats", "bare"} for an epoch case), None where PyTorch has no
    counterpart of it (then without a word to `turns`)."""
    if case["kind"] == "epoch":
        return epoch_stats(case, rust["faces_dir"], rust["augment"], r, turns)
    s = measure_stats(case, r, minilm_dir, turns)
    return None if s is None else {"stats": s}


def measure_stats(case, r, minilm_dir, turns):
    kind, n = case["kind"], case.get("numerics")
    if kind in ("train", "infer"):
        b, s = case["batch"], case["size"]
        model, x = fmt(image_net(case["arch"], s), torch.randn(b, 3, s, s), n)
        if kind == "train":
            return train_stats(model, x, torch.randint(IMAGE_CLASSES, (b,)), n, r, b, turns)
        model.eval()
        with torch.no_grad():
            def call():
                with precision(n):
                    model(x).float().sum().item()
            return stats([s_ * 1e3 / b for s_ in timed(r["warmup"], r["timed"], b, call, turns)])
    if kind == "minilm_train":
        from transformers import AutoModel
        b, t = case["batch"], case["seq"]

        class MiniLm(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = AutoModel.from_pretrained(minilm_dir)
                self.head = torch.nn.Linear(self.encoder.config.hidden_size, REVIEW_CLASSES)

            def forward(self, ids):
                mask = (ids != 0).long()
                h = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).to(h.dtype)
                return self.head(F.dropout((h * m).sum(1) / m.sum(1).clamp(min=1e-9), 0.1, self.training))

        ids = torch.randint(1000, 30000, (b, t))
        return train_stats(MiniLm(), ids, torch.randint(REVIEW_CLASSES, (b,)), n, r, b * t, turns)
    if kind == "bilstm_train":
        b, t = case["batch"], case["seq"]
        ids = torch.randint(1, BILSTM_VOCAB, (b, t))
        return train_stats(bench_models.BiLstm(vocab_size=BILSTM_VOCAB, num_classes=REVIEW_CLASSES), ids,
                           torch.randint(REVIEW_CLASSES, (b,)), n, r, b, turns)
    return None  # the data pipeline is ours alone


def flops(arch, size):
    m = image_net(arch, size).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        m(torch.randn(1, 3, size, size))
    return fc.get_total_flops()


def run_case(case, header, turns):
    torch.manual_seed(0)
    return measure(case, header["repeats"], header.get("minilm_dir"), header, turns)


def requests(answer):
    """What affect-lab asks for, one entry {"case", "unit"} per line on stdin (a rust.json entry
    without stats; with "rounds": true, its timed rounds go in turn with affect-lab's), after a
    {"ready": true} answer. Stops at {"end": true}; input that stops without it (affect-lab was
    killed) exits with an error and writes nothing."""
    send(answer, {"ready": True})
    for line in sys.stdin:
        entry = json.loads(line)
        if entry.get("end"):
            return
        yield entry
    sys.exit("bench_reference: input ended without {\"end\": true}; nothing written")


def run_all(entries, header, reply, answer=None):
    """Each entry's case measured, `reply(i, entry, timing)` told at once (timing None for a case
    PyTorch has no counterpart of); the measured entries in their order, less warm-up entries
    ({"warmup": true}: measured and answered, not kept). An entry with "rounds": true times its
    rounds in turn with affect-lab's, through `answer`."""
    measured = []
    for i, m in enumerate(entries):
        timing = run_case(m["case"], header, Turns(answer) if m.get("rounds") else Alone())
        reply(i, m, timing)
        if timing is not None and not m.get("warmup"):
            measured.append({"case": m["case"], "unit": m["unit"], **timing})
    return measured


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rust", help="a finished rust.json: run its case list after it")
    ap.add_argument("--serve", action="store_true",
                    help="read a header line (a rust.json without measurements), then entries, from stdin")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minilm-dir", default=os.environ.get("AFFECT_LAB_MINILM"))
    ap.add_argument("--flops-sizes", default="32,48,64,96,128,224")
    a = ap.parse_args()
    if a.serve == bool(a.rust):
        ap.error("give either --rust FILE or --serve")
    # stdout carries the answers alone when serving: whatever else writes to it, Python code or
    # native libraries (oneDNN and MKL verbose output), goes to stderr
    sys.stdout.flush()
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    header = json.loads(sys.stdin.readline()) if a.serve else json.load(open(a.rust))
    if a.minilm_dir:
        header["minilm_dir"] = a.minilm_dir
    torch.set_num_threads(header["threads"])
    # the same process setting as affect-lab (numerics::flush_denormals): denormal floats read
    # as zero, so neither side pays the CPU's slow path for them
    torch.set_flush_denormal(True)
    if a.serve:
        # answered at once: affect-lab waits for each case's answer before the next
        def reply(i, m, timing):
            send(answer, timing or {"stats": None})
        measured = run_all(requests(answer), header, reply, answer)
    else:
        def reply(i, m, timing):
            if timing is not None:
                label = "warm-up" if m.get("warmup") else f"{i:>2}"
                print(f"[{label}] {json.dumps(m['case'])}: {timing['stats']['median']:.2f} {m['unit']}", file=sys.stderr)
        # the first case once, unrecorded, as affect-lab warms up before its list
        entries = header["measured"]
        warm_up = [dict(entries[0], warmup=True)] if entries else []
        measured = run_all(warm_up + entries, header, reply)
    archs = ["emotion_net_v1", "emotion_net_v2", "emotion_net_v3", "res_net18", "res_net50", "mobile_net_v2"]
    sizes = [int(s) for s in a.flops_sizes.split(",")]
    out = {
        "library": f"PyTorch {torch.__version__} eager",
        "machine": header["machine"],
        "threads": torch.get_num_threads(),
        "flush_denormal": True,
        "repeats": header["repeats"],
        "measured": measured,
        "flops": [{"arch": x, "size": s, "flops": float(flops(x, s))} for x in archs for s in sizes],
    }
    tmp = Path(a.out).with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1))
    tmp.replace(a.out)
    print(f"wrote {a.out} ({platform.processor() or platform.machine()})", file=sys.stderr)


if __name__ == "__main__":
    main()
