# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 — LSTM variants: which parts of the cell matter?
#
# Greff et al., *LSTM: A Search Space Odyssey* (IEEE TNNLS 2017), took the LSTM apart
# one piece at a time. Their vanilla cell, with diagonal **peepholes** $p_i, p_f, p_o$
# from the cell state to the gates (Gers & Schmidhuber 2000), is
#
# $$
# \begin{aligned}
# i_t &= \sigma(W_i x_t + R_i h_{t-1} + p_i \odot c_{t-1} + b_i) &\text{input gate}\\
# f_t &= \sigma(W_f x_t + R_f h_{t-1} + p_f \odot c_{t-1} + b_f) &\text{forget gate}\\
# g_t &= \tanh(W_g x_t + R_g h_{t-1} + b_g) &\text{input activation}\\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t\\
# o_t &= \sigma(W_o x_t + R_o h_{t-1} + p_o \odot c_t + b_o) &\text{output gate}\\
# h_t &= o_t \odot \tanh(c_t) &\text{output activation}
# \end{aligned}
# $$
#
# and each variant changes one line:
#
# | paper | here | change |
# |---|---|---|
# | V | `variant="vanilla", peephole=True` | none |
# | NIG | `variant="NIG", peephole=True` | $i_t = 1$ |
# | NFG | `variant="NFG", peephole=True` | $f_t = 1$ |
# | NOG | `variant="NOG", peephole=True` | $o_t = 1$ |
# | NIAF | `variant="NIAF", peephole=True` | $g_t$ without $\tanh$ |
# | NOAF | `variant="NOAF", peephole=True` | $h_t = o_t \odot c_t$ |
# | CIFG | `variant="CIFG", peephole=True` (or `coupled=True`) | $i_t = 1 - f_t$ |
# | NP | `variant="NP"` | no peepholes — this is `torch.nn.LSTM`'s cell |
#
# In `lstm_scratch` the default (`variant="vanilla"`, `peephole=False`) is torch's cell,
# so a `StackedLSTM` stays a drop-in for `nn.LSTM`; the paper's V needs `peephole=True`.
# The math is in `lstm_scratch/cells/variant_lstm.py`.

# %%
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import lstm_scratch as ls
from lstm_scratch.cells.variant_lstm import PAPER_VARIANTS
from lstm_scratch.toy_tasks import ADDING_BASELINE_MSE, adding_problem

torch.manual_seed(0)
PAPER = PAPER_VARIANTS  # Greff et al.'s names -> our options (lstm_scratch/cells/variant_lstm.py)

# %% [markdown]
# ## Parameters: the shapes say which gates exist
#
# A fixed gate (NIG, NFG, NOG) or a derived one (CIFG's $i_t = 1 - f_t$) has no weights,
# so those variants stack **three** gate blocks instead of four, and have a peephole
# only for the gates that remain. With input size $I$ and hidden size $H$, one layer has
# $G H (I + H) + 2 G H + n_p H$ parameters for $G$ gate blocks and $n_p$ peepholes.

# %%
I, H = 2, 16
counts = {}
for name, options in PAPER.items():
    model = ls.LSTM(I, H, **options)
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
    counts[name] = sum(p.numel() for p in model.parameters())
    print(f"{name:5s} {counts[name]:5d}  {shapes}")
gates = {name: 3 if name in ("NIG", "NFG", "NOG", "CIFG") else 4 for name in PAPER}
peepholes = {name: 0 if name == "NP" else (2 if gates[name] == 3 else 3) for name in PAPER}
closed_form = {n: gates[n] * H * (I + H) + 2 * gates[n] * H + peepholes[n] * H for n in PAPER}

# %% [markdown]
# ## Variational dropout: one mask per sequence
#
# With `dropout_mode="variational"` (Gal & Ghahramani 2016) the `dropout` probability
# draws one mask per sequence for each layer's input and recurrent state and keeps it
# for every time step. We can see the input mask from the gradient: a dropped input
# feature has zero gradient, at every step of that sequence.

