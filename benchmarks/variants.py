"""A small "LSTM: A Search Space Odyssey": every variant, the same budget, several seeds.

Greff et al. (IEEE TNNLS 2017) trained eight LSTM variants on speech, handwriting and
music and found that removing the forget gate (NFG) or the output activation (NOAF)
hurt most, while coupling the input and forget gates (CIFG) or dropping the peepholes
(NP) changed little. This script repeats the comparison on a 2-core CPU budget:

    adding   the adding problem at T = 50 (`lstm_scratch.toy_tasks`): memory
    co2      Mauna Loa CO2, monthly means, next month from the last 24: a real series

Every variant is the paper's: peepholes on (V = variant "vanilla" with peephole=True)
except NP. Same hidden size, optimiser, steps, batch and seeds for all; the score is
the mean-squared error on a held-out set after the last step (lower is better).

    PYTHONPATH=. python benchmarks/variants.py                 # the full run (~10 min)
    PYTHONPATH=. python benchmarks/variants.py --steps 20 --seeds 1 --out /tmp/x   # smoke
    PYTHONPATH=. python benchmarks/variants.py --redraw benchmarks/results/variants-<date>.json

Writes benchmarks/results/variants-<date>.{json,md,png}.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import platform
import statistics
import time
from pathlib import Path

import matplotlib
import numpy as np
import torch
from torch import Tensor, nn

import lstm_scratch as ls
from lstm_scratch.cells.variant_lstm import PAPER_VARIANTS
from lstm_scratch.datasets import co2_path
from lstm_scratch.toy_tasks import ADDING_BASELINE_MSE, adding_problem

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
ADDING_LENGTH = 50
CO2_WINDOW = 24  # months of history per example


def load_co2_monthly(path: Path) -> np.ndarray:
    """Monthly mean CO2 (ppm) from the weekly CSV (date YYYYMMDD, co2 possibly empty).

    Weeks without a value are skipped; a month with none at all is interpolated linearly.
    """
    sums: dict[int, list[float]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["co2"].strip():
                month = int(row["date"][:4]) * 12 + int(row["date"][4:6]) - 1
                sums.setdefault(month, []).append(float(row["co2"]))
    months = np.arange(min(sums), max(sums) + 1)
    known = np.array(sorted(sums))
    values = np.array([np.mean(sums[m]) for m in known])
    return np.interp(months, known, values)


def co2_windows(series: np.ndarray, split: float = 0.8) -> dict[str, tuple[Tensor, Tensor]]:
    """(inputs (T, N, 1), targets (N, 1)) for train and validation, split in time.

    Each window is made relative to its last value, so the trend needs no extrapolation:
        x = (s[t-W+1..t] - s[t]) / scale,   y = (s[t+1] - s[t]) / scale
    scale = the standard deviation of the training targets' raw change.
    """
    W = CO2_WINDOW
    starts = np.arange(len(series) - W)  # window s[k..k+W-1], target s[k+W]
    windows = np.stack([series[k : k + W] for k in starts])  # (N, W)
    last = windows[:, -1:]
    change = series[starts + W, None] - last  # (N, 1)
    n_train = int(split * len(starts))
    scale = change[:n_train].std()
    x = torch.tensor((windows - last) / scale, dtype=torch.float32).T.unsqueeze(-1)  # (W, N, 1)
    y = torch.tensor(change / scale, dtype=torch.float32)  # (N, 1)
    # validation windows start after the last training target, so nothing is shared
    return {"train": (x[:, :n_train], y[:n_train]), "val": (x[:, n_train + W :], y[n_train + W :])}


class Regressor(nn.Module):
    """A one-layer LSTM variant and a linear head on its last hidden state."""

    def __init__(self, input_size: int, hidden_size: int, options: dict) -> None:
        super().__init__()
        self.lstm = ls.LSTM(input_size, hidden_size, **options)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: Tensor) -> Tensor:
        _, (h, _) = self.lstm(x)  # (1, B, H)
        return self.head(h[-1])  # (B, 1)


def train_one(task: str, options: dict, seed: int, args, co2=None) -> float:
    """Train from scratch with `seed`; return the final validation MSE."""
    torch.manual_seed(seed)
    model = Regressor(2 if task == "adding" else 1, args.hidden, options)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    data = torch.Generator().manual_seed(seed)
    for _ in range(args.steps):
        if task == "adding":
            x, y = adding_problem(args.batch, ADDING_LENGTH, data)
        else:
            x_all, y_all = co2["train"]
            pick = torch.randint(0, y_all.size(0), (args.batch,), generator=data)
            x, y = x_all[:, pick], y_all[pick]
        loss = (model(x) - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    model.eval()
    with torch.no_grad():
        if task == "adding":
            x, y = adding_problem(2000, ADDING_LENGTH, torch.Generator().manual_seed(10_000))
        else:
            x, y = co2["val"]
        loss = (model(x) - y).pow(2).mean().item()
    return loss if np.isfinite(loss) else float("inf")


def summarise(losses: list[float]) -> dict[str, float]:
    return {
        "mean": statistics.mean(losses),
        "std": statistics.stdev(losses) if len(losses) > 1 else 0.0,
        "median": statistics.median(losses),
        "min": min(losses),
        "max": max(losses),
    }


SOLVED = ADDING_BASELINE_MSE / 10  # an adding run "solved" it below a tenth of the baseline


def verdict(results: dict) -> list[str]:
    """Greff et al.'s four qualitative claims, each checked against these numbers.

    "hurts" = the variant's median is over 1.25 x V's; "does not hurt" = at most 1.25 x.
    On the adding problem a run either finds the memory solution or stays near the
    baseline, so the number of seeds that solved it is given too.
    """
    lines = []
    for task, per in results["tasks"].items():
        v = per["V"]["summary"]["median"]

        def ratio(name, v=v, per=per):
            return per[name]["summary"]["median"] / v

        claims = [
            ("NFG hurts (forget gate matters)", ratio("NFG") > 1.25),
            ("NOAF hurts (output activation matters)", ratio("NOAF") > 1.25),
            ("CIFG does not hurt", ratio("CIFG") <= 1.25),
            ("NP does not hurt", ratio("NP") <= 1.25),
        ]
        ranks = sorted(per, key=lambda n: per[n]["summary"]["median"])
        lines.append(f"- **{task}**: best to worst by median: {', '.join(ranks)}.")
        if task == "adding":
            solved = [f"{n} {sum(x < SOLVED for x in per[n]['losses'])}" for n in per]
            lines.append(f"  - seeds with MSE < {SOLVED:.4f} (solved): {', '.join(solved)}")
        for claim, held in claims:
            name = claim.split()[0]
            lines.append(
                f"  - {claim}: {'held' if held else 'did not hold'} "
                f"(median {ratio(name):.2f} x V)"
            )
    return lines


def write_outputs(results: dict, out: Path) -> Path:
    stem = out / f"variants-{results['date']}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    tasks = list(results["tasks"])
    md = [
        f"# LSTM variants odyssey ({results['date']})",
        "",
        f"Final validation MSE after {results['config']['steps']} Adam steps "
        f"(batch {results['config']['batch']}, hidden {results['config']['hidden']}, "
        f"lr {results['config']['lr']}), {len(results['config']['seeds'])} seeds each; "
        f"mean ± std [min, max]. adding: T = {ADDING_LENGTH}, predicting 1 scores "
        f"{ADDING_BASELINE_MSE:.3f}. co2: next monthly change, in units of its training "
        "std (predicting no change scores about 1).",
        "",
        "| variant | " + " | ".join(tasks) + " |",
        "|---|" + "---|" * len(tasks),
    ]
    for name in PAPER_VARIANTS:
        cells = []
        for task in tasks:
            s = results["tasks"][task][name]["summary"]
            cells.append(f"{s['mean']:.4f} ± {s['std']:.4f} [{s['min']:.4f}, {s['max']:.4f}]")
        md.append(f"| {name} | " + " | ".join(cells) + " |")
    md += ["", "Greff et al.'s findings, checked here:", "", *verdict(results), ""]
    md.append(
        "Caveat: a few seeds on a small budget. Where the spread across seeds (see the "
        "min/max) is as wide as the gap between two variants, that gap is not evidence; "
        "Greff et al. used far larger budgets, tuned each variant's hyper-parameters and "
        "tested significance."
    )
    md.append("")
    md.append(
        f"{results['device']}, torch {results['torch']}, {results['threads']} thread(s), "
        f"{results['seconds']:.0f} s in all."
    )
    stem.with_suffix(".md").write_text("\n".join(md) + "\n")

    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4.2))
    for ax, task in zip(np.atleast_1d(axes), tasks, strict=True):
        names = list(PAPER_VARIANTS)
        losses = [results["tasks"][task][n]["losses"] for n in names]
        ax.boxplot(losses, tick_labels=names)
        for k, seeds in enumerate(losses, start=1):  # every seed as a dot
            ax.plot([k] * len(seeds), seeds, "o", ms=4, alpha=0.6, c="tab:blue")
        ax.set_yscale("log")
        ax.set_title(f"{task}: final validation loss per variant")
        ax.set_xlabel("variant (Greff et al. 2017)")
        ax.set_ylabel("validation MSE (log scale)")
        if task == "adding":
            ax.axhline(ADDING_BASELINE_MSE, ls="--", c="gray", label="predict the mean")
            ax.legend()
    fig.tight_layout()
    fig.savefig(stem.with_suffix(".png"), dpi=110)
    plt.close(fig)
    return stem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--co2", type=Path, default=Path(co2_path()), help="co2.csv path")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--redraw", type=Path, help="rewrite the .md/.png of this results .json")
    args = parser.parse_args()
    if args.redraw:
        write_outputs(json.loads(args.redraw.read_text()), args.redraw.parent)
        return
    torch.set_num_threads(args.threads)
    co2 = co2_windows(load_co2_monthly(args.co2))
    seeds = list(range(args.seeds))
    start = time.time()
    results = {
        "date": datetime.date.today().isoformat(),
        "device": f"CPU ({platform.processor() or platform.machine()})",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": args.threads,
        "config": {"steps": args.steps, "batch": args.batch, "hidden": args.hidden,
                   "lr": args.lr, "seeds": seeds, "adding_length": ADDING_LENGTH,
                   "co2_window": CO2_WINDOW, "co2_path": args.co2.name},
        "variants": PAPER_VARIANTS,
        "tasks": {},
    }
    for task in ("adding", "co2"):
        results["tasks"][task] = {}
        for name, options in PAPER_VARIANTS.items():
            losses = [train_one(task, options, s, args, co2) for s in seeds]
            results["tasks"][task][name] = {"losses": losses, "summary": summarise(losses)}
            print(f"{task:7s} {name:5s} " + " ".join(f"{x:.4f}" for x in losses), flush=True)
    results["seconds"] = time.time() - start
    args.out.mkdir(parents=True, exist_ok=True)
    stem = write_outputs(results, args.out)
    print(stem.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
