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
# # 06 — Forecasting a real series, end to end
#
# The weekly CO$_2$ concentration at Mauna Loa, 1958–2001, with the library's
# forecasting API (`ls.Forecaster`, `ls.DataNormalizer`, `ls.forecasting.*`):
#
# 1. load the series and fill its gaps;
# 2. choose a transform, and check that each one is exactly invertible;
# 3. train a small LSTM forecaster and read its training curves;
# 4. forecast the last four held-out years and compare with baselines that need no
#    training (naive, seasonal naive, drift);
# 5. put **MC-dropout** intervals around the forecast and measure how often they
#    actually contain the truth;
# 6. ask which past weeks drove the forecast, with **integrated gradients**.
#
# The recipe is the one `lstm-scratch demo` uses (`ls.cli.DEMO`), with fewer epochs so
# the notebook runs in well under a minute on one CPU thread.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import lstm_scratch as ls
from lstm_scratch.cli import DEMO
from lstm_scratch.forecasting.uncertainty import quantile_interval

torch.manual_seed(0)
torch.set_num_threads(1)  # a small network: one thread is as fast, and reproducible

# %% [markdown]
# ## 1. The data, and its gaps
#
# `ls.datasets.load_co2()` reads the copy shipped inside the package (Keeling & Whorf,
# public domain). Some weeks have no measurement; by default they are filled by linear
# interpolation in time and `n_filled` says how many. To see *where* they were, we also
# read the raw column of the same file, where a gap is an empty cell (NaN).

# %%
co2 = ls.datasets.load_co2()
y = co2.column("co2")  # (T,) ppm, gaps filled
dates = co2.dates
years = 1970 + dates.astype("datetime64[D]").astype(float) / 365.2425  # decimal years
raw = np.genfromtxt(ls.datasets.co2_path(), delimiter=",", skip_header=1, usecols=1)  # NaN gaps
gaps = np.isnan(raw)
print(f"{len(y)} weeks from {dates[0]} to {dates[-1]}; {co2.n_filled} missing, filled linearly")
print(f"observed weeks unchanged by the filling: {np.array_equal(y[~gaps], raw[~gaps])}")

fig, ax = plt.subplots(figsize=(10, 3.2))
ax.plot(years, y, lw=0.7, label="weekly CO$_2$ (gaps interpolated)")
ax.plot(years[gaps], y[gaps], "r.", ms=5, label=f"{gaps.sum()} filled weeks")
ax.set(title="Mauna Loa CO$_2$, weekly, 1958–2001", xlabel="year", ylabel="CO$_2$ (ppm)")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# We hold out the last $208$ weeks (4 years) as the test stretch. Everything the model
# learns, including the transform's statistics, comes from the weeks before.

# %%
N_TEST = DEMO["test_size"]  # 208 weeks
y_train, y_test = y[:-N_TEST], y[-N_TEST:]
years_train, years_test = years[:-N_TEST], years[-N_TEST:]
print(f"train: {len(y_train)} weeks to {dates[-N_TEST - 1]}; test: {N_TEST} weeks")

# %% [markdown]
# ## 2. Transforms, and their exact inverses
#
# A network trained on 1958–1997 levels (315–365 ppm) has never seen 370 ppm. The
# transform decides what it is asked to model. `ls.DataNormalizer` offers three, each
# fitted on the training split only:
#
# $$
# \begin{aligned}
# \text{zscore:}\quad & z_t = (x_t - \mu)/s
#     && x_t = s\,z_t + \mu \\
# \text{minmax:}\quad & z_t = (x_t - x_{\min})/(x_{\max} - x_{\min})
#     && x_t = (x_{\max} - x_{\min})\,z_t + x_{\min} \\
# \text{log\_ratio:}\quad & r_t = \log(x_t / x_{t-1}),\; z_t = (r_t - \mu_r)/s_r
#     && x_t = x_0 \prod_{k=1}^{t} e^{\,s_r z_k + \mu_r}
# \end{aligned}
# $$
#
# zscore and minmax keep the trend, so the test years fall outside the range the network
# was trained on (minmax above 1). log_ratio models weekly **growth**, which is roughly
# stationary: no trend, the same range in every decade (the yearly wave is in there,
# under a lot of week-to-week noise). Its inverse needs the last observed
# level $x_0$ and is a running product. The forecaster uses log_ratio (as the demo does).

