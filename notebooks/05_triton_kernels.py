# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 — Inside the Triton kernels
#
# An LSTM layer over $T$ steps splits into two very different kinds of work. The input
# half of every gate does not depend on the recurrence, so it is **one** big matrix
# product for all steps at once:
#
# $$ XW = X W_{ih}^\top + b_{ih} + b_{hh} \qquad (T, B, 4H). $$
#
# The recurrent half cannot be batched over time: step $t$ needs $h_{t-1}$,
#
# $$
# \begin{aligned}
# [\tilde\imath_t, \tilde f_t, \tilde g_t, \tilde o_t] &= XW_t + h_{t-1} W_{hh}^\top
#     && (B, 4H) \text{ pre-activations} \\
# c_t &= \sigma(\tilde f_t) \odot c_{t-1} + \sigma(\tilde\imath_t) \odot \tanh(\tilde g_t) \\
# h_t &= \sigma(\tilde o_t) \odot \tanh(c_t).
# \end{aligned}
# $$
#
# Written in plain PyTorch that loop launches a matmul plus about ten small element-wise
# kernels per step, each reading and writing its operands in GPU memory. The library's
# `kernels/` package fuses it in two stages:
#
# * **v1, fused gates** (`kernels.lstm_v1`): per step, one torch matmul for
#   $h_{t-1} W_{hh}^\top$ and **one** Triton kernel for all the point-wise math;
# * **v2, persistent** (`kernels.lstm_v2`): the **whole time loop in one launch**;
#   each program loads $W_{hh}$ once and keeps it, $h$ and $c$ on-chip for all $T$ steps.
#
# This machine may have no GPU. Triton has an **interpreter** that runs the very same
# kernel source on CPU tensors (slowly, program by program, with NumPy), which is how
# this notebook, and the library's tests, check the kernels without a GPU. It must be
# switched on with `TRITON_INTERPRET=1` *before* `triton` is first imported, so that is
# the first thing we do.

# %%
import os
import sys

import torch

ON_GPU = torch.cuda.is_available()
if not ON_GPU:
    assert "triton" not in sys.modules, "set TRITON_INTERPRET before triton is imported"
    os.environ["TRITON_INTERPRET"] = "1"  # Triton's CPU interpreter
DEVICE = torch.device("cuda" if ON_GPU else "cpu")

import inspect  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import lstm_scratch as ls  # noqa: E402
from lstm_scratch import kernels  # noqa: E402
from lstm_scratch.kernels import common, lstm_v1_fused_gates, lstm_v2_persistent  # noqa: E402

torch.manual_seed(0)
torch.set_num_threads(1)  # tiny tensors: one thread is faster and the results reproducible
print(f"device: {DEVICE}, Triton interpreter: {os.environ.get('TRITON_INTERPRET') == '1'}")

# %% [markdown]
# ## 1. The shared point-wise math
#
# Both kernels call the same `@triton.jit` helper for the gates. It is the equations
# above, in fp32, with sigmoid and tanh written in terms of $e = \exp(-|x|) \le 1$ so
# that they never overflow (the textbook $\tanh$ gives $\infty/\infty$ = NaN for
# $|x| > 44$ in fp32):
#
# $$ \sigma(x) = \begin{cases} 1/(1+e) & x \ge 0 \\ e/(1+e) & x < 0 \end{cases}
#    \qquad \tanh(x) = \operatorname{sign}(x)\,\frac{1-e^2}{1+e^2}. $$
#
# A `@triton.jit` function is a wrapper object; its Python source is on `.fn`.

# %%
for helper in (common.sigmoid, common.tanh, common.lstm_cell_forward):
    print(inspect.getsource(helper.fn))

