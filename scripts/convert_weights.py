#!/usr/bin/env python3
"""Convert torchvision ImageNet .pth checkpoints to .safetensors for the Rust side (tch cannot
read pickles), and optionally fetch the official files first.

  convert_weights.py                 convert every known .pth found (weights dir, site-packages)
  convert_weights.py --fetch         download missing official files first (needs a network)
  convert_weights.py IN.pth OUT.safetensors   convert one file (used by tests)

Tensor names are kept exactly as torchvision writes them; BN `num_batches_tracked` counters
are dropped (they do not affect inference or fine-tuning).
"""
import argparse, hashlib, os, sys, tempfile, glob, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KNOWN = {
    "resnet18-f37072fd.pth": "https://download.pytorch.org/models/resnet18-f37072fd.pth",
    "resnet50-0676ba61.pth": "https://download.pytorch.org/models/resnet50-0676ba61.pth",
    "mobilenet_v2-b0353104.pth": "https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",
}


def weights_dir() -> Path:
    return Path(os.environ.get("AFFECT_LAB_WEIGHTS") or ROOT / "weights")


def find_pth(name: str):
    for d in [weights_dir(), Path.home() / ".cache/torch/hub/checkpoints"]:
        if (d / name).is_file():
            return d / name
    for sp in glob.glob(str(ROOT / ".venv/lib/python*/site-packages")):
        hits = glob.glob(f"{sp}/**/{name}", recursive=True)
        if hits:
            return Path(hits[0])
    return None


def convert(src: Path, dst: Path):
    import torch
    from safetensors.torch import save_file
    sd = torch.load(src, map_location="cpu", weights_only=True)
    if isinstance(sd, dict) and "state_dict" in sd:
        sd = sd["state_dict"]
    out = {k: v.detach().contiguous().float() if v.is_floating_point() else v.detach().contiguous()
           for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, suffix=".tmp")
    os.close(fd)
    try:
        save_file(out, tmp, metadata={"source": src.name})
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return len(out)


def fetch(name: str, url: str) -> bool:
    dst = weights_dir() / name
    dst.parent.mkdir(parents=True, exist_ok=True)
    prefix = name.rsplit("-", 1)[1].split(".")[0]  # torchvision names carry a sha256 prefix
    try:
        tmp = dst.with_suffix(".part")
        with urllib.request.urlopen(url, timeout=30) as r, open(tmp, "wb") as f:
            h = hashlib.sha256()
            while chunk := r.read(1 << 20):
                h.update(chunk); f.write(chunk)
        if not h.hexdigest().startswith(prefix):
            tmp.unlink(); print(f"  {name}: checksum mismatch, discarded"); return False
        os.replace(tmp, dst)
        return True
    except Exception as e:  # no network here is normal
        print(f"  {name}: could not download {url} ({e.__class__.__name__}: {e})")
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--fetch", action="store_true")
    ap.add_argument("--quiet-if-done", action="store_true")
    a = ap.parse_args()
    if a.paths:
        if len(a.paths) != 2:
            ap.error("give IN.pth OUT.safetensors")
        n = convert(Path(a.paths[0]), Path(a.paths[1]))
        print(f"converted {a.paths[0]} -> {a.paths[1]} ({n} tensors)")
        return
    missing = []
    for name, url in KNOWN.items():
        dst = weights_dir() / name.replace(".pth", ".safetensors")
        if dst.is_file():
            if not a.quiet_if_done:
                print(f"ok       {dst}")
            continue
        src = find_pth(name)
        if src is None and a.fetch and fetch(name, url):
            src = weights_dir() / name
        if src is None:
            missing.append((name, url))
            continue
        n = convert(src, dst)
        print(f"converted {src} -> {dst} ({n} tensors)")
    for name, url in missing:
        print(f"missing  {name}: not found in {weights_dir()}, ~/.cache/torch/hub/checkpoints or the venv;"
              f" download {url} into {weights_dir()} (or run `affect-lab fetch-weights`)")


if __name__ == "__main__":
    main()
