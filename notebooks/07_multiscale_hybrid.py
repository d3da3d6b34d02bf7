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
# # 07 — The multi-scale hybrid, layer by layer, and what each part is worth
#
# `multiscale_hybrid` is the largest model of the zoo (`lstm_scratch/models/hybrid.py`):
# it stacks every idea of notebooks 01–04. For a window $x \in \mathbb{R}^{B \times T
# \times F}$ of $T$ steps with $F$ features and a model width $d$:
#
# $$
# \begin{aligned}
# u &= \operatorname{Dropout}(\operatorname{ReLU}(\operatorname{LN}(x W_{in} + b_{in})))
#      + PE && \text{input projection + positions} \\
# a &= \operatorname{MSConv}_{3,5,7}(u), \quad b = \operatorname{MSConv}_{3,5,9}(u)
#      && \text{two multi-scale causal convolutions} \\
# g &= \sigma([a; b] W_g + b_g), \quad
#      v = \operatorname{LN}(u + g \odot a + (1 - g) \odot b) && \text{gated fusion} \\
# v &\leftarrow \operatorname{LN}\big(v + \operatorname{Dropout}(\operatorname{BiLSTM}(v) W_p)\big)
#      && \text{BiLSTM blocks, residual} \\
# v &\leftarrow \operatorname{LN}\big(v + \operatorname{Dropout}(\operatorname{MHA}(v, v, v))\big)
#      && \text{self-attention after every 2nd block} \\
# p &= [\operatorname{mean}_t v;\; \max_t v;\; v_T] && \text{three poolings, } 3d \\
# \hat y &= s \odot \big([\text{head}_1(p);\, \text{head}_2(p);\, \text{head}_3(p)]\, W_c + b_c\big)
#      && \text{three MLP heads, combined, scaled}
# \end{aligned}
# $$
#
# Many parts, so two questions: **what does each part do to the shapes** (and how many
# parameters does it hold), and **what is each part worth** on a real task? We answer
# the first with forward hooks, the second with a small ablation on the Mauna Loa CO$_2$
# series: remove the convolutions, the attention, or two of the three heads, and compare
# over three seeds against the full model and two baselines.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import lstm_scratch as ls
from lstm_scratch import forecasting as fc

torch.manual_seed(0)
torch.set_num_threads(1)  # small tensors: one thread is faster and the results reproducible

# %% [markdown]
# ## 1. Parameters, component by component
#
# At its defaults (9 features, 3 outputs, $d = 256$, four BiLSTM blocks with $H = d$,
# 8 attention heads, heads 128 wide) the model is large. Each component's count follows
# from its shapes ($k$ a kernel size, $O$ the outputs, $h$ the head width):
#
# | component | parameters |
# |---|---|
# | input projection | $F d + d$ (Linear) $+ 2d$ (LayerNorm) |
# | `MultiScaleConv`, kernels $K$ | $\sum_{k \in K} (d^2 k + d)$ (branches) $+ 3d^2 + d$ (1x1) |
# | fusion gate, its LayerNorm | $2d \cdot d + d$, $\;2d$ |
# | BiLSTM block | $2 \cdot 4((d + H)H + 2H)$ (two directions) $+ (2H d + d) + 2d$ |
# | self-attention + LayerNorm | $(3d \cdot d + 3d) + (d^2 + d) + 2d$ |
# | one head | $(3d\,h + h) + (h O + O)$ |
# | combine, output scale | $3O \cdot O + O$, $\;O$ |

# %%
def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def component_formulas(F: int, O: int, d: int, H: int, h: int) -> dict[str, int]:
    """The table above, for one component of each kind."""
    ms_conv = lambda kernels: sum(d * d * k + d for k in kernels) + 3 * d * d + d  # noqa: E731
    return {
        "input_proj": F * d + d + 2 * d,
        "conv_a": ms_conv((3, 5, 7)),
        "conv_b": ms_conv((3, 5, 9)),
        "fusion_gate": 2 * d * d + d,
        "conv_norm": 2 * d,
        "blocks.0": 2 * 4 * ((d + H) * H + 2 * H) + 2 * H * d + d + 2 * d,
        "attentions.0": 3 * d * d + 3 * d + d * d + d,
        "attention_norms.0": 2 * d,
        "heads.0": 3 * d * h + h + h * O + O,
        "combine": 3 * O * O + O,
        "output_scale": O,
    }


def formula_of(formulas: dict[str, int], name: str) -> int:
    """The formula for component `name`; repeated ones (blocks.3, heads.2) share index 0's."""
    stem, _, index = name.rpartition(".")
    return formulas[f"{stem}.0" if index.isdigit() else name]