# %% [markdown]
# ## 2. v1: one fused kernel per time step
#
# The host loop (in `LSTMv1Function.forward`) is, for $t = 0, \dots, T-1$:
#
# ```python
# hw = h @ w_hh.T                                   # torch matmul  (B, 4H)
# launch(lstm_forward_step_kernel, (B, cdiv(H, 64)), xw, hw, h, cs, lens, t, ..., B, H)
# ```
#
# The kernel gets the whole $(T, B, \cdot)$ buffers and the step index $t$, and finds
# step $t$ at offset $tB\cdot$width itself (`common.step_start`): a slice such as `xw[t]`
# would start 16-byte aligned or not depending on $t$, $B$ and $H$, and Triton compiles a
# separate build for each alignment pattern (and, without `do_not_specialize=["t", "B"]`,
# for every $t$ and $B$ divisible by 16 or equal to 1).
#
# The grid has one program per batch row and per block of 64 hidden features. Each
# program loads the four gate blocks of $XW_t$ and of $h_{t-1}W_{hh}^\top$ for its
# features, applies `lstm_cell_forward`, and writes $h_t$, $c_t$, the output and the
# activated gates (kept for the backward pass). `alive = t < lengths[b]` freezes the
# state of a sequence that has already ended (variable-length batches).

# %%
print(inspect.getsource(lstm_v1_fused_gates.lstm_forward_step_kernel.fn))

# %% [markdown]
# ## 3. v2: the persistent kernel
#
# v1 still leaves the time loop on the host: per step a matmul launch, a gate-kernel
# launch, and a round trip of $h$, $c$ and $h W_{hh}^\top$ through global memory.
# v2 moves the loop **into** the kernel. Each program owns `BLOCK_B` = 16 batch rows and
# the *whole* hidden dimension (every feature of $h_{t-1}$ is needed by every feature
# at step $t$, so splitting $H$ over programs would need a grid-wide barrier per step).
# It loads the four gate blocks $W_k^\top$ ($k = i, f, g, o$; each $H \times H$) once,
# then per step computes $\tilde k_t = XW_{t,k} + h_{t-1} W_k^\top$ with four `tl.dot`
# on registers. The price: four $H \times H$ tiles must fit on-chip, so v2 takes
# $H \le 128$ in 16-bit and $H \le 64$ in fp32 (`MAX_HIDDEN`; section 8 shows why with
# the compiler's numbers); the `"triton"` backend falls back to v1 above that.

# %%
print(f"MAX_HIDDEN = {lstm_v2_persistent.MAX_HIDDEN}, BLOCK_B = {lstm_v2_persistent.BLOCK_B}")
print(inspect.getsource(lstm_v2_persistent.lstm_persistent_forward_kernel.fn))

# %% [markdown]
# ## 4. Launches and memory traffic, on paper
#
# Count the elements one layer-direction's **forward** pass moves through global memory
# (ignoring caches; the shared $XW$ GEMM is the same for both and left out).
#
# **v1**, per step: the matmul reads $W_{hh}$ ($4H^2$) and $h_{t-1}$ ($BH$) and writes
# $hW$ ($4BH$); the gate kernel reads $XW_t$, $hW$ ($4BH$ each), $c_{t-1}$, $h_{t-1}$
# ($BH$ each) and writes the gates ($4BH$), $h_t$, $c_t$ and the output ($BH$ each):
#
# $$ M_{v1} = T\,(4H^2 + 22\,BH), \qquad \text{launches}_{v1} = 2T
#    \;(T \text{ matmuls} + T \text{ gate kernels}). $$
#
# **v2**: each of the $P = \lceil B / 16 \rceil$ programs reads $W_{hh}$ once; per step
# only $XW_t$ is read ($4BH$) and the gates, output and $c_t$ written ($6BH$):
#
# $$ M_{v2} = 4H^2 \lceil B/16 \rceil + 10\,TBH, \qquad \text{launches}_{v2} = 1. $$
#
# So v2 reads the recurrent weights $T / \lceil B/16 \rceil$ times less often and
# launches $2T$ times less. At small batch (the usual case for a recurrent layer in
# inference or forecasting) $4H^2 \gg BH$, and the weight re-reads and the launch latency
# (a few microseconds each on current GPUs, paid $2T$ times in sequence) dominate v1.
# These are **counts from the formulas**, not measurements:

