"""GRUCell and GRU vs torch.nn.GRUCell and torch.nn.GRU.

Each parity case loads torch's state_dict into ours, runs both on the same input,
backprops the same random upstream gradient and compares the output, h_n, the gradients
of the input and h_0, and the gradient of every parameter.
"""

import itertools

import pytest
import torch
from helpers import TOL, assert_same_run
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import lstm_scratch as ls
from lstm_scratch import backends
from lstm_scratch import functional as F

T, B, I, H = 5, 3, 4, 6
# every backend that runs on the CPU without an interpreter
CPU_BACKENDS = [b for b in backends.ORDER if b != "triton"]
BACKENDS = pytest.mark.parametrize("backend", CPU_BACKENDS)
DTYPES = pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["fp64", "fp32"])

GRID = list(
    itertools.product(
        [True, False],  # bias
        [False, True],  # batch_first
        [False, True],  # bidirectional
        [1, 3],  # num_layers
        ["batched", "unbatched", "packed"],  # input form
        [False, True],  # with h_0
    )
)


def make_case(bias, batch_first, bidirectional, layers, form, with_hx, dtype, dropout=0.0,
              backend="auto"):
    torch.manual_seed(0)
    kwargs = dict(
        num_layers=layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional,
        dropout=dropout,
    )
    ref = nn.GRU(I, H, **kwargs).to(dtype)
    ours = ls.GRU(I, H, **kwargs, backend=backend).to(dtype)
    ours.load_state_dict(ref.state_dict())
    D = 2 if bidirectional else 1
    shape = (B, T, I) if batch_first else (T, B, I)
    inputs = [torch.randn(shape if form != "unbatched" else (T, I), dtype=dtype)]
    if with_hx:
        batch = () if form == "unbatched" else (B,)
        inputs.append(torch.randn(layers * D, *batch, H, dtype=dtype))
    # unsorted, with a full-length and a length-1 sequence; the sort is a 3-cycle, so
    # sorted_indices [1, 2, 0] and unsorted_indices [2, 0, 1] differ
    lengths = torch.tensor([1, T, 3])

    def call(module, x, *hx):
        if form == "packed":
            x = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        return module(x, *hx)

    return ours, ref, inputs, call


@BACKENDS
@pytest.mark.parametrize("case", GRID, ids=lambda c: "-".join(map(str, c)))
def test_gru_matches_torch_fp64(case, backend):
    ours, ref, inputs, call = make_case(*case, torch.float64, backend=backend)
    assert_same_run(ours, ref, inputs, call, TOL[torch.float64])


# float32 on the two-direction, three-layer half of the grid (the longest computations)
@BACKENDS
@pytest.mark.parametrize("case", [c for c in GRID if c[2] and c[3] == 3],
                         ids=lambda c: "-".join(map(str, c)))
def test_gru_matches_torch_fp32(case, backend):
    ours, ref, inputs, call = make_case(*case, torch.float32, backend=backend)
    assert_same_run(ours, ref, inputs, call, TOL[torch.float32])


@BACKENDS
@pytest.mark.parametrize("dropout, train", [(1.0, True), (0.5, False)])
def test_gru_dropout_at_p1_and_in_eval_matches_torch(dropout, train, backend):
    case = (True, False, True, 3, "batched", True, torch.float64, dropout, backend)
    ours, ref, inputs, call = make_case(*case)
    ours.train(train)
    ref.train(train)
    assert_same_run(ours, ref, inputs, call, TOL[torch.float64])


@DTYPES
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("form", ["batched", "unbatched", "no_hx"])
def test_gru_cell_matches_torch(bias, form, dtype):
    torch.manual_seed(0)
    ref = nn.GRUCell(I, H, bias=bias).to(dtype)
    ours = ls.GRUCell(I, H, bias=bias).to(dtype)
    ours.load_state_dict(ref.state_dict())
    batch = () if form == "unbatched" else (B,)
    inputs = [torch.randn(*batch, I, dtype=dtype)]
    if form != "no_hx":
        inputs.append(torch.randn(*batch, H, dtype=dtype))
    assert_same_run(ours, ref, inputs, lambda m, *a: m(*a), TOL[dtype])


def test_state_dict_moves_both_ways():
    ref = nn.GRU(I, H, num_layers=2, bidirectional=True)
    ours = ls.GRU(I, H, num_layers=2, bidirectional=True)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [p.shape for p in ours.parameters()] == [p.shape for p in ref.parameters()]
    ref.load_state_dict(ours.state_dict())  # ours -> torch
    x = torch.randn(T, B, I)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=1e-5, rtol=0)
    cell_ref, cell = nn.GRUCell(I, H), ls.GRUCell(I, H)
    cell_ref.load_state_dict(cell.state_dict())
    torch.testing.assert_close(cell(x[0]), cell_ref(x[0]), atol=1e-5, rtol=0)


@BACKENDS
def test_long_sequence_matches(backend):
    """A longer run, where a small per-step error would accumulate."""
    torch.manual_seed(1)
    ref = nn.GRU(8, 16, num_layers=2).double()
    ours = ls.GRU(8, 16, num_layers=2, backend=backend).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(100, 4, 8, dtype=torch.float64)
    assert_same_run(ours, ref, [x], lambda m, x: m(x), 1e-10)


