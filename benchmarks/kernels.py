"""Benchmark: our Triton LSTM/GRU kernels against cuDNN, a per-step loop and torch.compile.

    python -m benchmarks.kernels            the issue's target grid, on a CUDA GPU
    python -m benchmarks.kernels --compiled also torch.compile of the autograd path
                                            (minutes of compiling per case)
    python -m benchmarks.kernels --render results/X.json   rewrite X's .md and .png
    python -m benchmarks.kernels --quick    a tiny grid; on CPU it runs the kernels in
                                            Triton's interpreter, only so the harness
                                            cannot rot (those timings mean nothing)

For every case (mode, B, H = I, T, layers, bidirectional, dtype) and contender, forward
and forward+backward are timed separately (triton.testing.do_bench, median, on GPU;
median of wall-clock repeats on CPU). Reported: ms, speed-up vs cuDNN and vs the loop,
backward/forward ratio ((fwd+bwd - fwd) / fwd), tokens/s (B*T / fwd+bwd time), the
memory fwd+bwd allocates beyond what was allocated before it, and the forward's time per
step beside that step's floor on this device (see `step_floor_us`). Contenders:

    cudnn        torch.nn.LSTM / nn.GRU (cuDNN on GPU), same dtype
    loop         a plain PyTorch per-step loop over the library's step math (autograd)
    compiled     our autograd path (ls.LSTM backend="autograd") under torch.compile
    triton       ls.LSTM / ls.GRU backend="triton" (v2 where W_hh fits on-chip: H <= 64 in
                 fp32, <= 128 in 16-bit; else v1)

Writes <out>/<device>-<date>.json, .md and .png with device name and torch/triton/CUDA
versions and the measured ceilings. "fp32" runs with TF32 off, "bf16" in bfloat16.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import pathlib
import statistics
import time
from collections.abc import Callable, Iterator

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # before triton is imported

import triton  # noqa: E402
import triton.testing  # noqa: E402
from torch import nn  # noqa: E402

import lstm_scratch as ls  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results"
DTYPES = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16}


def target_grid() -> list[dict]:
    """The issue's targets: B=16, T=1024, H = I in {64, 128, 256, 768}, fp32 and bf16, and a
    2-layer bidirectional case so the packed/bidirectional path is timed too."""
    cases = [
        dict(mode=m, B=16, H=H, T=1024, layers=1, bidirectional=False, dtype=d)
        for m in ("LSTM", "GRU") for d in ("fp32", "bf16") for H in (64, 128, 256, 768)
    ]
    for m in ("LSTM", "GRU"):
        cases.append(dict(mode=m, B=16, H=256, T=256, layers=2, bidirectional=True, dtype="fp32"))
    return cases


def quick_grid() -> list[dict]:
    return [  # H=8 runs the v2 kernels, H=130 the v1 kernels
        dict(mode="LSTM", B=2, H=8, T=3, layers=1, bidirectional=False, dtype="fp32"),
        dict(mode="LSTM", B=1, H=130, T=2, layers=1, bidirectional=False, dtype="fp32"),
        dict(mode="GRU", B=2, H=8, T=3, layers=1, bidirectional=False, dtype="fp32"),
    ]


def time_ms(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        return triton.testing.do_bench(fn, return_mode="median")
    runs = []  # CPU: only the interpreter check, no warm-up needed
    for _ in range(2):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1e3)
    return statistics.median(runs)


def loop_forward(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The plain per-step PyTorch loop: the library's cell step, autograd records it."""
    from lstm_scratch.layer import run_layer

    state = tuple(x.new_zeros(x.shape[1], size) for size in module.state_sizes())
    out, _ = run_layer(module.cell, x, state, module.layer_parameters(0, False))
    return out


def contenders(case: dict, device: torch.device, compiled: bool) -> dict[str, Callable]:
    dtype = DTYPES[case["dtype"]]
    opts = dict(num_layers=case["layers"], bidirectional=case["bidirectional"])
    ours_cls = ls.LSTM if case["mode"] == "LSTM" else ls.GRU
    ref_cls = nn.LSTM if case["mode"] == "LSTM" else nn.GRU
    ref = ref_cls(case["H"], case["H"], **opts).to(device, dtype)
    out = {"cudnn": lambda x: ref(x)[0]}
    mods = {b: ours_cls(case["H"], case["H"], backend=b, **opts).to(device, dtype)
            for b in ("autograd", "triton")}
    for m in mods.values():
        m.load_state_dict(ref.state_dict(), strict=False)
    if not case["bidirectional"] and case["layers"] == 1:
        out["loop"] = lambda x: loop_forward(mods["autograd"], x)
    if compiled:  # minutes of compiling per case
        compiled_module = torch.compile(mods["autograd"])
        out["compiled"] = lambda x: compiled_module(x)[0]
    out["triton"] = lambda x: mods["triton"](x)[0]
    return out


