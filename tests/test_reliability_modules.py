"""Nothing silent, modules: a wrong input to a layer or a zoo model is refused with the
argument's name, as a TypeError (wrong type or dtype) or ValueError (wrong value).

Dtype mismatches raise InputDtypeError, a TypeError that is also the RuntimeError torch
raises for them; shapes a module cannot read raise InputShapeError (ValueError and
RuntimeError), so code written against torch's exceptions keeps working.
"""

import numpy as np
import pytest
import torch
from reliability import refused

import lstm_scratch as ls
from lstm_scratch.checks import InputDtypeError, InputShapeError

X32, H32 = torch.randn(2, 3), torch.randn(2, 4)


def test_cells_refuse_a_state_of_another_dtype():
    cell, gru_cell = ls.LSTMCell(3, 4), ls.GRUCell(3, 4)
    with refused(InputDtypeError, "hx[0]", "torch.float64", "torch.float32"):
        cell(X32, (H32.double(), H32))
    with refused(InputDtypeError, "hx[1]"):  # was silently computed in float64
        cell(X32, (H32, H32.double()))
    with refused(InputDtypeError, "hx"):
        gru_cell(X32, H32.double())
    assert isinstance(InputDtypeError("x"), RuntimeError)  # torch's type still catches it


@pytest.mark.parametrize("dtype", [torch.long, torch.half])
def test_int_or_half_input_names_the_argument(dtype):
    q = torch.randn(3, 1, 4)
    with refused(InputDtypeError, "query", str(dtype)):
        ls.MultiheadAttention(4, 2)(q.to(dtype), q, q)
    with refused(InputDtypeError, "value"):
        ls.MultiheadAttention(4, 2)(q, q, q.to(dtype))
    x = torch.randn(1, 3, 5).to(dtype)
    with refused(InputDtypeError, "x"):
        ls.CausalConv1d(3, 4, 2)(x)
    with refused(InputDtypeError, "x"):
        ls.TCN(3, channels=[4])(x)
    for name in ls.list_models():
        model = ls.create_model(name, 3, 2, **(
            {"d_model": 16, "num_heads": 2} if name == "multiscale_hybrid" else {}))
        with refused(InputDtypeError, "x"):
            model(torch.randn(2, 5, 3).to(dtype))


def test_a_list_or_ndarray_is_refused_with_a_conversion_hint():
    with refused(TypeError, "input", "torch.as_tensor"):
        ls.LSTMCell(3, 4)([[1.0, 2.0, 3.0]])
    with refused(TypeError, "input"):
        ls.GRUCell(3, 4)(np.ones((2, 3), np.float32))
    with refused(TypeError, "x"):
        ls.CausalConv1d(3, 4, 2)(np.ones((1, 3, 5), np.float32))
    with refused(TypeError, "key"):
        q = torch.randn(3, 1, 4)
        ls.MultiheadAttention(4, 2)(q, q.numpy(), q)
    for name in ("lstm", "tcn", "transformer", "mlp"):
        with refused(TypeError, "x"):
            ls.create_model(name, 3, 2)(torch.randn(2, 5, 3).tolist())


def test_size_lists_and_zero_time_steps():
    with refused(TypeError, "channels"):
        ls.TCN(3, channels=4)
    with refused(ValueError, "channels"):
        ls.TCN(3, channels=[])
    with refused(ValueError, "channels[1]"):
        ls.TCN(3, channels=[4, 0])
    with refused(TypeError, "kernel_sizes"):
        ls.MultiScaleConv(3, 4, 5)
    with refused(InputShapeError, "x", "time"):
        ls.CausalConv1d(3, 4, 2)(torch.randn(1, 3, 0))


@pytest.mark.parametrize("name", ["lstm", "gru", "mlp", "tcn", "transformer", "cnn_lstm"])
def test_create_model_refuses_output_size_zero_and_bools(name):
    with refused(ValueError, "output_size"):
        ls.create_model(name, 3, 0)
    with refused(TypeError, "output_size"):
        ls.create_model(name, 3, True)
    with refused(TypeError, "input_size"):
        ls.create_model(name, True, 1)


@pytest.mark.parametrize(
    "name,key,value",
    [("cnn_lstm", "conv_channels", True), ("transformer", "nhead", True),
     ("transformer", "d_model", 2.5), ("multiscale_hybrid", "head_hidden", True),
     ("mlp", "hidden_sizes", (True,)), ("tcn", "channels", (True,))],
)
def test_bools_where_ints_are_expected(name, key, value):
    with refused(TypeError, key):
        ls.create_model(name, 3, 1, **{key: value})
