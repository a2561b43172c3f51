#!/usr/bin/env python3
"""Generate the PyTorch parity fixtures used by resgrad's Rust tests.

How to run (from the repository root):

    python3 -m venv .venv && .venv/bin/pip install -r tools/requirements.txt && .venv/bin/python tools/make_fixtures.py

The files land in ``tests/fixtures/`` (relative to the repository root, no
matter where you run the script from); pass ``--out DIR`` to write elsewhere.
The files are committed: the Rust tests only read them, so running
``cargo test`` never needs Python or PyTorch. Re-run this script only when a
case is added or changed. Every case seeds PyTorch's global generator with a
fixed number (see ``SEEDS``), so re-running reproduces the same values.

How the numbers are made
------------------------
* Every input and parameter is first drawn in float32, so that its value is
  exactly representable in float32; the module and the inputs are then cast to
  float64 and the forward and backward passes run in float64. The stored
  outputs and gradients are therefore the float64 reference rounded once to
  float32, not a float32 computation with its own rounding errors.
  (Exceptions: ``adamw`` and the ``encoder_state_dict`` pair run in float32 on
  purpose; their metadata says ``"dtype": "float32"``.)
* Dropout is 0.0 everywhere and modules with dropout are put in ``.train()``
  mode, which keeps PyTorch off its fused inference "fast path", so the plain
  textbook math is what gets recorded.
* The loss is never ``y.sum()``. A random tensor ``upstream`` of the output's
  shape is drawn and ``(y * upstream).sum()`` is backpropagated, so every
  stored gradient is the vector-Jacobian product with ``upstream``.
* Parameters that PyTorch initialises to constants (LayerNorm gain 1 and
  shift 0, MultiheadAttention's zero biases) are overwritten with random
  values before use, so that these parameters actually influence the output.
  The metadata key ``perturbed`` lists which ones.

File format
-----------
One safetensors file per case, ``<case>.safetensors``. Tensor names:

* ``input.<name>``            an input (``input.x``, ``input.src``, ...)
* ``param.<key>``             a parameter, ``<key>`` being exactly the key in
                              the module's ``state_dict()`` (``param.weight``,
                              ``param.in_proj_weight``, ``param.out_proj.bias``,
                              ``param.linear1.weight``, ``param.norm2.bias``, ...)
* ``output.<name>``           an output (``output.y``; attention cases also have
                              ``output.attn_weights``, shape [B, H, T, S], per
                              head, not averaged; ``cross_entropy`` has the
                              0-dim ``output.loss``)
* ``upstream``                the upstream gradient dy used for the backward pass
* ``grad.input.<name>``       gradient with respect to an input
* ``grad.param.<key>``        gradient with respect to a parameter

Everything is float32 except integer class targets, which are int64.
The case's configuration is in the safetensors header metadata (string to
string), always including ``case``, ``seed`` and ``torch`` (the version used).

Two cases differ from this pattern:

* ``adamw`` stores three optimizer steps: ``step<k>.loss`` (0-dim),
  ``step<k>.grad.weight`` and ``step<k>.grad.bias`` (gradients before step k)
  and ``step<k>.param.weight`` and ``step<k>.param.bias`` (after step k), with
  the starting values in ``param.weight``, ``param.bias`` and the data in
  ``input.x``, ``input.t``. There is no ``upstream``.
* ``encoder_state_dict.safetensors`` is a plain state dict, saved exactly as a
  PyTorch user would save one: the ``state_dict()`` keys with no prefix and no
  metadata. Its companion ``encoder_state_dict_io.safetensors`` holds
  ``input.src`` and ``output.y`` computed in ``.eval()`` mode in float32.
"""

import argparse
import json
import struct
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file

REPO_ROOT = Path(__file__).resolve().parent.parent

# One fixed seed per case. Changing a seed changes every number in that file.
SEEDS = {
    "linear": 1001,
    "linear_batched": 1002,
    "layer_norm": 1003,
    "mha": 1004,
    "mha_causal": 1005,
    "feed_forward": 1006,
    "encoder_post": 1007,
    "encoder_pre": 1008,
    "cross_entropy": 1009,
    "adamw": 1010,
    # encoder_state_dict reuses the encoder_post weights, so it uses its seed
    # for the weights; this seed is only for the input drawn for the io file.
    "encoder_state_dict": 1011,
}

