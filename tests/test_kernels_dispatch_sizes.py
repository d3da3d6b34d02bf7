"""The kernels at the hidden sizes the dispatch really sends them, vs float64 references.

The other kernel tests use toy sizes (3-20). Here each case asks the backend's own
dispatch (`triton_backend.kernel_for`) which kernel runs a hidden size and runs that one:
the persistent kernels at every block size they take (16, 32, 64, 128 where the dtype
fits), the per-step kernels above, at sizes that are multiples neither of 16 nor of their
64-feature column block (so a partial last column block runs), and the layer-norm kernel
at several row widths. fp32 must be within 1e-5 of float64 (relative), 16-bit within the
tolerances of `kernel_checks.REL_TOL`. T and B are small: the interpreter is slow.
"""

import pytest
import torch
from kernel_checks import DEVICE, REL_TOL, compare_with_reference
from test_kernels_gru import gru_args
from test_kernels_lstm import ln_args, lstm_args

import lstm_scratch as ls
from lstm_scratch import kernels
from lstm_scratch.kernels.gru_v1_fused_gates import gru_reference
from lstm_scratch.kernels.ln_lstm_v1_fused_gates import ln_lstm_reference
from lstm_scratch.kernels.lstm_v1_fused_gates import lstm_reference
from lstm_scratch.kernels.lstm_v2_persistent import fits
from lstm_scratch.triton_backend import kernel_for, persistent_limit

T, B, LENGTHS = 3, 3, [3, 1, 2]
# 100: a 16-bit v2 size the 128-wide build would spill on, so v1; 200 = 3 * 64 + 8: four
# column blocks of the v1 kernels, the last partial
SIZES = (16, 32, 64, 100, 128, 200)
DTYPES = (torch.float32, torch.bfloat16)
REFERENCE = {"LSTM": lstm_reference, "GRU": gru_reference}
ARGS = {"LSTM": lstm_args, "GRU": gru_args}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("H", SIZES)
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_the_dispatched_kernel_matches_float64_at_its_real_sizes(mode, H, dtype):
    family = mode.lower()
    name, _ = kernel_for(family, H, dtype)
    assert name.endswith("_v2") == fits(H, dtype, {dtype: persistent_limit(family, dtype)})
    errors = compare_with_reference(
        getattr(kernels, name), REFERENCE[mode], ARGS[mode](T, B, H), dtype=dtype,
        lengths=torch.tensor(LENGTHS),
    )
    assert max(errors) <= REL_TOL[dtype], (name, errors)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("H", [20, 100, 300, 1000])  # rows of 4H in blocks of 32 ... 1024
def test_layer_norm_kernel_matches_float64_at_several_row_widths(H, dtype):
    errors = compare_with_reference(
        kernels.ln_lstm_v1, ln_lstm_reference, ln_args(T, B, H), dtype=dtype,
        lengths=torch.tensor(LENGTHS),
    )
    assert max(errors) <= REL_TOL[dtype], errors


def test_dispatch_sends_fp32_to_v2_only_where_its_weights_fit_on_chip():
    """fp32 W_hh at H = 128 is 4 x 128 x 128 x 4 B = 256 KiB: more than an H100 block's
    227 KiB of shared memory and than 8 warps' registers (kernels/compile_check.py shows
    the spills); 16-bit halves it."""
    assert kernel_for("lstm", 64, torch.float32)[0] == "lstm_v2"
    assert kernel_for("lstm", 128, torch.float32)[0] == "lstm_v1"
    assert kernel_for("lstm", 128, torch.bfloat16)[0] == "lstm_v2"
    assert kernel_for("gru", 128, torch.float16)[0] == "gru_v2"
    assert kernel_for("lstm", 129, torch.bfloat16)[0] == "lstm_v1"
    assert kernel_for("gru", 112, torch.bfloat16)[0] == "gru_v2"
    name, why = kernel_for("lstm", 100, torch.bfloat16)
    assert name == "lstm_v1" and "not a multiple of 16" in why


def test_explain_backend_names_the_kernel_and_why():
    lstm = ls.LSTM(3, 128, backend="triton", device=DEVICE)
    text = ls.explain_backend(lstm, torch.randn(2, 1, 3, device=DEVICE))
    assert "kernels.lstm_v1: hidden_size 128 > 64" in text and "float32" in text
    gru = ls.GRU(3, 128, backend="triton", dtype=torch.bfloat16, device=DEVICE)
    text = ls.explain_backend(gru, torch.randn(2, 1, 3, dtype=torch.bfloat16, device=DEVICE))
    assert "kernels.gru_v2: hidden_size 128 <= 128" in text


def test_tf32_setting_through_the_new_torch_api_is_read_without_error():
    """torch >= 2.9: once torch.backends.cuda.matmul.fp32_precision is set, reading the
    legacy allow_tf32 raises RuntimeError; the backend must read the new API."""
    from lstm_scratch.kernels.common import matmul_precision, tf32_enabled

    matmul = torch.backends.cuda.matmul
    before = matmul.fp32_precision
    try:
        matmul.fp32_precision = "tf32"
        assert tf32_enabled()
        with matmul_precision(False):
            assert matmul.fp32_precision == "ieee" and not tf32_enabled()
        assert matmul.fp32_precision == "tf32"
        lstm = ls.LSTM(3, 4, backend="triton", device=DEVICE)
        lstm(torch.randn(2, 1, 3, device=DEVICE))[0].sum().backward()  # raised before
    finally:
        matmul.fp32_precision = before


def test_tf32_falls_back_to_allow_tf32_on_older_torch(monkeypatch):
    from types import SimpleNamespace

    from lstm_scratch.kernels import common

    legacy = SimpleNamespace(allow_tf32=True)  # torch < 2.9 has no fp32_precision
    monkeypatch.setattr(common.torch.backends.cuda, "matmul", legacy)
    assert common.tf32_enabled()
    with common.matmul_precision(False):
        assert legacy.allow_tf32 is False and not common.tf32_enabled()
    assert legacy.allow_tf32 is True


def test_layer_norm_kernel_refuses_what_would_spill():
    from lstm_scratch.triton_backend import why_not

    module = ls.LSTM(1, 2049, layer_norm=True, device="meta")
    x = torch.randn(1, 1, 1, device=DEVICE)
    reason = why_not(module, x)
    assert reason is not None and "hidden_size 2049 > 2048" in reason and "spilling" in reason
    module = ls.LSTM(1, 2048, layer_norm=True, device="meta")
    assert why_not(module, x) is None
