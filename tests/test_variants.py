"""LSTM variants: each against a step-by-step reference written here, gradients, regularisers.

The reference below reads each gate's rows out of the stacked weights by the order the
variants document (torch's i, f, g, o minus the gates a variant drops) and writes the
equations of Greff et al. (2017) out one by one.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

import lstm_scratch as ls
from lstm_scratch.cells import VariantLSTM
from lstm_scratch.layer import run_layer

VARIANTS = ("vanilla", "NIG", "NFG", "NOG", "NIAF", "NOAF", "CIFG", "NP")
ORDER = {"NIG": "fgo", "NFG": "igo", "NOG": "ifg", "CIFG": "fgo"}  # others: "ifgo"
PEEPHOLES = {"NIG": "fo", "NFG": "io", "NOG": "if", "CIFG": "fo"}  # others: "ifo"
I, H, P, B, T = 3, 5, 2, 4, 6


def layer_params(model: nn.Module, layer: int, reverse: bool = False) -> dict:
    suffix = f"_l{layer}" + ("_reverse" if reverse else "")
    return {n[: -len(suffix)]: p for n, p in model.named_parameters() if n.endswith(suffix)}


def reference_step(variant, p, x, h, c, zoneout=0.0, x_mask=None, h_mask=None):
    """One step of Greff et al.'s equations, gate by gate; zoneout as its expectation."""
    order = ORDER.get(variant, "ifgo")
    xin = x if x_mask is None else x * x_mask
    hin = h if h_mask is None else h * h_mask

    def pre(gate):
        rows = slice(order.index(gate) * H, (order.index(gate) + 1) * H)
        z = xin @ p["weight_ih"][rows].T + hin @ p["weight_hh"][rows].T
        if "bias_ih" in p:
            z = z + p["bias_ih"][rows] + p["bias_hh"][rows]
        return z

    def peep(gate, cell):
        w = p.get(f"weight_c{gate}")
        return 0.0 if w is None else w * cell

    one = torch.ones_like(c)
    f = one if variant == "NFG" else torch.sigmoid(pre("f") + peep("f", c))
    if variant == "NIG":
        i = one
    elif variant == "CIFG":
        i = 1 - f
    else:
        i = torch.sigmoid(pre("i") + peep("i", c))
    g = pre("g") if variant == "NIAF" else torch.tanh(pre("g"))
    c_new = f * c + i * g
    o = one if variant == "NOG" else torch.sigmoid(pre("o") + peep("o", c_new))
    h_new = o * (c_new if variant == "NOAF" else torch.tanh(c_new))
    if "weight_hr" in p:
        h_new = h_new @ p["weight_hr"].T
    return zoneout * h + (1 - zoneout) * h_new, zoneout * c + (1 - zoneout) * c_new


def reference_stack(model, x, zoneout=0.0, masks=None):
    """StackedLSTM (T, B, I) from zero state, layer by layer, direction by direction."""
    outs_all = x
    for layer in range(model.num_layers):
        outs = []
        for d, reverse in enumerate(model.directions):
            p = layer_params(model, layer, reverse)
            xm, hm = masks[(layer, d)] if masks else (None, None)
            h = x.new_zeros(x.size(1), model.output_size)
            c = x.new_zeros(x.size(1), H)
            steps = range(T - 1, -1, -1) if reverse else range(T)
            out = [None] * T
            for t in steps:
                h, c = reference_step(model.variant, p, outs_all[t], h, c, zoneout, xm, hm)
                out[t] = h
            outs.append(torch.stack(out))
        outs_all = torch.cat(outs, dim=-1)
    return outs_all


def randomise_(model):
    """Random values everywhere, peepholes included (they start at zero)."""
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.6, 0.6)
    return model


def cases():
    for v in VARIANTS:
        yield v, False
        if v != "NP":
            yield v, True


# --- parity with torch when every option is off ------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"variant": "NP"}, {"zoneout": 0.0, "dropout_mode": "variational", "dropout": 0.0}],
)
def test_default_options_keep_nn_lstm_parity(options):
    torch.manual_seed(0)
    ref = nn.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P, dtype=torch.float64)
    ours = ls.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P, dtype=torch.float64,
                   **options)
    assert not ours.uses_variant
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(T, B, I, dtype=torch.float64)
    out_r, (h_r, c_r) = ref(x)
    out_o, (h_o, c_o) = ours(x)
    (out_r.sum() + c_r.sum()).backward()
    (out_o.sum() + c_o.sum()).backward()
    torch.testing.assert_close(out_o, out_r, atol=1e-10, rtol=0)
    torch.testing.assert_close(c_o, c_r, atol=1e-10, rtol=0)
    for (name, a), b in zip(ours.named_parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-10, rtol=0, msg=name)


