"""The one place the number of torch threads for forecasting is chosen.

Forecasting networks are small: each op is microseconds of work, so splitting it over
OpenMP threads costs more in fork/join than it saves, and on a shared machine a thread
waiting for a busy core stalls every op. benchmarks/threads.py measures it (results in
benchmarks/results/threads-*.md): one thread fits the CLI demo's model faster than two.
Forecaster(num_threads=None) leaves torch's own setting alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

DEFAULT_THREADS = 1


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with torch using n intra-op threads (None: unchanged), then restore."""
    if n is None:
        yield
        return
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"num_threads should be a positive int or None, got {n!r}")
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