@contextlib.contextmanager
def tf32(on: bool) -> Iterator[None]:
    """TF32 for torch matmuls (and so the triton backend) and for cuDNN's RNNs, through the
    fp32_precision API where torch has it (mixing it with the legacy allow_tf32 flags makes
    reading them raise RuntimeError on torch >= 2.9); the previous settings come back after,
    so nothing else in the process (torch.export reads allow_tf32) sees a mixed state."""
    precision = "tf32" if on else "ieee"
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    if hasattr(matmul, "fp32_precision"):
        flags = [(matmul, "fp32_precision", precision), (cudnn.rnn, "fp32_precision", precision)]
    else:
        flags = [(matmul, "allow_tf32", on), (cudnn, "allow_tf32", on)]
    before = [getattr(owner, name) for owner, name, _ in flags]
    try:
        for owner, name, value in flags:
            setattr(owner, name, value)
        yield
    finally:
        for (owner, name, _), value in zip(flags, before):
            setattr(owner, name, value)


def measure(case: dict, device: torch.device, compiled: bool, ceilings: dict) -> list[dict]:
    with tf32(case["dtype"] == "tf32"):
        return _measure(case, device, compiled, ceilings)


def _measure(case: dict, device: torch.device, compiled: bool, ceilings: dict) -> list[dict]:
    dtype = DTYPES[case["dtype"]]
    x = torch.randn(case["T"], case["B"], case["H"], device=device, dtype=dtype)
    x_grad = x.clone().requires_grad_()
    floor_us = step_floor_us(case, ceilings)
    rows = []
    for name, forward in contenders(case, device, compiled).items():
        def fwd(forward=forward):
            with torch.no_grad():
                forward(x)

        def fwd_bwd(forward=forward):
            forward(x_grad).float().sum().backward()

        fwd_ms = time_ms(fwd, device)
        extra = None
        if device.type == "cuda":  # what one fwd+bwd allocates beyond what already exists
            torch.cuda.synchronize(device)
            before = torch.cuda.memory_allocated(device)
            torch.cuda.reset_peak_memory_stats(device)
            fwd_bwd()
            torch.cuda.synchronize(device)
            extra = torch.cuda.max_memory_allocated(device) - before
        fwd_bwd_ms = time_ms(fwd_bwd, device)
        step_us = fwd_ms * 1e3 / case["T"] / case["layers"] / (2 if case["bidirectional"] else 1)
        rows.append(dict(case, contender=name, fwd_ms=fwd_ms, fwd_bwd_ms=fwd_bwd_ms,
                         bwd_over_fwd=(fwd_bwd_ms - fwd_ms) / fwd_ms,
                         tokens_per_s=case["B"] * case["T"] / (fwd_bwd_ms / 1e3),
                         fwd_bwd_extra_bytes=extra, fwd_step_us=step_us,
                         step_floor_us=floor_us))
    by_name = {r["contender"]: r for r in rows}
    for r in rows:
        for base in ("cudnn", "loop"):
            if base in by_name:
                r[f"fwd_speedup_vs_{base}"] = by_name[base]["fwd_ms"] / r["fwd_ms"]
                r[f"speedup_vs_{base}"] = by_name[base]["fwd_bwd_ms"] / r["fwd_bwd_ms"]
        if by_name["cudnn"]["fwd_bwd_extra_bytes"]:
            r["mem_vs_cudnn"] = r["fwd_bwd_extra_bytes"] / by_name["cudnn"]["fwd_bwd_extra_bytes"]
    return rows


