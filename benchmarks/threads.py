"""How many torch threads should a Forecaster fit use? 1, 2, ... side by side, one process.

The forecasting networks are small (hidden 32, batches of 64 windows): each matrix
product is microseconds long, so OpenMP's fork/join per op costs more than it saves, and
on a machine where other processes hold the cores, a thread that waits for a busy core
stalls every op. This fits the CLI demo's recipe on the embedded CO2 series with each
thread count in turn, round-robin (so machine load drifts hit all counts alike), and
reports the median seconds per fit.

    PYTHONPATH=. python benchmarks/threads.py                       # ~3 min on 2 cores
    PYTHONPATH=. python benchmarks/threads.py --epochs 2 --repeats 1 --out /tmp/x   # smoke

Writes benchmarks/results/threads-<date>.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from lstm_scratch.datasets import load_co2
from lstm_scratch.forecasting import Forecaster

REPO = Path(__file__).resolve().parent.parent


def fit_seconds(y, threads: int, epochs: int) -> float:
    torch.set_num_threads(threads)
    forecaster = Forecaster(
        horizon=52, sequence_length=52, season_length=52, transform="log_ratio",
        hidden_size=32, epochs=epochs, patience=None, verbose=False, device="cpu",
        num_threads=None,  # leave the count set above in place
    )  # fmt: skip
    start = time.perf_counter()
    forecaster.fit(y)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    y = load_co2().column("co2")[:-208]
    times: dict[int, list[float]] = {n: [] for n in args.threads}
    for _ in range(args.repeats):
        for n in args.threads:
            times[n].append(fit_seconds(y, n, args.epochs))
    best = min(args.threads, key=lambda n: statistics.median(times[n]))
    results = {
        "date": datetime.date.today().isoformat(),
        "device": f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
        "load_average": os.getloadavg(),
        "torch": torch.__version__,
        "config": {"epochs": args.epochs, "repeats": args.repeats, "series": "co2 weekly"},
        "seconds": {str(n): t for n, t in times.items()},
        "median_seconds": {str(n): statistics.median(t) for n, t in times.items()},
        "fastest": best,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"threads-{results['date']}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    base = statistics.median(times[args.threads[0]])
    lines = [
        f"# Forecaster fit time by torch thread count ({results['date']})",
        "",
        f"The CLI demo's recipe (LSTM, hidden 32, horizon 52) on {len(y)} weeks of CO2, "
        f"{args.epochs} epochs, {args.repeats} fits per count, round-robin.",
        "",
        "| threads | median s per fit | vs " + f"{args.threads[0]} thread(s) |",
        "|---|---|---|",
        *(
            f"| {n} | {statistics.median(times[n]):.2f} | "
            f"{statistics.median(times[n]) / base:.2f}x |"
            for n in args.threads
        ),
        "",
        f"{results['device']}, torch {results['torch']}, load average "
        f"{', '.join(f'{v:.1f}' for v in results['load_average'])} at the end "
        "(a shared machine).",
        "",
    ]
    stem.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
