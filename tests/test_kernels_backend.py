"""backend="triton" in the modules: same results as backend="autograd", clear refusals."""

import pytest
import torch
from helpers import assert_same_run
from kernel_checks import DEVICE, FP32_REL_TOL, rel_err
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import lstm_scratch as ls
from lstm_scratch import backends, kernels, triton_backend
from lstm_scratch.cells import StandardGRU
from lstm_scratch.layer import run_layer


def twin(backend, **options):
    torch.manual_seed(0)
    return ls.LSTM(3, 5, backend=backend, **options).to(DEVICE)


@pytest.mark.parametrize(
    "options, packed",
    [
        ({"num_layers": 2, "bidirectional": True}, True),
        ({"batch_first": True, "layer_norm": True}, False),
    ],
    ids=["2-layer-bidirectional-packed", "layer-norm"],
)
def test_triton_lstm_matches_autograd_outputs_and_every_gradient(options, packed):
    ours, ref = twin("triton", **options), twin("autograd", **options)
    ours.load_state_dict(ref.state_dict())
    torch.manual_seed(1)
    x = torch.randn(3, 4, 3) if options.get("batch_first") else torch.randn(4, 3, 3)
    x = x.to(DEVICE)
    before = sum(kernels.LAUNCHES.values())
    if packed:
        lengths = torch.tensor([4, 2, 3])

        def call(module, x):
            return module(pack_padded_sequence(x, lengths, enforce_sorted=False))
    else:

        def call(module, x):
            return module(x)

    assert_same_run(ours, ref, [x], call, tol=FP32_REL_TOL)
    assert sum(kernels.LAUNCHES.values()) > before  # the kernels ran, not a fallback


def test_triton_gru_direction_matches_nn_gru_with_lengths_and_reverse():
    """The layer runner on the GRU kernel, on nn.GRU's weights, both directions, packed."""
    torch.manual_seed(0)
    T, B, I, H = 5, 3, 4, 6
    gru = nn.GRU(I, H, bidirectional=True, dtype=torch.float64)
    x = torch.randn(T, B, I, dtype=torch.float64)
    lengths = torch.tensor([5, 3, 2])
    ref_out, ref_h = gru(pack_padded_sequence(x, lengths))
    ref_out, _ = torch.nn.utils.rnn.pad_packed_sequence(ref_out)
    for d, suffix in enumerate(["_l0", "_l0_reverse"]):
        params = {n: getattr(gru, n + suffix).detach().to(DEVICE, torch.float32) for n in
                  ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        out, (h,) = run_layer(
            StandardGRU(), x.to(DEVICE, torch.float32), (torch.zeros(B, H, device=DEVICE),),
            params, lengths, reverse=bool(d), backend="triton",
        )
        assert rel_err(out, ref_out[..., d * H:(d + 1) * H].detach()) <= FP32_REL_TOL
        assert rel_err(h, ref_h[d].detach()) <= FP32_REL_TOL


def test_triton_backend_names_what_it_cannot_run():
    lstm = ls.LSTM(3, 5, proj_size=2, backend="triton", device=DEVICE)
    with pytest.raises(ValueError, match="backend='triton' cannot run this LSTM: proj_size > 0"):
        lstm(torch.randn(2, 1, 3, device=DEVICE))
    lstm = ls.LSTM(3, 5, backend="triton", dtype=torch.float64, device=DEVICE)
    with pytest.raises(ValueError, match="dtype torch.float64 is not supported"):
        lstm(torch.randn(2, 1, 3, dtype=torch.float64, device=DEVICE))


def test_auto_does_not_pick_triton_on_cpu_and_says_why():
    lstm = ls.LSTM(3, 5)
    x = torch.randn(2, 1, 3)
    assert backends.choose(lstm, x) != "triton"
    assert "skipped 'triton': the input is not on a CUDA device" in ls.explain_backend(lstm, x)


def test_without_the_interpreter_a_cpu_input_is_refused(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    reason = triton_backend.why_not(ls.LSTM(3, 5), torch.randn(2, 1, 3))
    assert reason is not None and "need a CUDA device" in reason


def test_without_triton_the_backend_says_it_is_not_installed(monkeypatch):
    monkeypatch.setattr(triton_backend.importlib.util, "find_spec", lambda name: None)
    assert triton_backend.why_not(ls.LSTM(3, 5), torch.randn(2, 1, 3)) == (
        "triton is not installed"
    )
