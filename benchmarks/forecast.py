"""Forecasting benchmark: `Forecaster(horizon=H)` with defaults against the libraries a user
would pick instead, on real series that ship inside pip packages.

    # in a separate venv (never the library's own dependencies):
    python3.11 -m venv /work/venvs/bench
    /work/venvs/bench/bin/pip install torch==2.13.0 statsforecast pmdarima statsmodels \
        "u8darts[torch]"
    PYTHONPATH=. /work/venvs/bench/bin/python benchmarks/forecast.py [--quick] [--only a,b]

Series: pmdarima's and statsmodels' bundled data (no download): yearly, quarterly, monthly,
weekly, daily, half-hourly, 89 to 4032 points. Each is evaluated at 3 rolling origins
(lstm_scratch.forecasting.backtest.origins: stride = horizon, the last origin leaves exactly
one horizon), every method on the same folds:

    ours         Forecaster(horizon=H): season, transform, window, budget all chosen by itself
    snaive       seasonal naive with the frequency's conventional m (the MASE scale too)
    autoets      statsforecast AutoETS(season_length=m)
    autoarima    statsforecast AutoARIMA(season_length=m)
    darts_lstm   darts BlockRNNModel(model="LSTM") at its documented defaults (hidden 25,
                 1 layer, 100 epochs, batch 32), input_chunk_length = 2m (2H without a
                 season, at most 96), inputs min-max scaled with darts' Scaler; on the
                 three series over 2000 points 20 epochs instead of 100 (DARTS_LONG_EPOCHS:
                 100 did not fit this run's time on a shared 2-core machine)

Scores per series: MAE averaged over the folds, divided by seasonal naive's (relMAE; below 1
beats it), MASE (in-sample seasonal-naive scale of each fold's history), wall time of each
fit (wall, and CPU seconds of this process: the machine is shared, so wall time
includes waiting for a core), and for ours, AutoETS and AutoARIMA the empirical coverage of
the 80% and 90% intervals. The summary is the geometric mean of relMAE over series. One
torch/BLAS thread throughout.

Results go to benchmarks/results/forecast-<date>.json after every series (a partial run
still leaves data), then .md and .png (relMAE per series, and each series' folds). With
--cache DIR each series' result is also kept in DIR and reused by later runs, so disjoint
--only sets can run as separate processes and a last run without --only assembles them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstm_scratch.forecasting import Forecaster  # noqa: E402
from lstm_scratch.forecasting.backtest import origins  # noqa: E402
from lstm_scratch.forecasting.baselines import seasonal_naive  # noqa: E402
from lstm_scratch.forecasting.metrics import mae, mase  # noqa: E402
from lstm_scratch.forecasting.uncertainty import coverage  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
N_ORIGINS = 3
LEVELS = (0.8, 0.9)
METHODS = ("ours", "snaive", "autoets", "autoarima", "darts_lstm")
DARTS_LONG_EPOCHS, LONG = 20, 2000


# --- the series ---------------------------------------------------------------------------
def load_series() -> list[dict]:
    """name, frequency, m (conventional season), horizon, values: shortest first."""
    import pmdarima.datasets as pm
    import statsmodels.api as sm

    def elnino() -> np.ndarray:
        table = sm.datasets.elnino.load_pandas().data  # year x 12 months
        return table.drop(columns="YEAR").to_numpy().ravel()

    def msft() -> np.ndarray:
        return pm.load_msft()["Close"].to_numpy()[-1000:]  # the last 1000 trading days

    spec = [
        ("austres", "quarterly", 4, 8, lambda: pm.load_austres()),
        ("nile", "yearly", 1, 6, lambda: sm.datasets.nile.load_pandas().data["volume"]),
        ("lynx", "yearly", 1, 6, lambda: pm.load_lynx()),
        ("woolyrnq", "quarterly", 4, 8, lambda: pm.load_woolyrnq()),
        ("airpassengers", "monthly", 12, 12, lambda: pm.load_airpassengers()),
        ("heartrate", "0.5 s (no season)", 1, 10, lambda: pm.load_heartrate()),
        ("wineind", "monthly", 12, 12, lambda: pm.load_wineind()),
        ("realgdp", "quarterly", 4, 8,
         lambda: sm.datasets.macrodata.load_pandas().data["realgdp"]),
        ("ausbeer", "quarterly", 4, 8, lambda: pm.load_ausbeer()),
        ("sunspots_yearly", "yearly", 1, 6,
         lambda: sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"]),
        ("elnino", "monthly", 12, 12, elnino),
        ("msft_close", "daily (trading days)", 5, 10, msft),
        ("co2_weekly", "weekly (the demo's series)", 52, 13,
         lambda: sm.datasets.co2.load_pandas().data["co2"].interpolate().bfill()),
        ("sunspots_monthly", "monthly", 12, 12, lambda: pm.load_sunspots()),
        ("taylor", "half-hourly", 48, 48, lambda: pm.load_taylor()),
    ]  # fmt: skip
    series = []
    for name, freq, m, h, load in spec:
        y = np.asarray(load(), dtype=np.float64).ravel()
        y = y[: len(y) - np.argmax(~np.isnan(y[::-1]))]  # ausbeer ends with a NaN quarter
        if np.isnan(y).any():
            raise ValueError(f"{name} has gaps inside the series")
        series.append({"name": name, "frequency": freq, "m": m, "horizon": h, "y": y})
    return series


# --- the methods: history (n,) -> point forecast (H,), {level: (lower, upper)} ------------
def fit_ours(history: np.ndarray, H: int, m: int) -> tuple[np.ndarray, dict, dict]:
    f = Forecaster(horizon=H, verbose=False, device="cpu").fit(history)
    intervals = {}
    for level in LEVELS:
        out = f.predict_interval(H, level=level)
        intervals[level] = (out["lower"], out["upper"])
    choices = {k: v["value"] for k, v in f.choices.items()}
    return f.predict(H), intervals, choices


def fit_snaive(history: np.ndarray, H: int, m: int) -> tuple[np.ndarray, dict, dict]:
    return seasonal_naive(history, H, m), {}, {}


def _statsforecast(model, history: np.ndarray, H: int) -> tuple[np.ndarray, dict, dict]:
    out = model.forecast(y=history, h=H, level=[round(100 * lv) for lv in LEVELS])
    intervals = {lv: (out[f"lo-{round(100 * lv)}"], out[f"hi-{round(100 * lv)}"]) for lv in LEVELS}
    return np.asarray(out["mean"]), intervals, {}


def fit_autoets(history: np.ndarray, H: int, m: int) -> tuple[np.ndarray, dict, dict]:
    from statsforecast.models import AutoETS

    return _statsforecast(AutoETS(season_length=m), history, H)


def fit_autoarima(history: np.ndarray, H: int, m: int) -> tuple[np.ndarray, dict, dict]:
    from statsforecast.models import AutoARIMA

    return _statsforecast(AutoARIMA(season_length=m), history, H)


def darts_window(n: int, H: int, m: int) -> int:
    return max(2, min(2 * m if m > 1 else 2 * H, 96, (n - H) // 4))


def fit_darts(history: np.ndarray, H: int, m: int) -> tuple[np.ndarray, dict, dict]:
    from darts import TimeSeries
    from darts.dataprocessing.transformers import Scaler
    from darts.models import BlockRNNModel

    scaler = Scaler()
    series = scaler.fit_transform(TimeSeries.from_values(history.astype(np.float32)))
    L = darts_window(len(history), H, m)
    epochs = {"n_epochs": DARTS_LONG_EPOCHS} if len(history) > LONG else {}
    model = BlockRNNModel(
        model="LSTM", input_chunk_length=L, output_chunk_length=H, random_state=0, **epochs,
        pl_trainer_kwargs={"accelerator": "cpu", "enable_progress_bar": False,
                           "enable_model_summary": False, "logger": False,
                           "enable_checkpointing": False},
    )  # fmt: skip
    model.fit(series, verbose=False)
    forecast = scaler.inverse_transform(model.predict(H, series=series, verbose=False))
    choices = {"input_chunk_length": L, "n_epochs": epochs.get("n_epochs", 100)}
    return forecast.values().ravel().astype(np.float64), {}, choices


FITS = {
    "ours": fit_ours,
    "snaive": fit_snaive,
    "autoets": fit_autoets,
    "autoarima": fit_autoarima,
    "darts_lstm": fit_darts,
}


def skip_reason(method: str, s: dict) -> str | None:
    """Runs left out on purpose, with the reason written into the results."""
    if method == "autoarima" and s["m"] >= 48 and len(s["y"]) > 2000:
        return (
            "not attempted: AutoARIMA with m=48 on 4032 points did not finish in the issue's "
            "measurement, and a season of 48+ over 2000+ points was not affordable here"
        )
    return None


# --- running ------------------------------------------------------------------------------
def evaluate(s: dict, methods: tuple[str, ...]) -> dict:
    y, H, m = s["y"], s["horizon"], s["m"]
    folds = origins(len(y), H, N_ORIGINS)
    result = {k: v for k, v in s.items() if k != "y"} | {"n": len(y), "origins": folds}
    result["methods"] = {}
    for method in methods:
        reason = skip_reason(method, s)
        if reason:
            result["methods"][method] = {"skipped": reason}
            continue
        record = {"mae": [], "mase": [], "fit_s": [], "cpu_s": [], "forecasts": [], "choices": [],
                  "coverage": {str(lv): [] for lv in LEVELS}}  # fmt: skip
        try:
            for origin in folds:
                history, actual = y[:origin], y[origin : origin + H]
                started, cpu = time.perf_counter(), time.process_time()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    forecast, intervals, choices = FITS[method](history, H, m)
                record["fit_s"].append(time.perf_counter() - started)
                record["cpu_s"].append(time.process_time() - cpu)
                record["mae"].append(mae(actual, forecast))
                record["mase"].append(mase(actual, forecast, history, m))
                record["forecasts"].append(np.asarray(forecast).tolist())
                record["choices"].append(choices)
                for lv, (lo, hi) in intervals.items():
                    record["coverage"][str(lv)].append(coverage(actual, lo, hi))
        except Exception as error:  # a library failing on a series is a result, not a crash
            record = {"failed": f"{type(error).__name__}: {error}"[:300]}
        result["methods"][method] = record
        print(f"  {s['name']:18s} {method:11s} "
              + (record.get("failed") or f"MAE {np.mean(record['mae']):.4g} "
                 f"fit {np.median(record['fit_s']):.1f} s"), flush=True)  # fmt: skip
    snaive = np.mean(result["methods"]["snaive"]["mae"])
    for record in result["methods"].values():
        if "mae" in record:
            record["rel_mae"] = float(np.mean(record["mae"]) / snaive)
    return result


def warm_up() -> None:
    """First calls compile (numba, torch): keep that out of every timed fit."""
    t = np.arange(80, dtype=np.float64)
    y = 10 + np.sin(2 * np.pi * t / 4) + 0.1 * t
    for method, fit in FITS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit(y, 4, 4)
        except Exception as error:
            print(f"warm-up of {method} failed: {error}", flush=True)


# --- reporting ----------------------------------------------------------------------------
def geomean(values: list[float]) -> float:
    return float(math.exp(np.mean(np.log(values)))) if values else float("nan")


def summarise(results: list[dict]) -> dict:
    """Per method: geometric mean relMAE, wins against seasonal naive, median fit time, on
    the series where every method ran (so the geomeans compare like with like)."""
    complete = [r for r in results if all("rel_mae" in r["methods"].get(k, {}) for k in METHODS)]
    summary = {"series_all_methods": [r["name"] for r in complete], "methods": {}}
    for method in METHODS:
        ran = [r for r in results if "rel_mae" in r["methods"].get(method, {})]
        rel = [r["methods"][method]["rel_mae"] for r in ran]
        cov = {str(lv): [c for r in ran for c in r["methods"][method]["coverage"][str(lv)]]
               for lv in LEVELS}  # fmt: skip
        summary["methods"][method] = {
            "series_run": len(ran),
            "geomean_rel_mae_all_run": geomean(rel),
            "geomean_rel_mae_common": geomean(
                [r["methods"][method]["rel_mae"] for r in complete]
            ),
            "beats_snaive": int(sum(x < 1 for x in rel)),
            "median_fit_s": float(np.median([np.median(r["methods"][method]["fit_s"])
                                             for r in ran])) if ran else None,  # fmt: skip
            "median_cpu_s": float(np.median([np.median(r["methods"][method]["cpu_s"])
                                             for r in ran])) if ran else None,  # fmt: skip
            "coverage": {lv: float(np.mean(c)) if c else None for lv, c in cov.items()},
        }
    ours = {r["name"]: r["methods"]["ours"].get("rel_mae") for r in results}
    for rival in ("autoets", "autoarima", "darts_lstm"):
        pairs = [(ours[r["name"]], r["methods"][rival]["rel_mae"]) for r in results
                 if ours[r["name"]] is not None and "rel_mae" in r["methods"].get(rival, {})]
        wins = sum(a < b for a, b in pairs)
        summary["methods"][rival]["ours_better_on"] = f"{wins} of {len(pairs)}"
    return summary


def write_markdown(path: Path, meta: dict, results: list[dict], summary: dict) -> None:
    def cell(r: dict, method: str) -> str:
        rec = r["methods"].get(method, {})
        if "rel_mae" in rec:
            return f"{rec['rel_mae']:.2f}"
        return "skip" if "skipped" in rec else ("fail" if "failed" in rec else "–")

    lines = [
        f"# Forecasting benchmark, {meta['date']}",
        "",
        f"Machine: {meta['cpu']}, torch {meta['torch']}, one thread, shared by several "
        "engineers (times are noisy). Command: "
        f"`{meta['command']}` ({meta['runs']}). {N_ORIGINS} rolling origins per series "
        "(stride = horizon).",
        "",
        "relMAE = mean MAE over the origins / seasonal naive's (below 1 beats it); ours = "
        "`Forecaster(horizon=H)`, nothing else set. Fit time: median seconds per fit.",
        "",
        "| series | frequency | n | H | m | ours | AutoETS | AutoARIMA | darts LSTM | "
        "ours MASE | ours fit s (CPU s) | darts fit s (CPU s) | "
        "ours chose per fold (m/transform/fallback) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ours = r["methods"].get("ours", {})
        darts = r["methods"].get("darts_lstm", {})
        chose = ours.get("choices", [{}])
        chosen = ", ".join(
            f"{c.get('season_length')}/{c.get('transform')}/{c.get('fallback') or 'lstm'}"
            for c in chose
        )
        mase_ = f"{np.mean(ours['mase']):.2f}" if "mase" in ours else "–"
        def seconds(rec: dict) -> str:
            if "fit_s" not in rec:
                return "–"
            return f"{np.median(rec['fit_s']):.1f} ({np.median(rec['cpu_s']):.1f})"

        ours_s, darts_s = seconds(ours), seconds(darts)
        scores = " | ".join(cell(r, k) for k in ("ours", "autoets", "autoarima", "darts_lstm"))
        lines.append(
            f"| {r['name']} | {r['frequency']} | {r['n']} | {r['horizon']} | {r['m']} | "
            f"{scores} | {mase_} | {ours_s} | {darts_s} | {chosen} |"
        )
    lines += ["", "| method | geomean relMAE (series it ran on) | geomean relMAE (common "
              f"{len(summary['series_all_methods'])} series) | beats seasonal naive | "
              "ours better on | median fit s (CPU s) | 80% coverage | 90% coverage |",
              "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for method, s in summary["methods"].items():
        cov = s["coverage"]
        fmt = lambda v: "–" if v is None else f"{100 * v:.0f}%"  # noqa: E731
        lines.append(
            f"| {method} | {s['geomean_rel_mae_all_run']:.3f} ({s['series_run']}) | "
            f"{s['geomean_rel_mae_common']:.3f} | {s['beats_snaive']} of {s['series_run']} | "
            f"{s.get('ours_better_on', '')} | "
            f"{'–' if s['median_fit_s'] is None else format(s['median_fit_s'], '.2f')} "
            f"({'–' if s['median_cpu_s'] is None else format(s['median_cpu_s'], '.2f')}) | "
            f"{fmt(cov['0.8'])} | {fmt(cov['0.9'])} |"
        )
    notes = [f"- {r['name']} {k}: {v.get('skipped') or v.get('failed')}" for r in results
             for k, v in r["methods"].items() if "skipped" in v or "failed" in v]  # fmt: skip
    if notes:
        lines += ["", "Not run:", *notes]
    path.write_text("\n".join(lines) + "\n")


def plot(path: Path, results: list[dict]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(results)
    fig = Figure(figsize=(12, 4 + 2.2 * math.ceil(n / 4)))
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(1 + math.ceil(n / 4), 4)
    ax = fig.add_subplot(grid[0, :])
    width = 0.2
    colors = {"ours": "tab:red", "autoets": "tab:blue", "autoarima": "tab:green",
              "darts_lstm": "tab:purple"}  # fmt: skip
    for i, (method, color) in enumerate(colors.items()):
        values = [r["methods"].get(method, {}).get("rel_mae", np.nan) for r in results]
        ax.bar(np.arange(n) + (i - 1.5) * width, values, width, color=color, label=method)
    ax.axhline(1, color="k", lw=1, ls="--")
    ax.set_yscale("log")
    ax.set_xticks(np.arange(n), [r["name"] for r in results], rotation=30, ha="right")
    ax.set_ylabel("MAE / seasonal naive MAE")
    ax.set_title("relMAE per series (log scale; below the dashed line beats seasonal naive)")
    ax.legend(ncol=4, fontsize=8)
    for k, r in enumerate(results):
        a = fig.add_subplot(grid[1 + k // 4, k % 4])
        y = r["y"]
        start = max(0, r["origins"][0] - 3 * r["horizon"])
        a.plot(np.arange(start, len(y)), y[start:], color="0.3", lw=0.7)
        ours = r["methods"].get("ours", {})
        for origin, forecast in zip(r["origins"], ours.get("forecasts", []), strict=False):
            t = np.arange(origin, origin + r["horizon"])
            a.axvline(origin, color="0.7", lw=0.6, ls=":")
            a.plot(t, forecast, color="tab:red", lw=1)
        ets = r["methods"].get("autoets", {})
        for origin, forecast in zip(r["origins"], ets.get("forecasts", []), strict=False):
            a.plot(np.arange(origin, origin + r["horizon"]), forecast, color="tab:blue", lw=0.8)
        a.set_title(f"{r['name']} (red ours, blue ETS)", fontsize=8)
        a.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 short series, to check it runs")
    parser.add_argument("--only", help="comma-separated series names")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--cache", help="folder keeping each series' result for later runs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    series = load_series()
    if args.only:
        series = [s for s in series if s["name"] in args.only.split(",")]
    if args.quick:
        series = series[:3]
    methods = tuple(args.methods.split(","))
    date = datetime.date.today().isoformat()
    stem = RESULTS / f"forecast-{date}{'-quick' if args.quick else ''}"
    import darts
    import statsforecast

    meta = {
        "date": date,
        "cpu": platform.processor() or "unknown",
        "torch": torch.__version__,
        "statsforecast": statsforecast.__version__,
        "darts": darts.__version__,
        "python": platform.python_version(),
        "threads": 1,
        "n_origins": N_ORIGINS,
        "command": "PYTHONPATH=. python benchmarks/forecast.py " + " ".join(sys.argv[1:]),
        "runs": "this result: 4 processes on disjoint --only sets sharing --cache, then one run "
        "without --only that assembled the cached series",
        "note": "shared 2-core machine under load from other jobs: fit times are noisy",
    }
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            meta["cpu"] = line.split(":", 1)[1].strip()
            break
    cache = Path(args.cache) if args.cache else None
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
    cached = {s["name"]: cache / f"{s['name']}.json" for s in series} if cache else {}
    if not all(path.exists() for path in cached.values()) or not cache:
        warm_up()
    results: list[dict] = []
    started = time.perf_counter()
    for s in series:
        print(f"{s['name']} ({len(s['y'])} values, H={s['horizon']}, m={s['m']})", flush=True)
        if cache and cached[s["name"]].exists():
            result = json.loads(cached[s["name"]].read_text())
        else:
            result = evaluate(s, methods)
            if cache:
                cached[s["name"]].write_text(json.dumps(result))
        results.append(result | {"y": s["y"]})
        meta["total_s"] = time.perf_counter() - started
        public = [{k: v for k, v in r.items() if k != "y"} for r in results]
        summary = summarise(results) if set(METHODS) <= set(methods) else {}
        stem.with_suffix(".json").write_text(
            json.dumps({"meta": meta, "summary": summary, "series": public}, indent=1)
        )
        if summary:
            write_markdown(stem.with_suffix(".md"), meta, results, summary)
    plot(stem.with_suffix(".png"), results)
    print(f"wrote {stem}.json, .md, .png in {meta['total_s']:.0f} s")


if __name__ == "__main__":
    main()