# The fixtures must stay small enough to commit without a second thought.
MAX_TOTAL_BYTES = 2 * 1024 * 1024


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def randn32(*shape, mean=0.0, std=1.0):
    """Normal samples computed in float32, so each value is float32-exact."""
    return torch.randn(*shape, dtype=torch.float32) * std + mean


def as_leaf64(t):
    """Cast a float32 tensor to a float64 leaf that records its gradient."""
    return t.double().requires_grad_(True)


def perturb_constant_params(module):
    """Replace constant initial values with random ones (in place, float32).

    LayerNorm starts with weight = 1 and bias = 0, and MultiheadAttention with
    zero in_proj_bias and out_proj.bias. With those values a wrong bias or
    gain in the Rust code could go unnoticed, so draw fresh values. Returns
    the state_dict keys that were changed, for the metadata.
    """
    changed = []
    with torch.no_grad():
        for prefix, sub in module.named_modules():
            dot = prefix + "." if prefix else ""
            if isinstance(sub, nn.LayerNorm):
                sub.weight.copy_(randn32(*sub.weight.shape, mean=1.0, std=0.25))
                sub.bias.copy_(randn32(*sub.bias.shape, std=0.25))
                changed += [dot + "weight", dot + "bias"]
            elif isinstance(sub, nn.MultiheadAttention):
                sub.in_proj_bias.copy_(randn32(*sub.in_proj_bias.shape, std=0.1))
                sub.out_proj.bias.copy_(randn32(*sub.out_proj.bias.shape, std=0.1))
                changed += [dot + "in_proj_bias", dot + "out_proj.bias"]
    return changed


def to_f32(t):
    """Detach and store as contiguous float32 (int64 targets pass through)."""
    t = t.detach()
    if t.is_floating_point():
        t = t.float()
    return t.contiguous()


def base_metadata(case):
    return {
        "case": case,
        "seed": str(SEEDS[case]),
        "torch": torch.__version__,
    }


def sort_metadata_in_header(path):
    """Rewrite the header so the metadata keys appear in sorted order.

    safetensors keeps the metadata in a hash map, so its key order (and hence
    the file's bytes) changes from run to run even though the tensors do not.
    Sorting the keys makes re-running the script byte-for-byte reproducible,
    so regenerating the fixtures leaves no spurious git diff. Only the order
    of the metadata entries changes: the header keeps its length, and the
    tensor entries and the data after the header are untouched.
    """
    raw = path.read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header_bytes = raw[8 : 8 + header_len]
    text = header_bytes.decode("utf-8").rstrip(" ")  # the header is space-padded
    header = json.loads(text, object_pairs_hook=dict)  # dicts keep file order
    if "__metadata__" not in header:
        return
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    new_text = json.dumps(header, separators=(",", ":"), ensure_ascii=False)
    if len(new_text.encode("utf-8")) != len(text.encode("utf-8")):
        raise RuntimeError(f"{path}: unexpected header layout, not rewritten")
    padded = new_text.encode("utf-8").ljust(header_len, b" ")
    path.write_bytes(raw[:8] + padded + raw[8 + header_len :])


def write(out_dir, case, tensors, metadata):
    """Save one fixture file; metadata=None writes a header with no metadata."""
    path = out_dir / f"{case}.safetensors"
    save_file({k: to_f32(v) for k, v in tensors.items()}, str(path), metadata=metadata)
    sort_metadata_in_header(path)
    return path


def vjp_case(out_dir, case, module, inputs, forward, metadata):
    """Run one forward/backward in float64 and save the standard layout.

    module:  an nn.Module already cast to float64.
    inputs:  name -> float64 leaf tensor (requires_grad) or int64 tensor.
    forward: function(module, inputs) -> (y, extra_outputs_dict). Only y
             enters the loss; the extra outputs are stored as they are.
    """
    # Parameter names must be exactly the state_dict keys (these modules have
    # no buffers, so the two sets are the same).
    param_names = [name for name, _ in module.named_parameters()]
    assert param_names == list(module.state_dict().keys()), case

    y, extras = forward(module, inputs)

    # The upstream gradient dy: float32-exact values, same shape as y.
    upstream = randn32(*y.shape).double()
    (y * upstream).sum().backward()

    tensors = {}
    for name, value in inputs.items():
        tensors[f"input.{name}"] = value
    for key, value in module.state_dict().items():
        tensors[f"param.{key}"] = value
    tensors["output.y"] = y
    for name, value in extras.items():
        tensors[f"output.{name}"] = value
    tensors["upstream"] = upstream
    for name, value in inputs.items():
        if value.requires_grad:
            tensors[f"grad.input.{name}"] = value.grad
    for name, p in module.named_parameters():
        tensors[f"grad.param.{name}"] = p.grad

    metadata = {**base_metadata(case), **metadata}
    metadata.setdefault("dtype", "float64 compute, float32 storage")
    metadata["loss"] = "sum(output.y * upstream)"
    return write(out_dir, case, tensors, metadata)