def measure_ceilings(device: torch.device) -> dict:
    """The device's ceilings, measured here rather than read off a datasheet: copy bandwidth
    (bytes read + written per second), dense matmul rate in fp32 (TF32 off) and bf16, and the
    cost of one dependent kernel boundary (a 1-element kernel replayed inside a CUDA graph:
    the least one step of a step-per-launch recurrence pays to synchronise)."""
    if device.type != "cuda":
        return dict(copy_bytes_per_s=None, flops_per_s={}, sync_us=None)
    src = torch.empty(2**28, dtype=torch.uint8, device=device).random_()
    dst = torch.empty_like(src)
    copy_ms = triton.testing.do_bench(lambda: dst.copy_(src), return_mode="median")
    flops = {}
    for name, n in (("fp32", 4096), ("bf16", 8192)):
        with tf32(False):
            a = torch.randn(n, n, device=device, dtype=DTYPES[name])
            b = torch.randn(n, n, device=device, dtype=DTYPES[name])
            ms = triton.testing.do_bench(lambda a=a, b=b: a @ b, return_mode="median")
        flops[name] = 2 * n**3 / (ms / 1e3)
    one = torch.zeros(1, device=device)
    graph, launches = torch.cuda.CUDAGraph(), 200
    with torch.cuda.graph(graph):
        for _ in range(launches):
            one.add_(1)
    graph_ms = triton.testing.do_bench(graph.replay, return_mode="median")
    return dict(copy_bytes_per_s=2 * src.numel() / (copy_ms / 1e3), flops_per_s=flops,
                sync_us=graph_ms * 1e3 / launches)


def step_floor_us(case: dict, ceilings: dict) -> float | None:
    """The least time the work of one forward step of one direction can take on this device:

        flops = 2 B H G H            (the recurrent product h_{t-1} W_hh^T, G = 4 or 3 gates)
        bytes = B (G H + H) s        (read this step's input half, write h_t; W_hh and c stay
                                      on chip in the best kernel, s = bytes per element)
        floor = max(flops / matmul rate, bytes / copy bandwidth)

    Steps are sequential, so each also pays a synchronisation: a block barrier (tens of ns)
    where one program holds the whole step, as in v2 and cuDNN's persistent kernels; a
    kernel boundary or grid barrier (`sync_us` in the ceilings, ~1 us) where a step spans
    programs or launches, as in v1. The matmul rate is that of a large product; a step's
    small one (B=16 rows) reaches less, so this floor is below what any kernel can do."""
    if ceilings["sync_us"] is None:
        return None
    B, H, G = case["B"], case["H"], 4 if case["mode"] == "LSTM" else 3
    size = DTYPES[case["dtype"]].itemsize
    flops_us = 2 * B * H * G * H / ceilings["flops_per_s"]["bf16" if size == 2 else "fp32"] * 1e6
    bytes_us = B * (G * H + H) * size / ceilings["copy_bytes_per_s"] * 1e6
    return max(flops_us, bytes_us)


def environment(device: torch.device, ceilings: dict) -> dict:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu-interpreter"
    driver = None
    if device.type == "cuda":
        with contextlib.suppress(Exception):  # torch without NVML bindings: leave it out
            import pynvml

            pynvml.nvmlInit()
            driver = pynvml.nvmlSystemGetDriverVersion()
    return dict(device=name, driver=driver, torch=torch.__version__, triton=triton.__version__,
                cuda=torch.version.cuda, date=dt.date.today().isoformat(),
                interpreter=os.environ.get("TRITON_INTERPRET") == "1", ceilings=ceilings)


def fmt(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value if value is not None else "")


def table(rows: list[dict], cols: list[str]) -> list[str]:
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    return lines + ["| " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in rows]


# The targets for the triton contender: (column, bound, which cases, what it says)
TARGETS = [
    ("fwd_speedup_vs_cudnn", 1.0, lambda r: r["H"] <= 256, "forward >= cuDNN, H <= 256"),
    ("speedup_vs_cudnn", 0.8, lambda r: r["H"] <= 256, "fwd+bwd >= 0.8x cuDNN, H <= 256"),
    ("fwd_speedup_vs_cudnn", 0.5, lambda r: r["H"] == 768, "forward within 2x, H = 768"),
    ("speedup_vs_cudnn", 0.5, lambda r: r["H"] == 768, "fwd+bwd within 2x, H = 768"),
    ("speedup_vs_loop", 50.0, lambda r: r["H"] == 256, "fwd+bwd >= 50x the loop, H = 256"),
]


