"""CPU benchmark: our LSTM/GRU backends against torch.nn.LSTM / torch.nn.GRU.

    python benchmarks/cpu.py            # the full grid (about 10 minutes), writes results
    python benchmarks/cpu.py --quick    # a tiny grid, to check that everything runs

For every grid point (B, T, H, layers, directions) the implementations run interleaved in
one process (round robin, the order rotating every round), forward (under no_grad) and
forward+backward (loss = output.sum()), and we report the ratio of median times
ours / torch's. Implementations:

    nn        torch.nn.LSTM (or nn.GRU): torch's fused C++ (oneDNN) kernels
    bptt      our "bptt" backend: whole-sequence autograd.Function, hand-written BPTT
    autograd  our "autograd" backend: the readable step loop, differentiated by autograd
              (LSTM, on the T <= 100 part of the grid only, to keep the run short)
    compile   torch.compile of the "autograd" module, probed once in a subprocess with a
              time limit (the Python step loop is unrolled T times, so compiling is slow)

Then one training epoch (1000 samples, 20 steps, batch 32, Adam, MSE) of every model in
`lstm_scratch.models` if that package exists, else of `create_lstm_model`, each in its
own subprocess so that its peak memory (max RSS) is its own.

Results: benchmarks/results/cpu-<date>.json, .md and .png.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lstm_scratch as ls  # noqa: E402
from lstm_scratch.recurrent import RecurrentStack  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
INPUT_SIZE = 32  # features per step fed to layer 0


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def build(mode: str, H: int, layers: int, bidi: bool, with_autograd: bool) -> dict[str, nn.Module]:
    """The implementations to compare at one grid point, sharing torch's weights."""
    if mode == "LSTM":
        ref = nn.LSTM(INPUT_SIZE, H, layers, bidirectional=bidi)
        names = ("bptt", "autograd") if with_autograd else ("bptt",)
        ours = {n: ls.LSTM(INPUT_SIZE, H, layers, bidirectional=bidi, backend=n) for n in names}
    else:
        ref = nn.GRU(INPUT_SIZE, H, layers, bidirectional=bidi)
        ours = {"bptt": ls.GRU(INPUT_SIZE, H, layers, bidirectional=bidi, backend="bptt")}
    for m in ours.values():
        m.load_state_dict(ref.state_dict())
    return {"nn": ref, **ours}


def forward(m: nn.Module, x: torch.Tensor) -> None:
    with torch.no_grad():
        m(x)


def forward_backward(m: nn.Module, x: torch.Tensor) -> None:
    for p in m.parameters():
        p.grad = None
    m(x)[0].sum().backward()


