"""Experiment: which `tl.dot` precision should the float32 persistent (v2) kernels use?

    python -m benchmarks.kernels_fp32_dot        on a CUDA GPU (one child process per build)

The first H100 run (`benchmarks/results/NVIDIA_H100_80GB_HBM3-2026-11-22.md`) found the
fp32 v2 LSTM at 17.9 us per step at H=64 against 2.2 us in bf16: the exact ("ieee") fp32
dot runs on CUDA cores. Candidates, with what each should give:

    ieee     exact fp32 products; today's choice. Error ~1e-7 per product.
    tf32x3   three TF32 tensor-core products (a_hi b_hi + a_hi b_lo + a_lo b_hi): about
             fp32's accuracy (~1e-6 after 256 steps, inside the 1e-5 bound) at roughly three
             bf16 dots' time, so predicted ~3-5 us per step.
    tf32     one TF32 product: 10-bit mantissas, ~1e-3 relative; the fastest, but outside
             the fp32 bound (it is what `tf32=True` already gives).

Each (family, precision) runs in its own child process, since an LLVM abort while
compiling (seen for the exact-fp32 backward on sm_90) must be a failed row, not a dead
run. Per H: forward and forward+backward time per step (do_bench median, T=1024, B=16),
and the largest relative error of the outputs and every gradient against the float64
reference on the CPU (T=256, B=16). Writes results/<device>-fp32-dot-<date>.{json,md,png}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import subprocess
import sys

import torch

RESULTS = pathlib.Path(__file__).parent / "results"
FAMILIES = ("lstm", "gru")
PRECISIONS = ("ieee", "tf32x3", "tf32")
HIDDEN = (32, 64)
SHORT_T, LONG_T = 256, 1024  # steps for the error check, steps timed


def inputs(family: str, H: int, T: int, B: int = 16) -> list[torch.Tensor]:
    """float64 kernel arguments: (xw, h0, c0, w_hh) for the LSTM, (xw, h0, w_hh, b_hh) GRU."""
    gates = 4 if family == "lstm" else 3
    g = torch.Generator().manual_seed(H)
    xw = torch.randn(T, B, gates * H, generator=g, dtype=torch.float64)
    w = torch.randn(gates * H, H, generator=g, dtype=torch.float64) / H**0.5
    h0 = torch.randn(B, H, generator=g, dtype=torch.float64)
    if family == "lstm":
        return [xw, h0, torch.randn(B, H, generator=g, dtype=torch.float64), w]
    return [xw, h0, w, torch.randn(gates * H, generator=g, dtype=torch.float64)]


def max_error(family: str, H: int, kernel, reference) -> float:
    """Largest ||kernel - reference|| / ||reference|| over outputs and every gradient."""
    args64 = [a.requires_grad_() for a in inputs(family, H, SHORT_T)]
    ref = reference(*args64)
    upstream = [torch.randn_like(r) for r in ref]
    ref_grads = torch.autograd.grad(ref, args64, upstream)
    args = [a.detach().cuda().float().requires_grad_() for a in args64]
    out = kernel(*args)
    grads = torch.autograd.grad(out, args, [u.cuda().float() for u in upstream])
    return max(((a.double().cpu() - r).norm() / r.norm()).item()
               for a, r in zip((*out, *grads), (*ref, *ref_grads), strict=True))


def step_times_us(family: str, H: int, kernel) -> tuple[float, float]:
    """Forward and forward+backward time per step (do_bench median, LONG_T steps)."""
    import triton.testing

    timed = [a.cuda().float() for a in inputs(family, H, LONG_T)]
    timed_grad = [a.clone().requires_grad_() for a in timed]

    def fwd() -> None:
        with torch.no_grad():
            kernel(*timed)

    def fwd_bwd() -> None:
        sum(o.sum() for o in kernel(*timed_grad)).backward()

    return tuple(triton.testing.do_bench(fn, return_mode="median") * 1e3 / LONG_T
                 for fn in (fwd, fwd_bwd))


def measure_one(family: str, precision: str) -> list[dict]:
    """Time and error of the v2 kernels of `family` with every fp32 dot at `precision`."""
    from lstm_scratch.kernels import gru_v1_fused_gates as gru1
    from lstm_scratch.kernels import gru_v2_persistent as gru2
    from lstm_scratch.kernels import lstm_v1_fused_gates as lstm1
    from lstm_scratch.kernels import lstm_v2_persistent as lstm2

    module, kernel, reference = {
        "lstm": (lstm2, lstm2.lstm_v2, lstm1.lstm_reference),
        "gru": (gru2, gru2.gru_v2, gru1.gru_reference),
    }[family]
    module.dot_precision = lambda tf32, dtype, H: precision  # the one thing this varies
    rows = []
    for H in HIDDEN:
        fwd_us, fwd_bwd_us = step_times_us(family, H, kernel)
        rows.append(dict(family=family, precision=precision, H=H,
                         max_rel_error=max_error(family, H, kernel, reference),
                         fwd_step_us=fwd_us, fwd_bwd_step_us=fwd_bwd_us))
    return rows


def write(rows: list[dict], out_dir: pathlib.Path) -> pathlib.Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import triton

    env = dict(device=torch.cuda.get_device_name(), torch=torch.__version__,
               triton=triton.__version__, cuda=torch.version.cuda, date=dt.date.today().isoformat())
    stem = out_dir / f"{env['device'].replace(' ', '_')}-fp32-dot-{env['date']}"
    stem.with_suffix(".json").write_text(json.dumps(dict(env, rows=rows), indent=1))
    cols = ["family", "precision", "H", "fwd_step_us", "fwd_bwd_step_us", "max_rel_error", "failed"]
    lines = [f"# fp32 dot precision in the v2 kernels, {env['device']} ({env['date']})", "",
             f"torch {env['torch']}, triton {env['triton']}, CUDA {env['cuda']}. "
             "Command: `python -m benchmarks.kernels_fp32_dot`. Times per step at T=1024, "
             "B=16; error: largest relative error of outputs and gradients vs float64, "
             "T=256.", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(
            f"{r[c]:.3g}" if isinstance(r.get(c), float) else str(r.get(c, "")) for c in cols
        ) + " |")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(7, 4))
    done = [r for r in rows if "failed" not in r]
    labels = [f"{r['family']} {r['precision']} H={r['H']}" for r in done]
    ax.barh(labels, [r["fwd_step_us"] for r in done])
    ax.set_xlabel("forward, us per step")
    fig.tight_layout()
    fig.savefig(stem.with_suffix(".png"), dpi=100)
    plt.close(fig)
    return stem.with_suffix(".md")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--one", nargs=2, metavar=("FAMILY", "PRECISION"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure_one(*args.one)))
        return
    if not torch.cuda.is_available():
        sys.exit("benchmarks.kernels_fp32_dot needs a CUDA GPU: it times tensor-core dots")
    rows = []
    for family in FAMILIES:
        for precision in PRECISIONS:
            child = subprocess.run(
                [sys.executable, "-m", "benchmarks.kernels_fp32_dot", "--one", family, precision],
                capture_output=True, text=True, env=os.environ, timeout=300,
            )
            if child.returncode == 0:
                rows += json.loads(child.stdout.strip().splitlines()[-1])
            else:
                reason = (child.stderr.strip().splitlines() or [f"exit {child.returncode}"])[-1]
                rows.append(dict(family=family, precision=precision, failed=reason[:120]))
            print(rows[-1], flush=True)
    print(write(rows, args.out).read_text())


if __name__ == "__main__":
    main()