# --------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------


def case_linear(out_dir, case, in_features, out_features, x_shape):
    torch.manual_seed(SEEDS[case])
    lin = nn.Linear(in_features, out_features).double()
    inputs = {"x": as_leaf64(randn32(*x_shape))}
    return vjp_case(
        out_dir,
        case,
        lin,
        inputs,
        lambda m, i: (m(i["x"]), {}),
        {"in_features": str(in_features), "out_features": str(out_features)},
    )


def case_layer_norm(out_dir):
    case = "layer_norm"
    torch.manual_seed(SEEDS[case])
    ln = nn.LayerNorm(6)
    with torch.no_grad():
        # Random gain and shift (not the default 1 and 0).
        ln.weight.copy_(randn32(6))
        ln.bias.copy_(randn32(6))
    ln = ln.double()
    # Inputs off-centre and wide, so the mean and variance matter.
    inputs = {"x": as_leaf64(randn32(3, 6, mean=0.5, std=2.0))}
    return vjp_case(
        out_dir,
        case,
        ln,
        inputs,
        lambda m, i: (m(i["x"]), {}),
        {
            "normalized_shape": "6",
            "eps": repr(ln.eps),
            "elementwise_affine": "true",
            "perturbed": "weight,bias",
        },
    )


def case_mha(out_dir, case, causal):
    torch.manual_seed(SEEDS[case])
    embed_dim, num_heads, batch, seq = 8, 2, 2, 5
    mha = nn.MultiheadAttention(embed_dim, num_heads, dropout=0.0, batch_first=True)
    perturbed = perturb_constant_params(mha)
    mha = mha.double().train()
    inputs = {"x": as_leaf64(randn32(batch, seq, embed_dim))}

    if causal:
        # Float mask: 0.0 on and below the diagonal, -inf above it, i.e. query
        # i may not attend to key j > i. It is added to the scaled scores
        # before the softmax. is_causal is left False (the mask is explicit).
        mask = nn.Transformer.generate_square_subsequent_mask(seq, dtype=torch.float64)
    else:
        mask = None

    def forward(m, i):
        x = i["x"]
        y, w = m(
            x,
            x,
            x,
            attn_mask=mask,
            need_weights=True,
            average_attn_weights=False,
        )
        return y, {"attn_weights": w}

    metadata = {
        "embed_dim": str(embed_dim),
        "num_heads": str(num_heads),
        "head_dim": str(embed_dim // num_heads),
        "batch_first": "true",
        "dropout": "0.0",
        "bias": "true",
        "self_attention": "true (query = key = value = input.x)",
        "need_weights": "true",
        "average_attn_weights": "false",
        "attn_weights_shape": "[B, H, T, S]",
        "perturbed": ",".join(perturbed),
    }
    if causal:
        metadata["mask"] = "causal"
        metadata["mask_kind"] = (
            "float attn_mask from nn.Transformer.generate_square_subsequent_mask(5): "
            "0.0 where j <= i, -inf where j > i; is_causal=False"
        )
        metadata["masked_positions"] = "key j > query i"
    else:
        metadata["mask"] = "none"
    return vjp_case(out_dir, case, mha, inputs, forward, metadata)


class FeedForward(nn.Module):
    """linear2(relu(linear1(x))), with the attribute names of the encoder layer."""

    def __init__(self, d_model, d_hidden):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_hidden)
        self.activation = nn.ReLU()
        self.linear2 = nn.Linear(d_hidden, d_model)

    def forward(self, x):
        return self.linear2(self.activation(self.linear1(x)))


def case_feed_forward(out_dir):
    case = "feed_forward"
    torch.manual_seed(SEEDS[case])
    ff = FeedForward(8, 16).double()
    inputs = {"x": as_leaf64(randn32(2, 3, 8))}
    return vjp_case(
        out_dir,
        case,
        ff,
        inputs,
        lambda m, i: (m(i["x"]), {}),
        {"d_model": "8", "dim_feedforward": "16", "activation": "relu"},
    )