# %%
transformed, round_trip = {}, {}
for strategy in ("zscore", "minmax", "log_ratio"):
    normalizer = ls.DataNormalizer({"strategy": strategy}).fit(y_train)
    z = normalizer.transform(y)  # the whole series, with training statistics
    if strategy == "log_ratio":  # T levels -> T - 1 ratios; inverse from the first level
        back = np.concatenate([y[:1], normalizer.inverse_transform(z, last_value=y[0])])
    else:
        back = normalizer.inverse_transform(z)
    transformed[strategy] = z
    round_trip[strategy] = np.abs(back - y).max()
    print(f"{strategy:10s} max |inverse(transform(y)) - y| = {round_trip[strategy]:.1e} ppm")

fig, axes = plt.subplots(3, 1, figsize=(10, 6.5), sharex=True)
for ax, (strategy, z) in zip(axes, transformed.items()):
    t = years[-len(z):]
    ax.plot(t, z, lw=0.6)
    ax.axvline(years_test[0], color="k", ls="--", lw=1)
    ax.set(title=f"{strategy}  (statistics from the training weeks; dashed: start of test)",
           ylabel="z (unitless)")
axes[-1].set_xlabel("year")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Training
#
# `ls.Forecaster` cuts the transformed series into windows of $L = 52$ weeks and trains
# the library's LSTM (hidden size 32, dropout 0.1 before the linear head) to predict
# the next $52$ values at once (a direct multi-output head). Longer forecasts continue
# recursively, 52 weeks at a time. The latest 10 % of windows are held back for
# validation: the learning rate halves when it stalls, and the weights of the best
# validation epoch are the ones kept. By default a Forecaster trains a median of 3
# networks (different seeds); here one (`n_models=1`), so that there is a single network to
# read and explain, and the notebook stays fast.

# %%
EPOCHS = 15  # the demo runs 30; fewer keep this notebook fast
recipe = {key: DEMO[key] for key in ("horizon", "sequence_length", "season_length",
                                     "transform", "hidden_size", "learning_rate")}
print(recipe)
forecaster = ls.Forecaster(**recipe, epochs=EPOCHS, n_models=1, seed=0, verbose=False,
                           device="cpu")
started = time.perf_counter()
forecaster.fit(y_train)
print(f"fitted {len(forecaster.train_history)} epochs in {time.perf_counter() - started:.1f} s")

history = forecaster.train_history
epochs = [h["epoch"] for h in history]
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(epochs, [h["train_loss"] for h in history], "o-", ms=3, label="train")
ax.plot(epochs, [h["val_loss"] for h in history], "s-", ms=3, label="validation")
ax.set(title="Training curves (MSE on standardised weekly log-growth)", xlabel="epoch",
       ylabel="MSE (z units²)")
ax.legend()
fig.tight_layout()
plt.show()
best = min(history, key=lambda h: h["val_loss"])
print(f"best validation epoch {best['epoch']}: val MSE {best['val_loss']:.3f}")

