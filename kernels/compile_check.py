"""Compile every kernel build the Triton backend launches for a real GPU, on a CPU machine.

Triton's interpreter (TRITON_INTERPRET=1, what the kernel tests use without a GPU) runs
each program in NumPy: it never allocates registers or shared memory and never runs the
compiler, so a kernel that spills, needs more shared memory than an SM has, or crashes
LLVM passes every interpreter test. Triton can compile for a GPU it does not see:

    triton.compile(ASTSource(kernel, signature, constexprs, attrs),
                   target=GPUTarget("cuda", 90, 32), options={num_warps, num_stages, ...})

runs the whole pipeline (TTIR -> TTGIR -> LLVM -> PTX -> ptxas -> cubin) for Hopper
(sm_90) or Ampere (sm_80). This module does that for every *distinct build* the backend
asks for, and checks what a launch would meet on that GPU:

    compile error or crash      a failure (each build compiles in a forked child, so an
                                LLVM assertion that aborts the process is a failed build,
                                not a dead run)
    shared memory > the limit   a failure: the launch raises OutOfResources
                                (`metadata.shared` vs the per-block opt-in maximum)
    register spills > 0         a failure: spilled registers live in local memory (DRAM
                                behind L1), re-read every time step of a persistent loop

Registers and spills are ptxas's own numbers: Triton runs ptxas with `-v` and prints its
log when TRITON_DUMP_PTXAS_LOG=1; each child captures that log and parses
"Used N registers" and "N bytes spill stores". (The cubin alone has the register count in
its .nv.info section but not the spills.)

Which builds? The launchers are not copied here. `recording_launches` (kernels/common.py)
makes `launch` record (kernel, args, meta) instead of running; the backend's own run
function (`lstm_scratch.layer.run_layer(..., backend="triton")`, dispatch included) is
then called forward and backward on "meta"-device tensors (shapes only, no memory), for
every family x dtype x TF32 flag x hidden size class (`hidden_sizes`). Triton's own
binder turns each recorded launch into the signature, constexprs and specialisation
attributes (16-byte alignment of each pointer, divisibility of each integer by 16) that a
real launch would compile, and builds with equal keys are compiled once. A new kernel, a
changed launch configuration or a changed dispatch rule is picked up with no list to edit.

    python -m lstm_scratch.kernels.compile_check --arch 90 --out benchmarks/results  (and 80)

writes kernels-sm90-<date>.json and .md. Run it in a process where TRITON_INTERPRET is
unset: under the interpreter `triton.jit` gives interpreter objects with no compiler.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import faulthandler
import io
import json
import multiprocessing
import os
import platform
import re
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

# Per-block shared memory a kernel may use after opting in (cudaFuncSetAttribute), bytes:
# the CUDA programming guide's "maximum shared memory per thread block" per compute capability.
SHARED_MEMORY_LIMIT = {90: 232448, 80: 166912}  # 227 KiB on H100, 163 KiB on A100
REGISTERS_PER_SM = 65536  # 32-bit registers per SM on both
FAMILIES = ("LSTM", "GRU", "LN-LSTM")
KERNEL = {"LSTM": "lstm", "GRU": "gru", "LN-LSTM": "ln_lstm"}  # the cells' kernel families
DTYPES = (torch.float32, torch.float16, torch.bfloat16)
SHORT = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}
CHILD_TIMEOUT_S = 600
# Hidden sizes enumerated for families with no limit (the v1 kernels): their constexprs do
# not depend on H, so sizes up to here reach every build they have.
ANY_HIDDEN = 1024


@dataclass
class Build:
    """One distinct compile: a kernel with its signature, constants and options."""

    kernel: str
    signature: dict
    constexprs: dict  # {(arg index,): value}
    attrs: dict  # {(arg index,): [["tt.divisibility", 16]]}
    options: dict  # Triton's compile options, num_warps and num_stages among them
    cases: list[str] = field(default_factory=list)  # the dispatch cases that launch it
    dispatched: bool = True  # False: compiled only to show why the dispatch avoids it

    @property
    def config(self) -> str:
        names = self.signature_names()
        consts = ", ".join(f"{names[k[0]]}={_short_value(v)}" for k, v in self.constexprs.items())
        int_div = [
            names[k[0]] for k, v in self.attrs.items()
            if v and self.signature[names[k[0]]] in ("i32", "i64")
        ]
        unaligned = [
            names[k[0]] for k in self.attrs
            if self.signature[names[k[0]]].startswith("*") and not self.attrs[k]
        ]
        parts = [consts]
        if int_div:
            parts.append("16|" + ",".join(int_div))
        if unaligned:
            parts.append("unaligned " + ",".join(unaligned))
        return "; ".join(p for p in parts if p)

    def signature_names(self) -> list[str]:
        return list(self.signature)


def _short_value(v: object) -> str:
    return str(v).replace("triton.language.", "").replace("tl.", "")


# ---------------------------------------------------------------------------------------
# Which builds the backend launches
# ---------------------------------------------------------------------------------------


def hidden_sizes(limit: int = 8192) -> list[int]:
    """Hidden sizes that reach every class a launch can specialise on.

    Every constexpr a launcher derives from H is a function of the power-of-two block
    that covers it, and Triton specialises H itself on divisibility by 16. So 2^k - 1,
    2^k and 2^k + 1 for every k reach each block size with H % 16 == 0 and != 0, and the
    dispatch limits (`triton_backend.dispatch_boundaries`) are added with their
    neighbours so each side of every limit is compiled.
    """
    from lstm_scratch.triton_backend import dispatch_boundaries

    sizes = {1, 2, 3}
    for k in range(2, limit.bit_length()):
        sizes |= {2**k - 1, 2**k, 2**k + 1}
    for b in dispatch_boundaries():
        sizes |= {b - 1, b, b + 1}
    return sorted(h for h in sizes if 0 < h <= limit)


def _meta(*shape: int, dtype: torch.dtype, grad: bool = False) -> torch.Tensor:
    return torch.empty(*shape, dtype=dtype, device="meta", requires_grad=grad)


def _record_case(family: str, dtype: torch.dtype, H: int, tf32: bool, B: int, T: int = 3):
    """Run the layer runner's "triton" path forward and backward on shape-only (meta)
    tensors, the library's own module and cell included, recording every launch."""
    from lstm_scratch import GRU, LSTM
    from lstm_scratch.layer import run_layer

    from .common import matmul_precision, recording_launches

    I = 8  # noqa: E741 (input size: only the torch GEMMs see it)
    stack = GRU if family == "GRU" else LSTM
    module = stack(I, H, layer_norm=family == "LN-LSTM", init="pytorch", device="meta",
                   dtype=dtype)
    params = module.layer_parameters(0, False)
    x = _meta(T, B, I, dtype=dtype, grad=True)
    state = tuple(_meta(B, size, dtype=dtype, grad=True) for size in module.state_sizes())
    with matmul_precision(tf32), recording_launches() as launches:
        out, new_state = run_layer(module.cell, x, state, params, backend="triton")
        leaves = [x, *state, *params.values()]
        loss = out.sum() + sum(s.sum() for s in new_state)
        torch.autograd.grad(loss, leaves, allow_unused=True)
    return launches