# Settings shared by the encoder cases.
ENC = {"d_model": 8, "nhead": 2, "dim_feedforward": 16}


def build_encoder_post():
    """The encoder_post layer in float32; also used by encoder_state_dict."""
    torch.manual_seed(SEEDS["encoder_post"])
    layer = nn.TransformerEncoderLayer(**ENC, dropout=0.0)
    perturbed = perturb_constant_params(layer)
    return layer, perturbed


def encoder_metadata(layer, activation, perturbed):
    return {
        "d_model": str(ENC["d_model"]),
        "nhead": str(ENC["nhead"]),
        "dim_feedforward": str(ENC["dim_feedforward"]),
        "dropout": "0.0",
        "batch_first": str(layer.self_attn.batch_first).lower(),
        "norm_first": str(layer.norm_first).lower(),
        "activation": activation,
        "eps": repr(layer.norm1.eps),
        "bias": "true",
        "perturbed": ",".join(perturbed),
    }


def case_encoder_post(out_dir):
    case = "encoder_post"
    layer, perturbed = build_encoder_post()
    layer = layer.double().train()
    # batch_first=False: src is [seq, batch, d_model].
    inputs = {"src": as_leaf64(randn32(5, 2, ENC["d_model"]))}
    metadata = encoder_metadata(layer, "relu", perturbed)
    metadata["src_layout"] = "[seq, batch, d_model]"
    return vjp_case(
        out_dir, case, layer, inputs, lambda m, i: (m(i["src"]), {}), metadata
    )


def case_encoder_pre(out_dir):
    case = "encoder_pre"
    torch.manual_seed(SEEDS[case])
    layer = nn.TransformerEncoderLayer(
        **ENC, dropout=0.0, activation="gelu", norm_first=True, batch_first=True
    )
    perturbed = perturb_constant_params(layer)
    layer = layer.double().train()
    # batch_first=True: src is [batch, seq, d_model].
    inputs = {"src": as_leaf64(randn32(2, 5, ENC["d_model"]))}
    metadata = encoder_metadata(layer, "gelu", perturbed)
    # activation="gelu" maps to F.gelu with its default, the exact erf form.
    metadata["gelu_approximate"] = "none"
    metadata["src_layout"] = "[batch, seq, d_model]"
    return vjp_case(
        out_dir, case, layer, inputs, lambda m, i: (m(i["src"]), {}), metadata
    )


def case_cross_entropy(out_dir):
    case = "cross_entropy"
    torch.manual_seed(SEEDS[case])
    n, classes = 4, 5
    logits = as_leaf64(randn32(n, classes, std=1.5))
    targets = torch.randint(0, classes, (n,), dtype=torch.int64)

    loss = F.cross_entropy(logits, targets)  # mean over the batch, 0-dim
    upstream = torch.tensor(1.0, dtype=torch.float64)  # d(loss)/d(loss)
    loss.backward(upstream)

    tensors = {
        "input.logits": logits,
        "input.targets": targets,
        "output.loss": loss,
        "upstream": upstream,
        "grad.input.logits": logits.grad,
    }
    metadata = {
        **base_metadata(case),
        "dtype": "float64 compute, float32 storage; targets int64",
        "n": str(n),
        "classes": str(classes),
        "reduction": "mean",
        "loss": "output.loss = F.cross_entropy(input.logits, input.targets)",
        "targets_grad": "none (integer class indices)",
    }
    return write(out_dir, case, tensors, metadata)