def seconds(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def time_point(models: dict[str, nn.Module], x: torch.Tensor, budget: float, max_rounds: int):
    """Median seconds per implementation and pass, interleaved round robin.

    Rounds continue while this point has used less than `budget` seconds (at least one
    round, at most max_rounds). Small points get one discarded warm-up round first; for
    big ones (a round over budget / 4) the first round counts.
    """
    names = list(models)
    samples = {(n, p): [] for n in names for p in ("fwd", "fwd+bwd")}
    spent = 0.0
    for r in range(max_rounds + 1):
        order = names[r % len(names) :] + names[: r % len(names)]
        t_round = 0.0
        for n in order:
            for p, fn in (("fwd", forward), ("fwd+bwd", forward_backward)):
                t = seconds(fn, models[n], x)
                samples[(n, p)].append(t)
                t_round += t
        if r == 0 and t_round <= budget / 4:  # a small point: discard the warm-up round
            for s in samples.values():
                s.clear()
            continue
        spent += t_round
        if spent >= budget or all(len(s) >= max_rounds for s in samples.values()):
            break
    medians = {f"{n} {p}": statistics.median(s) for (n, p), s in samples.items() if s}
    return medians, min(len(s) for s in samples.values())


def grid(quick: bool):
    if quick:
        return list(itertools.product((1, 8), (10, 30), (32,), (1, 2), (False, True)))
    B, T, H = (1, 8, 32, 128), (20, 100, 500), (64, 256)  # the grid
    return list(itertools.product(B, T, H, (1, 2), (False, True)))


def run_grid(quick: bool, budget: float, max_rounds: int) -> list[dict]:
    rows = []
    points = grid(quick)
    for k, (B, T, H, L, bidi) in enumerate(points):
        x = torch.randn(T, B, INPUT_SIZE)
        for mode in ("LSTM", "GRU"):
            small = T <= 100  # the autograd backend only there, to keep the run short
            torch.manual_seed(0)
            models = build(mode, H, L, bidi, with_autograd=small)
            medians, n = time_point(models, x, budget, max_rounds)
            row = {"mode": mode, "B": B, "T": T, "H": H, "layers": L,
                   "directions": 2 if bidi else 1, "samples": n, "seconds": medians}
            for key, value in medians.items():
                name, p = key.split(" ")
                if name != "nn":
                    row[f"ratio {name} {p}"] = value / medians[f"nn {p}"]
            rows.append(row)
            ratio = row["ratio bptt fwd+bwd"]
            print(f"[{k + 1}/{len(points)}] {mode} B={B} T={T} H={H} L={L} D={row['directions']}"
                  f" n={n} nn fwd+bwd {medians['nn fwd+bwd'] * 1e3:.1f} ms,"
                  f" ours/nn {ratio:.2f}", flush=True)
    return rows


COMPILE_PROBE = """
import sys, time, torch
sys.path.insert(0, {root!r})
import lstm_scratch as ls
torch.set_num_threads({threads})
torch.manual_seed(0)
ref = torch.nn.LSTM({I}, {H})
m = ls.LSTM({I}, {H}, backend="autograd")
m.load_state_dict(ref.state_dict())
x = torch.randn({T}, {B}, {I})
c = torch.compile(m)
t0 = time.perf_counter()
c(x)[0].sum().backward()
compile_s = time.perf_counter() - t0
def fb(mod):
    t = time.perf_counter(); mod(x)[0].sum().backward(); return time.perf_counter() - t
ts = {{"compile": [], "nn": []}}
for _ in range(5):
    ts["compile"].append(fb(c)); ts["nn"].append(fb(ref))
ts = {{k: sorted(v)[2] for k, v in ts.items()}}
print("RESULT", compile_s, ts["compile"], ts["nn"])
"""


def compile_probe(threads: int, timeout: float) -> dict:
    """torch.compile of the autograd reference at B=32, T=20, H=64, one layer."""
    B, T, H = 32, 20, 64
    code = COMPILE_PROBE.format(root=str(Path(__file__).resolve().parents[1]), threads=threads,
                                I=INPUT_SIZE, H=H, T=T, B=B)
    point = {"B": B, "T": T, "H": H, "layers": 1, "directions": 1, "timeout_s": timeout}
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**point, "status": f"compile + 5 runs did not finish within {timeout:.0f} s"}
    lines = [s for s in proc.stdout.splitlines() if s.startswith("RESULT")]
    if proc.returncode != 0 or not lines:
        return {**point, "status": "failed: " + proc.stderr.strip().splitlines()[-1][:300]}
    compile_s, t_compiled, t_nn = map(float, lines[0].split()[1:])
    return {**point, "status": "ok", "first_call_s": compile_s,
            "fwd+bwd compiled s": t_compiled, "fwd+bwd nn s": t_nn,
            "ratio compiled/nn fwd+bwd": t_compiled / t_nn}


# ---------------------------------------------------------------------------------------
# One training epoch per model, each in a subprocess (its own max RSS)
# ---------------------------------------------------------------------------------------

EPOCH = {"samples": 1000, "seq_len": 20, "features": 1, "batch_size": 32, "hidden_size": 64,
         "num_layers": 2}  # hidden_size, num_layers: the zoo's LSTM defaults


def epoch_models() -> list[str]:
    """What the epoch table can run: the zoo if it exists, else the LSTM network."""
    try:
        from lstm_scratch import models
    except ImportError:
        return ["create_lstm_model"]
    return models.list_models()


def make_model(name: str, backend: str) -> nn.Module:
    F, H = EPOCH["features"], EPOCH["hidden_size"]
    if name == "nn.LSTM":
        return _NNLSTMNet(F, H)
    if name == "create_lstm_model":
        model = ls.create_lstm_model(
            {"input_size": F, "hidden_size": H, "num_layers": EPOCH["num_layers"]}
        )
    else:
        from lstm_scratch import models

        model = models.create_model(name, F, 1)
    for m in model.modules():  # run every recurrent layer on the requested backend
        if isinstance(m, RecurrentStack):
            m.backend = backend
    return model


