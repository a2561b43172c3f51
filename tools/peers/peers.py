#!/usr/bin/env python3
"""The peers' side of the performance comparison: PyTorch (eager) and JAX (jit).

Run by ``tools/compare-peers``, which first runs resgrad's ``perf`` example:
that writes every workload's inputs to ``DIR/*.safetensors`` and resgrad's own
timings and gradient sums to ``DIR/resgrad.json``. This script

* ``run ENGINE THREADS DIR``: loads the same inputs, runs the same workloads
  in PyTorch or JAX, and writes ``DIR/ENGINE-THREADS.json`` in the same
  format (run once per engine and thread count, each in its own process,
  since JAX fixes its thread pool when it starts);
* ``memory ENGINE SIZE DIR``: prints the peak memory of two W2 steps above
  the memory the model and input hold, measured as ``perf --memory`` does;
* ``table DIR``: checks that every engine's loss and gradient sums agree
  with resgrad's and prints one table with the ratios.

The workloads (see resgrad's ``lab/src/workloads.rs``):

* W1: ``C = A @ B`` (also ``A @ B.T`` and ``A.T @ B``), float32.
* W2: one pre-norm encoder block, ``x1 = x + MHA(LN1(x))``,
  ``y = x1 + FFN(LN2(x1))``, loss ``sum(y)``, gradients of ``x`` and of
  every parameter. PyTorch runs ``nn.TransformerEncoderLayer(norm_first=True,
  batch_first=True, dropout=0)`` in training mode, which keeps it off its
  inference fast path; JAX runs the same formulas written out.
* W3: 32 blocks ``y = y + relu(y @ W1) @ W2`` of width 16, batch 1.
"""

import json
import math
import os
import resource
import statistics
import sys
import time

SIZES = {  # name: (batch, seq, d_model, heads, ff), as in lab/src/workloads.rs
    "small": (1, 32, 64, 4, 256),
    "medium": (4, 64, 128, 4, 512),
    "seed": (10, 20, 512, 8, 2048),
    "large": (8, 128, 512, 8, 2048),
}
EPS = 1e-5


def load(path):
    from safetensors.numpy import load_file

    return load_file(path)


def median_ms(f, min_reps, budget_s):
    """Median milliseconds of ``f()`` after three warm-up runs, as resgrad's ``perf`` does."""
    for _ in range(3):
        f()
    times, start = [], time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < budget_s:
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), len(times)


def sums(g):
    import numpy as np

    g = np.asarray(g, dtype=np.float64)
    return [float(g.sum()), float(np.abs(g).sum())]


def forward_flops(size):
    b, t, d, _, ff = SIZES[size]
    bt = b * t
    return 2.0 * (bt * d * 3 * d + bt * d * d + 2 * bt * d * ff + 2 * bt * t * d)


# ---------------------------------------------------------------- PyTorch


def torch_block(size, inputs):
    import torch

    b, t, d, h, ff = SIZES[size]
    layer = torch.nn.TransformerEncoderLayer(
        d, h, dim_feedforward=ff, dropout=0.0, batch_first=True, norm_first=True
    )
    state = {k: torch.from_numpy(v.copy()) for k, v in inputs.items() if k != "x"}
    layer.load_state_dict(state, strict=True)
    layer.train()
    x = torch.from_numpy(inputs["x"].copy()).requires_grad_(True)

    def step():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        loss = layer(x).sum()
        loss.backward()
        return loss

    def results():
        loss = step()
        out = {"x": sums(x.grad.numpy())}
        for name, p in layer.named_parameters():
            out[name] = sums(p.grad.numpy())
        return float(loss.detach()), out

    return step, results


def torch_mlp(inputs):
    import torch

    x = torch.from_numpy(inputs["x"].copy()).requires_grad_(True)
    ws = [
        (
            torch.from_numpy(inputs[f"w1.{i}"].copy()).requires_grad_(True),
            torch.from_numpy(inputs[f"w2.{i}"].copy()).requires_grad_(True),
        )
        for i in range(32)
    ]
    leaves = [x] + [w for pair in ws for w in pair]

    def step():
        for leaf in leaves:
            leaf.grad = None
        y = x
        for w1, w2 in ws:
            y = y + torch.relu(y @ w1) @ w2
        loss = y.sum()
        loss.backward()
        return loss

    def results():
        loss = step()
        out = {"x": sums(x.grad.numpy())}
        for i, (w1, w2) in enumerate(ws):
            out[f"w1.{i}"] = sums(w1.grad.numpy())
            out[f"w2.{i}"] = sums(w2.grad.numpy())
        return float(loss.detach()), out

    return step, results


def torch_matmul(inputs, form):
    import torch

    a, b = torch.from_numpy(inputs["a"].copy()), torch.from_numpy(inputs["b"].copy())
    # .T is a strided view: PyTorch hands it to its BLAS as a transposed operand.
    ops = {"a@b": lambda: a @ b, "a@b.T": lambda: a @ b.T, "a.T@b": lambda: a.T @ b}
    return ops[form], lambda: sums(ops[form]().numpy())