def case_adamw(out_dir):
    case = "adamw"
    torch.manual_seed(SEEDS[case])
    # Everything in float32 here, parameters and optimizer state alike, as a
    # user would run it; the Rust side must match float32 AdamW.
    lin = nn.Linear(4, 3)
    x = randn32(6, 4)
    t = randn32(6, 3)
    lr = 0.01
    opt = torch.optim.AdamW(lin.parameters(), lr=lr)  # all other defaults
    group = opt.param_groups[0]

    tensors = {
        "input.x": x,
        "input.t": t,
        "param.weight": lin.weight.detach().clone(),
        "param.bias": lin.bias.detach().clone(),
    }
    steps = 3
    for k in range(1, steps + 1):
        opt.zero_grad()
        loss = F.mse_loss(lin(x), t)
        loss.backward()
        tensors[f"step{k}.loss"] = loss.detach().clone()
        tensors[f"step{k}.grad.weight"] = lin.weight.grad.clone()
        tensors[f"step{k}.grad.bias"] = lin.bias.grad.clone()
        opt.step()
        tensors[f"step{k}.param.weight"] = lin.weight.detach().clone()
        tensors[f"step{k}.param.bias"] = lin.bias.detach().clone()

    metadata = {
        **base_metadata(case),
        "dtype": "float32",
        "model": "nn.Linear(4, 3)",
        "loss": "F.mse_loss(linear(input.x), input.t), reduction mean",
        "optimizer": "torch.optim.AdamW",
        "lr": repr(group["lr"]),
        "beta1": repr(group["betas"][0]),
        "beta2": repr(group["betas"][1]),
        "eps": repr(group["eps"]),
        "weight_decay": repr(group["weight_decay"]),
        "amsgrad": str(group["amsgrad"]).lower(),
        "maximize": str(group["maximize"]).lower(),
        "steps": str(steps),
        "order": "zero_grad, loss, backward, record stepK.loss/grad, step, record stepK.param",
    }
    return write(out_dir, case, tensors, metadata)


def case_encoder_state_dict(out_dir):
    """A state dict saved the ordinary way, plus an eval-mode input/output pair."""
    case = "encoder_state_dict"
    layer, perturbed = build_encoder_post()  # same weights as encoder_post
    layer.eval()

    # Exactly what a user would write: keys straight from state_dict(), no
    # prefixes and no metadata.
    sd_path = out_dir / f"{case}.safetensors"
    save_file(
        {k: v.float().contiguous() for k, v in layer.state_dict().items()},
        str(sd_path),
    )

    torch.manual_seed(SEEDS[case])
    src = randn32(5, 2, ENC["d_model"])  # [seq, batch, d_model]
    with torch.no_grad():
        # Eval mode, float32, no grad: PyTorch takes its fused fast path when
        # it can. This layer has batch_first=False, which the fast path does
        # not accept, so the ordinary forward runs (in float32).
        y = layer(src)

    io_case = "encoder_state_dict_io"
    metadata = {
        "case": io_case,
        "seed": str(SEEDS[case]),
        "torch": torch.__version__,
        "dtype": "float32",
        "mode": "eval, torch.no_grad()",
        "weights": f"{case}.safetensors (same weights as encoder_post)",
        "src_layout": "[seq, batch, d_model]",
        "fast_path": "not taken: batch_first=false",
        **{
            k: v
            for k, v in encoder_metadata(layer, "relu", perturbed).items()
            if k != "perturbed"
        },
    }
    io_path = write(out_dir, io_case, {"input.src": src, "output.y": y}, metadata)
    return [sd_path, io_path]


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def verify(paths):
    """Reload every file, print its contents, and check the total size."""
    total = 0
    for path in paths:
        size = path.stat().st_size
        total += size
        print(f"\n{path.name}: {size} bytes")
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata()
            print(f"  metadata: {dict(sorted(meta.items())) if meta else '(none)'}")
            for name in sorted(f.keys()):
                t = f.get_tensor(name)
                assert torch.isfinite(t).all(), f"{path.name}: {name} is not finite"
                print(f"  {name:38s} {str(list(t.shape)):14s} {t.dtype}")
    print(f"\ntotal: {total} bytes ({total / 1024:.1f} KiB) in {len(paths)} files")
    if total >= MAX_TOTAL_BYTES:
        raise SystemExit(f"fixtures too large: {total} >= {MAX_TOTAL_BYTES} bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "tests" / "fixtures",
        help="output directory (default: tests/fixtures in the repository root)",
    )
    args = parser.parse_args()
    out_dir = args.out
    out_dir.mkdir(parents=True, exist_ok=True)

    # One thread: keeps reduction order, and so the last bits, fixed.
    torch.set_num_threads(1)

    paths = [
        case_linear(out_dir, "linear", 5, 3, (4, 5)),
        case_linear(out_dir, "linear_batched", 6, 4, (2, 3, 6)),
        case_layer_norm(out_dir),
        case_mha(out_dir, "mha", causal=False),
        case_mha(out_dir, "mha_causal", causal=True),
        case_feed_forward(out_dir),
        case_encoder_post(out_dir),
        case_encoder_pre(out_dir),
        case_cross_entropy(out_dir),
        case_adamw(out_dir),
        *case_encoder_state_dict(out_dir),
    ]
    verify(paths)


if __name__ == "__main__":
    main()
