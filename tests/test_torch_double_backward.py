"""Second-order gradients (create_graph=True) are exact on every backend, or refused.

gradgradcheck (float64, finite differences of the backward) on every CPU backend for
the stacks with each option that changes the backward, and the cells; a gradient
penalty compared with torch's own modules; the triton backend refuses every time.
"""

import pytest
import torch
from kernel_checks import DEVICE
from torch import nn
from torch.autograd import gradcheck, gradgradcheck
from torch.func import functional_call

import lstm_scratch as ls

CPU_BACKENDS = ("autograd", "bptt")
LSTM_CASES = {
    "plain": {},
    "proj_size": {"proj_size": 2},
    "bidirectional-2-layers": pytest.param(
        {"bidirectional": True, "num_layers": 2}, marks=pytest.mark.slow
    ),
    "no-bias": {"bias": False, "proj_size": 2},
}
GRU_CASES = {
    "plain": {},
    "bidirectional-2-layers": pytest.param(
        {"bidirectional": True, "num_layers": 2}, marks=pytest.mark.slow
    ),
    "no-bias": {"bias": False},
}


def check_second_order(module: nn.Module, x: torch.Tensor, hx, lengths=None) -> None:
    """gradcheck and gradgradcheck of every output in (x, h_0 ..., every parameter)."""
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in module.parameters()]
    states = [h.detach().clone().requires_grad_() for h in hx]
    n_states = len(states)

    def run(x, *rest):
        h = tuple(rest[:n_states])
        h = h[0] if isinstance(module, ls.GRU) else h
        inputs = x
        if lengths is not None:
            inputs = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, state = functional_call(module, dict(zip(names, rest[n_states:])), (inputs, h))
        if lengths is not None:
            out = nn.utils.rnn.pad_packed_sequence(out)[0]
        state = (state,) if isinstance(state, torch.Tensor) else state
        return (out, *state)

    args = (x.detach().clone().requires_grad_(), *states, *params)
    assert gradcheck(run, args)
    assert gradgradcheck(run, args)


def _stack(cls, backend, **options):
    torch.manual_seed(0)
    return cls(2, 3, backend=backend, **options).double()


def _states(module, B):
    L = module.num_layers * module.num_directions
    return tuple(torch.randn(L, B, size, dtype=torch.float64) for size in module.state_sizes())


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("options", LSTM_CASES.values(), ids=LSTM_CASES.keys())
def test_lstm_gradgradcheck(backend, options):
    lstm = _stack(ls.LSTM, backend, **options)
    check_second_order(lstm, torch.randn(3, 2, 2, dtype=torch.float64), _states(lstm, 2))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("options", GRU_CASES.values(), ids=GRU_CASES.keys())
def test_gru_gradgradcheck(backend, options):
    gru = _stack(ls.GRU, backend, **options)
    check_second_order(gru, torch.randn(3, 2, 2, dtype=torch.float64), _states(gru, 2))


@pytest.mark.slow
@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("cls", [ls.LSTM, ls.GRU], ids=["LSTM", "GRU"])
def test_packed_gradgradcheck_with_unsorted_lengths(cls, backend):
    module = _stack(cls, backend, bidirectional=True)
    lengths = torch.tensor([2, 3, 1])  # sorted order differs from the batch order
    x = torch.randn(3, 3, 2, dtype=torch.float64)
    check_second_order(module, x, _states(module, 3), lengths)


@pytest.mark.parametrize("cls", [ls.LSTMCell, ls.GRUCell], ids=["LSTMCell", "GRUCell"])
def test_cells_gradgradcheck(cls):
    torch.manual_seed(0)
    cell = cls(2, 3).double()
    names = [n for n, _ in cell.named_parameters()]
    x = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    hx = [torch.randn(2, 3, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    if cls is ls.GRUCell:
        hx = hx[:1]

    def run(x, *rest):
        state = tuple(rest[: len(hx)]) if len(hx) == 2 else rest[0]
        return functional_call(cell, dict(zip(names, rest[len(hx) :])), (x, state))

    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    assert gradgradcheck(run, (x, *hx, *params))


def gradient_penalty_grads(module: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """d/dtheta of ||d(sum out^2)/dx||^2, the WGAN-GP style penalty, for every parameter."""
    module.zero_grad(set_to_none=True)
    x = x.detach().clone().requires_grad_()
    out = module(x)[0]
    (gx,) = torch.autograd.grad(out.pow(2).sum(), x, create_graph=True)
    gx.pow(2).sum().backward()
    return {n: p.grad for n, p in module.named_parameters()}


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize(
    "ours_cls, ref_cls, options",
    [
        (ls.LSTM, nn.LSTM, {"num_layers": 2, "proj_size": 3}),
        (ls.GRU, nn.GRU, {"num_layers": 2, "bidirectional": True}),
    ],
    ids=["LSTM", "GRU"],
)
def test_gradient_penalty_matches_torch(ours_cls, ref_cls, options, backend):
    torch.manual_seed(0)
    ref = ref_cls(4, 5, **options).double()
    ours = ours_cls(4, 5, backend=backend, **options).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(6, 3, 4, dtype=torch.float64)
    want, got = gradient_penalty_grads(ref, x), gradient_penalty_grads(ours, x)
    for name, g in want.items():
        assert got[name] is not None, f"no second-order gradient for {name}"
        assert g.abs().max() > 1e-6  # the penalty really depends on every weight
        torch.testing.assert_close(got[name], g, rtol=0, atol=1e-10, msg=name)


def test_first_order_backward_builds_no_graph():
    """Without create_graph the fast hand-written backward runs: no graph is built."""
    lstm = ls.LSTM(2, 3, backend="bptt")
    x = torch.randn(4, 2, 2, requires_grad=True)
    (gx,) = torch.autograd.grad(lstm(x)[0].sum(), x)
    assert gx.grad_fn is None


@pytest.mark.parametrize("cls", [ls.LSTM, ls.GRU], ids=["LSTM", "GRU"])
def test_triton_refuses_double_backward_every_time(cls):
    torch.manual_seed(0)
    module = cls(2, 3, backend="triton", device=DEVICE)
    x = torch.randn(2, 1, 2, device=DEVICE, requires_grad=True)
    (gx,) = torch.autograd.grad(module(x)[0].sum(), x)  # first order works
    assert gx.shape == x.shape
    for _ in range(2):
        with pytest.raises(RuntimeError, match="backend='triton' has no double backward"):
            torch.autograd.grad(module(x)[0].sum(), x, create_graph=True)
