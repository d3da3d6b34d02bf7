"""The design documents' zoo tables, measured: memory, and the "efficiency score" ranking.

The documents' performance section lists, for the eight models of the zoo, a peak-memory
table (parameters, model size, activation memory at batch 32, sequence 20) and the
ranking by

    efficiency = (1 - MAE) / training time

as GRU > LSTM > TCN > CNN-LSTM > MLP > Transformer > Attention-LSTM > BiLSTM, with epoch
times of 0.5-4.5 s. Those are the only numbers of theirs the repository holds (quoted
in issue 20); the rest of their table is not in it. This script measures ours.

Memory (each model at the zoo's defaults, 1 input feature, 1 output, training mode):
    parameters        sum of numel over model.parameters()
    state_dict bytes  sum of numel x element size over the state_dict (buffers included)
    file bytes        the size of torch.save(state_dict)
    activation bytes  MEASURED: one forward of x (32, 20, 1) under
                      torch.autograd.graph.saved_tensors_hooks, summing the bytes of every
                      distinct storage saved for backward that is not a parameter's; this
                      is what autograd keeps alive between forward and backward. The
                      recurrent models run the CPU default backend (hand-written BPTT,
                      which saves its gates and states once per layer); the same count
                      with backend="autograd" (the step-by-step loop) is kept beside it.

Efficiency (real series; every model at the zoo's defaults, the same budget):
    data      windows of L = 20 steps, each made relative to its last value and scaled by
              the standard deviation s of the training part's one-step changes:
                  x = (y[t-19..t] - y[t]) / s,   target = (y[t+1] - y[t]) / s
              chronological split 70 / 10 / 20 % (train / best-epoch validation / test)
    training  fc.fit_network: Adam 1e-3, batch 32, a fixed number of epochs (no early stop,
              the best validation epoch restored), one torch thread; time = wall seconds
              of fit_network
    MAE       one-step-ahead test MAE of the level, divided by the training part's range
              max(y) - min(y): the MAE of min-max-normalised data, the scale the documents'
              (1 - MAE) presumes. (Also kept: the MAE in the series' units and relative to
              the naive forecast, MAE / MAE_naive.)
    score     (1 - MAE) / time, ranked per dataset and seed; the overall rank of a model
              is the mean of its ranks.

Series: Mauna Loa CO2 (weekly, embedded in the library), and two that ship with
statsmodels (install it in a separate benchmark venv: the library does not depend on
it): yearly sunspot numbers 1700-2008 and monthly El Nino sea surface temperatures
1950-2010.

    PYTHONPATH=. /work/venvs/bench20/bin/python benchmarks/zoo_tables.py            # ~15 min
    PYTHONPATH=. python benchmarks/zoo_tables.py --epochs 1 --seeds 1 --out /tmp/z   # smoke
    PYTHONPATH=. python benchmarks/zoo_tables.py --redraw benchmarks/results/zoo-<date>.json

Writes benchmarks/results/zoo-<date>.{json,md,png}.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import platform
import statistics
import time
from pathlib import Path

import matplotlib
import numpy as np
import torch
from torch import nn

import lstm_scratch as ls
from lstm_scratch import forecasting as fc
from lstm_scratch.recurrent import RecurrentStack

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
ZOO = ("mlp", "lstm", "gru", "bilstm", "cnn_lstm", "tcn", "transformer", "attention_lstm")
DOCUMENTS_RANKING = ("gru", "lstm", "tcn", "cnn_lstm", "mlp", "transformer", "attention_lstm",
                     "bilstm")
DOCUMENTS_EPOCH_S = (0.5, 4.5)
BATCH, SEQUENCE = 32, 20
SPLIT = (0.7, 0.1, 0.2)


# --- memory ---------------------------------------------------------------------------
def saved_activation_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes of the distinct non-parameter storages autograd saves during model(x)."""
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved: dict[int, int] = {}  # storage address -> bytes (a storage saved twice counts once)

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        saved[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)  # `out` keeps the graph, so no saved storage is freed and reused
    del out
    return sum(n for address, n in saved.items() if address not in parameters)


def memory_row(name: str) -> dict:
    torch.manual_seed(0)
    model = ls.create_model(name, 1, 1).train()
    state = model.state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    x = torch.randn(BATCH, SEQUENCE, 1)
    row = {
        "model": name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "state_dict_bytes": sum(t.numel() * t.element_size() for t in state.values()),
        "file_bytes": buffer.getbuffer().nbytes,
        "activation_bytes": saved_activation_bytes(model, x),
    }
    for module in model.modules():  # the step-by-step autograd loop instead of hand BPTT
        if isinstance(module, RecurrentStack):
            module.backend = "autograd"
    row["activation_bytes_autograd"] = saved_activation_bytes(model, x)
    return row