def _specialise(launch, backend) -> tuple[str, dict, dict, dict, dict]:
    """(cache key, signature, constexprs, attrs, options) exactly as Triton's launcher
    would derive them, via the kernel's own binder (the code `kernel[grid](...)` runs)."""
    from triton.runtime.jit import create_function_from_signature

    kernel = launch.kernel
    binder = create_function_from_signature(kernel.signature, kernel.params, backend)
    args = [_PointerStandIn(a) if isinstance(a, torch.Tensor) else a for a in launch.args]
    bound, specialization, options = binder(*args, **launch.meta)
    options, signature, constexprs, attrs = kernel._pack_args(
        backend, launch.meta, bound, specialization, options
    )
    key = repr((kernel.fn.__name__, specialization, sorted(options.__dict__.items())))
    return key, signature, constexprs, attrs, options.__dict__


class _PointerStandIn:
    """What Triton's binder reads from a tensor argument, for a "meta" tensor.

    A CUDA allocation starts 256-byte aligned (the caching allocator's granularity), so a
    tensor's address is 16-byte aligned exactly when its storage offset in bytes is; the
    binder specialises each pointer on that."""

    def __init__(self, t: torch.Tensor):
        self.dtype = t.dtype
        self._offset = t.storage_offset() * t.element_size()

    def data_ptr(self) -> int:
        return 1 << 20 | self._offset