# %% [markdown]
# (The training loss is averaged during each epoch with dropout on, the validation loss
# after it with dropout off, hence validation below training.)
# The losses stay near $0.7$: most of the week-to-week growth is noise (weather) that no
# model can predict, so the explained part, the yearly wave, is about 30 % of the
# variance. Whether the model got that part right shows on the levels.
#
# ## 4. Forecast of the held-out years vs baselines
#
# One forecast of all 208 test weeks from the end of the training series (four
# 52-week chunks, the later ones fed by the model's own predictions), against
#
# $$
# \begin{aligned}
# \text{naive:}\quad & \hat x_{T+h} = x_T \\
# \text{seasonal naive } (m = 52)\text{:}\quad & \hat x_{T+h} = x_{T+h-52k},
#     \ k = \lceil h/52 \rceil \\
# \text{drift:}\quad & \hat x_{T+h} = x_T + h\,\frac{x_T - x_1}{T - 1}
# \end{aligned}
# $$
#
# `evaluate` scores all of them on the test weeks (MASE divides by the in-sample
# seasonal-naive error).

# %%
scores = forecaster.evaluate(y_test)
metric_names = ["rmse", "mae", "mape", "smape", "r2", "mase"]
print(f"{'forecaster':15s}" + "".join(f"{m.upper():>8s}" for m in metric_names))
for who, row in scores.items():
    print(f"{who:15s}" + "".join(f"{row[m]:8.3f}" for m in metric_names))
gain = 1 - scores["model"]["rmse"] / scores["seasonal_naive"]["rmse"]
print(f"\nmodel RMSE is {100 * gain:.0f}% lower than seasonal naive "
      f"({scores['model']['rmse']:.2f} vs {scores['seasonal_naive']['rmse']:.2f} ppm)")

# %% [markdown]
# Seasonal naive repeats the last training year four times: right shape, but it ignores
# the trend, so it falls further behind every year (~1.5 ppm/year). Drift gets the trend
# but not the season. The model gets both.
#
# ## 5. MC-dropout intervals, and whether they cover
#
# Keeping dropout **on** at prediction time and forecasting $S = 100$ times gives $S$
# different paths (each pass drops a different 10 % of the head's inputs); the interval
# at level $a$ is their empirical $\frac{1-a}{2}$ and $\frac{1+a}{2}$ quantiles
# (Gal & Ghahramani, 2016). The honest test of an interval is its **empirical
# coverage** on held-out data: the fraction of test weeks inside it, which should be
# about $a$.

# %%
interval = forecaster.predict_interval(N_TEST, level=0.9, samples=100, seed=0,
                                       method="mc_dropout")
levels = [0.5, 0.8, 0.9, 0.95]
covered = {}
for level in levels:
    lower, upper = quantile_interval(interval["samples"], level)
    covered[level] = ls.forecasting.coverage(y_test, lower, upper)
    print(f"nominal {level:.0%} interval: covers {covered[level]:.0%} of the {N_TEST} test weeks,"
          f" mean width {np.mean(upper - lower):.2f} ppm")
errors = y_test - interval["forecast"]
print(f"forecast error: mean {errors.mean():+.2f} ppm, std {errors.std():.2f} ppm")

baselines = ls.forecasting.all_baselines(y_train, N_TEST, DEMO["season_length"])
shown = years_train > years_test[0] - 4  # the last 4 training years, for context
fig, ax = plt.subplots(figsize=(10, 4))
ax.plot(years_train[shown], y_train[shown], color="k", lw=0.8, label="training data")
ax.plot(years_test, y_test, color="k", lw=0.8, ls=":", label="held out (truth)")
ax.fill_between(years_test, interval["lower"], interval["upper"], color="C0", alpha=0.3,
                label="90% MC-dropout interval")
ax.plot(years_test, interval["forecast"], color="C0", lw=1.2, label="LSTM forecast")
ax.plot(years_test, baselines["seasonal_naive"], color="C1", lw=1, label="seasonal naive")
ax.plot(years_test, baselines["drift"], color="C2", lw=1, label="drift")
ax.set(title="Forecasting the last 4 years (208 weeks) from 1997", xlabel="year",
       ylabel="CO$_2$ (ppm)")
ax.legend(ncol=3, fontsize=8)
fig.tight_layout()
plt.show()