# --- efficiency -----------------------------------------------------------------------
def load_series() -> dict[str, dict]:
    """name -> {"y": levels (n,), "unit", "step"}; statsmodels only for the public series."""
    try:
        import statsmodels.api as sm
    except ImportError as error:
        raise SystemExit(
            "the efficiency table needs statsmodels' datasets: run this script from a "
            "benchmark venv with statsmodels installed (not a dependency of the library)"
        ) from error
    elnino = sm.datasets.elnino.load_pandas().data
    return {
        "co2": {"y": ls.datasets.load_co2().values[:, 0], "unit": "ppm", "step": "week"},
        "sunspots": {"y": sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(),
                     "unit": "sunspot number", "step": "year"},
        "elnino": {"y": elnino.drop(columns="YEAR").to_numpy().ravel(),  # months in order
                   "unit": "deg C", "step": "month"},
    }


def windows(y: np.ndarray) -> dict:
    """Change-relative windows, split in time (see the module docstring)."""
    y = np.asarray(y, dtype=np.float64)
    X_all, Y_all = fc.make_windows(y, SEQUENCE, 1)  # (N, L, 1), (N, 1)
    last = X_all[:, -1:, 0]  # (N, 1)
    train, val, test = fc.chronological_split(len(X_all), SPLIT[1], SPLIT[2])
    train_values = y[: train.stop + SEQUENCE]
    scale = np.diff(train_values).std()
    to = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    X = to((X_all - last[:, :, None]) / scale)
    Y = to((Y_all - last) / scale)
    return {"X": X, "Y": Y, "train": train, "val": val, "test": test, "scale": scale,
            "range": float(train_values.max() - train_values.min()),
            "naive_mae": float(np.abs(Y_all[test] - last[test]).mean())}


def efficiency_run(name: str, data: dict, seed: int, epochs: int) -> dict:
    X, Y, train, val, test = (data[k] for k in ("X", "Y", "train", "val", "test"))
    config = {"epochs": epochs, "batch_size": BATCH, "learning_rate": 1e-3, "patience": None}
    with fc.training.seeded(seed):
        model = ls.create_model(name, 1, 1)
        start = time.perf_counter()
        fc.fit_network(model, X[train], Y[train], X[val], Y[val], config, seed=seed,
                       verbose=False)
        seconds = time.perf_counter() - start
    with torch.no_grad():
        error = (model.eval()(X[test]) - Y[test]).abs().mean().item() * data["scale"]  # units
    mae = error / data["range"]
    return {"model": name, "seed": seed, "train_s": seconds, "epoch_s": seconds / epochs,
            "mae_units": float(error), "mae_minmax": float(mae),
            "mae_vs_naive": float(error / data["naive_mae"]), "score": float((1 - mae) / seconds)}


def ranks(runs: list[dict], key: str = "score", sign: int = -1) -> dict[str, int]:
    """model -> rank among runs of one dataset and seed: 1 = highest `key` (sign=-1) or
    lowest (sign=+1)."""
    order = sorted(runs, key=lambda r: sign * r[key])
    return {r["model"]: i + 1 for i, r in enumerate(order)}


def kendall_tau(a: list[str], b: list[str]) -> float:
    """Kendall's tau between two orderings of the same items (1: same order, -1: reversed)."""
    pos_b = {item: i for i, item in enumerate(b)}
    pairs = [(i, j) for i in range(len(a)) for j in range(i + 1, len(a))]
    concordant = sum(1 if pos_b[a[i]] < pos_b[a[j]] else -1 for i, j in pairs)
    return concordant / len(pairs)