class _NNLSTMNet(nn.Module):
    """torch.nn.LSTM + linear head on the last step: the reference LSTM network."""

    def __init__(self, F: int, H: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(F, H, EPOCH["num_layers"], batch_first=True)
        self.head = nn.Linear(H, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.lstm(x)[1][0][-1])


def one_epoch(name: str, backend: str, threads: int) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    n, T, F, bs = EPOCH["samples"], EPOCH["seq_len"], EPOCH["features"], EPOCH["batch_size"]
    x, y = torch.randn(n, T, F), torch.randn(n, 1)
    model = make_model(name, backend)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for i in range(0, n, bs):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x[i : i + bs]), y[i : i + bs])
        loss.backward()
        opt.step()
    seconds_ = time.perf_counter() - start
    return {"model": name, "backend": backend, "epoch_s": seconds_, "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss, not inherited at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


MEMORY_POINTS = [  # (mode, B, T, H, layers, bidirectional): a small and two large points
    ("LSTM", 32, 100, 64, 1, False), ("LSTM", 128, 500, 256, 2, True),
    ("GRU", 128, 500, 256, 2, True),
]


def memory_one(mode: str, B: int, T: int, H: int, L: int, bidi: bool, impl: str) -> dict:
    """Peak memory one fwd+bwd adds to this process (VmHWM after minus VmRSS before)."""
    torch.manual_seed(0)
    model = build(mode, H, L, bidi, with_autograd=False)[impl]
    x = torch.randn(T, B, INPUT_SIZE)
    forward_backward(model, x)  # warm-up: the allocator and the grads exist from here on
    before = rss_mb()
    forward_backward(model, x)
    return {"peak_mb": peak_rss_mb() - before}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# glibc's malloc raises its mmap threshold after large blocks are freed (up to 32 MB), so
# blocks the warm-up freed stay in the heap, still resident, and a second fwd+bwd that
# reuses them adds nothing to VmRSS: nn.GRU's per-step tensors hid that way (620 MB
# measured for the GRU point below, about 2300 MB with this setting). A fixed 64 KiB threshold
# returns every larger freed block to the OS, so VmRSS before the pass is live memory only.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536"}


def memory_table(threads: int) -> list[dict]:
    """Peak memory of fwd+bwd, ours ("bptt") against torch.nn, each in a fresh process.

    Measured as VmHWM (the peak resident set) after a second fwd+bwd minus VmRSS before
    it: what one training step adds on top of the model, its gradients and the input
    (with MALLOC_ENV: see there)."""
    rows = []
    for mode, B, T, H, L, bidi in MEMORY_POINTS:
        row = {"mode": mode, "B": B, "T": T, "H": H, "layers": L, "directions": 2 if bidi else 1}
        for impl in ("nn", "bptt"):
            cmd = [sys.executable, __file__, "--memory-one", mode, str(B), str(T), str(H),
                   str(L), str(int(bidi)), impl, "--threads", str(threads)]
            proc = subprocess.run(cmd, capture_output=True, text=True,
                                  env={**os.environ, **MALLOC_ENV})
            row[f"{impl} MB"] = (json.loads(proc.stdout)["peak_mb"] if proc.returncode == 0
                                 else float("nan"))
        row["ratio bptt/nn"] = row["bptt MB"] / row["nn MB"]
        print("memory", row, flush=True)
        rows.append(row)
    return rows


def epoch_table(threads: int) -> list[dict]:
    jobs = [(name, "auto") for name in epoch_models()]
    lstm_name = "lstm" if ("lstm", "auto") in jobs else "create_lstm_model"
    jobs += [(lstm_name, "autograd"), ("nn.LSTM", "-")]
    if ("gru", "auto") in jobs:
        jobs.append(("gru", "autograd"))
    rows = []
    for name, backend in jobs:
        cmd = [sys.executable, __file__, "--epoch-one", name, backend, "--threads", str(threads)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            rows.append({"model": name, "backend": backend,
                         "error": proc.stderr.strip().splitlines()[-1][:200]})
        else:
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print("epoch", rows[-1], flush=True)
    return rows


# ---------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------


def summary(rows: list[dict]) -> dict:
    out = {}
    for mode in ("LSTM", "GRU"):
        for key in ("ratio bptt fwd", "ratio bptt fwd+bwd", "ratio autograd fwd",
                    "ratio autograd fwd+bwd"):
            values = [r[key] for r in rows if r["mode"] == mode and key in r]
            if values:
                out[f"{mode} {key}"] = {"median": statistics.median(values),
                                        "worst": max(values), "best": min(values),
                                        "points": len(values)}
    return out


def markdown(result: dict) -> str:
    meta = result["meta"]
    lines = [f"# CPU benchmark, {meta['date']}", "",
             f"{meta['cpu']}; torch {meta['torch']}; {meta['threads']} thread(s); "
             f"{meta['note']}", "",
             "Ratios are median time ours / median time torch.nn (lower is better; "
             "< 1 means ours is faster).", "",
             "| comparison | median | worst | best | points |", "|---|---|---|---|---|"]
    for key, s in result["summary"].items():
        lines.append(f"| {key} | {s['median']:.2f} | {s['worst']:.2f} | {s['best']:.2f} | "
                     f"{s['points']} |")
    c = result["compile"]
    lines += ["", f"torch.compile of the autograd reference (B={c['B']}, T={c['T']}, "
              f"H={c['H']}): {c['status']}"]
    if c["status"] == "ok":
        lines.append(f"first call (compiling) {c['first_call_s']:.1f} s, then fwd+bwd "
                     f"ratio compiled/nn.LSTM {c['ratio compiled/nn fwd+bwd']:.2f}")
    lines += ["", "| mode | B | T | H | L | D | n | nn fwd ms | torch/nn fwd | nn fwd+bwd ms | "
              "torch/nn fwd+bwd | autograd/nn fwd+bwd |", "|" + "---|" * 12]
    for r in result["grid"]:
        s = r["seconds"]
        auto = r.get("ratio autograd fwd+bwd")
        lines.append(
            f"| {r['mode']} | {r['B']} | {r['T']} | {r['H']} | {r['layers']} | "
            f"{r['directions']} | {r['samples']} | {s['nn fwd'] * 1e3:.1f} | "
            f"{r['ratio bptt fwd']:.2f} | {s['nn fwd+bwd'] * 1e3:.1f} | "
            f"{r['ratio bptt fwd+bwd']:.2f} | {'' if auto is None else f'{auto:.2f}'} |")
    lines += memory_lines(result.get("memory", []))
    lines += ["", f"## One training epoch ({EPOCH['samples']} samples x {EPOCH['seq_len']} "
              f"steps, batch {EPOCH['batch_size']}, Adam)", "",
              "The seed documents quote 2.5 s for an LSTM epoch on CPU.", "",
              "| model | backend | epoch s | peak RSS MB |", "|---|---|---|---|"]
    for r in result["epochs"]:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['backend']} | error: {r['error']} | |")
        else:
            lines.append(f"| {r['model']} | {r['backend']} | {r['epoch_s']:.2f} | "
                         f"{r['peak_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def memory_lines(rows: list[dict]) -> list[str]:
    lines = ["", "## Peak memory of one fwd+bwd (MB added on top of model and input)", "",
             f"glibc malloc with {MALLOC_ENV} (see `MALLOC_ENV` in benchmarks/cpu.py).", "",
             "| mode | B | T | H | L | D | nn MB | ours MB | ours/nn |", "|" + "---|" * 9]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['B']} | {r['T']} | {r['H']} | {r['layers']} | "
                     f"{r['directions']} | {r['nn MB']:.1f} | {r['bptt MB']:.1f} | "
                     f"{r['ratio bptt/nn']:.2f} |")
    return lines


