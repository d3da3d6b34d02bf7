"""Where the CPU time of the "bptt" LSTM goes, next to torch.nn.LSTM, per time step.

    python benchmarks/cpu_profile.py     writes results/cpu-profile-<date>.{json,md,png}

For a few (B, T, H) points, one thread, one layer: torch.profiler over repeated forward
and forward+backward passes of ours and of nn.LSTM, reported as microseconds per time
step, split by ATen operator (self time), with the wall-clock time per step beside the
sum of operator times (the difference is Python and dispatch between the operators).
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lstm_scratch as ls  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
POINTS = [(1, 100, 64), (32, 100, 64), (128, 50, 256)]  # (B, T, H)
INPUT_SIZE, REPEATS = 32, 10


def passes(model: nn.Module, x: torch.Tensor) -> dict:
    def fwd() -> None:
        with torch.no_grad():
            model(x)

    def fwd_bwd() -> None:
        model(x)[0].sum().backward()

    return {"fwd": fwd, "fwd+bwd": fwd_bwd}


def profile_pass(fn, T: int) -> dict:
    """us per time step: wall clock, and the self time of each ATen operator."""
    for _ in range(3):
        fn()
    start = time.perf_counter()
    for _ in range(REPEATS):
        fn()
    wall = (time.perf_counter() - start) / REPEATS / T * 1e6
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(REPEATS):
            fn()
    ops: dict[str, float] = defaultdict(float)
    for event in prof.key_averages():
        if event.key.startswith("aten::"):
            ops[event.key] += event.self_cpu_time_total / REPEATS / T
    return {"wall_us_per_step": wall, "op_us_per_step": dict(ops)}


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    for B, T, H in POINTS:
        torch.manual_seed(0)
        ref = nn.LSTM(INPUT_SIZE, H)
        ours = ls.LSTM(INPUT_SIZE, H, backend="bptt")
        ours.load_state_dict(ref.state_dict())
        x = torch.randn(T, B, INPUT_SIZE).requires_grad_()
        for name, model in (("nn", ref), ("bptt", ours)):
            for p, fn in passes(model, x).items():
                rows.append({"B": B, "T": T, "H": H, "impl": name, "pass": p,
                             **profile_pass(fn, T)})
                print(rows[-1]["B"], T, H, name, p, f"{rows[-1]['wall_us_per_step']:.1f} us",
                      flush=True)
    date = datetime.date.today().isoformat()
    meta = {"date": date, "torch": torch.__version__, "threads": 1,
            "command": "python benchmarks/cpu_profile.py"}
    stem = RESULTS / f"cpu-profile-{date}"
    stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [f"# Where the CPU LSTM's time goes, {date}", "",
             f"torch {meta['torch']}, 1 thread, one layer, input size {INPUT_SIZE}. "
             f"`{meta['command']}`. Microseconds per time step; operator times are "
             "self times from torch.profiler (which adds its own overhead per call).", "",
             "| B | T | H | impl | pass | wall us/step | sum of ops | not in ops | top ops |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ops = sorted(r["op_us_per_step"].items(), key=lambda kv: -kv[1])
        total = sum(r["op_us_per_step"].values())
        top = ", ".join(f"{k[6:]} {v:.1f}" for k, v in ops[:5])
        lines.append(f"| {r['B']} | {r['T']} | {r['H']} | {r['impl']} | {r['pass']} | "
                     f"{r['wall_us_per_step']:.1f} | {total:.1f} | "
                     f"{max(r['wall_us_per_step'] - total, 0):.1f} | {top} |")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    plot(rows, stem.with_suffix(".png"))
    print(f"wrote {stem}.json/.md/.png")


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    labels = [f"B={r['B']} H={r['H']}\n{r['impl']} {r['pass']}" for r in rows]
    ax.bar(range(len(rows)), [r["wall_us_per_step"] for r in rows])
    ax.set_xticks(range(len(rows)), labels, fontsize=6, rotation=90)
    ax.set_yscale("log")
    ax.set_ylabel("us per time step (1 thread)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
