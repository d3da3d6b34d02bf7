"""Tracing, export and scripting: what the drop-in modules do under each of torch's tools.

    torch.compile                 runs as in eager, hand-written autograd.Functions included
    torch.jit.trace               record the ops of one run; while they record, the
    torch.export.export           backends' autograd.Functions are passed over (`recording`)
    torch.onnx.export (both)      and the autograd step loop runs: same result, and a
                                  program of primitive ops that runs forward and backward
    torch.jit.script              refused (`NotScriptable`): TorchScript compiles Python
                                  source, and ours uses Python it does not accept

nn.LSTM under each is the reference: tests/test_torch_export.py runs every program
produced and compares it with eager, forward and backward.
"""

from __future__ import annotations

from typing import NoReturn

import torch


def recording() -> bool:
    """True while a tracer or exporter records the model as a program of primitive ops."""
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export() or torch.compiler.is_exporting()


class NotScriptable:
    """Mixin: `torch.jit.script` raises a clear error instead of failing deep in our code."""

    def __prepare_scriptable__(self) -> NoReturn:
        raise RuntimeError(
            f"torch.jit.script does not support lstm_scratch's {type(self).__name__}: "
            "TorchScript compiles the Python source, and ours uses Python it does not accept. "
            "Use torch.jit.trace, torch.export.export, torch.onnx.export or torch.compile, "
            "which are tested to give the eager result."
        )