def test_default_cell_keeps_nn_lstmcell_parity():
    ref = nn.LSTMCell(I, H, dtype=torch.float64)
    ours = ls.LSTMCell(I, H, variant="NP", dtype=torch.float64)
    ours.load_state_dict(ref.state_dict())
    x, h, c = (torch.randn(B, n, dtype=torch.float64) for n in (I, H, H))
    for a, b in zip(ours(x, (h, c)), ref(x, (h, c)), strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


# --- every variant against the reference -------------------------------------------------


@pytest.mark.parametrize("variant, peephole", list(cases()))
def test_stack_matches_reference(variant, peephole):
    torch.manual_seed(1)
    model = randomise_(ls.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P,
                               variant=variant, peephole=peephole, dtype=torch.float64))
    x = torch.randn(T, B, I, dtype=torch.float64)
    out, _ = model(x)
    torch.testing.assert_close(out, reference_stack(model, x), atol=1e-10, rtol=0)


@pytest.mark.parametrize("variant, peephole", list(cases()))
def test_cell_matches_reference(variant, peephole):
    torch.manual_seed(2)
    cell = randomise_(ls.LSTMCell(I, H, variant=variant, peephole=peephole,
                                  dtype=torch.float64))
    x, h, c = (torch.randn(B, n, dtype=torch.float64) for n in (I, H, H))
    p = dict(cell.named_parameters())
    for a, b in zip(cell(x, (h, c)), reference_step(variant, p, x, h, c), strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_gradcheck_float64(variant):
    torch.manual_seed(3)
    peephole = variant != "NP"
    model = randomise_(ls.LSTM(2, 3, proj_size=2, variant=variant, peephole=peephole,
                               zoneout=0.3, dtype=torch.float64)).eval()
    params = layer_params(model, 0)
    names = list(params)
    x = torch.randn(3, 2, 2, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)

    def f(x, h0, c0, *weights):
        cell = VariantLSTM(variant, peephole, zoneout=0.3)  # evaluation mode: no randomness
        out, (h, c) = run_layer(cell, x, (h0, c0), dict(zip(names, weights, strict=True)))
        return out, c

    weights = [w.detach().clone().requires_grad_() for w in params.values()]
    assert torch.autograd.gradcheck(f, (x, h0, c0, *weights))


def test_packed_input_equals_each_sequence_alone():
    torch.manual_seed(4)
    model = randomise_(ls.LSTM(I, H, variant="CIFG", peephole=True, zoneout=0.2,
                               bidirectional=True, dtype=torch.float64)).eval()
    seqs = [torch.randn(n, I, dtype=torch.float64) for n in (5, 2, 4)]
    packed = nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
    _, (h_n, c_n) = model(packed)
    for b, s in enumerate(seqs):
        _, (h, c) = model(s)
        torch.testing.assert_close(h_n[:, b], h, atol=1e-10, rtol=0)
        torch.testing.assert_close(c_n[:, b], c, atol=1e-10, rtol=0)


# --- variational dropout -------------------------------------------------------------------


def test_variational_mask_same_across_time_differs_across_sequences():
    torch.manual_seed(5)
    model = ls.LSTM(8, H, dropout=0.5, dropout_mode="variational").train()
    x = torch.randn(T, 16, 8, requires_grad=True)
    h0 = torch.randn(1, 16, H, requires_grad=True)
    out, _ = model(x, (h0, torch.zeros(1, 16, H)))
    out.sum().backward()
    dropped = x.grad == 0  # (T, B, I): an input feature dropped at every step or none
    assert (dropped == dropped[0]).all()
    assert 0.2 < dropped[0].float().mean() < 0.8
    assert len({tuple(row.tolist()) for row in dropped[0]}) > 1  # sequences differ
    h_dropped = h0.grad[0] == 0  # (B, H): the recurrent mask, seen at the first step
    assert 0.1 < h_dropped.float().mean() < 0.9
    assert len({tuple(row.tolist()) for row in h_dropped}) > 1
    _, _ = model(x.detach())  # a new forward pass draws new masks
    x2 = x.detach().clone().requires_grad_()
    model(x2)[0].sum().backward()
    assert not torch.equal(x2.grad == 0, dropped)


def test_variational_matches_reference_with_the_same_masks():
    p = 0.3
    model = randomise_(ls.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P,
                               dropout=p, dropout_mode="variational", peephole=True,
                               dtype=torch.float64)).train()
    x = torch.randn(T, B, I, dtype=torch.float64)
    torch.manual_seed(6)
    out, _ = model(x)
    torch.manual_seed(6)  # masks drawn layer by layer, direction by direction: m_x then m_h
    masks = {}
    for layer in range(2):
        width = I if layer == 0 else 2 * P
        for d in range(2):
            xm = (torch.rand(B, width) >= p).double() / (1 - p)
            hm = (torch.rand(B, P) >= p).double() / (1 - p)
            masks[(layer, d)] = (xm, hm)
    torch.testing.assert_close(out, reference_stack(model, x, masks=masks), atol=1e-10, rtol=0)