# Past the limits, compiled only with --beyond to show why the limits are there: the
# persistent kernels in fp32 at the next block size (H = 128) and the layer-norm kernel
# at 2x and 4x its limit. (family, dtype, H)
BEYOND = [(f, torch.float32, 128) for f in ("LSTM", "GRU")] + [
    ("LN-LSTM", torch.float32, 4096), ("LN-LSTM", torch.float32, 8192)
]


def enumerate_builds(
    arch: int, families=FAMILIES, dtypes=DTYPES, beyond: bool = False
) -> list[Build]:
    """Every distinct build the dispatch sends to a kernel, over all the cases it covers
    (and, with beyond=True, the BEYOND cases, marked dispatched=False)."""
    from triton.backends.compiler import GPUTarget
    from triton.compiler import make_backend

    from lstm_scratch.triton_backend import max_hidden_size

    backend = make_backend(GPUTarget("cuda", arch, 32))
    builds: dict[str, Build] = {}

    def add(family: str, dtype: torch.dtype, H: int, tf32: bool, dispatched: bool) -> None:
        case = f"{family} {SHORT[dtype]}{' tf32' if tf32 else ''} H={H}"
        for B in (16, 5):
            for launch in _record_case(family, dtype, H, tf32, B):
                key, sig, consts, attrs, options = _specialise(launch, backend)
                build = builds.setdefault(key, Build(
                    launch.kernel.fn.__name__, sig, consts, attrs, options,
                    dispatched=dispatched,
                ))
                if case not in build.cases:
                    build.cases.append(case)

    for family in families:
        for dtype in dtypes:
            for tf32 in (False, True) if dtype == torch.float32 else (False,):
                for H in hidden_sizes(max_hidden_size(KERNEL[family]) or ANY_HIDDEN):
                    add(family, dtype, H, tf32, dispatched=True)
    for family, dtype, H in BEYOND if beyond else []:
        with _limit_raised(family, dtype, H):
            for tf32 in (False, True):
                add(family, dtype, H, tf32, dispatched=False)
    return list(builds.values())


@contextlib.contextmanager
def _limit_raised(family: str, dtype: torch.dtype, H: int):
    """Let the dispatch send hidden size H to the kernel it normally stops short of."""
    from . import gru_v2_persistent, ln_lstm_v1_fused_gates, lstm_v2_persistent

    if family == "LN-LSTM":
        before = ln_lstm_v1_fused_gates.MAX_HIDDEN
        ln_lstm_v1_fused_gates.MAX_HIDDEN = H
        try:
            yield
        finally:
            ln_lstm_v1_fused_gates.MAX_HIDDEN = before
        return
    limits = (gru_v2_persistent if family == "GRU" else lstm_v2_persistent).MAX_HIDDEN
    before = limits[dtype]
    limits[dtype] = H
    try:
        yield
    finally:
        limits[dtype] = before


# ---------------------------------------------------------------------------------------
# Compiling one build in a child process
# ---------------------------------------------------------------------------------------

_REGISTERS = re.compile(r"Used (\d+) registers")
_SPILLS = re.compile(r"(\d+) bytes spill stores, (\d+) bytes spill loads")


def _kernel_by_name(name: str):
    from . import (
        gru_v1_fused_gates,
        gru_v2_persistent,
        ln_lstm_v1_fused_gates,
        lstm_v1_fused_gates,
        lstm_v2_persistent,
    )

    for module in (gru_v1_fused_gates, gru_v2_persistent, ln_lstm_v1_fused_gates,
                   lstm_v1_fused_gates, lstm_v2_persistent):
        if hasattr(module, name):
            return getattr(module, name)
    raise KeyError(name)