def component_counts(model: nn.Module) -> dict[str, int]:
    """Parameters per direct child (lists split by index), counted."""
    counts = {}
    for name, child in model.named_children():
        parts = child.named_children() if isinstance(child, nn.ModuleList) else [(None, child)]
        for index, part in parts:
            if n_params(part):
                counts[name if index is None else f"{name}.{index}"] = n_params(part)
    counts.update({name: p.numel() for name, p in model.named_parameters(recurse=False)})
    return counts


default_model = ls.create_model("multiscale_hybrid", 9, 3)
default_counts = component_counts(default_model)
default_formulas = component_formulas(F=9, O=3, d=256, H=256, h=128)
print(f"{'component':18s} {'counted':>10s} {'formula':>10s}")
for name, count in default_counts.items():
    print(f"{name:18s} {count:10,d} {formula_of(default_formulas, name):10,d}")
default_total = n_params(default_model)
print(f"{'total':18s} {default_total:10,d}")
formula_mismatches = [name for name, count in default_counts.items()
                      if count != formula_of(default_formulas, name)]
del default_model  # 8 M parameters we will not train on a CPU

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
ax.barh(list(default_counts), [c / 1e6 for c in default_counts.values()])
ax.invert_yaxis()
ax.set(title=f"multiscale_hybrid at its defaults: {default_total / 1e6:.2f} M parameters",
       xlabel="parameters (millions)")
fig.tight_layout()
plt.show()

# %% [markdown]
# The four BiLSTM blocks hold more than half of the weights (1.18 M each), and each
# multi-scale convolution about as much as one block: the kernels of sizes 3 to 9 over
# $d = 256$ channels are $d^2 k$ weights each. Training that on a 2-core CPU in a notebook is out
# of the question, so from here on we use the same architecture at $d = H = 16$, two
# BiLSTM blocks (so one attention layer), two attention heads and heads 32 wide.
#
# ## 2. Shapes, stage by stage
#
# A forward hook runs after a module's `forward` and sees its inputs and output. We hook
# every stage, push one batch of $B = 4$ windows of $T = 26$ steps through the small
# model, and print what went in and what came out. (The poolings are tensor operations,
# not modules: the first head's input shows their result.)

# %%
SMALL = dict(d_model=16, num_blocks=2, num_heads=2, head_hidden=32, dropout=0.0)
B_SHOW, T_WINDOW, HORIZON = 4, 26, 13
STAGES = {
    "input_proj": "Linear, LayerNorm, ReLU, Dropout",
    "positions": "+ sinusoidal positions",
    "conv_a": "MultiScaleConv k = 3, 5, 7 (channels first)",
    "conv_b": "MultiScaleConv k = 3, 5, 9",
    "fusion_gate": "W_g [a; b] + b_g (before the sigmoid)",
    "conv_norm": "LN(u + g a + (1 - g) b)",
    "blocks.0.lstm": "BiLSTM (both directions side by side)",
    "blocks.0.proj": "W_p: 2H -> d",
    "blocks.0": "block 0: LN(v + W_p BiLSTM(v))",
    "blocks.1": "block 1",
    "attentions.0": "self-attention MHA(v, v, v)",
    "attention_norms.0": "LN(v + attention)",
    "heads.0": "head 1 (input: [mean; max; last] pooled)",
    "heads.1": "head 2",
    "heads.2": "head 3",
    "combine": "Linear over the three heads' outputs",
    "": "the model: combine x output scale",
}


def first_tensor(value) -> torch.Tensor:
    """The tensor in a module's input tuple or output (LSTM and attention return tuples)."""
    while isinstance(value, (tuple, list)):
        value = value[0]
    return value


torch.manual_seed(0)
model = ls.create_model("multiscale_hybrid", 1, HORIZON, **SMALL)
modules = dict(model.named_modules())
recorded = {}  # stage -> (input shape, output shape)


def recorder(name: str):
    """A forward hook that records the shapes going into and out of stage `name`."""
    def hook(module: nn.Module, inputs: tuple, output) -> None:
        recorded[name] = (tuple(first_tensor(inputs).shape), tuple(first_tensor(output).shape))
    return hook


handles = [modules[name].register_forward_hook(recorder(name)) for name in STAGES]
with torch.no_grad():
    model(torch.randn(B_SHOW, T_WINDOW, 1))
for handle in handles:
    handle.remove()

print(f"{'stage':18s} {'in':>14s} {'out':>14s} {'params':>7s}  what it is")
for name, what in STAGES.items():
    shape_in, shape_out = recorded[name]
    print(f"{name or 'model':18s} {str(shape_in):>14s} {str(shape_out):>14s} "
          f"{n_params(modules[name]):7d}  {what}")
small_counts = component_counts(model)
small_formulas = component_formulas(F=1, O=HORIZON, d=16, H=16, h=32)
small_mismatches = [name for name, count in small_counts.items()
                    if count != formula_of(small_formulas, name)]