def target_lines(rows: list[dict]) -> list[str]:
    """One line per target: how many triton rows of the target grid meet it, and the worst."""
    ours = [r for r in rows if r["contender"] == "triton" and r["T"] == 1024 and r["layers"] == 1]
    lines = ["| target | met | worst (case) |", "|---|---|---|"]
    checks = [(col, bound, pick, text, 1) for col, bound, pick, text in TARGETS]
    checks += [("bwd_over_fwd", 2.0, lambda r: True, "backward <= 2x our forward", -1),
               ("mem_vs_cudnn", 1.5, lambda r: True, "fwd+bwd memory <= 1.5x cuDNN's", -1)]
    for mode in ("LSTM", "GRU"):
        for col, bound, pick, text, sign in checks:
            cases = [r for r in ours if r["mode"] == mode and pick(r) and r.get(col) is not None]
            if not cases:
                continue
            worst = min(cases, key=lambda r: sign * r[col])
            met = sum(sign * r[col] >= sign * bound for r in cases)
            lines.append(f"| {mode}: {text} | {met}/{len(cases)} | {worst[col]:.3g} "
                         f"({worst['dtype']} H={worst['H']}) |")
    return lines


def write_results(rows: list[dict], env: dict, out_dir: pathlib.Path) -> pathlib.Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    label = f"-{env['label']}" if env.get("label") else ""
    stem = out_dir / f"{env['device'].replace(' ', '_')}-{env['date']}{label}"
    stem.with_suffix(".json").write_text(json.dumps(dict(env, rows=rows), indent=1))
    ceilings = env["ceilings"]
    lines = [f"# Kernel benchmark on {env['device']} ({env['date']})", "",
             f"driver {env['driver']}, torch {env['torch']}, triton {env['triton']}, "
             f"CUDA {env['cuda']}. Command: `python -m benchmarks.kernels`.", ""]
    if env["interpreter"]:
        lines += ["**CPU interpreter run: these timings are NOT performance numbers.**", ""]
    if ceilings["sync_us"] is not None:
        lines += [f"Measured ceilings: copy {ceilings['copy_bytes_per_s'] / 1e12:.2f} TB/s "
                  f"(read + write), matmul fp32 {ceilings['flops_per_s']['fp32'] / 1e12:.1f} "
                  f"and bf16 {ceilings['flops_per_s']['bf16'] / 1e12:.0f} TFLOP/s, one kernel "
                  f"boundary in a CUDA graph {ceilings['sync_us']:.2f} us. `step_floor_us` is "
                  "the work of one forward step at those rates; a step-per-launch kernel (v1) "
                  "also pays at least one kernel boundary per step "
                  "(`step_floor_us` docstring).", ""]
    lines += ["## Triton against the targets (B=16, T=1024, one layer)", ""]
    lines += target_lines(rows) + ["", "## Every case", ""]
    cols = ["mode", "dtype", "B", "H", "T", "layers", "bidirectional", "contender", "fwd_ms",
            "fwd_bwd_ms", "fwd_speedup_vs_cudnn", "speedup_vs_cudnn", "speedup_vs_loop",
            "bwd_over_fwd", "mem_vs_cudnn", "fwd_step_us", "step_floor_us", "tokens_per_s"]
    lines += table(rows, cols)
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    plot(rows, env, stem.with_suffix(".png"))
    return stem.with_suffix(".json")


def plot(rows: list[dict], env: dict, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name in sorted({r["contender"] for r in rows}):
        mine = [r for r in rows if r["contender"] == name]
        ax.plot(range(len(mine)), [r["tokens_per_s"] for r in mine], "o-", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("case (grid order)")
    ax.set_ylabel("tokens/s, forward+backward")
    ax.set_title(f"{env['device']}  torch {env['torch']}  triton {env['triton']}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def render(path: pathlib.Path) -> pathlib.Path:
    """Rewrite the .md and .png of a results .json (after a change to the derived columns)."""
    data = json.loads(path.read_text())
    rows = data.pop("rows")
    for r in rows:
        r["step_floor_us"] = step_floor_us(r, data["ceilings"])
    return write_results(rows, data, path.parent)


def main(argv: list[str] | None = None) -> pathlib.Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny grid (default on CPU)")
    parser.add_argument("--compiled", action="store_true", help="also time torch.compile")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS, help="results folder")
    parser.add_argument("--label", default="", help="appended to the results file names")
    parser.add_argument("--render", type=pathlib.Path, metavar="JSON",
                        help="only rewrite the .md and .png of this results file")
    args = parser.parse_args(argv)
    if args.render:
        return render(args.render)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    quick = args.quick or device.type == "cpu"
    ceilings = measure_ceilings(device)
    rows = []
    for case in quick_grid() if quick else target_grid():
        rows += measure(case, device, args.compiled, ceilings)
        print(" ".join(f"{k}={fmt(v)}" for k, v in rows[-1].items()), flush=True)
    path = write_results(rows, dict(environment(device, ceilings), label=args.label), args.out)
    print(path.with_suffix(".md").read_text())
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