def summarise(result: dict) -> dict:
    """Mean ranks per dataset and overall, the overall order, and its stability."""
    runs = result["efficiency"]
    groups: dict[tuple[str, int], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["dataset"], r["seed"]), []).append(r)
    rank_lists: dict[str, list[int]] = {m: [] for m in ZOO}
    mae_ranks: dict[str, list[int]] = {m: [] for m in ZOO}
    orders = []
    for group in groups.values():
        for model, rank in ranks(group).items():
            rank_lists[model].append(rank)
        for model, rank in ranks(group, "mae_minmax", sign=1).items():
            mae_ranks[model].append(rank)
        orders.append([m for m, _ in sorted(ranks(group).items(), key=lambda kv: kv[1])])
    mean_rank = {m: statistics.mean(v) for m, v in rank_lists.items()}
    overall = sorted(ZOO, key=lambda m: mean_rank[m])
    per_dataset = {}
    for dataset in sorted({r["dataset"] for r in runs}):
        mine = [r for r in runs if r["dataset"] == dataset]
        per_dataset[dataset] = {
            m: {key: statistics.mean(r[key] for r in mine if r["model"] == m)
                for key in ("score", "train_s", "epoch_s", "mae_minmax", "mae_units",
                            "mae_vs_naive")}
            | {"mean_rank": statistics.mean(
                ranks([r for r in mine if r["seed"] == s])[m] for s in {r["seed"] for r in mine})}
            for m in ZOO
        }
    taus = [kendall_tau(a, b) for i, a in enumerate(orders) for b in orders[i + 1 :]]
    return {
        "overall_order": overall,
        "mean_rank": mean_rank,
        "rank_range": {m: (min(v), max(v)) for m, v in rank_lists.items()},
        "mean_rank_by_mae": {m: statistics.mean(v) for m, v in mae_ranks.items()},
        "per_dataset": per_dataset,
        "kendall_tau_between_runs": {"mean": statistics.mean(taus), "min": min(taus)}
        if taus else None,
        "kendall_tau_vs_documents": kendall_tau(overall, list(DOCUMENTS_RANKING)),
        "runs_ranked": len(orders),
    }


