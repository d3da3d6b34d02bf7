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
# # 03 — Parity with `torch.nn.LSTM`, gradcheck, and backpropagation through time by hand
#
# `ls.LSTM` claims to be a drop-in replacement for `torch.nn.LSTM`. A claim like that is
# only worth what its measurement is worth, so this notebook measures it:
#
# 1. **Weights move both ways.** Our module registers its parameters under torch's names
#    and shapes, so a `state_dict` loads from `nn.LSTM` into ours and from ours into
#    `nn.LSTM`.
# 2. **An error table over the options** — bidirectional, `proj_size`, layers,
#    `batch_first`, packed sequences — for both of our backends (`"autograd"`: the plain
#    step loop, `"bptt"`: the hand-written backward) in float64 and float32, comparing
#    the outputs and *every* gradient with torch's.
# 3. **`torch.autograd.gradcheck`**: the analytic gradients against finite differences.
# 4. **Backpropagation through time derived by hand**, shown beside the two
#    implementations of it in the library (the NumPy reference and the `"bptt"` backend),
#    and compared with autograd.
#
# The tolerances are the project's: float64 results agree within $10^{-10}$, float32
# within $10^{-5}$ (absolute, maximum over all elements).

# %%
import inspect
import itertools
import json
import pathlib
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import pack_padded_sequence

import lstm_scratch as ls
from lstm_scratch import backends
from lstm_scratch.cells import StandardLSTM
from lstm_scratch.cells.lstm import LSTMFunction
from lstm_scratch.layer import run_layer
from lstm_scratch.reference import numpy_lstm

F = ls.functional
torch.manual_seed(0)
torch.set_num_threads(1)  # tiny tensors: one thread is faster and the results reproducible
TOL = {torch.float64: 1e-10, torch.float32: 1e-5}
BACKENDS = ("autograd", "bptt")  # the two CPU backends; "triton" needs a GPU (notebook 05)
# torch's own LSTM says once that projections skip oneDNN; it is about torch, not us
warnings.filterwarnings("ignore", message="LSTM with projections is not supported with oneDNN")
print("LSTM backends:", backends.ORDER)

# %% [markdown]
# ## 1. The same parameters, under the same names
#
# `torch.nn.LSTM` stores layer $l$'s weights as `weight_ih_l{l}` $(4H, I)$,
# `weight_hh_l{l}` $(4H, P)$, `bias_ih_l{l}`, `bias_hh_l{l}` $(4H)$, the projection
# `weight_hr_l{l}` $(P, H)$ when `proj_size` $= P > 0$, and the same again with the
# suffix `_reverse` for the backward direction. Ours registers exactly these:

# %%
options = dict(num_layers=2, bidirectional=True, proj_size=3)
theirs = nn.LSTM(4, 6, **options)
ours = ls.LSTM(4, 6, **options)
print(f"{'name':24s} {'ls.LSTM':>10s} {'nn.LSTM':>10s}")
for (name, p), (name_t, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
    print(f"{name:24s} {str(tuple(p.shape)):>10s} {str(tuple(p_t.shape)):>10s}"
          + ("" if name == name_t else f"   <- torch calls it {name_t}"))
same_names = list(ours.state_dict()) == list(theirs.state_dict())

# %% [markdown]
# So `load_state_dict` works in both directions, with no renaming and no reshaping.
# The two directions test different things: **ours ← torch** checks that we compute
# what torch computes with torch's (uniform) initialisation; **torch ← ours** checks it
# with ours (orthogonal $W_{hh}$, Xavier $W_{ih}$, forget bias 1, see `ls.init`), and
# that a model trained with `ls.LSTM` can be handed to code that expects `nn.LSTM`.

# %%
x = torch.randn(7, 2, 4)  # (T, B, I)
ours.load_state_dict(theirs.state_dict())  # ours <- torch
from_torch = (ours(x)[0] - theirs(x)[0]).abs().max().item()
ours = ls.LSTM(4, 6, **options)  # a fresh module with our own initialisation
theirs.load_state_dict(ours.state_dict())  # torch <- ours
from_ours = (ours(x)[0] - theirs(x)[0]).abs().max().item()
print(f"max |output difference|, float32: ours <- torch {from_torch:.1e}, "
      f"torch <- ours {from_ours:.1e}")

# %% [markdown]
# ## 2. The error table
#
# One case is: build both modules with the options, copy the weights one way, run both
# on the same input and initial state $(h_0, c_0)$, then backpropagate the same random
# upstream gradients $\bar y, \bar h_n, \bar c_n$, i.e. the loss
#
# $$ L = \langle \bar y, y\rangle + \langle \bar h_n, h_n\rangle + \langle \bar c_n, c_n\rangle , $$
#
# whose gradient with respect to anything is "the vector–Jacobian product with random
# directions": a gradient error anywhere shows up. We record the largest absolute
# difference over the outputs $(y, h_n, c_n)$ and over every gradient: the input, $h_0$,
# $c_0$ and every parameter. Packed cases use unsorted lengths $(3, 5, 1)$, so a
# length-1 sequence and sorting are both exercised.

# %%
T, B, I, H, P = 5, 3, 4, 6, 3
LENGTHS = torch.tensor([3, T, 1])


def run_case(module: nn.Module, x: torch.Tensor, hx: tuple, packed: bool,
             upstream: tuple | None = None):
    """Outputs (y, h_n, c_n), the gradients {name: tensor} of <upstream, outputs>, upstream.

    With no upstream given, random ones are drawn (and returned, for the other module).
    """
    x = x.clone().requires_grad_()
    hx = tuple(s.clone().requires_grad_() for s in hx)
    module.zero_grad()
    inputs = x
    if packed:
        inputs = pack_padded_sequence(x, LENGTHS, batch_first=module.batch_first,
                                      enforce_sorted=False)
    y, (h_n, c_n) = module(inputs, hx)
    if packed:
        y = y.data  # the packed rows, in torch's packing order (ours packs the same way)
    outputs = (y, h_n, c_n)
    if upstream is None:
        upstream = tuple(torch.randn_like(o) for o in outputs)
    loss = sum((u * o).sum() for u, o in zip(upstream, outputs))
    loss.backward()
    grads = {"input": x.grad, "h_0": hx[0].grad, "c_0": hx[1].grad}
    grads.update({name: p.grad for name, p in module.named_parameters()})
    return outputs, grads, upstream


def max_error(a, b) -> float:
    return max((p - q).abs().max().item() for p, q in zip(a, b))


GRID = list(itertools.product(
    ["ours <- torch", "torch <- ours"],  # which way the weights were copied
    [False, True],  # bidirectional
    [0, P],  # proj_size
    [1, 2],  # num_layers
    [False, True],  # batch_first
    [False, True],  # packed sequences
))
rows = []  # one dict per (case, backend, dtype)
start = time.perf_counter()
for dtype, backend in itertools.product(TOL, BACKENDS):
    for case_id, (copy, bidir, proj, layers, batch_first, packed) in enumerate(GRID):
        torch.manual_seed(case_id)
        opts = dict(num_layers=layers, bidirectional=bidir, proj_size=proj,
                    batch_first=batch_first, dtype=dtype)
        ref = nn.LSTM(I, H, **opts)
        mine = ls.LSTM(I, H, **opts, backend=backend)
        if copy == "ours <- torch":
            mine.load_state_dict(ref.state_dict())
        else:
            ref.load_state_dict(mine.state_dict())
        D = 2 if bidir else 1
        x = torch.randn((B, T, I) if batch_first else (T, B, I), dtype=dtype)
        hx = (torch.randn(layers * D, B, proj or H, dtype=dtype),
              torch.randn(layers * D, B, H, dtype=dtype))
        out_ref, grads_ref, upstream = run_case(ref, x, hx, packed)
        out_mine, grads_mine, _ = run_case(mine, x, hx, packed, upstream)
        assert list(grads_mine) == list(grads_ref)  # the same gradients, by name
        grad_errors = {n: (grads_mine[n] - grads_ref[n]).abs().max().item() for n in grads_ref}
        rows.append(dict(
            backend=backend, dtype=str(dtype).removeprefix("torch."), tol=TOL[dtype],
            copy=copy, bidirectional=bidir, proj_size=proj, num_layers=layers,
            batch_first=batch_first, packed=packed, n_grads=len(grad_errors),
            output=max_error(out_mine, out_ref), gradient=max(grad_errors.values()),
            worst_grad=max(grad_errors, key=grad_errors.get),
        ))
grid_seconds = time.perf_counter() - start
print(f"{len(rows)} runs ({len(GRID)} option combinations x 2 backends x 2 dtypes) "
      f"in {grid_seconds:.1f} s")

# %% [markdown]
# The worst case per backend and dtype, then the worst case for each value of each
# option (so an option that loses precision would stand out in its own row):

# %%
def worst(selected: list[dict], key: str) -> float:
    return max(r[key] for r in selected)


print(f"{'backend':9s} {'dtype':8s} {'cases':>5s} {'worst output':>13s} {'worst gradient':>15s}"
      f" {'(which)':>20s} {'tolerance':>10s}")
for backend, dtype in itertools.product(BACKENDS, ("float64", "float32")):
    sel = [r for r in rows if r["backend"] == backend and r["dtype"] == dtype]
    which = max(sel, key=lambda r: r["gradient"])["worst_grad"]
    print(f"{backend:9s} {dtype:8s} {len(sel):5d} {worst(sel, 'output'):13.2e} "
          f"{worst(sel, 'gradient'):15.2e} {which:>20s} {sel[0]['tol']:10.0e}")

print()
print(f"{'option':14s} {'value':14s} | {'float64 out':>11s} {'float64 grad':>12s} | "
      f"{'float32 out':>11s} {'float32 grad':>12s}")
for option in ("copy", "bidirectional", "proj_size", "num_layers", "batch_first", "packed"):
    for value in sorted({r[option] for r in rows}, key=str):
        cells = []
        for dtype in ("float64", "float32"):
            sel = [r for r in rows if r[option] == value and r["dtype"] == dtype]
            cells.append(f"{worst(sel, 'output'):11.2e} {worst(sel, 'gradient'):12.2e}")
        print(f"{option:14s} {str(value):14s} | {cells[0]} | {cells[1]}")

# %% [markdown]
# Every case as a point: the largest error of the outputs (left) and of all the
# gradients (right), per run, on a log scale, with the two tolerance lines. An error of
# exactly 0 (it happens: the `"autograd"` backend often reproduces torch's numbers bit for
# bit) is drawn at $10^{-18}$.

# %%
FLOOR = 1e-18
styles = {("autograd", "float64"): ("tab:blue", "o"), ("bptt", "float64"): ("tab:orange", "s"),
          ("autograd", "float32"): ("tab:green", "o"), ("bptt", "float32"): ("tab:red", "s")}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
for ax, key in zip(axes, ("output", "gradient")):
    for (backend, dtype), (color, marker) in styles.items():
        sel = [r for r in rows if r["backend"] == backend and r["dtype"] == dtype]
        ax.scatter(range(len(sel)), [max(r[key], FLOOR) for r in sel], s=14, color=color,
                   marker=marker, alpha=0.7, label=f'backend "{backend}", {dtype}')
    for tol, dtype in ((1e-10, "float64"), (1e-5, "float32")):
        ax.axhline(tol, color="k", ls="--", lw=1)
        ax.text(len(GRID) - 1, tol * 2, f"{dtype} tolerance {tol:.0e}", ha="right", fontsize=8)
    ax.set(yscale="log", xlabel="option combination (index into the grid)",
           title=f"ls.LSTM vs nn.LSTM: max |{key} error|")
axes[0].set_ylabel("max absolute difference (unitless)")
axes[1].legend(loc="center right", fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The float64 errors sit around $10^{-16}$–$10^{-15}$, a few units of rounding: the two
# implementations add the same terms in slightly different orders, nothing more. The
# float32 errors are $10^{-7}$–$10^{-6}$, again rounding ($2^{-23} \approx 1.2\cdot10^{-7}$),
# amplified a little by the sums over steps in the weight gradients.
#
# ## 3. gradcheck: the gradients against finite differences
#
# Parity with torch says we compute what torch computes. `torch.autograd.gradcheck`
# checks the gradients against *the definition of a derivative*: for every input
# element it perturbs it by $\pm\varepsilon$ and compares the central difference
# $\big(f(\theta + \varepsilon e_k) - f(\theta - \varepsilon e_k)\big)/2\varepsilon$ with
# the analytic Jacobian column. That needs float64 ($\varepsilon = 10^{-6}$: the
# truncation error is $O(\varepsilon^2)$, the rounding error $O(10^{-16}/\varepsilon)$).
#
# We make the parameters explicit inputs with `torch.func.functional_call`, so gradcheck
# perturbs the weights too, on a small bidirectional layer with a projection, once on a
# padded batch and once on a packed one, for both backends.

# %%
def as_function(module: nn.Module, packed: bool):
    """f(x, h_0, c_0, *parameters) -> (y, h_n, c_n) with the parameters as inputs."""
    names = [name for name, _ in module.named_parameters()]

    def f(x, h0, c0, *params):
        inputs = pack_padded_sequence(x, LENGTHS[:2], enforce_sorted=False) if packed else x
        y, (h_n, c_n) = functional_call(module, dict(zip(names, params)), (inputs, (h0, c0)))
        return (y.data if packed else y), h_n, c_n

    return f


gradcheck_ok = {}
for backend, packed in itertools.product(BACKENDS, (False, True)):
    torch.manual_seed(0)
    small = ls.LSTM(3, 4, bidirectional=True, proj_size=2, backend=backend, dtype=torch.float64)
    inputs = (torch.randn(T, 2, 3, dtype=torch.float64),  # x (T, B=2, I=3)
              torch.randn(2, 2, 2, dtype=torch.float64),  # h_0 (D, B, P)
              torch.randn(2, 2, 4, dtype=torch.float64),  # c_0 (D, B, H)
              *(p.detach() for p in small.parameters()))
    inputs = tuple(t.clone().requires_grad_() for t in inputs)
    n_checked = sum(t.numel() for t in inputs)
    gradcheck_ok[backend, packed] = torch.autograd.gradcheck(
        as_function(small, packed), inputs, eps=1e-6, atol=1e-7, rtol=1e-5)
    print(f'gradcheck, backend "{backend}", {"packed" if packed else "padded"}: '
          f"{gradcheck_ok[backend, packed]} ({n_checked} input elements perturbed)")

# %% [markdown]
# ## 4. Backpropagation through time, by hand
#
# ### The forward pass
#
# One layer, one direction, row vectors (a batch of $B$ rows), gate order $(i, f, g, o)$:
#
# $$
# \begin{aligned}
# a_t &= x_t W_{ih}^\top + h_{t-1} W_{hh}^\top + b_{ih} + b_{hh}
#       && (B, 4H) \text{ pre-activations} \\
# i_t, f_t, g_t, o_t &= \sigma(a^i_t),\ \sigma(a^f_t),\ \tanh(a^g_t),\ \sigma(a^o_t) \\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
# m_t &= o_t \odot \tanh(c_t), \qquad h_t = m_t W_{hr}^\top \ \text{(projection) or } h_t = m_t .
# \end{aligned}
# $$
#
# ### The backward pass
#
# Write $\bar z = \partial L / \partial z$ for the **total** derivative of the loss with
# respect to $z$, everything that reaches $z$. The output $y_t = h_t$ is read by the
# loss directly *and* by step $t+1$, so $\bar h_t$ has two parts; $c_t$ is read by
# $h_t$ and by $c_{t+1}$. Starting from $\bar h_T = \bar y_T + \bar h_n$ and
# $\bar c_T = \bar c_n$, each step back applies the chain rule to the equations above,
# bottom up:
#
# $$
# \begin{aligned}
# \bar m_t &= \bar h_t W_{hr} \quad (\text{or } \bar m_t = \bar h_t) \\
# \bar c_t &\mathrel{+}= \bar m_t \odot o_t \odot \big(1 - \tanh^2 c_t\big)
#       && \text{through } m_t = o_t \tanh c_t \\
# \bar a^i_t &= \bar c_t \odot g_t \odot i_t (1 - i_t)
#       && \sigma' = \sigma (1 - \sigma) \\
# \bar a^f_t &= \bar c_t \odot c_{t-1} \odot f_t (1 - f_t) \\
# \bar a^g_t &= \bar c_t \odot i_t \odot (1 - g_t^2) && \tanh' = 1 - \tanh^2 \\
# \bar a^o_t &= \bar m_t \odot \tanh(c_t) \odot o_t (1 - o_t) \\
# \bar c_{t-1} &= \bar c_t \odot f_t && \text{the cell path: no matrix, no squashing} \\
# \bar h_{t-1} &= \bar a_t W_{hh} + \bar y_{t-1} && \text{the recurrent path} \\
# \bar x_t &= \bar a_t W_{ih} .
# \end{aligned}
# $$
#
# Only $\bar h$ and $\bar c$ have to be computed one step after another. The weights
# are shared by all steps, so their gradients are **sums over steps**, and a sum over
# steps of outer products is one matrix product over all $T \cdot B$ rows. Stacking
# $\bar A = [\bar a_1; \dots; \bar a_T]$ $(TB, 4H)$, $X$ $(TB, I)$,
# $H_{-} = [h_0; \dots; h_{T-1}]$ $(TB, P)$:
#
# $$
# \frac{\partial L}{\partial W_{ih}} = \sum_t \bar a_t^\top x_t = \bar A^\top X, \qquad
# \frac{\partial L}{\partial W_{hh}} = \bar A^\top H_{-}, \qquad
# \frac{\partial L}{\partial b_{ih}} = \frac{\partial L}{\partial b_{hh}}
#   = \textstyle\sum_{\text{rows}} \bar A, \qquad
# \frac{\partial L}{\partial W_{hr}} = \bar{H}^\top M .
# $$
#
# Three GEMMs after the loop instead of $3T$ small ones inside it: this is where the
# hand-written backward wins its speed.
#
# ### The NumPy reference: one line per equation
#
# `lstm_scratch.reference.numpy_lstm` writes the forward and the backward step by step,
# with no tricks (and so without projection or packed lengths):

# %%
print(inspect.getsource(numpy_lstm.lstm_backward))

# %% [markdown]
# ### The `"bptt"` backend: the same equations, arranged for speed
#
# `LSTMFunction`, in the LSTM cell's own file (`lstm_scratch/cells/lstm.py`, beside the
# cell's `step`), is a `torch.autograd.Function` for a whole layer-direction. Its
# backward precomputes every factor that does not depend on $\bar c$ or $\bar m$ for all
# steps at once ($J$ and $K$), leaving the loop four element-wise products and one
# matrix product per step, then does the weight gradients as the GEMMs above. It also
# handles the projection and packed lengths (past a sequence's end: $\bar a = 0$,
# $\bar c$ and $\bar h$ pass through unchanged).

# %%
print(inspect.getsource(LSTMFunction.backward))

# %% [markdown]
# ### Both, checked against autograd
#
# Autograd differentiates the plain step loop (`run_layer(..., backend="autograd")`); it is
# the reference. First the NumPy version, on a 40-step sequence in float64, for the
# outputs and all seven gradients:

# %%
torch.manual_seed(0)
T_long, B_s, I_s, H_s = 40, 3, 4, 6
names = ["x", "h0", "c0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"]
shapes = [(T_long, B_s, I_s), (B_s, H_s), (B_s, H_s), (4 * H_s, I_s), (4 * H_s, H_s),
          (4 * H_s,), (4 * H_s,)]
t = {n: torch.randn(s, dtype=torch.float64, requires_grad=True) for n, s in zip(names, shapes)}
y, (h_T, c_T) = run_layer(StandardLSTM(), t["x"], (t["h0"], t["c0"]),
                          {n: t[n] for n in names[3:]})
d_y, d_h, d_c = torch.randn_like(y), torch.randn_like(h_T), torch.randn_like(c_T)
loss = (y * d_y).sum() + (h_T * d_h).sum() + (c_T * d_c).sum()
autograd_grads = dict(zip(names, torch.autograd.grad(loss, list(t.values()))))

a = {n: v.detach().numpy() for n, v in t.items()}
y_np, h_np, c_np, cache = numpy_lstm.lstm_forward(
    a["x"], a["h0"], a["c0"], a["weight_ih"], a["weight_hh"], a["bias_ih"], a["bias_hh"])
numpy_grads = numpy_lstm.lstm_backward(d_y.numpy(), d_h.numpy(), d_c.numpy(),
                                       a["weight_ih"], a["weight_hh"], cache)
numpy_errors = {"outputs": max(np.abs(p - q.detach().numpy()).max()
                               for p, q in ((y_np, y), (h_np, h_T), (c_np, c_T)))}
numpy_errors.update({n: np.abs(numpy_grads[n] - autograd_grads[n].numpy()).max() for n in names})
for n, err in numpy_errors.items():
    print(f"NumPy vs autograd, {n:10s}: {err:.1e}")

# %% [markdown]
# Then the `"bptt"` backend's hand-written backward (`LSTMFunction`, through the same
# `run_layer`) against autograd through the step loop, with everything the
# NumPy version leaves out switched on: a projection, packed lengths, and the reverse
# direction.

# %%
torch.manual_seed(1)
P_s = 3
lengths = torch.tensor([T_long, 17, 1])
layer = {"weight_ih": torch.randn(4 * H_s, I_s), "weight_hh": torch.randn(4 * H_s, P_s),
         "bias_ih": torch.randn(4 * H_s), "bias_hh": torch.randn(4 * H_s),
         "weight_hr": torch.randn(P_s, H_s)}
leaves = {"x": torch.randn(T_long, B_s, I_s), "h0": torch.randn(B_s, P_s),
          "c0": torch.randn(B_s, H_s), **layer}
leaves = {n: v.double().requires_grad_() for n, v in leaves.items()}
params = {n: leaves[n] for n in layer}

bptt_errors = {}
for reverse in (False, True):
    results = {}
    for name in ("autograd", "bptt"):
        y, (h_T, c_T) = run_layer(StandardLSTM(), leaves["x"], (leaves["h0"], leaves["c0"]),
                                  params, lengths, reverse, backend=name)
        torch.manual_seed(2)  # the same upstream gradients for both
        loss = sum((torch.randn_like(o) * o).sum() for o in (y, h_T, c_T))
        results[name] = (y, h_T, c_T), torch.autograd.grad(loss, list(leaves.values()))
    (out_a, grad_a), (out_t, grad_t) = results["autograd"], results["bptt"]
    direction = "reverse" if reverse else "forward"
    bptt_errors[direction, "outputs"] = max_error(out_t, out_a)
    for n, g_t, g_a in zip(leaves, grad_t, grad_a):
        bptt_errors[direction, n] = (g_t - g_a).abs().max().item()
for (direction, n), err in bptt_errors.items():
    print(f'"bptt" vs autograd, {direction:7s} {n:10s}: {err:.1e}')

# %%
fig, ax = plt.subplots(figsize=(10, 4))
labels = list(numpy_errors)
width = 0.27
for k, (name, errs, color) in enumerate((
    ("NumPy reference (no projection)", [numpy_errors[n] for n in labels], "tab:purple"),
    ('"bptt" backend, forward direction',
     [bptt_errors["forward", n] for n in labels], "tab:orange"),
    ('"bptt" backend, reverse direction',
     [bptt_errors["reverse", n] for n in labels], "tab:brown"),
)):
    ax.bar(np.arange(len(labels)) + (k - 1) * width, [max(e, FLOOR) for e in errs], width,
           color=color, label=name)
ax.axhline(1e-10, color="k", ls="--", lw=1, label="float64 tolerance $10^{-10}$")
ax.set_xticks(np.arange(len(labels)), labels)
ax.set(yscale="log", ylim=(FLOOR, 1e-8), ylabel="max |difference| from autograd (unitless)",
       title=f"Hand-written BPTT vs autograd, float64, T = {T_long} steps")
ax.legend(fontsize=8, ncol=2, loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# Forty steps of a chain of products and the hand-derived gradients still agree with
# autograd to rounding. (The projection's $W_{hr}$ gradient is in the `"bptt"` bars
# only; it is not in the NumPy version. The plot shows the gradients they share.)

# %%
print("weight_hr:", {d: f"{bptt_errors[d, 'weight_hr']:.1e}" for d in ("forward", "reverse")})

# %% [markdown]
# ## 5. What the hand-written backward buys: the committed benchmark
#
# Speed is measured in `benchmarks/cpu.py`, not here (a notebook on a shared CI machine
# would measure noise). Its committed results compare, in one process and interleaved,
# `nn.LSTM` with our `"bptt"` backend and with the `"autograd"` step loop; a ratio is
# median time ours / median time `nn.LSTM` (lower is better).

# %%
results_dir = pathlib.Path("../benchmarks/results")
if not results_dir.exists():  # run from the repository root instead of notebooks/
    results_dir = pathlib.Path("benchmarks/results")
bench = json.loads((results_dir / "cpu-2026-11-22.json").read_text())
meta = bench["meta"]
print(f"{meta['date']}, {meta['cpu']}, torch {meta['torch']}, {meta['threads']} threads")
print(f"{'comparison':30s} {'median':>7s} {'best':>6s} {'worst':>6s} {'points':>6s}")
for name, s in bench["summary"].items():
    if name.startswith("LSTM"):
        print(f"{name:30s} {s['median']:7.2f} {s['best']:6.2f} {s['worst']:6.2f} "
              f"{s['points']:6d}")

lstm_points = [g for g in bench["grid"] if g["mode"] == "LSTM" and "ratio autograd fwd+bwd" in g]
fig, ax = plt.subplots(figsize=(7, 4))
for backend, color in (("autograd", "tab:blue"), ("bptt", "tab:orange")):
    ax.scatter([1e3 * g["seconds"]["nn fwd+bwd"] for g in lstm_points],
               [g[f"ratio {backend} fwd+bwd"] for g in lstm_points], s=18, color=color,
               label=f'backend "{backend}"')
ax.axhline(1, color="k", lw=1, ls="--", label="as fast as nn.LSTM")
ax.set(xscale="log", yscale="log", xlabel="nn.LSTM forward+backward time (ms)",
       ylabel="time ours / time nn.LSTM",
       title=f"Forward+backward on CPU ({meta['date']}, {meta['threads']} threads)")
ax.legend()
fig.tight_layout()
plt.show()
for key in ("ratio autograd fwd+bwd", "ratio bptt fwd+bwd"):
    print(f"median {key} over the {len(lstm_points)} LSTM configurations with both: "
          f"{np.median([g[key] for g in lstm_points]):.2f}")

# %% [markdown]
# Same equations, same results to $10^{-13}$, and the hand-written backward takes about
# half the forward+backward time of the autograd loop (the medians printed above): one
# autograd node per layer-direction instead of a dozen per step, and the weight gradients
# as three large GEMMs. Both stay slower than `nn.LSTM`, whose fused C++ cell does the
# per-step work of a dozen of our tensor operations in one. A single, unasserted
# measurement on this machine, for a feel of the size (one small problem, median of 5;
# the CI machine is shared, so expect noise):

# %%
def median_ms(module: nn.Module, x: torch.Tensor, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        module(x)[0].sum().backward()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


x_bench = torch.randn(20, 32, 32)  # (T, B, I)
for name, module in (("nn.LSTM", nn.LSTM(32, 64)),
                     *((f'ls.LSTM "{b}"', ls.LSTM(32, 64, backend=b)) for b in BACKENDS)):
    print(f"{name:18s} forward+backward, T=20 B=32 H=64: {median_ms(module, x_bench):6.2f} ms")

# %% [markdown]
# ## What this notebook showed, checked
#
# * our parameters have torch's names and shapes, and `state_dict`s load both ways;
# * over 64 option combinations (weights copied either way x bidirectional x projection x
#   1 or 2 layers x `batch_first` x packed), for both backends, the outputs and every
#   gradient match `nn.LSTM` within $10^{-10}$ in float64 and $10^{-5}$ in float32;
# * `gradcheck` passes in float64 for both backends, padded and packed;
# * the hand-derived backward, in NumPy and in the `"bptt"` backend (with projection,
#   packed lengths, both directions), matches autograd within $10^{-10}$ over 40 steps.

# %%
assert same_names
assert from_torch < 1e-5 and from_ours < 1e-5, (from_torch, from_ours)
assert len(rows) == 4 * len(GRID) == 256
for r in rows:
    assert r["output"] < r["tol"] and r["gradient"] < r["tol"], r
assert all(gradcheck_ok.values()), gradcheck_ok
assert max(numpy_errors.values()) < 1e-10, numpy_errors
assert max(bptt_errors.values()) < 1e-10, bptt_errors
print("worst float64 error:", max(max(r["output"], r["gradient"]) for r in rows
                                  if r["dtype"] == "float64"))
print("worst float32 error:", max(max(r["output"], r["gradient"]) for r in rows
                                  if r["dtype"] == "float32"))
print("all claims hold")