# %% [markdown]
# Reading the table: the model keeps a $(B, T, d)$ "residual stream" from the input
# projection to the last attention layer; only the convolutions see it channels-first
# $(B, d, T)$, and only the BiLSTM widens it to $2H$ before $W_p$ brings it back. The
# poolings turn $(B, T, d)$ into $(B, 3d)$, each head maps that to the $O = 13$ outputs
# (here: the next 13 weeks), and `combine` mixes the $3 \times 13$ head outputs into one
# forecast.
#
# ## 3. The ablation: what is each part worth?
#
# **Data.** The weekly Mauna Loa CO$_2$ series (`ls.datasets.load_co2()`, 1958–2001,
# gaps filled), detrended with a trailing 52-week mean as in notebook 01 and scaled to
# unit variance on the training part. Windows of $T = 26$ weeks (half a year) are the
# input; the next $13$ weeks are the target. Chronological split: the first 70 % of the
# windows for training (every 5th window, to keep the notebook fast), the next 10 % to
# pick the best epoch, the last 20 % (1993–2001) for testing.
#
# **Baselines.** Naive: every future week equals the last one seen. Seasonal naive
# (`fc.seasonal_naive` with a 52-week season): each future week equals the same week a
# year earlier.
#
# **Variants.** The full small model and three ablations, each a constructor switch:
# `use_conv=False` (no convolution stage), `use_attention=False` (no self-attention),
# `num_output_heads=1` (one head instead of three). Same training for all (the library's
# `fc.fit_network`: Adam, learning rate $5 \cdot 10^{-3}$ with a cosine schedule, batches
# of 32, 8 epochs, the best validation epoch kept), seeds 0, 1, 2.

# %%
co2 = ls.datasets.load_co2()
ppm = co2.values[:, 0]  # (N,) ppm, weekly
trend = np.convolve(ppm, np.ones(52) / 52, mode="valid")  # trailing mean, from week 52 on
detrended = ppm[51:] - trend  # (N - 51,) ppm
X_all, Y_all = fc.make_windows(detrended, T_WINDOW, HORIZON)  # (W, 26, 1), (W, 13)
train, val, test = fc.chronological_split(len(X_all), val_fraction=0.1, test_fraction=0.2)
scale = detrended[: train.stop + T_WINDOW].std()  # ppm, from the training weeks only
X = torch.tensor(X_all / scale, dtype=torch.float32)
Y = torch.tensor(Y_all / scale, dtype=torch.float32)
origins = np.arange(len(X_all))[test] + T_WINDOW - 1  # index of each test window's last week
print(f"{len(X_all)} windows: train {train.stop} (every 5th used), "
      f"val {val.stop - val.start}, test {test.stop - test.start}")


def test_mse_ppm2(prediction: np.ndarray) -> float:
    """Mean squared error over the test windows and the 13 weeks, in ppm²."""
    return float(((prediction - Y_all[test]) ** 2).mean())


baseline_mse = {
    "naive": test_mse_ppm2(np.stack([fc.naive(detrended[: o + 1], HORIZON) for o in origins])),
    "seasonal naive": test_mse_ppm2(
        np.stack([fc.seasonal_naive(detrended[: o + 1], HORIZON, 52) for o in origins])
    ),
}
for name, value in baseline_mse.items():
    print(f"{name:15s} test MSE {value:.3f} ppm²")

# %%
VARIANTS = {
    "full": {},
    "no conv": dict(use_conv=False),
    "no attention": dict(use_attention=False),
    "one head": dict(num_output_heads=1),
}
SEEDS, TRAIN_STRIDE = (0, 1, 2), 5
TRAINING = dict(epochs=8, batch_size=32, learning_rate=5e-3, scheduler="cosine", patience=None)

results = {name: [] for name in VARIANTS}  # test MSE (ppm²) per seed
variant_params = {}
for name, switches in VARIANTS.items():
    for seed in SEEDS:
        torch.manual_seed(seed)
        network = ls.create_model("multiscale_hybrid", 1, HORIZON, **SMALL, **switches)
        fc.fit_network(network, X[train][::TRAIN_STRIDE], Y[train][::TRAIN_STRIDE], X[val],
                       Y[val], TRAINING, seed=seed, verbose=False)
        with torch.no_grad():
            results[name].append(test_mse_ppm2(network(X[test]).numpy() * scale))
    variant_params[name] = n_params(network)
results = {name: np.array(values) for name, values in results.items()}

print(f"{'variant':14s} {'params':>7s} {'test MSE (ppm²), mean ± std':>28s}   per seed")
for name, values in results.items():
    print(f"{name:14s} {variant_params[name]:7d} {values.mean():17.3f} ± {values.std(ddof=1):.3f}"
          f"     {np.array2string(values, precision=3)}")
for name, value in baseline_mse.items():
    print(f"{name:14s} {0:7d} {value:17.3f}")