def plot_memory(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['mode']} B={r['B']} T={r['T']} H={r['H']}\n{r['layers']}x{r['directions']}"
              for r in rows]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(labels, [r["ratio bptt/nn"] for r in rows], color="tab:orange")
    ax.axhline(1, color="k", lw=1, ls="--", label="as much as torch.nn")
    ax.set(ylabel="peak MB ours / torch.nn", title="Peak memory of one fwd+bwd on CPU")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4.5))
    styles = {("LSTM", "bptt"): ("o", "ours (hand BPTT) / nn.LSTM"),
              ("LSTM", "autograd"): ("x", "ours (autograd) / nn.LSTM"),
              ("GRU", "bptt"): ("s", "ours GRU (hand BPTT) / nn.GRU")}
    lstm_points = [r for r in result["grid"] if r["mode"] == "LSTM"]
    index = {(r["B"], r["T"], r["H"], r["layers"], r["directions"]): k
             for k, r in enumerate(lstm_points)}
    for (mode, name), (marker, label) in styles.items():
        xs, ys = [], []
        for r in result["grid"]:
            key = f"ratio {name} fwd+bwd"
            if r["mode"] == mode and key in r:
                xs.append(index[(r["B"], r["T"], r["H"], r["layers"], r["directions"])])
                ys.append(r[key])
        ax.scatter(xs, ys, marker=marker, label=label)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.axhline(1.5, color="r", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_xticks(range(len(lstm_points)))
    ax.set_xticklabels([f"B{r['B']} T{r['T']} H{r['H']} L{r['layers']}D{r['directions']}"
                        for r in lstm_points], rotation=90, fontsize=6)
    ax.set_ylabel("fwd+bwd time ratio to torch.nn (log)")
    meta = result["meta"]
    ax.set_title(f"{meta['cpu']}, torch {meta['torch']}, {meta['threads']} thread(s), "
                 f"{meta['date']}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny grid")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch threads; on a crowded machine 1 is steadier (2 threads "
                             "fork/join per GEMM and stall when the cores are taken)")
    parser.add_argument("--budget", type=float, default=4.0,
                        help="seconds of timing per grid point and mode (at least 1 round)")
    parser.add_argument("--max-rounds", type=int, default=5)
    parser.add_argument("--compile-timeout", type=float, default=120.0)
    parser.add_argument("--epoch-one", nargs=2, metavar=("MODEL", "BACKEND"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true",
                        help="only the peak-memory table: writes cpu-memory-<date>.*")
    parser.add_argument("--memory-one", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.epoch_one:
        print(json.dumps(one_epoch(*args.epoch_one, args.threads)))
        return
    if args.memory_one:
        mode, *sizes, impl = args.memory_one
        B, T, H, L, bidi = map(int, sizes)
        print(json.dumps(memory_one(mode, B, T, H, L, bool(bidi), impl)))
        return

    date = datetime.date.today().isoformat()
    if args.memory:
        meta = {"date": date, "cpu": cpu_model(), "torch": torch.__version__,
                "python": platform.python_version(), "threads": args.threads, "malloc": MALLOC_ENV}
        rows = memory_table(args.threads)
        stem = RESULTS / f"cpu-memory-{date}"
        RESULTS.mkdir(exist_ok=True)
        stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "memory": rows}, indent=1))
        stem.with_suffix(".md").write_text("\n".join(
            [f"# Peak memory of fwd+bwd on CPU, {date}", "",
             f"{meta['cpu']}, torch {meta['torch']}, Python {meta['python']}, "
             f"{meta['threads']} threads", *memory_lines(rows)]
        ) + "\n")
        plot_memory(rows, stem.with_suffix(".png"))
        print(f"wrote {stem}.json/.md/.png")
        return
    meta = {"date": date, "cpu": cpu_model(), "torch": torch.__version__,
            "python": platform.python_version(), "threads": args.threads,
            "quick": args.quick, "input_size": INPUT_SIZE,
            "note": "implementations are interleaved and medians taken, so that other jobs "
                    "on the machine slow both sides alike; load average at the start "
                    f"{os.getloadavg()[0]:.2f}"}
    start = time.perf_counter()
    rows = run_grid(args.quick, args.budget, args.max_rounds)
    result = {"meta": meta, "grid": rows, "summary": summary(rows)}
    result["compile"] = compile_probe(args.threads, args.compile_timeout)
    print("compile", result["compile"], flush=True)
    result["memory"] = memory_table(args.threads)
    result["epochs"] = epoch_table(args.threads)
    meta["total_s"] = time.perf_counter() - start
    meta["note"] += f", at the end {os.getloadavg()[0]:.2f}"

    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"cpu-{date}{'-quick' if args.quick else ''}"
    if args.threads != 2:
        stem = stem.with_name(f"{stem.name}-{args.threads}threads")
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1))
    stem.with_suffix(".md").write_text(markdown(result))
    plot(result, stem.with_suffix(".png"))
    print(json.dumps(result["summary"], indent=1))
    print(f"wrote {stem}.json/.md/.png in {meta['total_s']:.0f} s")


if __name__ == "__main__":
    main()
