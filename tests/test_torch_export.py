"""Tracing, export and compilation give programs that compute what eager does, or refuse.

For each drop-in module and each of torch's tools, the program produced is run on a
new input (not the example it was traced with: a traced constant would show) and
compared with eager, forward and, where the program can be differentiated, backward.
nn.LSTM & co. are the reference for what should work: each case runs torch's module
through the same tool first.
"""

import io

import onnxruntime
import pytest
import torch
from torch import nn

import lstm_scratch as ls
from lstm_scratch import backends

CASES = {  # name: (ours, torch's, example inputs)
    "LSTM": (
        lambda: ls.LSTM(3, 4, bidirectional=True),
        lambda: nn.LSTM(3, 4, bidirectional=True),
        lambda: (torch.randn(3, 2, 3),),
    ),
    "GRU": (
        lambda: ls.GRU(3, 4, batch_first=True),
        lambda: nn.GRU(3, 4, batch_first=True),
        lambda: (torch.randn(2, 3, 3),),
    ),
    "LSTMCell": (ls.LSTMCell, nn.LSTMCell, lambda: (torch.randn(2, 3),)),
    "GRUCell": (ls.GRUCell, nn.GRUCell, lambda: (torch.randn(2, 3),)),
    "MultiheadAttention": (
        lambda: ls.MultiheadAttention(4, 2),
        lambda: nn.MultiheadAttention(4, 2),
        lambda: (torch.randn(3, 2, 4), torch.randn(3, 2, 4), torch.randn(3, 2, 4)),
    ),
}


class Flat(nn.Module):
    """The module with its result flattened to a tuple of tensors, as exporters want."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        def flat(r):
            return (r,) if isinstance(r, torch.Tensor) else tuple(t for x in r for t in flat(x))

        return flat(self.module(*inputs))


def pair(name: str) -> tuple[nn.Module, nn.Module, tuple[torch.Tensor, ...]]:
    make_ours, make_ref, make_inputs = CASES[name]
    torch.manual_seed(0)
    args = (3, 4) if name.endswith("Cell") else ()
    ref = make_ref(*args)
    ours = make_ours(*args)
    ours.load_state_dict(ref.state_dict())
    return Flat(ours).eval(), Flat(ref).eval(), make_inputs()


def new_inputs(inputs):
    """Fresh values of the example's shapes. (Aliasing is part of what a trace records:
    attention traced with query is key is self-attention for torch's module too.)"""
    torch.manual_seed(1)
    return tuple(torch.randn_like(x) for x in inputs)


def assert_program_matches(program, eager: nn.Module, inputs, backward: bool) -> None:
    """program(*inputs) == eager(*inputs), and so are the input and weight gradients."""
    results = []
    for f in (program, eager):
        leaves = tuple(x.clone().requires_grad_(backward) for x in inputs)
        eager.zero_grad(set_to_none=True)
        outputs = f(*leaves)
        grads = []
        if backward:
            sum(o.square().sum() for o in outputs).backward()
            grads = [x.grad for x in leaves] + [p.grad for p in eager.parameters()]
        results.append(([o.detach() for o in outputs], grads))
    (out, grads), (out_ref, grads_ref) = results
    torch.testing.assert_close(out, out_ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grads, grads_ref, rtol=1e-5, atol=1e-5)


def traced(module, inputs):
    return torch.jit.trace(module, inputs)


def exported(module, inputs):
    return torch.export.export(module, inputs).module()


def compiled(module, inputs):
    return torch.compile(module, backend="aot_eager", fullgraph=False)


@pytest.mark.parametrize(
    "tool",
    [traced, exported, pytest.param(compiled, marks=pytest.mark.slow)],
    ids=["jit.trace", "export", "compile"],
)
@pytest.mark.parametrize("name", CASES)
def test_traced_exported_and_compiled_programs_match_eager(name, tool):
    ours, ref, inputs = pair(name)
    with torch.no_grad():
        ref_program = tool(ref, inputs)  # torch's module goes through the same tool
    assert_program_matches(ref_program, ref, new_inputs(inputs), backward=True)
    with torch.no_grad():
        program = tool(ours, inputs)
    assert_program_matches(program, ours, new_inputs(inputs), backward=True)


def run_onnx(model: bytes, inputs) -> list[torch.Tensor]:
    session = onnxruntime.InferenceSession(model)
    names = [i.name for i in session.get_inputs()]
    assert len(names) == len(inputs), f"the ONNX graph takes {len(names)} inputs"
    feed = {n: x.numpy() for n, x in zip(names, inputs)}
    return [torch.from_numpy(y) for y in session.run(None, feed)]


def onnx_bytes(module, inputs, dynamo: bool) -> bytes:
    if dynamo:
        program = torch.onnx.export(module, inputs, dynamo=True, verbose=False)
        return program.model_proto.SerializeToString()
    buffer = io.BytesIO()
    torch.onnx.export(module, inputs, buffer, dynamo=False)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "dynamo", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["legacy", "dynamo"]
)
@pytest.mark.parametrize("name", CASES)
def test_onnx_programs_run_in_onnxruntime_like_eager(name, dynamo):
    ours, ref, inputs = pair(name)
    x = new_inputs(inputs)
    for module in (ref, ours):
        got = run_onnx(onnx_bytes(module, inputs, dynamo), x)
        with torch.no_grad():
            want = module(*x)
        torch.testing.assert_close(got, list(want), rtol=1e-5, atol=1e-5)


def test_an_explicit_hand_written_backend_refuses_to_be_traced():
    lstm = ls.LSTM(3, 4, backend="bptt")
    with pytest.raises(ValueError, match="being traced or exported"):
        torch.jit.trace(lstm, (torch.randn(5, 2, 3),))
    x = torch.randn(5, 2, 3)
    lstm.backend = "auto"
    assert backends.choose(lstm, x) == "bptt"  # outside a trace the fast path runs


@pytest.mark.parametrize("name", CASES)
def test_jit_script_refuses_with_a_clear_error(name):
    ours, ref, _ = pair(name)
    torch.jit.script(ref.module)  # torch's scripts
    with pytest.raises(RuntimeError, match="torch.jit.script does not support lstm_scratch"):
        torch.jit.script(ours.module)