def test_reset_after_differs_from_cho_reset_before():
    """Our n_t resets W_hn h + b_hn (torch's form), not W_hn (r * h) (Cho et al. 2014)."""
    torch.manual_seed(2)
    cell = ls.GRUCell(I, H, init="pytorch").double()
    x, h = torch.randn(B, I, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)
    xw = F.linear(x, cell.weight_ih, cell.bias_ih).chunk(3, -1)
    hw = F.linear(h, cell.weight_hh, cell.bias_hh).chunk(3, -1)
    W_hn, b_hn = cell.weight_hh[2 * H :], cell.bias_hh[2 * H :]
    r, z = torch.sigmoid(xw[0] + hw[0]), torch.sigmoid(xw[1] + hw[1])
    before = (1 - z) * torch.tanh(xw[2] + F.linear(r * h, W_hn, b_hn)) + z * h
    after = (1 - z) * torch.tanh(xw[2] + r * F.linear(h, W_hn, b_hn)) + z * h
    out = cell(x, h)
    torch.testing.assert_close(out, after, atol=1e-12, rtol=0)
    assert (out - before).abs().max() > 1e-3


@pytest.mark.parametrize("layer_norm", [False, True])
def test_gradcheck(layer_norm):
    torch.manual_seed(3)
    gru = ls.GRU(2, 3, num_layers=2, bidirectional=True, layer_norm=layer_norm).double()
    x = torch.randn(3, 2, 2, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    params = list(gru.parameters())
    names = [n for n, _ in gru.named_parameters()]

    def f(x, h0, *ps):
        out, h_n = torch.func.functional_call(gru, dict(zip(names, ps, strict=True)), (x, h0))
        return out, h_n

    assert torch.autograd.gradcheck(f, (x, h0, *params))


def test_layer_norm_gru_matches_its_equations():
    """layer_norm=True: gates from LN(W_ih x; a_x) + b_ih and LN(W_hh h; a_h) + b_hh."""
    torch.manual_seed(4)
    cell = ls.GRUCell(I, H, layer_norm=True).double()
    with torch.no_grad():
        for p in cell.parameters():
            p.normal_()
    x, h = torch.randn(B, I, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)

    def ln(v, gain):
        return (v - v.mean(-1, keepdim=True)) / (v.var(-1, unbiased=False, keepdim=True)
                                                 + 1e-5).sqrt() * gain

    xw = (ln(x @ cell.weight_ih.T, cell.ln_ih_weight) + cell.bias_ih).chunk(3, -1)
    hw = (ln(h @ cell.weight_hh.T, cell.ln_hh_weight) + cell.bias_hh).chunk(3, -1)
    r, z = torch.sigmoid(xw[0] + hw[0]), torch.sigmoid(xw[1] + hw[1])
    expected = (1 - z) * torch.tanh(xw[2] + r * hw[2]) + z * h
    torch.testing.assert_close(cell(x, h), expected, atol=1e-12, rtol=0)
    # the stacked GRU runs the same cell
    gru = ls.GRU(I, H, layer_norm=True).double()
    gru.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    torch.testing.assert_close(gru(x.unsqueeze(0), h.unsqueeze(0))[1][0], expected,
                               atol=1e-12, rtol=0)


def test_update_gate_gets_the_forget_bias():
    gru = ls.GRU(I, H)
    assert torch.equal(gru.bias_ih_l0[H : 2 * H], torch.ones(H))  # z block
    assert torch.equal(gru.bias_ih_l0[:H], torch.zeros(H))
    assert torch.equal(gru.bias_hh_l0, torch.zeros(3 * H))


@pytest.mark.parametrize(
    "name, args, call, error, match",
    [
        ("GRU", (I, H), lambda m: m(torch.randn(T, B, I + 1)), RuntimeError,
         "input.size\\(-1\\) must be equal to input_size. Expected 4, got 5"),
        ("GRU", (I, H), lambda m: m(torch.randn(T, B, I), torch.randn(1, B + 1, H)),
         RuntimeError, "Expected hidden size \\(1, 3, 6\\), got \\[1, 4, 6\\]"),
        ("GRU", (I, H), lambda m: m(torch.randn(T, B, I), torch.randn(B, H)),
         RuntimeError, "For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
        ("GRUCell", (I, H), lambda m: m(torch.randn(B, I + 1)), RuntimeError,
         "input has inconsistent input_size: got 5 expected 4"),
        ("GRUCell", (I, H), lambda m: m(torch.randn(B, I), torch.randn(B, H + 1)),
         RuntimeError, "hidden0 has inconsistent hidden_size: got 7, expected 6"),
        ("GRUCell", (I, H), lambda m: m(torch.randn(B, I), torch.randn(B + 1, H)),
         RuntimeError, "Input batch size 3 doesn't match hidden0 batch size 4"),
        ("GRUCell", (I, H), lambda m: m(torch.randn(2, B, I)), ValueError,
         "GRUCell: Expected input to be 1D or 2D, got 3D instead"),
    ],
)
def test_bad_input_errors_match_torch(name, args, call, error, match):
    """Ours raises torch's exception type and message for the same mistake."""
    for cls in (getattr(ls, name), getattr(nn, name)):
        with pytest.raises(error, match=match):
            module = cls(*args)
            call(module)


def test_proj_size_is_refused_like_torch():
    for cls in (ls.GRU, nn.GRU):
        with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
            cls(I, H, proj_size=2)


def test_bad_input_errors_of_our_own():
    with pytest.raises(TypeError, match="hx should be a Tensor"):
        ls.GRU(I, H)(torch.randn(T, B, I), (torch.randn(1, B, H),))
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        ls.GRU(I, 0)
    with pytest.raises(ValueError, match="backend must be one of"):
        ls.GRU(I, H, backend="cudnn")