# ---------------------------------------------------------------- JAX


def jax_block_fn(size):
    import jax
    import jax.numpy as jnp

    _, _, d, h, _ = SIZES[size]
    hd = d // h

    def layer_norm(x, g, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / jnp.sqrt(var + EPS) * g + b

    def loss(p, x):
        bsz, t, _ = x.shape
        hn = layer_norm(x, p["norm1.weight"], p["norm1.bias"])
        qkv = hn @ p["self_attn.in_proj_weight"].T + p["self_attn.in_proj_bias"]
        q, k, v = jnp.split(qkv, 3, axis=-1)
        heads = lambda z: z.reshape(bsz, t, h, hd).transpose(0, 2, 1, 3)
        q, k, v = heads(q), heads(k), heads(v)
        a = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd), axis=-1)
        o = (a @ v).transpose(0, 2, 1, 3).reshape(bsz, t, d)
        x1 = x + o @ p["self_attn.out_proj.weight"].T + p["self_attn.out_proj.bias"]
        h2 = layer_norm(x1, p["norm2.weight"], p["norm2.bias"])
        f = jax.nn.relu(h2 @ p["linear1.weight"].T + p["linear1.bias"])
        y = x1 + f @ p["linear2.weight"].T + p["linear2.bias"]
        return y.sum()

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))


def jax_block(size, inputs):
    import jax
    import jax.numpy as jnp

    params = {k: jnp.asarray(v) for k, v in inputs.items() if k != "x"}
    x = jnp.asarray(inputs["x"])
    fn = jax_block_fn(size)

    def step():
        return jax.block_until_ready(fn(params, x))

    def results():
        loss, (gp, gx) = step()
        out = {"x": sums(gx)}
        out.update({k: sums(v) for k, v in gp.items()})
        return float(loss), out

    return step, results


def jax_mlp(inputs):
    import jax
    import jax.numpy as jnp

    ws = [(jnp.asarray(inputs[f"w1.{i}"]), jnp.asarray(inputs[f"w2.{i}"])) for i in range(32)]
    x = jnp.asarray(inputs["x"])

    def loss(ws, x):
        y = x
        for w1, w2 in ws:
            y = y + jax.nn.relu(y @ w1) @ w2
        return y.sum()

    fn = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))

    def step():
        return jax.block_until_ready(fn(ws, x))

    def results():
        loss, (gw, gx) = step()
        out = {"x": sums(gx)}
        for i, (g1, g2) in enumerate(gw):
            out[f"w1.{i}"], out[f"w2.{i}"] = sums(g1), sums(g2)
        return float(loss), out

    return step, results


def jax_matmul(inputs, form):
    import jax
    import jax.numpy as jnp

    a, b = jnp.asarray(inputs["a"]), jnp.asarray(inputs["b"])
    fns = {
        "a@b": jax.jit(lambda a, b: a @ b),
        "a@b.T": jax.jit(lambda a, b: a @ b.T),
        "a.T@b": jax.jit(lambda a, b: a.T @ b),
    }
    f = fns[form]
    step = lambda: jax.block_until_ready(f(a, b))
    return step, lambda: sums(step())


# ---------------------------------------------------------------- driver


def run(engine, threads, d):
    if engine == "torch":
        import torch

        torch.set_num_threads(threads)
        block, mlp, matmul = torch_block, torch_mlp, torch_matmul
        version = torch.__version__
    else:
        import jax

        block, mlp, matmul = jax_block, jax_mlp, jax_matmul
        version = jax.__version__
    runs = []
    for n in (512, 1024, 1000):
        inputs = load(os.path.join(d, f"w1_{n}.safetensors"))
        for form in ("a@b", "a@b.T", "a.T@b"):
            if n == 1000 and form != "a@b":
                continue
            step, result = matmul(inputs, form)
            ms, reps = median_ms(step, 5, 0.5)
            runs.append({
                "workload": "W1", "size": f"{form} n={n}", "threads": threads, "ms": ms, "reps": reps,
                "gflops": 2.0 * n**3 / (ms * 1e6), "sums": {"c": result()},
            })
    for size in SIZES:
        step, results = block(size, load(os.path.join(d, f"w2_{size}.safetensors")))
        loss, grad_sums = results()
        ms, reps = median_ms(step, 10, 1.5)
        runs.append({
            "workload": "W2", "size": size, "threads": threads, "ms": ms, "reps": reps,
            "gflops": 3.0 * forward_flops(size) / (ms * 1e6), "loss": loss, "sums": grad_sums,
        })
    step, results = mlp(load(os.path.join(d, "w3.safetensors")))
    loss, grad_sums = results()
    ms, reps = median_ms(step, 200, 1.5)
    runs.append({
        "workload": "W3", "size": "32 x 16", "threads": threads, "ms": ms, "reps": reps,
        "loss": loss, "sums": grad_sums,
    })
    out = os.path.join(d, f"{engine}-{threads}.json")
    with open(out, "w") as f:
        json.dump({"engine": engine, "version": version, "runs": runs}, f, indent=1)
    print(f"wrote {len(runs)} runs to {out}")


