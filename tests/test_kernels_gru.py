"""The GRU kernels (v1 per-step, v2 persistent) vs float64 references and torch.nn.GRU."""

import pytest
import torch
from kernel_checks import DEVICE, FP32_REL_TOL, compare_with_reference, rel_err
from torch import nn

from lstm_scratch import kernels
from lstm_scratch.kernels.gru_v1_fused_gates import gru_reference

GRU_KERNELS = [kernels.gru_v1, kernels.gru_v2]


def gru_args(T, B, H, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    return [scale * randn(T, B, 3 * H), randn(B, H), randn(3 * H, H) / H**0.5, randn(3 * H)]


@pytest.mark.parametrize("kernel", GRU_KERNELS, ids=["v1", "v2"])
@pytest.mark.parametrize("T, B, H, lengths", [(6, 3, 20, [6, 2, 5]), (4, 18, 5, None)])
def test_gru_kernel_forward_and_every_gradient_match_float64(kernel, T, B, H, lengths):
    lengths = None if lengths is None else torch.tensor(lengths)
    errors = compare_with_reference(kernel, gru_reference, gru_args(T, B, H), lengths=lengths)
    assert len(errors) == 6  # out, h_T, then d xw, d h0, d W_hh, d b_hh
    assert max(errors) <= FP32_REL_TOL, errors


@pytest.mark.parametrize("kernel", GRU_KERNELS, ids=["v1", "v2"])
def test_gru_kernel_without_recurrent_bias(kernel):
    def no_bias(fn):
        return lambda xw, h0, w: fn(xw, h0, w, None)

    errors = compare_with_reference(no_bias(kernel), no_bias(gru_reference), gru_args(4, 3, 6)[:3])
    assert max(errors) <= FP32_REL_TOL, errors


@pytest.mark.parametrize("kernel", GRU_KERNELS, ids=["v1", "v2"])
def test_gru_kernel_long_sequence_does_not_drift(kernel):
    errors = compare_with_reference(kernel, gru_reference, gru_args(T=256, B=2, H=3))
    assert max(errors) <= FP32_REL_TOL, errors


@pytest.mark.parametrize("kernel", GRU_KERNELS, ids=["v1", "v2"])
def test_gru_kernel_saturated_gates_stay_finite_and_exact(kernel):
    args = gru_args(T=5, B=2, H=4, scale=80.0)
    errors = compare_with_reference(kernel, gru_reference, args, floor=1.0)
    assert max(errors) <= FP32_REL_TOL, errors


@pytest.mark.parametrize("kernel", GRU_KERNELS, ids=["v1", "v2"])
def test_gru_kernel_bf16_inputs(kernel):
    errors = compare_with_reference(kernel, gru_reference, gru_args(4, 3, 8), dtype=torch.bfloat16)
    assert max(errors) <= 2e-2, errors


@pytest.mark.parametrize("kernel", GRU_KERNELS, ids=["v1", "v2"])
def test_gru_kernel_matches_torch_nn_gru_with_its_weights(kernel):
    """Same weights as nn.GRU (float64 run as the reference): gate order and reset-after form."""
    torch.manual_seed(0)
    T, B, I, H = 5, 3, 4, 6
    gru = nn.GRU(I, H, dtype=torch.float64)
    x, h0 = torch.randn(T, B, I, dtype=torch.float64), torch.randn(1, B, H, dtype=torch.float64)
    ref_out, ref_h = gru(x, h0)
    p = {n: t.detach().float() for n, t in gru.named_parameters()}
    xw = x.float() @ p["weight_ih_l0"].T + p["bias_ih_l0"]
    args = (xw, h0[0].float(), p["weight_hh_l0"], p["bias_hh_l0"])
    out, h = kernel(*(t.to(DEVICE) for t in args))
    assert rel_err(out, ref_out.detach()) <= FP32_REL_TOL
    assert rel_err(h, ref_h[0].detach()) <= FP32_REL_TOL


def test_gru_kernels_really_launch():
    T = 4
    xw, h0, w, b = (a.to(DEVICE, torch.float32).requires_grad_() for a in gru_args(T, 2, 4))
    before = kernels.LAUNCHES.copy()
    for kernel in GRU_KERNELS:
        out, h = kernel(xw, h0, w, b)
        (out.sum() + h.sum()).backward()
    launched = dict(kernels.LAUNCHES - before)  # Counter difference: launches since
    assert launched == {
        "gru_forward_step_kernel": T,
        "gru_backward_step_kernel": T,
        "gru_persistent_forward_kernel": 1,
        "gru_persistent_backward_kernel": 1,
    }


def test_gru_v2_names_its_hidden_size_limit():
    xw, h0, w, b = (a.to(DEVICE, torch.bfloat16) for a in gru_args(1, 1, 130))
    with pytest.raises(ValueError, match=r"hidden_size <= 128 in torch.bfloat16 .*got 130"):
        kernels.gru_v2(xw, h0, w, b)