def _compile_in_child(build: Build, arch: int, conn) -> None:
    """Compile `build` for sm_<arch>; send back registers, spills, shared memory."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    kernel = _kernel_by_name(build.kernel)
    source = ASTSource(kernel, build.signature, build.constexprs, build.attrs)
    log = io.StringIO()
    start = time.perf_counter()
    cpu_start = _cpu_seconds()
    with contextlib.redirect_stdout(log):  # ptxas's -v log (TRITON_DUMP_PTXAS_LOG=1)
        compiled = triton.compile(source, target=GPUTarget("cuda", arch, 32),
                                  options=build.options)
    text = log.getvalue()
    registers = _REGISTERS.search(text)
    spills = _SPILLS.search(text)
    if registers is None or spills is None:
        raise RuntimeError(f"no ptxas -v log to read registers and spills from:\n{text}")
    conn.send({
        "registers": int(registers.group(1)),
        "spill_stores": int(spills.group(1)),
        "spill_loads": int(spills.group(2)),
        "shared": int(compiled.metadata.shared),
        "num_warps": compiled.metadata.num_warps,
        "num_stages": compiled.metadata.num_stages,
        "compile_s": round(time.perf_counter() - start, 2),
        "compile_cpu_s": round(_cpu_seconds() - cpu_start, 2),
    })


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (ptxas), user + system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _child(build: Build, arch: int, conn) -> None:
    faulthandler.disable()  # an abort is reported by the parent; no stack dump on stderr
    try:
        _compile_in_child(build, arch, conn)
    except BaseException as e:  # noqa: BLE001 (everything goes back to the parent as text)
        conn.send({"error": f"{type(e).__name__}: {str(e).strip()[-2000:]}"})
    finally:
        conn.close()


@dataclass
class Result:
    kernel: str
    config: str
    cases: list[str]
    dispatched: bool
    num_warps: int | None = None
    num_stages: int | None = None
    registers: int | None = None
    spill_stores: int | None = None
    spill_loads: int | None = None
    shared: int | None = None
    compile_s: float | None = None  # wall clock (on a loaded machine, mostly waiting)
    compile_cpu_s: float | None = None  # CPU time: what the check costs on dedicated cores
    error: str | None = None
    problems: list[str] = field(default_factory=list)


def _judge(result: Result, arch: int) -> None:
    if result.error is not None:
        result.problems.append(f"does not compile: {result.error.splitlines()[0][:200]}")
        return
    if result.shared > SHARED_MEMORY_LIMIT[arch]:
        result.problems.append(
            f"needs {result.shared} B shared memory > {SHARED_MEMORY_LIMIT[arch]} B on sm_{arch}"
        )
    if result.spill_stores or result.spill_loads:
        result.problems.append(
            f"spills registers ({result.spill_stores} B stores, {result.spill_loads} B loads)"
        )


def _receive(conn) -> dict | None:
    """The child's message if it sent one; None while it works or if it died silently."""
    try:
        return conn.recv() if conn.poll() else None
    except EOFError:  # the child exited (or was killed) without sending
        return None


def compile_builds(builds: list[Build], arch: int, jobs: int | None = None) -> list[Result]:
    """Compile each build in its own forked child, `jobs` at a time; nothing is cached
    (a fresh TRITON_CACHE_DIR per run, deleted afterwards)."""
    jobs = jobs or os.cpu_count() or 1
    context = multiprocessing.get_context("fork")
    results: list[Result | None] = [None] * len(builds)
    with tempfile.TemporaryDirectory(prefix="triton-compile-check-") as cache:
        os.environ.update(
            TRITON_CACHE_DIR=cache, TRITON_DUMP_PTXAS_LOG="1", TRITON_ALWAYS_COMPILE="1"
        )
        pending = list(range(len(builds)))
        running: dict[int, tuple] = {}
        while pending or running:
            while pending and len(running) < jobs:
                i = pending.pop(0)
                parent, child = context.Pipe(duplex=False)
                process = context.Process(target=_child, args=(builds[i], arch, child))
                process.start()
                child.close()
                running[i] = (process, parent, time.monotonic())
            time.sleep(0.05)
            for i, (process, conn, started) in list(running.items()):
                message = _receive(conn)
                timed_out = time.monotonic() - started > CHILD_TIMEOUT_S
                if message is None and process.is_alive() and not timed_out:
                    continue
                if message is None and timed_out:
                    process.kill()
                    message = {"error": f"timed out after {CHILD_TIMEOUT_S} s"}
                process.join()
                message = message or _receive(conn) or {
                    "error": f"the compiler killed its process (exit code {process.exitcode}"
                    + (", SIGABRT: an LLVM assertion)" if process.exitcode == -6 else ")")
                }
                conn.close()
                del running[i]
                b = builds[i]
                result = Result(b.kernel, b.config, b.cases, b.dispatched, **message)
                _judge(result, arch)
                results[i] = result
    return results  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------