def test_dropout_and_zoneout_randomness_off_in_eval():
    torch.manual_seed(7)
    noisy = ls.LSTM(I, H, num_layers=2, dropout=0.5, dropout_mode="variational",
                    dtype=torch.float64).eval()
    plain = ls.LSTM(I, H, num_layers=2, dtype=torch.float64)
    plain.load_state_dict(noisy.state_dict())
    x = torch.randn(T, B, I, dtype=torch.float64)
    torch.testing.assert_close(noisy(x)[0], plain(x)[0], atol=1e-10, rtol=0)
    zone = randomise_(ls.LSTM(I, H, zoneout=0.4, dtype=torch.float64)).eval()
    first, second = zone(x)[0], zone(x)[0]
    assert torch.equal(first, second)


# --- zoneout -------------------------------------------------------------------------------


def test_zoneout_eval_is_the_expectation():
    torch.manual_seed(8)
    model = randomise_(ls.LSTM(I, H, num_layers=2, proj_size=P, zoneout=0.4, variant="NOAF",
                               peephole=True, dtype=torch.float64)).eval()
    x = torch.randn(T, B, I, dtype=torch.float64)
    torch.testing.assert_close(model(x)[0], reference_stack(model, x, zoneout=0.4),
                               atol=1e-10, rtol=0)


def test_zoneout_training_keeps_old_or_new_and_averages_to_eval():
    torch.manual_seed(9)
    p = 0.3
    cell = randomise_(ls.LSTMCell(I, H, zoneout=p, dtype=torch.float64))
    x, h, c = (torch.randn(4000, n, dtype=torch.float64) for n in (I, H, H))
    h_new, c_new = reference_step("vanilla", dict(cell.named_parameters()), x, h, c)
    h_t, c_t = cell.train()(x, (h, c))
    for got, old, new in ((h_t, h, h_new), (c_t, c, c_new)):
        kept = torch.isclose(got, old, rtol=0, atol=1e-12)
        assert (kept | torch.isclose(got, new, rtol=0, atol=1e-12)).all()
        assert abs(kept.double().mean().item() - p) < 0.02
    h_e, c_e = cell.eval()(x, (h, c))
    torch.testing.assert_close(h_e, p * h + (1 - p) * h_new, atol=1e-10, rtol=0)
    n = 20000  # one sequence many times: the mean of the training draws -> the eval value
    repeat = [v[:1].expand(n, v.size(1)) for v in (x, h, c)]
    h_draws = cell.train()(repeat[0], (repeat[1], repeat[2]))[0]  # (n, H)
    torch.testing.assert_close(h_draws.mean(dim=0), h_e[0], atol=0.03, rtol=0)


