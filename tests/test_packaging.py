"""How the library installs and what importing it costs.

The Triton kernels live in the repository's kernels/ folder but install inside the
package, as `lstm_scratch.kernels` (setup.py's package_dir): a top-level `kernels` would
collide with a published package of that name. In a checkout, the editable install
(`make install`, `pip install -e .`: setuptools' import finder) maps the same name to
kernels/. `import lstm_scratch` imports its names on first use, so it and
`lstm-scratch --help` load neither torch nor the forecasting stack.
"""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import lstm_scratch as ls
from lstm_scratch import kernels

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL_KERNELS = re.compile(r"^\s*(import kernels\b|from kernels\b)|-m kernels\.", re.M)
HEAVY = ("torch", "lstm_scratch.forecasting", "matplotlib", "tqdm", "pandas")


def python(code: str) -> str:
    """Run code in a fresh interpreter (in the checkout's root, so its package comes first);
    return the last line it printed."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def loaded(prefixes: tuple[str, ...]) -> str:
    """Python source that prints which of these modules (or their submodules) are loaded."""
    return (
        f"print(sorted({{p for p in {prefixes!r} for m in sys.modules "
        "if m == p or m.startswith(p + '.')}))"
    )


# --- packaging ----------------------------------------------------------------------------
def top_level_kernel_imports(text: str) -> list[str]:
    return [match.group(0).strip() for match in TOP_LEVEL_KERNELS.finditer(text)]


def test_the_scan_for_top_level_kernel_imports_sees_one():
    planted = "import torch\nfrom kernels.common import LAUNCHES\n"
    assert top_level_kernel_imports(planted) == ["from kernels"]
    assert top_level_kernel_imports("python -m kernels.compile_check") == ["-m kernels."]
    assert top_level_kernel_imports("from lstm_scratch.kernels import common\n") == []


def test_nothing_imports_a_top_level_kernels_package():
    """Run from the repository root, kernels/ is also importable as `kernels`: a second copy
    of every kernel module, with its own launch counters. Nothing may use that name."""
    hits = []
    for folder in ("lstm_scratch", "kernels", "tests", "benchmarks", "notebooks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == Path(__file__):  # its planted examples
                continue
            for hit in top_level_kernel_imports(path.read_text(encoding="utf-8")):
                hits.append(f"{path.relative_to(ROOT)}: {hit}")
    for name in ("README.md", "Makefile"):
        hits += [f"{name}: {hit}" for hit in top_level_kernel_imports((ROOT / name).read_text())]
    assert hits == []


def test_lstm_scratch_kernels_is_this_checkouts_kernels_folder():
    """Otherwise the tests would run some other copy of the kernels (a stale install)."""
    assert Path(ls.__file__).parent == ROOT / "lstm_scratch"
    assert Path(kernels.__file__).parent == ROOT / "kernels", (
        f"lstm_scratch.kernels is {kernels.__file__}, not {ROOT / 'kernels'}: install this "
        "checkout in editable mode (make install, or pip install -e .)"
    )


def test_the_wheel_holds_the_kernels_inside_the_package(tmp_path):
    """Build the wheel from a copy of the sources and read what it would install."""
    source = tmp_path / "source"
    for name in ("lstm_scratch", "kernels"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "wheel"), str(source)],
        check=True, capture_output=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    (wheel,) = (tmp_path / "wheel").glob("lstm_scratch-*.whl")
    assert wheel.name.startswith(f"lstm_scratch-{ls.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {
        "lstm_scratch", f"lstm_scratch-{ls.__version__}.dist-info"
    }
    kernel_files = {f"lstm_scratch/kernels/{p.name}" for p in (ROOT / "kernels").glob("*.py")}
    assert len(kernel_files) > 5 and kernel_files <= set(names)
    top_level = f"lstm_scratch-{ls.__version__}.dist-info/top_level.txt"
    assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["lstm_scratch"]


# --- import time --------------------------------------------------------------------------
def test_import_lstm_scratch_loads_no_torch_and_no_forecasting():
    assert python("import sys, lstm_scratch; " + loaded(HEAVY)) == "[]"


def test_a_layer_loads_torch_but_not_the_forecasting_stack():
    """torch itself imports tqdm (torch.hub) when it is installed: compare with torch alone."""
    code = (
        "import sys, torch; before = set(sys.modules); import lstm_scratch as ls; "
        "ls.LSTM, ls.GRU, ls.TCN, ls.MultiheadAttention, ls.functional, ls.explain_backend; "
        "import lstm_scratch.kernels; "
        "new = set(sys.modules) - before; "
        "print(sorted({p for p in " + repr(HEAVY[1:]) + " for m in new "
        "if m == p or m.startswith(p + '.')}))"
    )
    assert python(code) == "[]"


def test_cli_help_loads_no_torch_and_no_numpy():
    code = (
        "import contextlib, io, sys; from lstm_scratch.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out: code = main(['--help'])\n"
        "assert code == 0 and 'train' in out.getvalue()\n" + loaded((*HEAVY, "numpy"))
    )
    assert python(code) == "[]"


def test_every_public_name_is_there_on_first_use():
    for name in ls.__all__:
        assert getattr(ls, name) is not None
        assert name in dir(ls)
    assert ls.forecasting.Forecaster is ls.Forecaster and ls.GRU is ls.gru.GRU
    assert ls.cells.__name__ == "lstm_scratch.cells"  # any submodule, as with eager imports
    with pytest.raises(AttributeError, match="has no attribute 'Nonexistent'"):
        ls.Nonexistent  # noqa: B018