# %%
lstm = ls.LSTM(8, 16, dropout=0.5, dropout_mode="variational").train()
x = torch.randn(30, 4, 8, requires_grad=True)  # (T, B, I)
lstm(x)[0].sum().backward()
dropped = (x.grad == 0).float()  # (T, B, I)

fig, axes = plt.subplots(1, 4, figsize=(12, 3), sharey=True)
for b, ax in enumerate(axes):
    ax.imshow(dropped[:, b].T, aspect="auto", cmap="Greys", interpolation="nearest")
    ax.set_title(f"sequence {b}")
    ax.set_xlabel("time step t")
axes[0].set_ylabel("input feature")
fig.suptitle("Variational dropout: dropped input features (black), same at every step")
fig.tight_layout()
plt.show()
mask_constant_in_time = bool((dropped == dropped[0]).all())
masks_differ = len({tuple(row.tolist()) for row in dropped[0]}) > 1
print("constant across time:", mask_constant_in_time, "| differs across sequences:", masks_differ)

# %% [markdown]
# ## Zoneout: keep the old state, at random
#
# With `zoneout=p` (Krueger et al. 2017) each unit of $h$ and $c$ keeps its previous
# value with probability $p$ while training; in evaluation it takes the expectation
# $p\,h_{t-1} + (1-p)\,\tilde h_t$. Averaging many training draws of one step should
# land on the evaluation value.

# %%
p = 0.3
cell = ls.LSTMCell(4, 8, zoneout=p)
x1, h0, c0 = torch.randn(1, 4), torch.randn(1, 8), torch.randn(1, 8)
with torch.no_grad():
    h_eval, _ = cell.eval()(x1, (h0, c0))
    draws = cell.train()(x1.expand(20000, 4), (h0.expand(20000, 8), c0.expand(20000, 8)))[0]
zoneout_gap = (draws.mean(0) - h_eval[0]).abs().max().item()
print(f"max |mean of training draws - eval value| = {zoneout_gap:.4f}")

# %% [markdown]
# ## The odyssey, as run for the benchmark
#
# `benchmarks/variants.py` trained every variant for the same number of steps with
# three seeds on two tasks: the adding problem at $T = 50$ (memory) and next-month
# CO2 at Mauna Loa (a real series). Below are its committed results.

# %%
root = next(d for d in [Path.cwd(), *Path.cwd().parents] if (d / "benchmarks" / "results").is_dir())
result_file = sorted((root / "benchmarks" / "results").glob("variants-*.json"))[-1]
odyssey = json.loads(result_file.read_text())
print(result_file.with_suffix(".md").read_text())

# %%
tasks = list(odyssey["tasks"])
fig, axes = plt.subplots(1, len(tasks), figsize=(12, 4))
for ax, task in zip(axes, tasks, strict=True):
    losses = [odyssey["tasks"][task][n]["losses"] for n in PAPER]
    ax.boxplot(losses, tick_labels=list(PAPER))
    for k, seeds in enumerate(losses, start=1):  # every seed as a dot
        ax.plot([k] * len(seeds), seeds, "o", ms=4, alpha=0.6, c="tab:blue")
    ax.set_yscale("log")
    ax.set_title(f"{task}: final validation loss ({len(odyssey['config']['seeds'])} seeds)")
    ax.set_xlabel("variant (Greff et al. 2017)")
    ax.set_ylabel("validation MSE (log scale)")
axes[0].axhline(ADDING_BASELINE_MSE, ls="--", c="gray", label="predict the mean (1/6)")
axes[0].legend()
fig.tight_layout()
plt.show()
median = {t: {n: odyssey["tasks"][t][n]["summary"]["median"] for n in PAPER} for t in tasks}
ratio = {t: {n: median[t][n] / median[t]["V"] for n in PAPER} for t in tasks}
print({t: {n: round(r, 2) for n, r in ratio[t].items()} for t in tasks})

