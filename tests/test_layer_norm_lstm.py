"""Layer-normalised LSTM (Ba, Kiros & Hinton 2016, eqs. 20-22) against an independent
step-by-step reference written here with torch's own layer_norm, plus gradcheck.
"""

import pytest
import torch
import torch.nn.functional as tF

import lstm_scratch as ls


def reference_ln_lstm(x, h, c, p, eps=1e-5):
    """Eqs. 20-22 written from the paper, one step at a time, with torch's F.layer_norm."""
    H = c.shape[-1]
    outputs = []
    for x_t in x:
        gates = (
            tF.layer_norm(h @ p["weight_hh"].T, (4 * H,), p["ln_hh_weight"], None, eps)
            + tF.layer_norm(x_t @ p["weight_ih"].T, (4 * H,), p["ln_ih_weight"], None, eps)
            + p["gate_bias"]
        )
        i, f, g, o = gates.split(H, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(
            tF.layer_norm(c, (H,), p["ln_cell_weight"], p["ln_cell_bias"], eps)
        )
        outputs.append(h)
    return torch.stack(outputs), h, c


def randomise(module):
    """Random values everywhere, so gains and shifts are not their trivial 1 and 0."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p))


def test_layer_norm_lstm_matches_paper_reference():
    torch.manual_seed(0)
    lstm = ls.LSTM(3, 5, layer_norm=True).double()
    randomise(lstm)
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    h0 = torch.randn(1, 2, 5, dtype=torch.float64)
    c0 = torch.randn(1, 2, 5, dtype=torch.float64)
    out, (h, c) = lstm(x, (h0, c0))
    params = {n.removesuffix("_l0"): p for n, p in lstm.named_parameters()}
    ref_out, ref_h, ref_c = reference_ln_lstm(x, h0[0], c0[0], params)
    torch.testing.assert_close(out, ref_out, atol=1e-12, rtol=0)
    torch.testing.assert_close(h[0], ref_h, atol=1e-12, rtol=0)
    torch.testing.assert_close(c[0], ref_c, atol=1e-12, rtol=0)


def test_layer_norm_cell_equals_one_step_of_the_layer():
    torch.manual_seed(0)
    cell = ls.LSTMCell(3, 5, layer_norm=True).double()
    randomise(cell)
    layer = ls.LSTM(3, 5, layer_norm=True).double()
    layer.load_state_dict({n + "_l0": p for n, p in cell.state_dict().items()})
    x = torch.randn(1, 4, 3, dtype=torch.float64)
    out, (h, c) = layer(x)
    h_cell, c_cell = cell(x[0])
    torch.testing.assert_close(h_cell, h[0], atol=1e-12, rtol=0)
    torch.testing.assert_close(c_cell, c[0], atol=1e-12, rtol=0)


def test_layer_norm_parameter_names_and_single_bias():
    shapes = {n: tuple(p.shape) for n, p in ls.LSTMCell(3, 5, layer_norm=True).named_parameters()}
    assert shapes == {
        "weight_ih": (20, 3), "weight_hh": (20, 5), "ln_ih_weight": (20,),
        "ln_hh_weight": (20,), "ln_cell_weight": (5,), "gate_bias": (20,), "ln_cell_bias": (5,),
    }


@pytest.mark.parametrize("bidirectional,proj", [(False, 0), (True, 2)])
def test_layer_norm_stack_gradcheck(bidirectional, proj):
    torch.manual_seed(0)
    lstm = ls.LSTM(2, 3, num_layers=2, bidirectional=bidirectional, proj_size=proj,
                   layer_norm=True).double()
    randomise(lstm)
    names = [n for n, _ in lstm.named_parameters()]

    def f(x, *weights):
        out, (h, c) = torch.func.functional_call(lstm, dict(zip(names, weights)), (x,))
        return out, h, c

    x = torch.randn(3, 2, 2, dtype=torch.float64, requires_grad=True)
    weights = [p.detach().clone().requires_grad_() for p in lstm.parameters()]
    assert torch.autograd.gradcheck(f, (x, *weights))
