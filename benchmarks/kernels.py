"""Benchmark: our Triton LSTM/GRU kernels against cuDNN, a per-step loop and torch.compile.

    python -m benchmarks.kernels            full grid of the issue, on a CUDA GPU
    python -m benchmarks.kernels --quick    a tiny grid; on CPU it runs the kernels in
                                            Triton's interpreter, only so the harness
                                            cannot rot (those timings mean nothing)

For every case (mode, B, H = I, T, layers, bidirectional, dtype) and contender, forward
and forward+backward are timed separately (triton.testing.do_bench, median, on GPU;
median of wall-clock repeats on CPU). Reported: ms, speed-up vs cuDNN and vs the loop,
backward/forward ratio ((fwd+bwd - fwd) / fwd), tokens/s (B*T / fwd+bwd time) and peak
memory of fwd+bwd. Contenders:

    cudnn        torch.nn.LSTM / nn.GRU (cuDNN on GPU), same dtype
    loop         a plain PyTorch per-step loop over the library's step math (autograd)
    compiled     our autograd path (ls.LSTM backend="autograd") under torch.compile
    triton       ls.LSTM / ls.GRU backend="triton" (v2 where W_hh fits on-chip: H <= 64 in
                 fp32, <= 128 in 16-bit; else v1)

Writes <out>/<device>-<date>.json, .md and .png with device name and torch/triton/CUDA
versions. TF32 is the "tf32" dtype entry (fp32 tensors with TF32 allowed, `tf32`).
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


def full_grid() -> list[dict]:
    cases = [
        dict(mode=m, B=B, H=H, T=T, layers=1, bidirectional=False, dtype=d)
        for m in ("LSTM", "GRU") for d in ("fp32", "tf32", "bf16")
        for T in (100, 1024) for H in (64, 128, 256, 512, 768, 1024) for B in (1, 16, 64, 256)
    ]
    for m in ("LSTM", "GRU"):
        cases.append(dict(mode=m, B=64, H=512, T=100, layers=4, bidirectional=False, dtype="fp32"))
        cases.append(dict(mode=m, B=64, H=256, T=100, layers=2, bidirectional=True, dtype="fp32"))
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


def contenders(case: dict, device: torch.device, quick: bool) -> dict[str, Callable]:
    dtype = DTYPES[case["dtype"]]
    opts = dict(num_layers=case["layers"], bidirectional=case["bidirectional"])
    ours_cls = ls.LSTM if case["mode"] == "LSTM" else getattr(ls, "GRU", None)
    ref_cls = nn.LSTM if case["mode"] == "LSTM" else nn.GRU
    ref = ref_cls(case["H"], case["H"], **opts).to(device, dtype)
    out = {"cudnn": lambda x: ref(x)[0]}
    if ours_cls is None:  # the GRU module is not in this checkout yet
        return out
    mods = {b: ours_cls(case["H"], case["H"], backend=b, **opts).to(device, dtype)
            for b in ("autograd", "triton")}
    for m in mods.values():
        m.load_state_dict(ref.state_dict(), strict=False)
    if not case["bidirectional"] and case["layers"] == 1:
        out["loop"] = lambda x: loop_forward(mods["autograd"], x)
    if not quick:  # compiling takes minutes on CPU
        compiled = torch.compile(mods["autograd"])
        out["compiled"] = lambda x: compiled(x)[0]
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


def measure(case: dict, device: torch.device, quick: bool) -> list[dict]:
    with tf32(case["dtype"] == "tf32"):
        return _measure(case, device, quick)


def _measure(case: dict, device: torch.device, quick: bool) -> list[dict]:
    dtype = DTYPES[case["dtype"]]
    x = torch.randn(case["T"], case["B"], case["H"], device=device, dtype=dtype)
    x_grad = x.clone().requires_grad_()
    rows = []
    for name, forward in contenders(case, device, quick).items():
        def fwd(forward=forward):
            with torch.no_grad():
                forward(x)

        def fwd_bwd(forward=forward):
            forward(x_grad).float().sum().backward()

        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        fwd_ms, fwd_bwd_ms = time_ms(fwd, device), time_ms(fwd_bwd, device)
        peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
        rows.append(dict(case, contender=name, fwd_ms=fwd_ms, fwd_bwd_ms=fwd_bwd_ms,
                         bwd_over_fwd=(fwd_bwd_ms - fwd_ms) / fwd_ms,
                         tokens_per_s=case["B"] * case["T"] / (fwd_bwd_ms / 1e3),
                         peak_mem_bytes=peak))
    by_name = {r["contender"]: r for r in rows}
    for r in rows:
        for base in ("cudnn", "loop"):
            if base in by_name:
                r[f"speedup_vs_{base}"] = by_name[base]["fwd_bwd_ms"] / r["fwd_bwd_ms"]
    return rows


def environment(device: torch.device) -> dict:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu-interpreter"
    return dict(device=name, torch=torch.__version__, triton=triton.__version__,
                cuda=torch.version.cuda, date=dt.date.today().isoformat(),
                interpreter=os.environ.get("TRITON_INTERPRET") == "1")


def write_results(rows: list[dict], env: dict, out_dir: pathlib.Path) -> pathlib.Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"{env['device'].replace(' ', '_')}-{env['date']}"
    stem.with_suffix(".json").write_text(json.dumps(dict(env, rows=rows), indent=1))
    cols = ["mode", "dtype", "B", "H", "T", "layers", "bidirectional", "contender", "fwd_ms",
            "fwd_bwd_ms", "bwd_over_fwd", "speedup_vs_cudnn", "speedup_vs_loop", "tokens_per_s",
            "peak_mem_bytes"]
    lines = [f"# Kernel benchmark on {env['device']} ({env['date']})", "",
             f"torch {env['torch']}, triton {env['triton']}, CUDA {env['cuda']}", ""]
    if env["interpreter"]:
        lines += ["**CPU interpreter run: these timings are NOT performance numbers.**", ""]
    lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = [f"{r.get(c):.3g}" if isinstance(r.get(c), float) else str(r.get(c, ""))
                 for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
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


def main(argv: list[str] | None = None) -> pathlib.Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny grid (default on CPU)")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    quick = args.quick or device.type == "cpu"
    rows = [row for case in (quick_grid() if quick else full_grid())
            for row in measure(case, device, quick)]
    path = write_results(rows, environment(device), args.out)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
