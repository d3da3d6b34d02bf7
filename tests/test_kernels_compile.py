"""Every kernel build the backend launches compiles for sm_90 and sm_80, on this CPU machine.

`lstm_scratch.kernels.compile_check` runs in a subprocess without TRITON_INTERPRET (the tests' own
process runs the interpreter, which has no compiler). It fails a build on a compile
error or crash, shared memory over the target's per-block limit, or spilled registers.
The machinery itself is tested first, with builds planted to fail each way.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_scratch.kernels import compile_check as cc

ROOT = Path(__file__).resolve().parents[1]


def compile_check(*args: str) -> subprocess.CompletedProcess:
    """python -m lstm_scratch.kernels.compile_check *args, in a process without the interpreter."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "lstm_scratch.kernels.compile_check", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )


def run_compile_check(arch: int, out: Path) -> tuple[subprocess.CompletedProcess, dict]:
    proc = compile_check("--arch", str(arch), "--out", str(out))
    results = sorted(out.glob(f"kernels-sm{arch}-*.json"))
    assert results, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads(results[-1].read_text())


@pytest.mark.slow
@pytest.mark.parametrize("arch", [90, 80])
def test_every_build_the_backend_launches_compiles_fits_and_does_not_spill(arch, tmp_path):
    proc, table = run_compile_check(arch, tmp_path)
    failed = [r for r in table["rows"] if r["problems"]]
    assert proc.returncode == 0 and not failed, proc.stdout[-5000:]
    assert table["target"] == f"sm_{arch}" and table["failed"] == 0
    kernels_seen = {r["kernel"] for r in table["rows"]}
    assert len(kernels_seen) == 10  # forward and backward of lstm/gru v1, v2 and ln_lstm v1
    for r in table["rows"]:
        assert r["shared"] <= cc.SHARED_MEMORY_LIMIT[arch]
        assert r["spill_stores"] == 0 and r["spill_loads"] == 0
        assert 0 < r["registers"] <= 255
    assert sorted(tmp_path.glob(f"kernels-sm{arch}-*.md"))


def test_builds_come_from_the_launchers_and_follow_the_dispatch():
    """No hand list: the persistent kernels appear exactly up to each dtype's limit, and
    the launchers' do_not_specialize keeps T, B and t out of the build keys."""
    proc = compile_check("--arch", "90", "--list")
    assert proc.returncode == 0, proc.stderr[-3000:]
    builds = [json.loads(line) for line in proc.stdout.splitlines()]

    def largest_h(kernel: str, dtype: str) -> int:
        return max(int(c.rpartition("H=")[2]) for b in builds if b["kernel"] == kernel
                   for c in b["cases"] if f" {dtype}" in c)

    for family in ("lstm", "gru"):
        assert largest_h(f"{family}_persistent_forward_kernel", "fp32") == 64
        assert largest_h(f"{family}_persistent_backward_kernel", "bf16") == 128
        assert largest_h(f"{family}_forward_step_kernel", "fp16") == cc.ANY_HIDDEN
        assert min(int(c.rpartition("H=")[2]) for b in builds
                   if b["kernel"] == f"{family}_forward_step_kernel"
                   for c in b["cases"] if " fp32" in c) == 65
    assert largest_h("ln_lstm_backward_step_kernel", "bf16") == 2048
    for b in builds:  # T, B and t are never part of a build: one compile for every shape
        names = {part.split("=")[0].strip() for part in b["config"].replace(";", ",").split(",")}
        assert not {"T", "B", "t", "16|B", "16|t"} & names, b
    exact = [b for b in builds if b["kernel"] == "lstm_persistent_backward_kernel"
             and "PRECISION=ieee" in b["config"] and "DOT_DTYPE=fp32" in b["config"]]
    for b in exact:  # one warp per two hidden features (see lstm_v2_persistent)
        assert b["num_warps"] == int(b["config"].split("BLOCK_H=")[1].split(",")[0]) // 2, b


def test_a_compiler_abort_is_a_failed_build_not_a_dead_run(monkeypatch):
    """An LLVM assertion calls abort(): the child dies with SIGABRT, the parent reports it."""
    build = cc.Build("lstm_forward_step_kernel", {}, {}, {}, {}, ["planted abort"])
    monkeypatch.setattr(cc, "_compile_in_child", lambda build, arch, conn: os.abort())
    (result,) = cc.compile_builds([build], 90)
    assert result.error is not None and "SIGABRT" in result.error
    assert result.problems and result.problems[0].startswith("does not compile")


def test_shared_memory_over_the_limit_and_spills_are_failures():
    over = cc.Result("k", "", [], True, registers=255, spill_stores=0, spill_loads=0,
                     shared=cc.SHARED_MEMORY_LIMIT[90] + 1)
    cc._judge(over, 90)
    assert over.problems == [f"needs {cc.SHARED_MEMORY_LIMIT[90] + 1} B shared memory > "
                             f"{cc.SHARED_MEMORY_LIMIT[90]} B on sm_90"]
    fits_90_not_80 = cc.Result("k", "", [], True, registers=32, spill_stores=0,
                               spill_loads=0, shared=200_000)
    cc._judge(fits_90_not_80, 80)
    assert fits_90_not_80.problems and "sm_80" in fits_90_not_80.problems[0]
    spills = cc.Result("k", "", [], True, registers=255, spill_stores=8, spill_loads=4, shared=0)
    cc._judge(spills, 90)
    assert spills.problems == ["spills registers (8 B stores, 4 B loads)"]