# --- parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("variant, peephole", list(cases()))
@pytest.mark.parametrize("proj", [0, P])
def test_parameter_count_closed_form(variant, peephole, proj):
    G = 3 if variant in ORDER else 4
    out = proj or H
    per_direction = lambda i: (  # noqa: E731
        G * H * (i + out) + 2 * G * H + (proj * H if proj else 0)
        + (len(PEEPHOLES.get(variant, "ifo")) * H if peephole else 0)
    )
    model = ls.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=proj, variant=variant,
                    peephole=peephole)
    expected = 2 * per_direction(I) + 2 * per_direction(2 * out)
    assert sum(p.numel() for p in model.parameters()) == expected
    cell = ls.LSTMCell(I, H, variant=variant, peephole=peephole)
    assert sum(p.numel() for p in cell.parameters()) == G * H * (I + H) + 2 * G * H + (
        len(PEEPHOLES.get(variant, "ifo")) * H if peephole else 0
    )


def test_init_zeroes_peepholes_and_finds_the_forget_gate():
    torch.manual_seed(10)
    for variant, index in (("vanilla", 1), ("CIFG", 0), ("NIG", 0), ("NOG", 1)):
        model = ls.LSTM(I, H, variant=variant, peephole=True)
        for name in ("weight_ci_l0", "weight_cf_l0", "weight_co_l0"):
            if hasattr(model, name):
                assert torch.equal(getattr(model, name), torch.zeros(H))
        bias = model.bias_ih_l0.view(-1, H)
        assert torch.equal(bias[index], torch.ones(H))
        assert bias.sum() == H  # every other block 0
    nfg = ls.LSTM(I, H, variant="NFG")
    assert torch.equal(nfg.bias_ih_l0, torch.zeros(3 * H))


def test_uses_variant_and_autograd_backend():
    assert not ls.LSTM(I, H).uses_variant
    assert not ls.LSTM(I, H, num_layers=2, dropout=0.3).uses_variant
    for options in ({"variant": "NOG"}, {"peephole": True}, {"coupled": True},
                    {"zoneout": 0.1}, {"dropout": 0.2, "dropout_mode": "variational"}):
        model = ls.LSTM(I, H, **options)
        assert model.uses_variant, options
        assert "autograd" in ls.explain_backend(model, torch.randn(T, B, I))
    assert ls.LSTM(I, H, coupled=True).variant == "CIFG"


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, error, word",
    [
        ({"variant": "GRU"}, ValueError, "variant"),
        ({"variant": "nig"}, ValueError, "variant"),
        ({"zoneout": 1.0}, ValueError, "zoneout"),
        ({"zoneout": -0.1}, ValueError, "zoneout"),
        ({"zoneout": "0.1"}, ValueError, "zoneout"),
        ({"dropout": 1.0, "dropout_mode": "variational"}, ValueError, "dropout"),
        ({"dropout": -0.5, "dropout_mode": "variational"}, ValueError, "dropout"),
        ({"dropout": 1.5}, ValueError, "dropout"),
        ({"dropout_mode": "gal"}, ValueError, "dropout_mode"),
        ({"variant": "NP", "peephole": True}, ValueError, "peephole"),
        ({"variant": "NOG", "coupled": True}, ValueError, "coupled"),
        ({"peephole": 1}, TypeError, "peephole"),
        ({"coupled": "yes"}, TypeError, "coupled"),
        ({"layer_norm": True, "peephole": True}, ValueError, "layer_norm"),
        ({"layer_norm": True, "dropout": 0.1, "dropout_mode": "variational"}, ValueError,
         "layer_norm"),
    ],
)
def test_bad_options_name_the_argument(options, error, word):
    with pytest.raises(error, match=word):
        ls.LSTM(I, H, num_layers=2, **options)


def test_peepholes_work_with_projection():
    model = ls.LSTM(I, H, proj_size=P, peephole=True)
    out, (h, c) = model(torch.randn(T, B, I))
    assert out.shape == (T, B, P) and c.shape == (1, B, H)
    assert model.weight_co_l0.shape == (H,)


def test_cell_bad_options():
    with pytest.raises(ValueError, match="variant"):
        ls.LSTMCell(I, H, variant="FGR")
    with pytest.raises(ValueError, match="zoneout"):
        ls.LSTMCell(I, H, zoneout=1)
    with pytest.raises(ValueError, match="layer_norm"):
        ls.LSTMCell(I, H, layer_norm=True, variant="CIFG")


def test_single_layer_warning_only_for_standard_dropout():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        ls.LSTM(I, H, dropout=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # variational dropout acts inside the one layer
        ls.LSTM(I, H, dropout=0.3, dropout_mode="variational")
