"""The benchmark harness runs its tiny CPU grid and writes its three result files."""

import json

from benchmarks import kernels as bench


def test_benchmark_quick_mode_writes_json_markdown_and_plot(tmp_path):
    path = bench.main(["--quick", "--out", str(tmp_path)])
    data = json.loads(path.read_text())
    assert data["device"] and data["torch"] and data["triton"]
    names = {row["contender"] for row in data["rows"]}
    assert {"cudnn", "triton"} <= names
    for row in data["rows"]:
        assert row["fwd_ms"] > 0 and row["fwd_bwd_ms"] > 0 and row["tokens_per_s"] > 0
    assert path.with_suffix(".md").read_text().startswith("# Kernel benchmark")
    assert path.with_suffix(".png").stat().st_size > 0


def test_render_rewrites_the_markdown_from_the_json(tmp_path):
    path = bench.main(["--quick", "--out", str(tmp_path)])
    path.with_suffix(".md").unlink()
    assert bench.main(["--render", str(path)]) == path
    assert "| LSTM | fp32 | 2 | 8 |" in path.with_suffix(".md").read_text()
