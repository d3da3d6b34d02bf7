"""The NumPy LSTM forward and backward equal torch autograd to 1e-10."""

from __future__ import annotations

import numpy as np
import torch

from lstm_scratch.cells import StandardLSTM
from lstm_scratch.layer import run_layer
from lstm_scratch.reference import lstm_backward, lstm_forward


def test_numpy_lstm_matches_torch_autograd():
    torch.manual_seed(0)
    T, B, I, H = 5, 3, 4, 6
    names = ["x", "h0", "c0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    shapes = [(T, B, I), (B, H), (B, H), (4 * H, I), (4 * H, H), (4 * H,), (4 * H,)]
    t = {
        n: torch.randn(s, dtype=torch.float64, requires_grad=True)
        for n, s in zip(names, shapes, strict=True)
    }
    p = {n: t[n] for n in names[3:]}
    out, (h, c) = run_layer(StandardLSTM(), t["x"], (t["h0"], t["c0"]), p)
    d_out, d_h, d_c = torch.randn_like(out), torch.randn_like(h), torch.randn_like(c)
    loss = (out * d_out).sum() + (h * d_h).sum() + (c * d_c).sum()
    want = dict(zip(names, torch.autograd.grad(loss, list(t.values())), strict=True))

    a = {n: v.detach().numpy() for n, v in t.items()}
    out_np, h_np, c_np, cache = lstm_forward(
        a["x"], a["h0"], a["c0"], a["weight_ih"], a["weight_hh"], a["bias_ih"], a["bias_hh"]
    )
    got = lstm_backward(
        d_out.numpy(), d_h.numpy(), d_c.numpy(), a["weight_ih"], a["weight_hh"], cache
    )
    for mine, theirs in ((out_np, out), (h_np, h), (c_np, c)):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), atol=1e-10, rtol=0)
    assert set(got) == set(names)
    for n in names:
        np.testing.assert_allclose(got[n], want[n].numpy(), atol=1e-10, rtol=0, err_msg=n)
