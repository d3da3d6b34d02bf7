"""A batch of size 0 gives empty outputs and gradients of torch's shapes, on every backend."""

import pytest
import torch
from kernel_checks import DEVICE
from torch import nn

import lstm_scratch as ls

CASES = {
    "LSTM": (ls.LSTM, nn.LSTM, {}),
    "LSTM-2-layers-bidirectional": (ls.LSTM, nn.LSTM, {"num_layers": 2, "bidirectional": True}),
    "GRU-2-layers-bidirectional": (ls.GRU, nn.GRU, {"num_layers": 2, "bidirectional": True}),
    "GRU-batch-first": (ls.GRU, nn.GRU, {"batch_first": True}),
}
# triton runs on the GPU where there is one, else through Triton's CPU interpreter;
# it refuses proj_size > 0
PROJ = {"LSTM-proj": (ls.LSTM, nn.LSTM, {"proj_size": 2, "bidirectional": True})}
GRID = [
    pytest.param(*case, backend, id=f"{name}-{backend}")
    for backend in ("autograd", "bptt", "triton")
    for name, case in (CASES | (PROJ if backend != "triton" else {})).items()
]


@pytest.mark.parametrize("ours_cls, ref_cls, options, backend", GRID)
def test_stack_with_empty_batch(ours_cls, ref_cls, options, backend):
    ref = ref_cls(3, 4, **options)
    ours = ours_cls(3, 4, backend=backend, **options)
    ours.load_state_dict(ref.state_dict())
    device = DEVICE if backend == "triton" else torch.device("cpu")
    shape = (0, 5, 3) if options.get("batch_first") else (5, 0, 3)
    results = []
    for module, on in ((ref, torch.device("cpu")), (ours.to(device), device)):
        x = torch.randn(shape, device=on, requires_grad=True)
        out, state = module(x)
        states = state if isinstance(state, tuple) else (state,)
        (out.sum() + sum(s.sum() for s in states)).backward()
        grads = [p.grad.cpu() for p in module.parameters()]
        results.append((out.shape, [s.shape for s in states], x.grad.shape, grads))
    (out_ref, states_ref, gx_ref, grads_ref), (out, states, gx, grads) = results
    assert out == out_ref and states == states_ref and gx == gx_ref == shape
    for g, g_ref in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(g, g_ref)  # zeros of the parameter's shape


@pytest.mark.parametrize(
    "ours_cls, ref_cls", [(ls.LSTMCell, nn.LSTMCell), (ls.GRUCell, nn.GRUCell)],
    ids=["LSTMCell", "GRUCell"],
)
def test_cell_with_empty_batch(ours_cls, ref_cls):
    ref, ours = ref_cls(3, 4), ours_cls(3, 4)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(0, 3, requires_grad=True)
    want, got = ref(x), ours(x)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    assert [t.shape for t in got] == [t.shape for t in want] == [(0, 4)] * len(want)
    sum(t.sum() for t in got).backward()
    assert x.grad.shape == (0, 3)


def test_attention_with_empty_batch():
    ref, ours = nn.MultiheadAttention(4, 2), ls.MultiheadAttention(4, 2)
    ours.load_state_dict(ref.state_dict())
    q = torch.randn(3, 0, 4, requires_grad=True)
    (out, w), (out_ref, w_ref) = ours(q, q, q), ref(q, q, q)
    assert out.shape == out_ref.shape and w.shape == w_ref.shape
    out.sum().backward()
    assert q.grad.shape == q.shape


def test_packing_an_empty_batch_is_refused_by_torch_itself():
    """torch cannot build a PackedSequence of 0 sequences, so there is none to feed us."""
    with pytest.raises(RuntimeError, match="Cannot pack empty tensors"):
        nn.utils.rnn.pack_padded_sequence(torch.randn(2, 0, 3), torch.tensor([], dtype=torch.long))