# %%
def traffic_v1(T: int, B: int, H: int) -> int:
    """Elements through global memory, v1 forward, one layer-direction (formula above)."""
    return T * (4 * H * H + 22 * B * H)


def traffic_v2(T: int, B: int, H: int) -> int:
    """Elements through global memory, v2 forward, one layer-direction (formula above)."""
    return 4 * H * H * -(-B // 16) + 10 * T * B * H


print(f"{'T':>5} {'B':>4} {'H':>4} {'v1 MB':>8} {'v2 MB':>8} {'ratio':>6} "
      f"{'launches v1':>11} {'v2':>3}")
for T, B, H in [(100, 1, 64), (100, 16, 128), (1024, 16, 128), (100, 256, 128)]:
    m1, m2 = traffic_v1(T, B, H) * 4 / 1e6, traffic_v2(T, B, H) * 4 / 1e6  # fp32 bytes
    print(f"{T:>5} {B:>4} {H:>4} {m1:>8.2f} {m2:>8.2f} {m1 / m2:>6.1f} {2 * T:>11} {1:>3}")

steps_axis = np.unique(np.logspace(0, 3, 40).astype(int))  # T = 1 .. 1000
fig, ax = plt.subplots(figsize=(7, 3.8))
for B, H, style in [(1, 128, "-"), (16, 128, "--"), (256, 128, ":")]:
    for name, traffic, color in [("v1", traffic_v1, "C0"), ("v2", traffic_v2, "C1")]:
        mb = [traffic(int(t), B, H) * 4 / 1e6 for t in steps_axis]
        ax.plot(steps_axis, mb, style, color=color, label=f"{name}, B={B}, H={H}")
ax.set(xscale="log", yscale="log", xlabel="sequence length T (steps)",
       ylabel="global-memory traffic (MB, fp32)",
       title="Forward traffic of one layer-direction, from the formulas (not measured)")
ax.legend(fontsize=7, ncol=3)
fig.tight_layout()
plt.show()

# %% [markdown]
# The curves cross only at tiny $T$ with a large batch: v2 reads $W_{hh}$ once *per
# program* ($\lceil 256/16 \rceil = 16$ times at $B = 256$), v1 once per step, so for
# $T < 16$ steps v1 reads the weights less often (the totals cross sooner, near $T = 2$,
# because v1 also moves $hW$, $h$ and $c$ every step). From there on v2 wins, and by
# the most where it matters most: small batches and long sequences.
#
# ## 5. Checked against a float64 reference
#
# `lstm_reference` (in `kernels/lstm_v1_fused_gates.py`) is the same recurrence in
# plain PyTorch, any dtype, differentiable by autograd. We run both kernels in float32
# on a tiny problem, with **variable lengths** (sequence $b$ stops after
# `lengths[b]` steps), and compare outputs, final states and the gradients of a
# weighted sum of everything (so every output element gets a different gradient)
# with the reference evaluated in float64:
#
# $$ \text{rel. error} = \frac{\max |a - a_{\text{ref}}|}{\max |a_{\text{ref}}|}. $$

# %%
T, B, H = 6, 3, 8
xw = torch.randn(T, B, 4 * H, device=DEVICE)  # x W_ih^T + b, as the backend passes it
h0, c0 = torch.randn(B, H, device=DEVICE), torch.randn(B, H, device=DEVICE)
w_hh = torch.randn(4 * H, H, device=DEVICE) / H**0.5
lengths = torch.tensor([6, 4, 1])
probes = [torch.randn(T, B, H, device=DEVICE), torch.randn(B, H, device=DEVICE),
          torch.randn(B, H, device=DEVICE)]  # fixed weights for out, h_T, c_T


def run_with_grads(kernel, dtype: torch.dtype) -> list[torch.Tensor]:
    """[out, h_T, c_T, d xw, d h0, d c0, d w_hh] of kernel(...) on copies cast to dtype."""
    inputs = [t.detach().to(dtype).requires_grad_() for t in (xw, h0, c0, w_hh)]
    results = kernel(*inputs, lengths)
    loss = sum((r * p.to(dtype)).sum() for r, p in zip(results, probes))
    grads = torch.autograd.grad(loss, inputs)
    return [r.detach().double().cpu() for r in (*results, *grads)]


names = ["out", "h_T", "c_T", "d xw", "d h0", "d c0", "d w_hh"]
reference = run_with_grads(lstm_v1_fused_gates.lstm_reference, torch.float64)
kernels.LAUNCHES.clear()
rel_errors = {}
for label, kernel in [("v1", kernels.lstm_v1), ("v2", kernels.lstm_v2)]:
    got = run_with_grads(kernel, torch.float32)
    rel_errors[label] = {n: ((g - r).abs().max() / r.abs().max()).item()
                         for n, g, r in zip(names, got, reference)}
print(f"{'':3} " + " ".join(f"{n:>8}" for n in names))
for label, errs in rel_errors.items():
    print(f"{label:3} " + " ".join(f"{e:8.1e}" for e in errs.values()))
direct_launches = dict(kernels.LAUNCHES)
print("kernel launches for one forward + backward each:", direct_launches)

# %% [markdown]
# The errors are float32 rounding (about $10^{-7}$), not algorithmic differences. And
# the launch counter (`kernels.LAUNCHES`, incremented by every launch) already shows the
# difference: v1 launched its forward and its backward step kernel $T = 6$ times each,
# v2 each of its kernels once.
#
# ## 6. Through the module: `ls.LSTM(..., backend="triton")`
#
# Users do not call the kernels directly. The `"triton"` backend computes $XW$ with one
# GEMM, picks v2 where $W_{hh}$ fits on-chip ($H \le 64$ in fp32, $\le 128$ in 16-bit)
# and v1 above, and runs each direction of each layer; `ls.explain_backend` says which
# kernel and why.
# We load the same weights into the pure-autograd backend and compare, then count
# launches **per direction** for a bidirectional layer on both sides of the threshold.

# %%
def triton_vs_autograd(hidden_size: int, steps: int) -> tuple[float, dict[str, int]]:
    """Max |out_triton - out_autograd| and the launch counts of one forward + backward."""
    x = torch.randn(2, steps, 4, device=DEVICE)  # (B, T, I), batch_first
    ours = ls.LSTM(4, hidden_size, batch_first=True, bidirectional=True, backend="triton")
    plain = ls.LSTM(4, hidden_size, batch_first=True, bidirectional=True, backend="autograd")
    ours, plain = ours.to(DEVICE), plain.to(DEVICE)
    plain.load_state_dict(ours.state_dict())
    print(ls.explain_backend(ours, x))
    kernels.LAUNCHES.clear()
    out = ours(x)[0]
    out.square().sum().backward()
    with torch.no_grad():
        error = (out - plain(x)[0]).abs().max().item()
    return error, dict(kernels.LAUNCHES)


STEPS = 5
module_checks = {H: triton_vs_autograd(H, STEPS) for H in (8, 130)}
for H, (error, launches) in module_checks.items():
    print(f"H = {H:3d}: max |triton - autograd| = {error:.1e}; launches {launches}")

# %% [markdown]
# With $H = 8$ (v2) each direction is **one** forward and one backward launch; with
# $H = 130$ (v1) each direction is $T = 5$ forward and $T$ backward launches, i.e.
# $2T$ of each for the two directions.
#
# ## 7. Benchmarks: only from committed results
#
# Speed is measured by `python -m benchmarks.kernels` on a CUDA GPU, side by side with
# cuDNN (`nn.LSTM`), a per-step PyTorch loop and `torch.compile`; it writes
# `benchmarks/results/<device>-<date>.json` (+ `.md`, `.png`) with the device name and
# the versions. Interpreter timings on a CPU mean nothing, so this notebook never times
# the kernels itself: it plots whatever GPU results are committed.
#
# **At the time of writing no GPU was available, so no GPU results are committed yet.**
# The cell below finds that out for itself and says so; once a results file from a GPU
# run is committed, it plots the speed-up of the Triton backend over cuDNN from it.

# %%
RESULTS = pathlib.Path(kernels.__file__).resolve().parents[1] / "benchmarks" / "results"


def committed_gpu_results(folder: pathlib.Path) -> list[dict]:
    """Every kernel-benchmark JSON in folder that was measured on a GPU (not the interpreter)."""
    found = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
            continue  # another benchmark's results (parity, variants, ...)
        is_kernel_run = bool(data["rows"]) and "contender" in data["rows"][0]
        on_gpu = not data.get("interpreter") and data.get("device") != "cpu-interpreter"
        if is_kernel_run and on_gpu:
            found.append(dict(data, file=path.name))
    return found


def plot_speedups(result: dict) -> None:
    """Triton fwd+bwd speed-up over cuDNN vs hidden size, one panel per (mode, T)."""
    rows = [r for r in result["rows"] if r["contender"] == "triton" and r["layers"] == 1
            and not r["bidirectional"] and r.get("speedup_vs_cudnn")]
    panels = sorted({(r["mode"], r["T"]) for r in rows})
    if not panels:
        print(f"{result['file']}: no single-layer triton rows to plot")
        return
    n_rows, n_cols = -(-len(panels) // 2), min(2, len(panels))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(6 * n_cols, 4 * n_rows), squeeze=False)
    for ax, (mode, steps) in zip(axes.flat, panels):
        mine = [r for r in rows if r["mode"] == mode and r["T"] == steps]
        for dtype, batch in sorted({(r["dtype"], r["B"]) for r in mine}):
            line = sorted((r["H"], r["speedup_vs_cudnn"]) for r in mine
                          if r["dtype"] == dtype and r["B"] == batch)
            ax.plot(*zip(*line), "o-", ms=3, label=f"{dtype}, B={batch}")
        ax.axhline(1, color="k", lw=0.8, ls="--")
        ax.set(xscale="log", yscale="log", title=f"{mode}, T = {steps}",
               xlabel="hidden size H (= input size)",
               ylabel="speed-up over cuDNN (fwd+bwd time ratio, ×)")
        ax.legend(fontsize=6, ncol=2)
    fig.suptitle(f"Triton backend vs cuDNN on {result['device']} ({result['date']}; "
                 f"torch {result['torch']}, triton {result['triton']}) — {result['file']}")
    fig.tight_layout()
    plt.show()


gpu_results = committed_gpu_results(RESULTS)
if not gpu_results:
    print("no GPU results committed yet (no kernel benchmark JSON measured on a CUDA device "
          "in benchmarks/results/)")
for result in gpu_results:
    print(f"{result['file']}: measured on {result['device']}, {len(result['rows'])} rows")
    plot_speedups(result)

# %% [markdown]
# ## 8. Does it build on a real GPU? Compiled for sm_90 and sm_80 on this CPU
#
# The interpreter runs each program in NumPy: it allocates no registers and no shared
# memory and never runs the compiler. A kernel that spills, needs more shared memory than
# a block may have, or crashes LLVM passes every interpreter test, and fails only on the
# user's GPU. Triton can compile for a GPU it does not see, though (`triton.compile(...,
# target=GPUTarget("cuda", 90, 32))`; `ptxas` ships in the triton wheel), and
# `kernels/compile_check.py` does that for **every distinct build the backend launches**:
# it runs the backend's own run functions on shape-only "meta" tensors with launches
# recorded instead of run, for every family, dtype, TF32 flag and hidden-size class; lets
# Triton's own binder derive each launch's signature, constants and specialisations;
# compiles each distinct build in a forked child (an LLVM abort kills the child, not the
# check) and reads registers and spills from ptxas's `-v` log. A build fails on a crash,
# on shared memory over the target's per-block limit (227 KiB on sm_90, 163 KiB on sm_80)
# or on any spill. `make test` runs it for both targets; its last run is committed:

# %%
def latest(pattern: str) -> dict:
    """The newest committed results file matching pattern, parsed."""
    paths = sorted(RESULTS.glob(pattern))
    assert paths, f"no {pattern} committed in {RESULTS}"
    return dict(json.loads(paths[-1].read_text()), file=paths[-1].name)


compiled = {arch: latest(f"kernels-sm{arch}-*.json") for arch in (90, 80)}
for arch, table in compiled.items():
    dispatched = [r for r in table["rows"] if r["dispatched"]]
    print(f"{table['file']}: {len(dispatched)} builds for sm_{arch}, {table['failed']} failing "
          f"(triton {table['triton']}, compiled on {table['compiled_on']})")

print(f"\n{'sm_90 persistent LSTM builds':<46} {'warps':>5} {'regs':>5} {'spill B':>7} "
      f"{'smem B':>7}  status")
for r in sorted(compiled[90]["rows"], key=lambda r: (r["kernel"], r["config"])):
    if r["kernel"].startswith("lstm_persistent") and "16|H" in r["config"]:
        config = r["config"].replace("BLOCK_B=16, ", "").replace("; 16|H", "")
        status = "ok" if not r["problems"] else "; ".join(r["problems"])[:60]
        if not r["dispatched"]:
            status = "NOT DISPATCHED: " + status
        print(f"{r['kernel'][5:-7] + ' ' + config:<46} {r['num_warps']:>5} "
              f"{r['registers']!s:>5} {r['spill_stores']!s:>7} {r['shared']!s:>7}  {status}")

# %% [markdown]
# **Why a persistent kernel has a size limit.** One program keeps the four
# $H \times H$ gate blocks of $W_{hh}$ on-chip for all $T$ steps. An SM has 65,536
# 32-bit registers (256 KiB) and, per block, at most 227 KiB of shared memory (H100;
# 163 KiB on A100). At $H = 128$ the tiles are $4 \cdot 128^2 \cdot 2$ B = 128 KiB in
# 16-bit: with 8 warps that is 128 registers per thread for the weights alone, and the
# table shows the whole kernel in under 255 registers with no spill. In fp32 they are
# 256 KiB: the *entire* register file, before $h$, $c$, the gates and the dot
# accumulators, and more than the shared memory a block may have. The "not dispatched"
# rows (compiled with `--beyond` to show exactly this) spill or overflow, so the dispatch
# stops fp32 at $H = 64$ (64 KiB of weights).
#
# **What happens past it.** The dispatch sends larger $H$ to v1, which keeps $W_{hh}$
# in global memory and multiplies it with a torch GEMM per step: any $H$ fits, at the
# price of $2T$ launches and re-reading $W_{hh}$ every step (section 4). The layer-norm
# kernel holds a whole row of $4H$ gates per program; a block's registers cap it the same
# way (it spills from $H = 4096$ however many warps), so it takes $H \le 2048$ and the
# backend refuses more with that reason. `explain_backend` says which kernel and why:

# %%
for hidden, dtype in [(64, torch.float32), (128, torch.float32), (128, torch.bfloat16)]:
    module = ls.LSTM(4, hidden, backend="triton", dtype=dtype).to(DEVICE)
    print(ls.explain_backend(module, torch.randn(3, 2, 4, dtype=dtype, device=DEVICE)))

regs_per_sm, smem_limit = 65536, compiled[90]["shared_memory_limit_bytes"]
v2 = [r for r in compiled[90]["rows"]
      if r["kernel"] == "lstm_persistent_forward_kernel" and "16|H" in r["config"]]
labels = [r["config"].split("BLOCK_H=")[1].split(",")[0] + " " +
          r["config"].split("DOT_DTYPE=")[1].split(";")[0] +
          (" tf32" if "tf32" in r["config"] else "") for r in v2]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
axes[0].bar(labels, [r["registers"] * r["num_warps"] * 32 / regs_per_sm for r in v2],
            color=["C3" if r["problems"] else "C0" for r in v2])
axes[0].axhline(1, color="k", ls="--", lw=0.8)
axes[0].set(ylabel="registers used / SM register file", title="registers (red: spills)")
axes[1].bar(labels, [r["shared"] / smem_limit for r in v2],
            color=["C3" if r["problems"] else "C0" for r in v2])
axes[1].axhline(1, color="k", ls="--", lw=0.8)
axes[1].set(ylabel="shared memory / 227 KiB", title="shared memory per block")
for ax in axes:
    ax.tick_params(axis="x", rotation=70, labelsize=7)
fig.suptitle("LSTM v2 forward compiled for sm_90, by BLOCK_H and dtype "
             f"({compiled[90]['file']})")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## What this notebook showed, checked
#
# * the v1 (fused-gates) and v2 (persistent) LSTM kernels, run here through Triton's
#   interpreter (or on the GPU when there is one), match the float64 reference in
#   outputs, final states and all four gradients with relative error below $10^{-5}$,
#   with variable sequence lengths;
# * v1 launches its step kernel once per time step, $T$ per direction, forward and
#   backward; v2 launches once per direction;
# * through `ls.LSTM(backend="triton")` both paths agree with the autograd backend
#   (float32, $10^{-5}$), with v2 chosen at $H = 8$ and v1 at $H = 130$;
# * by the traffic formulas v2 moves less memory than v1 in every case tabled;
# * benchmark plots come only from committed GPU result files (none yet);
# * every build the dispatch can launch compiles for sm_90 and sm_80 without a crash, a
#   spill or shared memory over the limit (the committed compile-check results; `make
#   test` recompiles them), and the builds past the limits do spill or overflow.

# %%
for label, errs in rel_errors.items():
    assert all(e < 1e-5 for e in errs.values()), (label, errs)
assert direct_launches == {
    "lstm_forward_step_kernel": T, "lstm_backward_step_kernel": T,
    "lstm_persistent_forward_kernel": 1, "lstm_persistent_backward_kernel": 1,
}, direct_launches
assert all(error < 1e-5 for error, _ in module_checks.values()), module_checks
assert module_checks[8][1] == {"lstm_persistent_forward_kernel": 2,
                               "lstm_persistent_backward_kernel": 2}, module_checks[8]
assert module_checks[130][1] == {"lstm_forward_step_kernel": 2 * STEPS,
                                 "lstm_backward_step_kernel": 2 * STEPS}, module_checks[130]
assert all(traffic_v2(*s) < traffic_v1(*s)
           for s in [(100, 1, 64), (100, 16, 128), (1024, 16, 128), (100, 256, 128)])
assert all(r["device"] != "cpu-interpreter" for r in gpu_results)
for arch, table in compiled.items():
    rows = [r for r in table["rows"] if r["dispatched"]]
    assert rows and table["failed"] == 0, arch
    for r in rows:  # every build the dispatch launches compiles, fits and does not spill
        assert not r["problems"] and r["shared"] <= table["shared_memory_limit_bytes"], (arch, r)
beyond_cases = {c for r in compiled[90]["rows"] if not r["dispatched"] for c in r["cases"]}
assert beyond_cases
for case in beyond_cases:  # past every limit, some build of the case spills or overflows
    assert any(r["problems"] for r in compiled[90]["rows"] if case in r["cases"]), case
print("all claims hold")