# %% [markdown]
# **Did Greff et al.'s findings hold here?** Partly, and only as far as three seeds on a
# small budget can say.
#
# - *The forget gate matters*: yes. Without it (NFG) the CO2 forecast had the worst
#   median of all eight, and on the adding problem NFG's median was well above V's.
# - *The output activation matters*: mixed. NOAF's median was worse than V's on the
#   adding problem but close to V on CO2, where the cell state stays small.
# - *Coupling (CIFG) and dropping the peepholes (NP) do not hurt*: yes, on both tasks
#   their medians were no worse than 1.25 x V's; on the adding problem CIFG solved it with
#   every seed, V and NP with two of three.
# - *Not in the paper's headline*: here, removing the **input gate** (NIG) or the **output
#   gate** (NOG) left the adding problem unsolved by every seed in 300 steps — at this
#   budget, writing to and reading from memory selectively is what a memory task needs.
#   Greff et al. found those two milder on their (non-synthetic) tasks.
#
# The spread across seeds on the adding problem is as wide as most gaps between variants:
# a run either finds the memory solution within the budget or it does not.

# %% [markdown]
# ## A small-budget demonstration
#
# The full run takes minutes; here is a taste that runs in seconds: V, NFG, NOAF and
# CIFG on a shorter adding problem ($T = 20$), 150 steps, two seeds, evaluated on 1000
# fresh sequences. Small budgets are noisy: read it as a demonstration, not a result.

# %%
torch.set_num_threads(1)


def train_adding(options: dict, seed: int, steps: int = 150, length: int = 20) -> float:
    torch.manual_seed(seed)
    lstm = ls.LSTM(2, 16, **options)
    head = torch.nn.Linear(16, 1)
    params = [*lstm.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=2e-2)
    data = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x, y = adding_problem(64, length, data)
        loss = (head(lstm(x)[1][0][-1]) - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    with torch.no_grad():
        x, y = adding_problem(1000, length, torch.Generator().manual_seed(999))
        return (head(lstm.eval()(x)[1][0][-1]) - y).pow(2).mean().item()


demo = {name: [train_adding(PAPER[name], seed) for seed in (0, 1)]
        for name in ("V", "NFG", "NOAF", "CIFG")}
fig, ax = plt.subplots(figsize=(6, 3.5))
for k, (name, losses) in enumerate(demo.items()):
    ax.scatter([k] * len(losses), losses, label=name)
ax.axhline(ADDING_BASELINE_MSE, ls="--", c="gray", label="predict the mean (1/6)")
ax.set_xticks(range(len(demo)), list(demo))
ax.set_yscale("log")
ax.set_title("Adding problem, T = 20, 150 steps: validation MSE per seed")
ax.set_xlabel("variant")
ax.set_ylabel("validation MSE (log scale)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
print({name: [round(v, 4) for v in losses] for name, losses in demo.items()})

# %% [markdown]
# ## What we claimed, checked

# %%
assert counts == closed_form, (counts, closed_form)
assert counts["CIFG"] < counts["V"] and counts["NP"] < counts["V"]
assert mask_constant_in_time and masks_differ
assert zoneout_gap < 0.03
assert set(odyssey["tasks"]) == {"adding", "co2"} and len(odyssey["config"]["seeds"]) >= 3
assert max(median["co2"], key=median["co2"].get) == "NFG"  # forget gate: worst without it
assert ratio["adding"]["NFG"] > 1.25 and ratio["adding"]["NOAF"] > 1.25
assert ratio["co2"]["NOAF"] <= 1.25  # the "mixed" verdict on the output activation
assert all(ratio[t][n] <= 1.25 for t in tasks for n in ("CIFG", "NP"))
for name in ("NIG", "NOG"):  # never solved the adding problem
    assert min(odyssey["tasks"]["adding"][name]["losses"]) > ADDING_BASELINE_MSE / 2
assert all(x < ADDING_BASELINE_MSE / 10 for x in odyssey["tasks"]["adding"]["CIFG"]["losses"])
assert all(np.isfinite(list(demo[n])).all() for n in demo)
assert min(demo["V"]) < ADDING_BASELINE_MSE  # the vanilla cell learned something in 150 steps
