"""Mutation testing: plant plausible one-line bugs and count how many the tests catch.

    python -m benchmarks.mutation                     # the default seeded sample, 2 workers
    python -m benchmarks.mutation --list              # print the sampled mutants only
    python -m benchmarks.mutation --label after --workers 1

Why a script of our own and not mutmut / cosmic-ray: the bugs a person makes in this
library are few and specific (a swapped index, a dropped term in a sum, a wrong scale, a
flipped comparison, swapped arguments, an off-by-one slice, sigmoid for tanh), the CPU is
small and shared, and each mutated module must run only the tests that exercise it. A
hundred lines of `ast` give exactly those operators, a fixed seeded sample (so a "before"
and an "after" run see the same mutants) and a module -> tests map, with no dependency.

How it works:
1. Every single-line mutation site of the chosen files is enumerated from the AST (code
   only: no docstrings, annotations, strings or error messages), in a fixed order.
2. A seeded random sample of `--per-area` sites is drawn per area (functional, bptt, ...).
3. Each mutant replaces one node's source text in a scratch copy of the repository, then
   runs that module's test files (see TESTS, DESELECT) with `pytest -x` and a time limit:
   a failing test kills
   the mutant, all tests passing means it survived, running past the limit is a timeout
   (counted as detected: CI would hang and fail).
4. Mutants listed in EQUIVALENT (checked by hand: the program's behaviour cannot change)
   are run but left out of the kill rate.

Results go to benchmarks/results/mutation-<date>-<label>.{json,md}. This is not run in
CI: one run takes about an hour on two shared cores.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import copy
import datetime
import fnmatch
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# area -> the source files mutated there
AREAS: dict[str, list[str]] = {
    "functional": ["lstm_scratch/functional/*.py"],
    "cells": ["lstm_scratch/cells/*.py"],
    "recurrent": ["lstm_scratch/layer.py", "lstm_scratch/recurrent.py"],
    "packing": ["lstm_scratch/packing.py"],
    "init": ["lstm_scratch/init.py"],
    "kernels": ["kernels/*.py"],
    "forecasting": ["lstm_scratch/forecasting/*.py"],
}
# source file (glob, first match wins) -> the test files that exercise it, most specific
# first; a file that does not exist (yet) is skipped. Narrower than "every test" (the
# machine is small), so kills are, if anything, undercounted.
_STACK = ["tests/test_lstm_parity.py", "tests/test_gru.py", "tests/test_bptt.py",
          "tests/test_bptt_gru.py", "tests/test_dropout_and_network.py", "tests/test_errors.py",
          "tests/test_blind_spots_recurrent.py", "tests/test_torch_api.py"]
_FORECAST = ["tests/test_forecasting_data.py", "tests/test_blind_spots_forecasting.py",
             "tests/test_forecasting_model.py", "tests/test_forecasting_training.py",
             "tests/test_forecasting_io.py", "tests/test_cli.py"]
TESTS: list[tuple[str, list[str]]] = [
    ("lstm_scratch/functional/attention.py",
     ["tests/test_attention.py", "tests/test_blind_spots_layers.py"]),
    ("lstm_scratch/functional/positional.py", ["tests/test_attention.py"]),
    ("lstm_scratch/functional/conv.py",
     ["tests/test_conv_tcn.py", "tests/test_blind_spots_layers.py"]),
    ("lstm_scratch/functional/basic.py",
     ["tests/test_lstm_cell.py", "tests/test_layer_norm_lstm.py", "tests/test_attention.py",
      "tests/test_dropout_and_network.py", "tests/test_blind_spots_layers.py",
      "tests/test_blind_spots_recurrent.py"]),
    ("lstm_scratch/cells/lstm.py",
     ["tests/test_lstm_cell.py", "tests/test_reference_numpy.py", "tests/test_bptt.py",
      "tests/test_lstm_parity.py", "tests/test_blind_spots_recurrent.py"]),
    ("lstm_scratch/cells/layer_norm_lstm.py",
     ["tests/test_layer_norm_lstm.py", "tests/test_lstm_cell.py"]),
    ("lstm_scratch/cells/variant_lstm.py",
     ["tests/test_variants.py", "tests/test_blind_spots_recurrent.py"]),
    ("lstm_scratch/cells/gru.py",
     ["tests/test_gru.py", "tests/test_bptt_gru.py", "tests/test_blind_spots_recurrent.py"]),
    ("lstm_scratch/cells/layer_norm_gru.py", ["tests/test_gru.py"]),
    ("lstm_scratch/cells/recompute.py", ["tests/test_torch_double_backward.py"]),
    ("lstm_scratch/cells/*.py",
     ["tests/test_backends.py", "tests/test_init.py", "tests/test_lstm_parity.py",
      "tests/test_gru.py", "tests/test_variants.py"]),
    ("lstm_scratch/layer.py",
     ["tests/test_variants.py", "tests/test_lstm_parity.py", "tests/test_gru.py",
      "tests/test_bptt.py", "tests/test_blind_spots_recurrent.py"]),
    ("lstm_scratch/recurrent.py", _STACK),
    ("lstm_scratch/packing.py", _STACK),
    ("lstm_scratch/init.py",
     ["tests/test_init.py", "tests/test_gru.py", "tests/test_layer_norm_lstm.py",
      "tests/test_variants.py", "tests/test_blind_spots_recurrent.py"]),
    ("kernels/gru_*.py", ["tests/test_kernels_gru.py", "tests/test_kernels_backend.py"]),
    ("kernels/*lstm_*.py", ["tests/test_kernels_lstm.py", "tests/test_kernels_backend.py"]),
    ("kernels/*.py", ["tests/test_kernels_lstm.py", "tests/test_kernels_gru.py",
                      "tests/test_kernels_backend.py"]),
    ("lstm_scratch/forecasting/training.py",
     ["tests/test_forecasting_training.py", "tests/test_forecasting_ddp.py", *_FORECAST]),
    ("lstm_scratch/forecasting/*.py", _FORECAST),
]

# Left out of every mutant's run, to keep a run within the hour on a shared 2-core machine:
# the float32 halves of the parity grids (the float64 halves run the same code paths at a
# tighter tolerance) and the tests marked slow (the notebooks). Kills are undercounted, if
# anything.
DESELECT = "not fp32"

# Mutant ids (see Mutant.id) checked by hand to be equivalent, with the reason.
EQUIVALENT: dict[str, str] = {
    "lstm_scratch/init.py:55:swap-function:q.T -> q.mT":
        "q is 2-D, where .mT and .T are the same transpose",
    "lstm_scratch/forecasting/model.py:194:swap-args:max(2, min(preferred, (n - self.horizon) "
    "// 4)) -> max(min(preferred, (n - self.horizon) // 4), 2)": "max is symmetric",
    "lstm_scratch/cells/gru.py:210:swap-function:du_all.T -> du_all.mT":
        "du_all is 2-D (T*B, 3H), where .mT and .T are the same transpose",
    "lstm_scratch/cells/lstm.py:254:swap-function:da.T -> da.mT":
        "da is 2-D (T*B, 4H), where .mT and .T are the same transpose",
}

_SWAP_BINOP = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Pow: ast.Mult, ast.Mod: ast.FloorDiv,
}
_SWAP_CMP = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.In: ast.NotIn, ast.NotIn: ast.In,
}
# functions a person confuses with each other
_SWAP_NAME = {
    "sigmoid": "tanh", "tanh": "sigmoid", "sum": "mean", "mean": "sum", "max": "min",
    "min": "max", "amax": "amin", "amin": "amax", "floor": "ceil", "ceil": "floor",
    "exp": "expm1", "log": "log1p", "log1p": "log", "expm1": "exp", "cumsum": "cumprod",
    "T": "mT", "argmax": "argmin", "argmin": "argmax", "minimum": "maximum",
    "maximum": "minimum", "relu": "tanh", "abs": "neg",
}


@dataclass
class Mutant:
    path: str
    line: int
    col: int
    end_col: int
    operator: str
    original: str
    replacement: str

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}:{self.operator}:{self.original} -> {self.replacement}"


def _skipped_lines(tree: ast.Module) -> set[int]:
    """Lines never mutated: docstrings, raise/warn statements, imports, annotations."""
    skip: set[int] = set()

    def span(node: ast.AST) -> range:
        return range(node.lineno, (node.end_lineno or node.lineno) + 1)

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                skip.update(span(body[0]))
        if isinstance(node, (ast.Raise, ast.Import, ast.ImportFrom, ast.Assert)):
            skip.update(span(node))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("warn", "add_argument", "set_description"):
                skip.update(span(node))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            skip.update(span(node))
    return skip


def _annotation_nodes(tree: ast.Module) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotations.append(node.returns)
            args = node.args
            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if a is not None:
                    annotations.append(a.annotation)
            annotations.extend(node.decorator_list)
        if isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for ann in annotations:
            if ann is not None:
                ids.update(id(n) for n in ast.walk(ann))
    # f-strings (messages, never maths) and type expressions such as tuple[Tensor, ...]
    for node in ast.walk(tree):
        is_type = isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and (
            node.value.id in ("tuple", "list", "dict", "type", "Callable", "Mapping", "Sequence")
        )
        if isinstance(node, ast.JoinedStr) or is_type:
            ids.update(id(n) for n in ast.walk(node))
    return ids


def _swapped_op(node: ast.BinOp | ast.AugAssign, name: str) -> list[tuple[str, ast.AST]]:
    """The node with its arithmetic operator swapped (+ for -, * for /, ...), if it has one."""
    swap = _SWAP_BINOP.get(type(node.op))
    if swap is None:
        return []
    m = copy.deepcopy(node)
    m.op = swap()
    return [(name, m)]


def _replacements(node: ast.AST) -> list[tuple[str, ast.AST]]:
    """(operator name, mutated copy of node) for every plausible bug at this node."""
    out: list[tuple[str, ast.AST]] = []
    if isinstance(node, ast.BinOp):
        out += _swapped_op(node, "binop")
        if isinstance(node.op, (ast.Add, ast.Sub)):
            out.append(("drop-term", copy.deepcopy(node.left)))
            if isinstance(node.op, ast.Add):
                out.append(("drop-term", copy.deepcopy(node.right)))
        if isinstance(node.op, ast.Mult):
            out.append(("drop-factor", copy.deepcopy(node.left)))
            out.append(("drop-factor", copy.deepcopy(node.right)))
    elif isinstance(node, ast.AugAssign):
        out += _swapped_op(node, "augassign")
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        swap = _SWAP_CMP.get(type(node.ops[0]))
        if swap is not None:
            m = copy.deepcopy(node)
            m.ops = [swap()]
            out.append(("compare", m))
    elif isinstance(node, ast.BoolOp):
        m = copy.deepcopy(node)
        m.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        out.append(("boolop", m))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        if not isinstance(node.operand, ast.Constant):
            out.append(("drop-unary", copy.deepcopy(node.operand)))
    elif isinstance(node, ast.Constant) and not isinstance(node.value, str):
        v = node.value
        if isinstance(v, bool):
            out.append(("constant", ast.Constant(not v)))
        elif isinstance(v, int):
            out.append(("constant", ast.Constant(v + 1)))
            if v != 0:
                out.append(("constant", ast.Constant(v - 1)))
        elif isinstance(v, float):
            out.append(("constant", ast.Constant(v * 2 if v != 0 else 1.0)))
    elif isinstance(node, ast.Slice):
        for bound in ("lower", "upper"):
            b = getattr(node, bound)
            if b is not None and not isinstance(b, ast.Constant):
                for op in (ast.Add, ast.Sub):
                    m = copy.deepcopy(node)
                    setattr(m, bound, ast.BinOp(copy.deepcopy(b), op(), ast.Constant(1)))
                    out.append(("slice-off-by-one", m))
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
        elts = node.slice.elts
        if len(elts) >= 2 and ast.dump(elts[0]) != ast.dump(elts[1]):
            m = copy.deepcopy(node)
            m.slice.elts[0], m.slice.elts[1] = m.slice.elts[1], m.slice.elts[0]
            out.append(("swap-index", m))
    elif isinstance(node, ast.Call):
        args = node.args
        if len(args) >= 2 and not any(isinstance(a, ast.Starred) for a in args[:2]):
            if ast.dump(args[0]) != ast.dump(args[1]):
                m = copy.deepcopy(node)
                m.args[0], m.args[1] = m.args[1], m.args[0]
                out.append(("swap-args", m))
    elif isinstance(node, ast.Attribute) and node.attr in _SWAP_NAME:
        m = copy.deepcopy(node)
        m.attr = _SWAP_NAME[node.attr]
        out.append(("swap-function", m))
    elif isinstance(node, ast.Name) and node.id in ("min", "max", "sum", "abs"):
        m = copy.deepcopy(node)
        m.id = _SWAP_NAME[node.id] if node.id != "abs" else "float"
        out.append(("swap-function", m))
    return out


def enumerate_mutants(path: str, root: Path = ROOT) -> list[Mutant]:
    """Every single-line mutant of one file, in a fixed order."""
    source = (root / path).read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    skip, annotations = _skipped_lines(tree), _annotation_nodes(tree)
    mutants: list[Mutant] = []
    for node in ast.walk(tree):
        if not hasattr(node, "lineno") or id(node) in annotations:
            continue
        if node.lineno != node.end_lineno or node.lineno in skip:
            continue
        if isinstance(node, ast.Slice) and not hasattr(node, "col_offset"):
            continue
        line = lines[node.lineno - 1]
        original = line[node.col_offset : node.end_col_offset]
        for operator, new in _replacements(node):
            text = ast.unparse(new)
            if isinstance(node, ast.Slice):
                text = text.strip("()") if text.startswith("(") else text
            if text == original:
                continue
            mutants.append(
                Mutant(path, node.lineno, node.col_offset, node.end_col_offset, operator,
                       original, text)
            )
    mutants.sort(key=lambda m: (m.line, m.col, m.operator, m.replacement))
    return mutants


def apply(mutant: Mutant, source: str) -> str:
    lines = source.splitlines(keepends=True)
    line = lines[mutant.line - 1]
    text = mutant.replacement
    if mutant.operator in ("binop", "drop-term", "drop-factor", "drop-unary"):
        text = f"({text})"  # keep precedence where the node sat inside a larger expression
    lines[mutant.line - 1] = line[: mutant.col] + text + line[mutant.end_col :]
    return "".join(lines)


def area_files(area: str, root: Path = ROOT) -> list[str]:
    files: list[str] = []
    for pattern in AREAS[area]:
        for p in sorted(root.glob(pattern)):
            if p.name != "__init__.py":
                files.append(str(p.relative_to(root)))
    return files


def tests_for(path: str, root: Path = ROOT) -> list[str]:
    for pattern, tests in TESTS:
        if fnmatch.fnmatch(path, pattern):
            return [t for t in dict.fromkeys(tests) if (root / t).exists()]
    raise KeyError(f"no tests mapped for {path}")


def sample(areas: list[str], per_area: dict[str, int], seed: int) -> list[tuple[str, Mutant]]:
    chosen: list[tuple[str, Mutant]] = []
    for area in areas:
        pool = [m for f in area_files(area) for m in enumerate_mutants(f)]
        n = min(per_area[area], len(pool))
        rng = random.Random(f"{seed}:{area}")
        picked = sorted(rng.sample(range(len(pool)), n))
        chosen.extend((area, pool[i]) for i in picked)
    return chosen


def _pytest(workdir: Path, tests: list[str], timeout: float) -> tuple[str, float, str]:
    env = dict(os.environ, PYTHONPATH=str(workdir), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
           "--no-header", "-o", "addopts=", "-m", "not slow", "-k", DESELECT, *tests]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start, ""
    seconds = time.perf_counter() - start
    tail = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
    status = {0: "survived", 1: "killed", 2: "killed"}.get(proc.returncode, "error")
    return status, seconds, (tail[0] if tail else proc.stderr[-200:])


def _scratch_copy(dest: Path, tests_from: str | None) -> None:
    """The working tree's code; its tests/, or those of git revision `tests_from`."""
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.ipynb", "results")
    for name in ("lstm_scratch", "kernels", "tests", "benchmarks", "notebooks"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py"):
        shutil.copy(ROOT / name, dest / name)
    if tests_from:
        shutil.rmtree(dest / "tests")
        archive = subprocess.run(["git", "archive", tests_from, "tests"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--areas", nargs="*", default=list(AREAS))
    parser.add_argument("--per-area", type=json.loads,
                        default={"functional": 4, "cells": 16, "recurrent": 6, "packing": 4,
                                 "init": 5, "kernels": 4, "forecasting": 12},
                        help='JSON, e.g. \'{"functional": 60}\'')
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1200.0,
                        help="seconds per mutant; past it the mutant counts as detected")
    parser.add_argument("--baseline", action="store_true",
                        help="first check that the unmutated tests pass (the full suite does)")
    parser.add_argument("--label", default="run")
    parser.add_argument("--tests-from", help="take tests/ from this git revision (a 'before')")
    parser.add_argument("--list", action="store_true", help="print the sample and stop")
    parser.add_argument("--only", nargs="*", help="run only these mutant ids (re-checks)")
    parser.add_argument("--report", action="store_true",
                        help="write the results files from what the log holds, run nothing")
    args = parser.parse_args(argv)

    sampled = sample(args.areas, args.per_area, args.seed)
    log = ROOT / "benchmarks" / "results" / f"mutation-{args.label}.jsonl"
    done = _read_log(log)
    if args.report:
        write_results(sampled, done, args)
        return
    mutants = [(a, m) for a, m in sampled if m.id not in done]  # a run resumes from its log
    if args.only:
        mutants = [(a, m) for a, m in sampled if m.id in set(args.only)]
    if args.list:
        for area, m in mutants:
            print(f"{area:12s} {m.id}")
        return

    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        workdirs = [Path(tmp) / f"w{k}" for k in range(args.workers)]
        for w in workdirs:
            _scratch_copy(w, args.tests_from)
        # the test files are fixed when the run starts (tests added meanwhile do not count)
        suites = {m.path: tuple(tests_for(m.path, workdirs[0])) for _, m in mutants}
        if args.baseline:  # the unmutated tests must pass
            for tests in sorted(set(suites.values())):
                status, seconds, tail = _pytest(workdirs[0], list(tests), args.timeout)
                if status != "survived":
                    sys.exit(f"unmutated tests fail ({' '.join(tests)}): {tail}")
                print(f"baseline {seconds:5.0f} s: {' '.join(tests)}", flush=True)

        free = list(workdirs)

        def run_one(area: str, m: Mutant) -> dict:
            w = free.pop()
            try:
                target = w / m.path
                original = target.read_text()
                target.write_text(apply(m, original))
                status, seconds, tail = _pytest(w, list(suites[m.path]), args.timeout)
                target.write_text(original)
            finally:
                free.append(w)
            return {"area": area, **asdict(m), "id": m.id, "status": status,
                    "seconds": round(seconds, 1), "tail": tail,
                    "equivalent": EQUIVALENT.get(m.id)}

        with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
            futures = [pool.submit(run_one, a, m) for a, m in _round_robin(mutants)]
            for k, fut in enumerate(concurrent.futures.as_completed(futures), 1):
                r = fut.result()
                done[r["id"]] = r
                with log.open("a") as f:
                    f.write(json.dumps(r) + "\n")
                print(f"[{k}/{len(futures)}] {r['status']:8s} {r['seconds']:6.1f}s {r['id']}",
                      flush=True)
    write_results(sampled, done, args)


def _round_robin(mutants: list[tuple[str, Mutant]]) -> list[tuple[str, Mutant]]:
    """One mutant of each area in turn, so a run cut short still covers every area."""
    by_area: dict[str, list[tuple[str, Mutant]]] = {}
    for a, m in mutants:
        by_area.setdefault(a, []).append((a, m))
    queues = list(by_area.values())
    order = []
    while any(queues):
        for q in queues:
            if q:
                order.append(q.pop(0))
    return order


def _read_log(log: Path) -> dict[str, dict]:
    """Mutant id -> its result, from a run's JSON-lines log (the last line for an id wins)."""
    if not log.exists():
        return {}
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return {r["id"]: r for r in records}


def summarise(results: list[dict]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for r in results:
        for key in (r["area"], "total"):
            row = table.setdefault(key, dict.fromkeys(
                ("mutants", "killed", "timeout", "survived", "equivalent", "error"), 0))
            row["mutants"] += 1
            if r["equivalent"]:
                row["equivalent"] += 1
            else:
                row[r["status"]] += 1
    table["total"] = table.pop("total")  # last
    for row in table.values():
        scored = row["killed"] + row["timeout"] + row["survived"]
        detected = row["killed"] + row["timeout"]
        row["kill_rate_pct"] = round(100 * detected / scored, 1) if scored else 0.0
    return table


def write_results(
    sampled: list[tuple[str, Mutant]], done: dict[str, dict], args: argparse.Namespace
) -> None:
    import torch

    results = [{**done[m.id], "equivalent": EQUIVALENT.get(m.id)} for _, m in sampled
               if m.id in done]
    date = datetime.date.today().isoformat()
    out = ROOT / "benchmarks" / "results" / f"mutation-{date}-{args.label}"
    table = summarise(results)
    meta = {"date": date, "label": args.label, "seed": args.seed, "per_area": args.per_area,
            "tests_from": args.tests_from or "working tree",
            "python": sys.version.split()[0], "torch": torch.__version__,
            "command": "python -m benchmarks.mutation " + " ".join(sys.argv[1:]),
            "machine": "shared 2-core CPU, no GPU (Triton kernels under TRITON_INTERPRET=1)"}
    out.with_suffix(".json").write_text(json.dumps({**meta, "summary": table, "mutants": results},
                                                   indent=1))
    lines = [f"# Mutation testing, {args.label} ({date})", "",
             f"`{meta['command']}` (seed {args.seed}); tests from {meta['tests_from']}; "
             f"{meta['machine']}; torch {meta['torch']}. {len(results)} of the "
             f"{len(sampled)} sampled mutants measured.",
             "", "| area | mutants | killed | timeout | survived | equivalent | kill rate |",
             "|---|---|---|---|---|---|---|"]
    for area, row in table.items():
        lines.append(f"| {area} | {row['mutants']} | {row['killed']} | {row['timeout']} | "
                     f"{row['survived']} | {row['equivalent']} | {row['kill_rate_pct']}% |")
    lines += ["", "Kill rate = (killed + timeout) / (mutants - equivalent).", "",
              "## Surviving mutants", ""]
    lines += [f"- `{r['id']}`" for r in results
              if r["status"] == "survived" and not r["equivalent"]]
    lines += ["", "## Equivalent mutants (excluded)", ""]
    lines += [f"- `{r['id']}`: {r['equivalent']}" for r in results if r["equivalent"]]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