# Results files
# ---------------------------------------------------------------------------------------


def _case_summary(cases: list[str]) -> str:
    """'LSTM fp32 H=65..128 (5 sizes)' style summary of the cases that launch one build."""
    groups: dict[str, list[int]] = {}
    for c in cases:
        head, _, h = c.rpartition(" H=")
        groups.setdefault(head, []).append(int(h))
    return "; ".join(
        f"{head} H={min(hs)}" if len(hs) == 1 else f"{head} H={min(hs)}..{max(hs)}"
        for head, hs in groups.items()
    )


def write_results(results: list[Result], arch: int, out_dir: Path, elapsed_s: float) -> Path:
    """kernels-sm<arch>-<date>.json and .md; returns the JSON path."""
    import triton

    out_dir.mkdir(parents=True, exist_ok=True)
    date = datetime.date.today().isoformat()
    path = out_dir / f"kernels-sm{arch}-{date}.json"
    header = {
        "target": f"sm_{arch}",
        "shared_memory_limit_bytes": SHARED_MEMORY_LIMIT[arch],
        "triton": triton.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "compiled_on": f"{platform.machine()} CPU, no GPU",
        "date": date,
        "builds": len(results),
        "failed": sum(bool(r.problems) for r in results if r.dispatched),
        "elapsed_s": round(elapsed_s, 1),
        "command": "python -m lstm_scratch.kernels.compile_check " + " ".join(sys.argv[1:]),
    }
    path.write_text(json.dumps({**header, "rows": [asdict(r) for r in results]}, indent=1))
    lines = [
        f"# Kernel builds compiled for sm_{arch} (triton {triton.__version__}, on a CPU)",
        "",
        f"{header['builds']} distinct builds, {header['failed']} failing; shared memory "
        f"limit {SHARED_MEMORY_LIMIT[arch]} B per block; {header['elapsed_s']} s. "
        f"Command: `{header['command']}`.",
        "",
        "| kernel | config | warps | stages | registers | spills (B) | shared (B) | "
        "launched for | status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(results, key=lambda r: (r.kernel, r.config)):
        status = "; ".join(r.problems) or "ok"
        if not r.dispatched:
            status = "not dispatched: " + status
        lines.append(
            f"| {r.kernel} | {r.config} | {r.num_warps} | {r.num_stages} | {r.registers} | "
            f"{r.spill_stores} | {r.shared} | {_case_summary(r.cases)} | {status} |"
        )
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", type=int, choices=sorted(SHARED_MEMORY_LIMIT), default=90)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--jobs", type=int, default=None, help="children at a time (CPUs)")
    parser.add_argument("--list", action="store_true",
                        help="print the builds as JSON lines and compile nothing")
    parser.add_argument("--only", default=None, metavar="REGEX",
                        help="compile only builds whose 'kernel config' matches REGEX")
    parser.add_argument("--beyond", action="store_true",
                        help="also compile the BEYOND cases past the dispatch limits "
                        "(reported, never failing)")
    args = parser.parse_args(argv)
    if os.environ.get("TRITON_INTERPRET") == "1":
        parser.error("unset TRITON_INTERPRET: the interpreter has no compiler to check")
    start = time.perf_counter()
    builds = enumerate_builds(args.arch, beyond=args.beyond)
    if args.only:
        builds = [b for b in builds if re.search(args.only, f"{b.kernel} {b.config}")]
    if args.list:
        for b in builds:
            print(json.dumps({"kernel": b.kernel, "config": b.config, "cases": b.cases,
                              "num_warps": b.options["num_warps"],
                              "num_stages": b.options["num_stages"]}))
        return 0
    print(f"sm_{args.arch}: {len(builds)} distinct builds", flush=True)
    results = compile_builds(builds, args.arch, args.jobs)
    path = write_results(results, args.arch, args.out, time.perf_counter() - start)
    failed = [r for r in results if r.dispatched and r.problems]
    for r in failed:
        print(f"FAIL {r.kernel} [{r.config}] {_case_summary(r.cases)}: {'; '.join(r.problems)}")
    print(f"{len(builds) - len(failed)}/{len(builds)} builds ok; wrote {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