def status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def memory(engine, size, d):
    """Peak resident memory of two W2 steps above what the model and input hold."""
    if engine == "torch":
        import torch

        torch.set_num_threads(1)
        step, _ = torch_block(size, load(os.path.join(d, f"w2_{size}.safetensors")))
    else:
        step, _ = jax_block(size, load(os.path.join(d, f"w2_{size}.safetensors")))
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the high-water mark to the current size
        reset = True
    except OSError:
        reset = False
    before = status_bytes("VmRSS:")
    for _ in range(2):
        step()
    peak = status_bytes("VmHWM:")
    print(json.dumps({"engine": engine, "size": size, "model_bytes": before,
                      "step_peak_bytes": max(peak - before, 0), "reset": reset}))


# ---------------------------------------------------------------- table


# Sums of f32 gradients computed in different orders (different kernels,
# blockings and reduction trees) agree to a few parts in 1e5 of the sum of
# magnitudes; 1e-3 leaves room for the longest sums (a million terms) while
# still catching any wrong formula, which moves sums by far more.
TOLERANCE = 1e-3


def agree(ours, theirs):
    """Largest disagreement between two runs' sums, relative to the magnitude sums."""
    worst = 0.0
    if set(ours) != set(theirs):
        return math.inf
    for name, (s, a) in ours.items():
        t = theirs[name][0]
        scale = max(abs(a), abs(theirs[name][1]), abs(s), 1e-30)
        worst = max(worst, abs(s - t) / scale)
    return worst


def table(d):
    with open(os.path.join(d, "resgrad.json")) as f:
        ours = json.load(f)
    peers = {}
    for engine in ("torch", "jax"):
        for threads in (1, 2):
            path = os.path.join(d, f"{engine}-{threads}.json")
            if os.path.exists(path):
                with open(path) as f:
                    data = json.load(f)
                peers[engine] = data["version"]
                for r in data["runs"]:
                    peers[(engine, r["workload"], r["size"], r["threads"])] = r
    engines = [e for e in ("torch", "jax") if e in peers]
    head = "| workload | threads | resgrad | " + " | ".join(
        f"{'PyTorch' if e == 'torch' else 'JAX'} {peers[e]}" for e in engines
    ) + " | " + " | ".join(f"× {'PyTorch' if e == 'torch' else 'JAX'}" for e in engines) + " | agree |"
    lines = [head, "|" + "---|" * (4 + 2 * len(engines))]
    failures = []
    for r in ours["runs"]:
        key = (r["workload"], r["size"], r["threads"])
        unit = "GFLOP/s" if r["workload"] == "W1" else "ms"

        def show(run):
            if run is None:
                return "–"
            return f"{run['gflops']:.1f} GFLOP/s" if unit == "GFLOP/s" else f"{run['ms']:.3f} ms"

        cells, ratios, worst = [show(r)], [], 0.0
        for e in engines:
            p = peers.get((e,) + key)
            cells.append(show(p))
            if p is None:
                ratios.append("–")
                continue
            # Ratio > 1 means resgrad is faster.
            ratios.append(f"{p['ms'] / r['ms']:.2f}")
            if "loss" in r and abs(r["loss"] - p["loss"]) > TOLERANCE * max(1.0, abs(r["loss"])):
                failures.append(f"{e} {key}: loss {p['loss']} vs resgrad {r['loss']}")
            worst = max(worst, agree(r["sums"], p["sums"]))
        if worst > TOLERANCE:
            failures.append(f"{key}: gradient sums differ by {worst:.2e} of their magnitude")
        lines.append(f"| {r['workload']} {r['size']} | {r['threads']} | " + " | ".join(cells)
                     + " | " + " | ".join(ratios) + f" | {worst:.1e} |")
    print("\n".join(lines))
    print()
    print("Ratios are the peer's median time over resgrad's: above 1, resgrad is faster. "
          "'agree' is the largest difference of a gradient sum (and the loss) between "
          f"resgrad and the peers, relative to the sum of magnitudes; the check fails above {TOLERANCE:g}.")
    for name in sorted(f for f in os.listdir(d) if f.startswith("memory-")):
        with open(os.path.join(d, name)) as f:
            m = json.loads(f.read())
        print(f"- Peak memory of two W2 {m['size']} steps, {m['engine']}: "
              f"{m['step_peak_bytes'] / 2**20:.1f} MiB above the {m['model_bytes'] / 2**20:.1f} MiB "
              "the process held with the model and input built.")
    if failures:
        print("\nDISAGREEMENT:\n  " + "\n  ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    cmd = sys.argv[1:]
    if len(cmd) == 4 and cmd[0] == "run":
        run(cmd[1], int(cmd[2]), cmd[3])
    elif len(cmd) == 4 and cmd[0] == "memory":
        memory(cmd[1], cmd[2], cmd[3])
    elif len(cmd) == 2 and cmd[0] == "table":
        table(cmd[1])
    else:
        sys.exit(__doc__)