# %%
fig, ax = plt.subplots(figsize=(8, 4))
for i, values in enumerate(results.values()):
    ax.scatter(np.full(len(values), i), values, color=f"C{i}", alpha=0.6)
    ax.errorbar(i, values.mean(), yerr=values.std(ddof=1), fmt="o", color="k", capsize=6)
ax.axhline(baseline_mse["seasonal naive"], color="gray", ls="--", label="seasonal naive")
ax.set_xticks(range(len(results)), [f"{n}\n({variant_params[n]:,} params)" for n in results])
ax.set(title="Ablation on CO$_2$, 13 weeks ahead: 3 seeds each (dots), mean ± std (black)",
       ylabel="test MSE (ppm²)", ylim=(0, None))
ax.legend(loc="lower right")
ax.text(0.01, 0.97, f"naive: {baseline_mse['naive']:.2f} ppm² (off the scale)",
        transform=ax.transAxes, va="top")
fig.tight_layout()
plt.show()

# %%
spread = max(v.std(ddof=1) for v in results.values())
means = {name: v.mean() for name, v in results.items()}
gap_to_full = {name: means[name] - means["full"] for name in VARIANTS if name != "full"}
beat_seasonal = sum(int((v < baseline_mse["seasonal naive"]).sum()) for v in results.values())
print(f"runs better than seasonal naive: {beat_seasonal} of {len(VARIANTS) * len(SEEDS)}")
print("largest seed-to-seed std of a variant:", f"{spread:.3f} ppm²")
print("mean difference to the full model (ppm²):",
      {name: round(float(g), 3) for name, g in gap_to_full.items()})

# %% [markdown]
# **What the numbers say, honestly.** Every variant, on every seed, is far better than
# the naive forecast (about 0.4–0.7 ppm² against 4.6): with half a year of history all
# of them know the phase of the seasonal cycle. Against the seasonal-naive baseline the
# picture is mixed: in our run the variants' means were a little below it (0.51–0.55
# against 0.59 ppm²), but not every single run beat it (11 of 12 did). The differences
# between the variants' means are of the same size as the spread between seeds of one
# variant (std up to 0.11 ppm²), so this experiment **cannot rank** the components: on
# this small task, with this budget, neither the convolutions, nor the attention, nor the
# extra heads make a difference we can measure with three seeds. That is a result about
# this setting (tiny $d$, 8 epochs, one univariate series), not about the components in
# general; a real answer needs more seeds, more data and a tuned budget per variant. The
# table above is printed as it came out of this run; the assertions below check only
# what is robust.
#
# ## What this notebook showed, checked
#
# * every component's parameter count matches its formula, at the default size and at
#   the small size; the defaults total 8.19 M parameters, more than half in the BiLSTM
#   blocks;
# * the shapes of every stage are as the design says: a $(B, T, d)$ stream, the
#   convolutions channels-first, the BiLSTM $2H$ wide, poolings $(B, 3d)$, heads and
#   output $(B, O)$;
# * each ablation switch removes exactly its component's parameters;
# * every variant, on every seed, beats the naive forecast by at least 4x on the test
#   years. We do not assert any ranking between the variants: none was robust.

# %%
assert not formula_mismatches and not small_mismatches, (formula_mismatches, small_mismatches)
assert sum(default_counts[f"blocks.{k}"] for k in range(4)) > default_total / 2
assert round(default_total / 1e6, 2) == 8.19, default_total
d, H, T_, B_, O_ = 16, 16, T_WINDOW, B_SHOW, HORIZON
expected_out = {"input_proj": (B_, T_, d), "positions": (B_, T_, d), "conv_a": (B_, d, T_),
                "conv_b": (B_, d, T_), "conv_norm": (B_, T_, d), "blocks.0.lstm": (B_, T_, 2 * H),
                "blocks.0": (B_, T_, d), "blocks.1": (B_, T_, d), "attentions.0": (B_, T_, d),
                "attention_norms.0": (B_, T_, d), "heads.0": (B_, O_), "combine": (B_, O_),
                "": (B_, O_)}
assert all(recorded[name][1] == shape for name, shape in expected_out.items()), recorded
assert recorded["heads.0"][0] == (B_, 3 * d) and recorded["combine"][0] == (B_, 3 * O_)
full_count = variant_params["full"]
assert full_count - variant_params["no conv"] == sum(
    small_counts[name] for name in ("conv_a", "conv_b", "fusion_gate", "conv_norm"))
assert full_count - variant_params["no attention"] == (
    small_counts["attentions.0"] + small_counts["attention_norms.0"])
assert full_count - variant_params["one head"] == (
    small_counts["heads.1"] + small_counts["heads.2"] + 2 * HORIZON * HORIZON)  # combine shrinks
assert all((values < baseline_mse["naive"] / 4).all() for values in results.values()), results
print("all claims hold")
