#!/usr/bin/env python3
"""Reference numbers for a model traced from Rust: FLOPs per item (torch FlopCounterMode on the
TorchScript trace) and, where a torchvision equivalent exists, PyTorch eager latency for the same
input shape and thread count, so Rust and PyTorch can be compared as a ratio. Prints one JSON line."""
import argparse, json, statistics, time, warnings
warnings.filterwarnings("ignore")
import logging; logging.disable(logging.WARNING)
import torch
from torch.utils.flop_counter import FlopCounterMode

ap = argparse.ArgumentParser()
ap.add_argument("--traced", required=True)
ap.add_argument("--shape", required=True)
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--dtype", choices=["float", "long"], default="float")
ap.add_argument("--torchvision")
ap.add_argument("--num-classes", type=int, default=1000)
ap.add_argument("--batches", default="1")
a = ap.parse_args()
if a.threads > 0:
    torch.set_num_threads(a.threads)
shape = [int(s) for s in a.shape.split(",")]
m = torch.jit.load(a.traced).eval()
x = torch.randn(shape) if a.dtype == "float" else torch.ones(shape, dtype=torch.long)
with torch.no_grad(), FlopCounterMode(display=False) as fc:
    m(x)
out = {"flops": fc.get_total_flops() / shape[0], "pytorch_latency_ms": []}
if a.torchvision:
    import torchvision
    tv = getattr(torchvision.models, a.torchvision)(num_classes=a.num_classes).eval()
    for b in [int(s) for s in a.batches.split(",")]:
        xb = torch.randn([b] + shape[1:])
        with torch.no_grad():
            for _ in range(3):
                tv(xb)
            ts = []
            for _ in range(10):
                t = time.perf_counter(); tv(xb); ts.append((time.perf_counter() - t) * 1e3 / b)
        out["pytorch_latency_ms"].append([b, statistics.median(ts)])
print(json.dumps(out))
