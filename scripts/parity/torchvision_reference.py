#!/usr/bin/env python3
"""Reference logits of torchvision ResNet-18/50 and MobileNetV2, for the Rust parity test
(tests/torchvision_parity.rs), which runs this script into a temp dir on every test run.

  torchvision_reference.py random MODEL OUT_DIR
      MODEL with random weights (fixed seed; BN affine params AND running stats randomised so a
      wrong BN would show), a fixed random input [2,3,99,131] (odd, non-square: padding, pooling
      and stride arithmetic must match).
  torchvision_reference.py imagenet MODEL OUT_DIR --image IMAGE [--pth FILE.pth]
      MODEL with its torchvision ImageNet checkpoint (found where scripts/convert_weights.py
      looks, unless --pth is given), on one real image resized to 224x224 (bilinear)
      and ImageNet-normalised here, so Rust gets exactly the same input tensor.
  torchvision_reference.py bench [MODEL] [--threads 2] [--size S]... [--batch B]...
      eval-mode, no_grad inference ms/image (min and median of 20 runs at batch 1, 3 at larger
      batches, after one warm-up), default batch 1 and 64 at 96 and 224 px, for the three models;
      one JSON object per line.

Outputs in OUT_DIR: weights.safetensors (made by scripts/convert_weights.py, as a user would,
from the random model's saved state_dict weights.pth, or from --pth), reference.safetensors {input, logits} (float32,
eval mode, no_grad). Exits non-zero with a message on any problem.
"""
import argparse, json, subprocess, sys, time
from pathlib import Path

import torch
import torchvision
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[2]
CONVERTER = ROOT / "scripts/convert_weights.py"
MODELS = {"resnet18": torchvision.models.resnet18, "resnet50": torchvision.models.resnet50,
          "mobilenet_v2": torchvision.models.mobilenet_v2}
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def randomise(model: torch.nn.Module, seed: int):
    """Random BN affine params, then running stats calibrated on random batches and jittered.
    Plain random stats would leave the net saturated (ReLU6) or dominated by its biases, and
    the logits would barely depend on the input, so the test would not see a wrong layer."""
    torch.manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for m in bns:
            m.weight.uniform_(0.5, 1.5)
            m.bias.normal_(0.0, 0.2)
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                m.reset_parameters()  # nn.Linear's default; MobileNetV2's 0.01-std head gives tiny logits
        model.train()
        for _ in range(4):
            model(torch.randn(8, 3, 64, 64))
        for m in bns:
            m.running_mean.add_(torch.randn_like(m.running_mean) * 0.1 * m.running_var.sqrt())
            m.running_var.mul_(torch.empty_like(m.running_var).uniform_(0.8, 1.25))
            m.momentum = 0.1
            m.num_batches_tracked.fill_(7)
    model.eval()


def convert(pth: Path, out: Path):
    subprocess.run([sys.executable, str(CONVERTER), str(pth), str(out / "weights.safetensors")], check=True)


def write_reference(model, x, out: Path):
    model.eval()
    with torch.no_grad():
        logits = model(x)
    save_file({"input": x.contiguous(), "logits": logits.contiguous()}, str(out / "reference.safetensors"))
    print(f"logits {tuple(logits.shape)} std {logits.std():.3f} top1 {logits.argmax(1).tolist()}")


def find_imagenet_pth(model: str) -> Path:
    sys.path.insert(0, str(CONVERTER.parent))
    import convert_weights
    name = next((n for n in convert_weights.KNOWN if n.startswith(model + "-")), None)
    path = name and convert_weights.find_pth(name)
    if not path:
        sys.exit(f"no ImageNet checkpoint for {model} found where scripts/convert_weights.py looks;"
                 f" pass --pth or see `convert_weights.py --fetch`")
    return path


def load_image(path: Path) -> torch.Tensor:
    from PIL import Image
    import numpy as np
    img = Image.open(path).convert("RGB").resize((224, 224), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
    mean, std = torch.tensor(IMAGENET_MEAN).view(3, 1, 1), torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return ((x - mean) / std).unsqueeze(0)


def bench(threads: int, models, sizes, batches):
    """Min and median over individually timed runs: the minimum is the least disturbed by
    other work on a shared machine."""
    torch.set_num_threads(threads)
    for name in models:
        model = MODELS[name]().eval()
        for size in sizes:
            for batch in batches:
                x = torch.randn(batch, 3, size, size)
                times = []
                with torch.no_grad():
                    model(x)  # warm-up
                    for _ in range(20 if batch == 1 else 3):
                        t0 = time.perf_counter()
                        model(x)
                        times.append((time.perf_counter() - t0) * 1000 / batch)
                times.sort()
                print(json.dumps({"model": name, "size": size, "batch": batch,
                                  "min_ms": times[0], "median_ms": times[len(times) // 2]}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["random", "imagenet", "bench"])
    ap.add_argument("model", nargs="?", choices=list(MODELS))
    ap.add_argument("out", nargs="?", type=Path)
    ap.add_argument("--pth", type=Path)
    ap.add_argument("--image", type=Path)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, action="append", help="bench: image size(s), default 96 and 224")
    ap.add_argument("--batch", type=int, action="append", help="bench: batch size(s), default 1 and 64")
    a = ap.parse_args()
    if a.mode == "bench":
        return bench(a.threads, [a.model] if a.model else list(MODELS), a.size or [96, 224], a.batch or [1, 64])
    if a.model is None or a.out is None:
        ap.error("give MODEL and OUT_DIR")
    a.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1234)  # the constructor's own init draws from the global RNG too
    model = MODELS[a.model]()
    if a.mode == "random":
        randomise(model, seed=1234)
        torch.manual_seed(99)
        x = torch.randn(2, 3, 99, 131)
        torch.save(model.state_dict(), a.out / "weights.pth")
        convert(a.out / "weights.pth", a.out)
    else:
        if a.image is None:
            ap.error("imagenet mode needs --image")
        pth = a.pth or find_imagenet_pth(a.model)
        model.load_state_dict(torch.load(pth, map_location="cpu", weights_only=True), strict=True)
        x = load_image(a.image)
        convert(pth, a.out)
    write_reference(model, x, a.out)


if __name__ == "__main__":
    main()