fig, ax = plt.subplots(figsize=(4.5, 4))
ax.plot([0, 1], [0, 1], "k--", lw=1, label="calibrated")
ax.plot(levels, [covered[a] for a in levels], "o-", label="MC dropout, test weeks")
ax.set(title="Interval calibration on the held-out years", xlabel="nominal level",
       ylabel="empirical coverage (fraction of weeks)", xlim=(0, 1), ylim=(0, 1))
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# **The intervals under-cover**, well below their nominal level. That is the usual
# result for MC dropout, and the reasons are visible here:
#
# * **It only samples the model, not the data.** Dropout perturbs the network's weights,
#   so the spread estimates *parameter* (epistemic) uncertainty. The week-to-week
#   weather noise around the seasonal curve (the ~0.7 of the loss the model cannot
#   explain) is not in the samples at all; a full predictive interval would add an
#   observation-noise variance, estimated e.g. from validation residuals.
# * **The dropout is small and in one place**: $p = 0.1$ on the 32 features before the
#   linear head. The intervals are as wide as that choice makes them, not as wide as
#   the error is.
# * **Bias is not spread.** Four years ahead, a small error in the growth rate
#   accumulates into a systematic offset, and every sample shares it. Here the truth
#   runs above the forecast on average (the mean error printed above is about as large
#   as the 90 % interval's half-width): 1998–2001 grew faster than the training years.
#
# Calibrating on held-out data is the standard fix, and the Forecaster's default
# (`predict_interval(..., method="auto")`): **split-conformal** intervals. The validation
# windows were never trained on; their absolute errors $a_{i,h}$ at each step $h$ give the
# half-width $q_h = a_{(k),h}$, the $k = \lceil (N+1)\,a \rceil$-th smallest of the $N$
# errors, so the interval $\hat x_h \pm q_h$ covers a new error from the same
# distribution with probability at least $a$. It measures the whole forecast error
# (weather noise, the model's bias, everything), not just the weights' uncertainty.
# Beyond the 52-week horizon the half-width grows like a random walk, $q_{52}\sqrt{h/52}$.

# %%
conformal_covered = {}
for level in levels:
    c = forecaster.predict_interval(N_TEST, level=level, method="conformal")
    conformal_covered[level] = ls.forecasting.coverage(y_test, c["lower"], c["upper"])
    print(f"nominal {level:.0%}: conformal covers {conformal_covered[level]:.0%}, "
          f"MC dropout {covered[level]:.0%}; conformal mean width "
          f"{np.mean(c['upper'] - c['lower']):.2f} ppm")
#
# ## 6. Which weeks drove the forecast? Integrated gradients
#
# For the input window $x$ (the last 52 transformed weeks), a baseline $x'$ (zeros: the
# average training growth) and one forecast output $f_k$, integrated gradients
# (Sundararajan et al., 2017) attribute to input week $t$
#
# $$ \mathrm{IG}_t = (x_t - x'_t) \int_0^1
#    \frac{\partial f_k\big(x' + \alpha (x - x')\big)}{\partial x_t}\, d\alpha , $$
#
# and by the fundamental theorem of calculus along the path they are **complete**:
# $\sum_t \mathrm{IG}_t = f_k(x) - f_k(x')$ (up to the trapezoid rule's error).
# `forecaster.explain(step)` computes them for the last window of the fitted series;
# to check completeness we rebuild that window ourselves and evaluate the network at
# both ends of the path.

# %%
L = forecaster.sequence_length_
window_levels = y_train[-(L + 1):]  # log_ratio: L + 1 levels make L ratios
window = torch.tensor(forecaster.target_norm_.transform(window_levels),
                      dtype=torch.float32).reshape(1, L, 1)  # (B=1, L, F=1)
network = forecaster.network.eval()
steps_explained = [0, 25, 51]  # forecast 1, 26 and 52 weeks ahead
attributions, completeness = {}, {}
with torch.no_grad():
    f_x, f_base = network(window)[0], network(torch.zeros_like(window))[0]  # (52,) each
