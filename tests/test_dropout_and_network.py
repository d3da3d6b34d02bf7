"""Inter-layer dropout semantics, and LSTMNetwork's heads."""

import pytest
import torch
from torch import nn

import lstm_scratch as ls


def test_dropout_zero_and_eval_are_deterministic_and_match_torch():
    torch.manual_seed(0)
    ref = nn.LSTM(3, 4, num_layers=3, dropout=0.7)
    ours = ls.LSTM(3, 4, num_layers=3, dropout=0.7)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(6, 2, 3)
    ours.eval()
    ref.eval()
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=1e-6, rtol=0)
    ours.train()
    ours.dropout = 0.0
    ref.train()
    ref.dropout = 0.0
    torch.testing.assert_close(ours(x)[0], ref(x)[0], atol=1e-6, rtol=0)


def test_dropout_one_cuts_the_lower_layers_off():
    """With p = 1 the top layer sees zeros: its output no longer depends on the input."""
    torch.manual_seed(0)
    ours = ls.LSTM(3, 4, num_layers=2, dropout=1.0).train()
    x = torch.randn(6, 2, 3)
    out1, (h1, _) = ours(x)
    out2, (h2, _) = ours(torch.randn(6, 2, 3))
    torch.testing.assert_close(out1, out2, atol=0, rtol=0)  # top layer: input-independent
    assert not torch.allclose(h1[0], h2[0])  # the bottom layer still saw the input


def test_dropout_function_scales_by_one_over_keep():
    torch.manual_seed(0)
    x = torch.ones(200_000)
    y = ls.functional.dropout(x, 0.25, training=True)
    kept = y != 0
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / 0.75))
    assert abs(kept.float().mean().item() - 0.75) < 0.01
    assert torch.equal(ls.functional.dropout(x, 0.25, training=False), x)


def test_dropout_is_applied_between_layers_not_after_the_last():
    torch.manual_seed(0)
    # init="pytorch": non-zero biases, so a fully dropped input row still gives h != 0
    lstm = ls.LSTM(3, 4, num_layers=2, dropout=0.5, init="pytorch").train()
    x = torch.randn(6, 2, 3)
    outs = torch.stack([lstm(x)[0] for _ in range(20)])
    assert outs.std(0).max() > 0  # masks vary between calls
    assert (outs != 0).all()  # the last layer's output is never dropped


@pytest.mark.parametrize("bidirectional", [False, True])
def test_network_last_step_uses_each_directions_final_state(bidirectional):
    torch.manual_seed(0)
    net = ls.create_lstm_model(
        {"input_size": 3, "hidden_size": 5, "num_layers": 2, "output_size": 2,
         "bidirectional": bidirectional}
    ).double()
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    y = net(x)
    assert y.shape == (4, 2)
    _, (h_n, _) = net.lstm(x)
    D = 2 if bidirectional else 1
    features = torch.cat([h_n[-D + d] for d in range(D)], dim=-1)  # (B, D*H)
    torch.testing.assert_close(y, net.head(features), atol=1e-12, rtol=0)


def test_network_every_step_head_and_learning():
    """The sequence head learns to output a running sum: the loss falls 10x."""
    torch.manual_seed(0)
    net = ls.LSTMNetwork(1, 16, output_size=1, return_sequences=True)
    x = torch.rand(32, 10, 1)
    y = x.cumsum(1)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(300):
        loss = (net(x) - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert net(x).shape == (32, 10, 1)
    assert losses[-1] < losses[0] / 10
