"""What a series looks like before any model sees it: its season and whether it wanders.

Autocorrelation of x_1..x_n at lag k, with mean xbar:

    r_k = sum_{t=1}^{n-k} (x_t - xbar)(x_{t+k} - xbar) / sum_{t=1}^{n} (x_t - xbar)^2

Season detection (`detect_season_length`): the candidate periods are the calendar ones
(4 quarters, 5 or 7 days a week, 12 months, 24 hours, 48 half-hours, 52 weeks, 168 hours
a week, 336 half-hours a week, 365 days); a candidate m counts when the series holds at
least 3 seasons, r_m is a local peak (r_m >= r_{m-1}, r_m >= r_{m+1}) and it is significant
by Bartlett's standard error for an MA(m-1) null,

    r_m > z * se_m,   se_m = sqrt((1 + 2 sum_{j<m} r_j^2) / n),   z = 1.96,

computed on the first differences when the level wanders (KPSS below), so a trend does not
make every lag look correlated. Of the candidates that count, the one with the largest r_m
wins; none -> m = 1 (no season).

Stationarity (`kpss_statistic`, Kwiatkowski, Phillips, Schmidt & Shin 1992, level version):
with e_t = x_t - xbar and partial sums S_t = sum_{i<=t} e_i,

    eta = sum_t S_t^2 / (n^2 lrv),   lrv = g_0 + 2 sum_{k=1}^{l} (1 - k/(l+1)) g_k,
    g_k = sum_{t>k} e_t e_{t-k} / n,   l = floor(3 sqrt(n) / 13)

eta above 0.463 (the 5% critical value) rejects "stationary around a level": the series
trends or wanders, and a model should predict its changes rather than its level. This is
the test pmdarima's `ndiffs` uses by default.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

CANDIDATE_PERIODS = (4, 5, 7, 12, 24, 48, 52, 168, 336, 365)
MIN_SEASONS = 3
Z_SIGNIFICANT = 1.96
KPSS_CRITICAL_5PCT = 0.463


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """r_0..r_max_lag of x (n,) -> (max_lag + 1,); r_0 = 1 (all zeros for a constant x)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    e = x - x.mean()
    denominator = float(e @ e)
    if denominator == 0:
        return np.zeros(max_lag + 1)
    return np.array([float(e[: len(e) - k] @ e[k:]) / denominator for k in range(max_lag + 1)])


def kpss_statistic(x: np.ndarray) -> float:
    """The KPSS level-stationarity statistic eta of x (n,); large = not stationary."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = len(x)
    e = x - x.mean()
    partial_sums = np.cumsum(e)  # S_t
    lags = int(np.floor(3 * np.sqrt(n) / 13))
    lrv = float(e @ e) / n  # g_0
    for k in range(1, lags + 1):
        lrv += 2 * (1 - k / (lags + 1)) * float(e[k:] @ e[:-k]) / n
    if lrv <= 0:
        return 0.0
    return float(partial_sums @ partial_sums) / (n**2 * lrv)


def is_stationary(x: np.ndarray) -> bool:
    """KPSS at 5%: True when "stationary around a level" is not rejected."""
    return kpss_statistic(x) <= KPSS_CRITICAL_5PCT


@dataclass
class SeasonDetection:
    """The detected period and the evidence: r_m of every candidate that fits the series."""

    season_length: int
    acf: dict[int, float]  # candidate -> r_m
    threshold: dict[int, float]  # candidate -> z * se_m
    differenced: bool  # the ACF was taken on first differences (the level wanders)

    def as_dict(self) -> dict:
        return asdict(self)

    def reason(self) -> str:
        if self.season_length == 1:
            tested = ", ".join(f"{m}" for m in self.acf) or "none (series too short)"
            return f"no significant seasonal autocorrelation at candidate periods ({tested})"
        m = self.season_length
        return (
            f"autocorrelation at lag {m} is {self.acf[m]:.2f} > {self.threshold[m]:.2f} "
            f"(95% band){' on first differences' if self.differenced else ''}, "
            f"the largest significant peak among {sorted(self.acf)}"
        )


def detect_season_length(
    y: np.ndarray, candidates: tuple[int, ...] = CANDIDATE_PERIODS
) -> SeasonDetection:
    """The season length of y (n,) by the significant-ACF-peak rule in the module docstring."""
    y = np.asarray(y, dtype=np.float64).ravel()
    differenced = not is_stationary(y)
    x = np.diff(y) if differenced else y
    n = len(x)
    fitting = [m for m in candidates if MIN_SEASONS * m <= n and m + 1 < n]
    acf_of, threshold_of = {}, {}
    if fitting:
        r = autocorrelation(x, max(fitting) + 1)  # (max_lag + 1,)
        for m in fitting:
            se = np.sqrt((1 + 2 * np.sum(r[1:m] ** 2)) / n)
            acf_of[m], threshold_of[m] = float(r[m]), float(Z_SIGNIFICANT * se)
    significant = [
        m
        for m in acf_of
        if acf_of[m] > threshold_of[m] and r[m] >= r[m - 1] and r[m] >= r[m + 1]
    ]
    best = max(significant, key=lambda m: acf_of[m], default=1)
    return SeasonDetection(best, acf_of, threshold_of, differenced)