for k in steps_explained:
    ig = ls.forecasting.integrated_gradients(network, window, output_index=k, steps=256)
    ig = ig[0, :, 0].detach().numpy()  # (L,)
    attributions[k] = ig
    completeness[k] = abs(ig.sum() - (f_x[k] - f_base[k]).item())
    same_as_explain = np.allclose(forecaster.explain(step=k)[:, 0], ig, atol=1e-3)
    print(f"step {k + 1:2d}: sum IG = {ig.sum():+.4f}, f(x) - f(x') = "
          f"{(f_x[k] - f_base[k]).item():+.4f}, |gap| = {completeness[k]:.1e}; "
          f"matches forecaster.explain (64 steps): {same_as_explain}")

lags = np.arange(L, 0, -1)  # weeks before the forecast origin: 52 .. 1
fig, ax = plt.subplots(figsize=(9, 3.5))
for k, ig in attributions.items():
    ax.plot(lags, ig, "o-", ms=2.5, lw=1, label=f"forecast {k + 1} week(s) ahead")
ax.axhline(0, color="k", lw=0.6)
ax.invert_xaxis()
ax.set(title="Integrated gradients over the input window (last 52 training weeks)",
       xlabel="input week, weeks before the forecast origin",
       ylabel="attribution (z units of output)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# How to read it: each point is how much one input week's growth, relative to the
# average growth of the baseline, pushed that forecast's (transformed) output. The
# forecasts 1 and 52 weeks ahead fall on the same phase of the year and use the window
# in much the same way; the forecast 26 weeks ahead, half a year out of phase, weighs
# the weeks differently. The correlations between the curves say it in numbers. (Only
# the first is robust: over training seeds 0, 1, 2 it was 0.96, 0.77, 0.93, while the
# half-year correlation was -0.52, +0.34, -0.69, so we read nothing into its sign.)

# %%
def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


same_phase = correlation(attributions[0], attributions[51])
half_year = correlation(attributions[0], attributions[25])
print(f"corr(IG 1 week ahead, IG 52 weeks ahead) = {same_phase:+.2f}")
print(f"corr(IG 1 week ahead, IG 26 weeks ahead) = {half_year:+.2f}")

# %% [markdown]
# ## What this notebook showed, checked
#
# * the packaged series has 2284 weeks, 59 of them filled; the observed weeks are
#   untouched by the filling;
# * all three transforms invert exactly (round trip below $10^{-9}$ ppm);
# * trained for 15 epochs, the LSTM forecasts the 208 held-out weeks with a lower RMSE
#   than every baseline, in particular seasonal naive with $m = 52$;
# * the MC-dropout intervals' empirical coverage is measured and reported (between 0 and
#   1, and here below the nominal level: they under-cover), and wider nominal levels
#   cover at least as much; the conformal intervals cover more at every level;
# * integrated gradients are complete: they sum to $f(x) - f(x')$ within $10^{-3}$;
#   the attributions of forecasts one year apart are correlated (> 0.5).

# %%
assert len(y) == 2284 and co2.n_filled == gaps.sum() == 59, (len(y), co2.n_filled, gaps.sum())
assert np.array_equal(y[~gaps], raw[~gaps])
assert all(err < 1e-9 for err in round_trip.values()), round_trip
assert scores["model"]["rmse"] < scores["seasonal_naive"]["rmse"], scores
assert all(scores["model"]["rmse"] < scores[b]["rmse"] for b in ("naive", "drift")), scores
assert all(0 <= c <= 1 for c in covered.values()), covered
assert covered[0.9] < 0.9, covered  # under-covers, as the text says (0.43-0.52 over seeds 0-2)
assert all(covered[a] <= covered[b] for a, b in zip(levels, levels[1:])), covered
assert all(conformal_covered[a] > covered[a] for a in levels), (conformal_covered, covered)
assert all(gap < 1e-3 for gap in completeness.values()), completeness
assert same_phase > 0.5, same_phase
print("all claims hold")
