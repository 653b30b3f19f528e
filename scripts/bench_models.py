"""PyTorch twins of our EmotionNet V1-V3 and BiLSTM (src/models/*.rs), for speed benchmarks.

Layer for layer the same as the Rust models: state_dict() keys and shapes are exactly the tch
VarStore names, constructor defaults are the Rust Config defaults, and eval-mode forward gives
the same logits (tests/bench_models_parity.rs checks all three).

    python scripts/bench_models.py --check DIR
loads, per `<name>.json` in DIR ({"class", "kwargs"}), the tch weights `<name>.safetensors`
strictly, runs eval forward on tensor "x" of `<name>.input.safetensors`, writes
`<name>.torch.safetensors` ("logits") and prints {"name", "params"} as one JSON line.
"""
import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


# --- blocks.rs -------------------------------------------------------------------------------

class BatchNorm2d(nn.Module):
    """BatchNorm as tch builds it: weight, bias, running_mean, running_var and no
    num_batches_tracked (nn.BatchNorm2d would add that key and inject it again on load)."""

    def __init__(self, c, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight, self.bias = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c))
        self.register_buffer("running_mean", torch.zeros(c))
        self.register_buffer("running_var", torch.ones(c))

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training, self.momentum, self.eps)


def conv_no_bias(c_in, c_out, k, stride=1, dilation=1):
    # "same" padding for odd kernels at stride 1, dilated too (blocks.rs conv_no_bias)
    return nn.Conv2d(c_in, c_out, k, stride, dilation * (k - 1) // 2, dilation, bias=False)


class ConvBnRelu(nn.Module):
    def __init__(self, c_in, c_out, k, stride=1, dilation=1):
        super().__init__()
        self.conv, self.bn = conv_no_bias(c_in, c_out, k, stride, dilation), BatchNorm2d(c_out)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class ResidualBlock(nn.Module):
    def __init__(self, c_in, c_out, stride=1, kernel=3, dilation=1):
        super().__init__()
        self.conv1, self.bn1 = conv_no_bias(c_in, c_out, kernel, stride, dilation), BatchNorm2d(c_out)
        self.conv2, self.bn2 = conv_no_bias(c_out, c_out, 3), BatchNorm2d(c_out)
        # Sequential gives the tch names downsample.0 / downsample.1
        self.downsample = (nn.Sequential(conv_no_bias(c_in, c_out, 1, stride), BatchNorm2d(c_out))
                           if stride != 1 or c_in != c_out else None)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class SelfAttention(nn.Module):
    """SAGAN attention; queries from x, keys/values from context (cross-attention if it differs)."""

    def __init__(self, channels, context_channels=None):
        super().__init__()
        ctx, qk = context_channels or channels, max(channels // 8, 1)
        self.query, self.key = nn.Conv2d(channels, qk, 1), nn.Conv2d(ctx, qk, 1)
        self.value = nn.Conv2d(ctx, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))  # 0: a new block is the identity

    def forward(self, x, context=None):
        context = x if context is None else context
        n, c, h, w = x.shape
        m = context.shape[2] * context.shape[3]
        q = self.query(x).view(n, -1, h * w).transpose(1, 2)  # [N, HW, C/8]
        k = self.key(context).view(n, -1, m)  # [N, C/8, M]
        attn = torch.bmm(q, k).softmax(-1)  # [N, HW, M]
        v = self.value(context).view(n, c, m)
        return self.gamma * torch.bmm(v, attn.transpose(1, 2)).view(n, c, h, w) + x


class ChannelAttention(nn.Module):
    def __init__(self, channels, reduction):
        super().__init__()
        hidden = max(channels // max(reduction, 1), 1)
        self.fc1, self.fc2 = nn.Conv2d(channels, hidden, 1, bias=False), nn.Conv2d(hidden, channels, 1, bias=False)

    def forward(self, x):
        mlp = lambda t: self.fc2(F.relu(self.fc1(t)))  # noqa: E731 -- one MLP shared by both descriptors
        return x * torch.sigmoid(mlp(F.adaptive_avg_pool2d(x, 1)) + mlp(x.amax((2, 3), keepdim=True)))


class SpatialAttention(nn.Module):
    def __init__(self, kernel):
        super().__init__()
        self.conv = conv_no_bias(2, 1, kernel)

    def forward(self, x):
        maps = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
        return x * torch.sigmoid(self.conv(maps))


def _add_global(module, sub):
    # `global` is a Python keyword but a tch path name: register it by string
    module.add_module("global", sub)


# --- emotionnet_v1.rs ------------------------------------------------------------------------

class EmotionNetV1(nn.Module):
    def __init__(self, num_classes=7, image_size=64, local_widths=(32, 32), global_width=32, global_kernel=7,
                 hidden=512, dropout=0.5):
        super().__init__()
        l1, l2 = local_widths
        conv = lambda c_in, c_out, k: nn.Conv2d(c_in, c_out, k, padding=k // 2)  # noqa: E731
        self.image_size, self.dropout = image_size, dropout
        self.local = nn.ModuleDict({"conv1": conv(3, l1, 3), "conv2": conv(l1, l2, 3)})
        _add_global(self, nn.ModuleDict({"conv": conv(3, global_width, global_kernel)}))
        flat = (l2 + global_width) * (image_size // 2) ** 2
        self.classifier = nn.ModuleDict({"fc1": nn.Linear(flat, hidden), "fc2": nn.Linear(hidden, num_classes)})

    def forward(self, x):
        assert x.shape[2:] == (self.image_size, self.image_size), f"built for {self.image_size}px, got {x.shape}"
        local = F.max_pool2d(F.relu(self.local.conv2(F.relu(self.local.conv1(x)))), 2)
        glob = F.max_pool2d(F.relu(self._modules["global"].conv(x)), 2)
        h = F.relu(self.classifier.fc1(torch.cat([local, glob], 1).flatten(1)))
        return self.classifier.fc2(F.dropout(h, self.dropout, self.training))


# --- emotionnet_v2.rs ------------------------------------------------------------------------

class _Pathway(nn.Module):
    """Residual blocks -> max-pool 2 -> self-attention."""

    def __init__(self, c_in, c, blocks, kernel, dilation):
        super().__init__()
        self.blocks = nn.ModuleList([ResidualBlock(c_in, c, 1, kernel, dilation) if i == 0 else ResidualBlock(c, c)
                                     for i in range(blocks)])
        self.attn = SelfAttention(c)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.attn(F.max_pool2d(x, 2))


class EmotionNetV2(nn.Module):
    def __init__(self, num_classes=7, image_size=64, stem_channels=32, stem_stride=2, stem_pool=True,
                 pathway_channels=64, blocks_per_pathway=2, global_kernel=3, global_dilation=2, fusion_channels=128,
                 fusion_stride=2, dropout=0.3):
        super().__init__()
        c = pathway_channels
        self.image_size, self.stem_pool, self.dropout = image_size, stem_pool, dropout  # image_size: nominal only
        self.stem = ConvBnRelu(3, stem_channels, 3, stem_stride)
        self.local = _Pathway(stem_channels, c, blocks_per_pathway, 3, 1)
        _add_global(self, _Pathway(stem_channels, c, blocks_per_pathway, global_kernel, global_dilation))
        self.cross_local, self.cross_global = SelfAttention(c), SelfAttention(c)
        self.fusion = nn.ModuleDict({"block": ResidualBlock(2 * c, fusion_channels, fusion_stride),
                                     "attn": SelfAttention(fusion_channels)})
        self.classifier = nn.Linear(fusion_channels, num_classes)

    def forward(self, x):
        stem = self.stem(x)
        if self.stem_pool:
            stem = F.max_pool2d(stem, 2)
        local, glob = self.local(stem), self._modules["global"](stem)
        # both directions read the pre-cross features
        fused = torch.cat([self.cross_local(local, glob), self.cross_global(glob, local)], 1)
        fused = F.adaptive_avg_pool2d(self.fusion.attn(self.fusion.block(fused)), 1)
        return self.classifier(F.dropout2d(fused, self.dropout, self.training).flatten(1))


# --- emotionnet_v3.rs ------------------------------------------------------------------------

class EmotionNetV3(nn.Module):
    def __init__(self, num_classes=7, image_size=64, stem_channels=32, local_channels=32, global_channels=32,
                 global_kernel=5, global_dilation=1, reduction=8, spatial_kernel=7, final_channels=64, dropout=0.2):
        super().__init__()
        c = local_channels + global_channels
        self.image_size, self.dropout = image_size, dropout  # image_size: nominal only
        self.stem = ConvBnRelu(3, stem_channels, 3, 2)
        self.local = ConvBnRelu(stem_channels, local_channels, 3)
        _add_global(self, ConvBnRelu(stem_channels, global_channels, global_kernel, 1, global_dilation))
        self.channel_attn, self.spatial_attn = ChannelAttention(c, reduction), SpatialAttention(spatial_kernel)
        self.final = ConvBnRelu(c, final_channels, 3, 2)
        self.classifier = nn.Linear(final_channels, num_classes)

    def forward(self, x):
        stem = self.stem(x)
        x = F.max_pool2d(torch.cat([self.local(stem), self._modules["global"](stem)], 1), 2)
        x = F.adaptive_avg_pool2d(self.final(self.spatial_attn(self.channel_attn(x))), 1).flatten(1)
        return self.classifier(F.dropout(x, self.dropout, self.training))


# --- bilstm.rs -------------------------------------------------------------------------------

class BiLstm(nn.Module):
    """Embedding -> BiLSTM -> masked mean ++ masked max over real tokens -> fc layers.

    Padding (pad_id) is handled as in Rust, without packed sequences: the backward direction runs
    over each row reversed within its own length and is un-reversed afterwards. For rows padded at
    the end that matches a packed bidirectional nn.LSTM (to rounding), and it keeps Rust's answer
    for all-padding rows (zeros), which pack_padded_sequence rejects. nn.LSTM only holds the weights
    (its names are the tch ones); each direction runs through torch.lstm, the op tch's
    Tensor::lstm calls.
    """

    def __init__(self, vocab_size, num_classes, pad_id=0, embed_dim=128, hidden=128, layers=1, dropout=0.3,
                 fc_hidden=64):
        super().__init__()
        assert layers in (1, 2) and 0 <= pad_id < vocab_size
        self.pad_id, self.hidden, self.layers, self.dropout = pad_id, hidden, layers, dropout
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        # dropout=0 here: ours sits on the embeddings and between layers, applied by hand
        self.lstm = nn.LSTM(embed_dim, hidden, num_layers=layers, bidirectional=True, batch_first=True)
        self.fc1 = nn.Linear(4 * hidden, fc_hidden) if fc_hidden else None
        self.fc_out = nn.Linear(fc_hidden or 4 * hidden, num_classes)

    def _run(self, x, layer, sfx):
        p = [getattr(self.lstm, f"{w}_l{layer}{sfx}") for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        h0 = x.new_zeros(1, x.shape[0], self.hidden)
        return torch.lstm(x, (h0, h0), p, True, 1, 0.0, self.training, False, True)[0]

    def sequence_outputs(self, ids):
        n, l = ids.shape
        mask = ids != self.pad_id
        lengths = mask.sum(1, keepdim=True)
        t = torch.arange(l, device=ids.device).unsqueeze(0)
        # reverses the first len steps of each row, padding stays in place; its own inverse
        rev = torch.where(t < lengths, lengths - 1 - t, t.expand(n, l))
        flip = lambda x: x.gather(1, rev.unsqueeze(-1).expand(n, l, x.shape[2]))  # noqa: E731
        x = F.dropout(self.embedding(ids), self.dropout, self.training)
        for i in range(self.layers):
            if i > 0:
                x = F.dropout(x, self.dropout, self.training)
            x = torch.cat([self._run(x, i, ""), flip(self._run(flip(x), i, "_reverse"))], 2)
        return x, mask

    def pooled(self, ids):
        out, mask = self.sequence_outputs(ids)
        m = mask.unsqueeze(-1)
        count = m.sum(1, dtype=torch.float32).clamp_min(1.0)
        mean = out.masked_fill(~m, 0.0).sum(1) / count
        mx = out.masked_fill(~m, float("-inf")).amax(1)
        empty = ~mask.any(1, keepdim=True)  # a row with no real token pools to zeros
        return torch.cat([mean, mx.masked_fill(empty, 0.0)], 1)

    def forward(self, ids):
        x = F.dropout(self.pooled(ids), self.dropout, self.training)
        if self.fc1 is not None:
            x = F.dropout(F.relu(self.fc1(x)), self.dropout, self.training)
        return self.fc_out(x)


MODELS = {c.__name__: c for c in (EmotionNetV1, EmotionNetV2, EmotionNetV3, BiLstm)}


def param_count(model):
    """Trainable scalars; BN running stats are buffers, so excluded as in train::param_count."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def load_strict(model, path):
    from safetensors.torch import load_file
    result = model.load_state_dict(load_file(path), strict=False)  # shape mismatches raise here
    if result.missing_keys or result.unexpected_keys:
        raise SystemExit(f"{path}: missing keys {result.missing_keys}, unexpected keys {result.unexpected_keys}")


def check(directory):
    from safetensors.torch import load_file, save_file
    d = Path(directory)
    specs = sorted(d.glob("*.json"))
    if not specs:
        raise SystemExit(f"no <name>.json in {d}")
    for spec in specs:
        name, cfg = spec.stem, json.loads(spec.read_text())
        model = MODELS[cfg["class"]](**cfg.get("kwargs", {}))
        load_strict(model, d / f"{name}.safetensors")
        model.eval()
        with torch.no_grad():
            logits = model(load_file(d / f"{name}.input.safetensors")["x"])
        save_file({"logits": logits.contiguous()}, d / f"{name}.torch.safetensors")
        print(json.dumps({"name": name, "params": param_count(model)}), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", metavar="DIR", required=True, help="dir of <name>.json/.safetensors/.input.safetensors")
    check(ap.parse_args(argv).check)


if __name__ == "__main__":
    sys.exit(main())