# --- reporting ------------------------------------------------------------------------
def markdown(result: dict) -> str:
    meta, s = result["meta"], result["summary"]
    out = [
        f"# The zoo's memory and efficiency tables ({meta['date']})",
        "",
        f"{meta['cpu']}, torch {meta['torch']}, Python {meta['python']}, "
        f"{meta['threads']} torch thread(s), no GPU. {meta['note']}",
        "",
        f"## Memory (zoo defaults, 1 feature, 1 output, batch {BATCH}, sequence {SEQUENCE})",
        "",
        "Activation bytes are measured: the distinct non-parameter storages autograd saves "
        "for backward during one training-mode forward (saved-tensor hooks). The design "
        "documents' memory table itself is not in the repository, so there is nothing of "
        "theirs to put beside these.",
        "",
        "| model | parameters | state_dict (KiB) | file (KiB) | activations (KiB) "
        "| activations, autograd backend (KiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["memory"]:
        out.append(f"| {r['model']} | {r['parameters']:,} | {r['state_dict_bytes'] / 1024:.1f} "
                   f"| {r['file_bytes'] / 1024:.1f} | {r['activation_bytes'] / 1024:.1f} "
                   f"| {r['activation_bytes_autograd'] / 1024:.1f} |")
    datasets = list(s["per_dataset"])
    out += [
        "",
        f"## Efficiency = (1 - MAE) / training time ({meta['epochs']} epochs, seeds "
        f"{meta['seeds']}, datasets {', '.join(datasets)})",
        "",
        "MAE: one-step test MAE divided by the training part's range (min-max scale). "
        "Time: wall seconds of fit_network on a shared, loaded 2-core machine.",
        "",
        "| rank | documents | ours (mean rank, range over runs) | ours by MAE alone "
        "(mean rank) |",
        "|---:|---|---|---|",
    ]
    by_mae = sorted(ZOO, key=lambda m: s["mean_rank_by_mae"][m])
    for i, (theirs, ours, accurate) in enumerate(zip(DOCUMENTS_RANKING, s["overall_order"],
                                                     by_mae, strict=True)):
        low, high = s["rank_range"][ours]
        out.append(f"| {i + 1} | {theirs} | {ours} ({s['mean_rank'][ours]:.2f}, {low}-{high}) | "
                   f"{accurate} ({s['mean_rank_by_mae'][accurate]:.2f}) |")
    tau = s["kendall_tau_between_runs"]
    out += [
        "",
        f"Kendall tau, our order vs the documents': {s['kendall_tau_vs_documents']:.2f}. "
        f"Between our {s['runs_ranked']} runs (dataset x seed): "
        + (f"mean {tau['mean']:.2f}, lowest {tau['min']:.2f}." if tau else "one run only."),
        "",
        f"Epoch time, documents: {DOCUMENTS_EPOCH_S[0]}-{DOCUMENTS_EPOCH_S[1]} s; "
        "ours, per dataset (mean over seeds), in the tables below.",
        "",
        "What drives the score: across the models (means over seeds),",
        "",
    ]
    for dataset, table in s["per_dataset"].items():
        accuracy = [1 - r["mae_minmax"] for r in table.values()]
        seconds = [r["train_s"] for r in table.values()]
        out.append(f"* {dataset}: 1 - MAE spans {min(accuracy):.3f}-{max(accuracy):.3f} "
                   f"({max(accuracy) / min(accuracy):.2f}x), training time "
                   f"{min(seconds):.1f}-{max(seconds):.1f} s ({max(seconds) / min(seconds):.0f}x)")
    out.append("")
    for dataset, table in s["per_dataset"].items():
        out += [
            f"### {dataset}",
            "",
            "| model | score | train (s) | epoch (s) | MAE (min-max) | MAE (units) "
            "| MAE / naive | mean rank |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for m in sorted(ZOO, key=lambda m: table[m]["mean_rank"]):
            r = table[m]
            out.append(f"| {m} | {r['score']:.3f} | {r['train_s']:.1f} | {r['epoch_s']:.3f} | "
                       f"{r['mae_minmax']:.4f} | {r['mae_units']:.3f} | {r['mae_vs_naive']:.3f}"
                       f" | {r['mean_rank']:.2f} |")
        out.append("")
    return "\n".join(out) + "\n"


def plot(result: dict, path: Path) -> None:
    meta, s = result["meta"], result["summary"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
    memory = result["memory"]
    x = np.arange(len(memory))
    left.bar(x - 0.2, [r["state_dict_bytes"] / 1024 for r in memory], 0.4, label="state_dict")
    left.bar(x + 0.2, [r["activation_bytes"] / 1024 for r in memory], 0.4,
             label=f"activations (B={BATCH}, T={SEQUENCE}, measured)")
    left.set_xticks(x, [r["model"] for r in memory], rotation=30)
    left.set(yscale="log", ylabel="KiB", title="Memory at the zoo's defaults")
    left.legend(fontsize=8)
    datasets = list(s["per_dataset"])
    order = s["overall_order"]
    for j, dataset in enumerate(datasets):
        for i, m in enumerate(order):
            scores = [r["score"] for r in result["efficiency"]
                      if r["dataset"] == dataset and r["model"] == m]
            right.scatter(np.full(len(scores), i + (j - 1) * 0.2), scores, color=f"C{j}",
                          s=14, label=dataset if i == 0 else None)
    right.set_xticks(range(len(order)), order, rotation=30)
    right.set(yscale="log", ylabel="(1 - MAE) / training seconds",
              title="Efficiency, every dataset and seed (ours, best first)")
    right.legend(fontsize=8)
    fig.suptitle(f"{meta['cpu']}, torch {meta['torch']}, {meta['threads']} thread, "
                 f"{meta['date']} (shared, loaded machine)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def write(result: dict, stem: Path) -> None:
    result["summary"] = summarise(result)
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1))
    stem.with_suffix(".md").write_text(markdown(result))
    plot(result, stem.with_suffix(".png"))
    print(f"wrote {stem}.json/.md/.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--redraw", type=Path, help="rewrite .md/.png from a .json")
    args = parser.parse_args()
    if args.redraw:
        result = json.loads(args.redraw.read_text())
        write(result, args.redraw.with_suffix(""))
        return
    torch.set_num_threads(1)  # the machine is shared: one thread is the steadier timing
    date = datetime.date.today().isoformat()
    meta = {"date": date, "cpu": cpu_model(), "torch": torch.__version__,
            "numpy": np.__version__, "python": platform.python_version(), "threads": 1,
            "epochs": args.epochs, "seeds": list(range(args.seeds)),
            "note": "Timings were taken on a shared 2-core machine loaded by other jobs; the "
                    "models are interleaved within each seed so load affects them alike."}
    start = time.perf_counter()
    memory = [memory_row(name) for name in ZOO]
    for r in memory:
        print("memory", r, flush=True)
    series = load_series()
    data = {name: windows(s["y"]) for name, s in series.items()}
    meta["series"] = {name: {"n": len(s["y"]), "unit": s["unit"], "step": s["step"],
                             "range": data[name]["range"], "scale": data[name]["scale"],
                             "naive_mae": data[name]["naive_mae"]} for name, s in series.items()}
    for name in ZOO:  # warm-up, untimed: first calls pay one-off costs (allocations, caches)
        efficiency_run(name, data["sunspots"], 0, 1)
    runs = []
    for seed in range(args.seeds):
        for dataset, d in data.items():
            for name in ZOO:
                runs.append({"dataset": dataset} | efficiency_run(name, d, seed, args.epochs))
                print("run", {k: round(v, 4) if isinstance(v, float) else v
                              for k, v in runs[-1].items()}, flush=True)
    meta["total_s"] = time.perf_counter() - start
    write({"meta": meta, "memory": memory, "efficiency": runs}, args.out / f"zoo-{date}")


if __name__ == "__main__":
    main()
