"""Bad arguments and bad shapes raise what torch raises, with a message naming the problem."""

import pytest
import torch
from torch import nn

import lstm_scratch as ls

# (constructor kwargs, exception type, message fragment); torch raises the same type
BAD_CONSTRUCTORS = [
    (dict(input_size=0, hidden_size=4), ValueError, "input_size must be greater than zero"),
    (dict(input_size=3, hidden_size=-1), ValueError, "hidden_size must be greater than zero"),
    (dict(input_size=3.0, hidden_size=4), TypeError, "input_size should be of type int"),
    (dict(input_size=3, hidden_size="4"), TypeError, "hidden_size should be of type int"),
    (dict(input_size=3, hidden_size=4, num_layers=0), ValueError, "num_layers"),
    (dict(input_size=3, hidden_size=4, dropout=1.5), ValueError, "dropout"),
    (dict(input_size=3, hidden_size=4, dropout=True), ValueError, "dropout"),
    (dict(input_size=3, hidden_size=4, bias=1), TypeError, "bias should be of type bool"),
    (dict(input_size=3, hidden_size=4, batch_first="yes"), TypeError, "batch_first"),
    (dict(input_size=3, hidden_size=4, proj_size=-1), ValueError, "proj_size"),
    (dict(input_size=3, hidden_size=4, proj_size=4), ValueError, "proj_size has to be smaller"),
]


@pytest.mark.parametrize("kwargs,exc,message", BAD_CONSTRUCTORS)
def test_bad_constructor_arguments_match_torch(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        ls.LSTM(**kwargs)
    with pytest.raises(exc):
        nn.LSTM(**kwargs)


@pytest.mark.parametrize(
    "kwargs,exc,message",
    [
        (dict(bidirectional=1), TypeError, "bidirectional should be of type bool"),
        (dict(layer_norm="no"), TypeError, "layer_norm should be of type bool"),
        (dict(backend="cuda"), ValueError, "backend must be one of"),
    ],
)
def test_stricter_than_torch_on_flags(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        ls.LSTM(3, 4, **kwargs)


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        ls.LSTM(3, 4, dropout=0.5)


def forward_cases():
    x = torch.randn(5, 2, 3)
    good_h = torch.zeros(1, 2, 4)
    return [
        ("4-D input", (torch.randn(5, 2, 3, 1),), ValueError, "Expected input to be 2D or 3D"),
        ("feature size", (torch.randn(5, 2, 7),), RuntimeError, "input.size\\(-1\\)"),
        ("empty sequence", (torch.randn(0, 2, 3),), RuntimeError, "sequence length"),
        ("dtype", (x.double(),), ValueError, "dtype"),
        ("h0 batch", (x, (torch.zeros(1, 3, 4), good_h)), RuntimeError, "Expected hidden\\[0\\]"),
        ("c0 size", (x, (good_h, torch.zeros(1, 2, 5))), RuntimeError, "Expected hidden\\[1\\]"),
        ("2-D hx", (x, (torch.zeros(1, 4), torch.zeros(1, 4))), RuntimeError, "3-D"),
        ("3-D hx unbatched", (x[:, 0], (good_h, good_h)), RuntimeError, "2-D"),
    ]


@pytest.mark.parametrize(
    "name,args,exc,message", forward_cases(), ids=[case[0] for case in forward_cases()]
)
def test_bad_forward_inputs_match_torch(name, args, exc, message):
    with pytest.raises(exc, match=message):
        ls.LSTM(3, 4)(*args)
    with pytest.raises(exc):
        nn.LSTM(3, 4)(*args)


def test_hx_must_be_a_pair():
    with pytest.raises(TypeError, match="hx should be a tuple"):
        ls.LSTM(3, 4)(torch.randn(5, 2, 3), torch.zeros(1, 2, 4))


@pytest.mark.parametrize(
    "args,exc,message",
    [
        ((torch.randn(2, 3, 4),), ValueError, "Expected input to be 1D or 2D"),
        ((torch.randn(2, 5),), RuntimeError, "inconsistent input_size"),
        ((torch.randn(2, 3), (torch.zeros(3, 4), torch.zeros(3, 4))), RuntimeError, "batch size"),
        ((torch.randn(2, 3), (torch.zeros(2, 5), torch.zeros(2, 4))), RuntimeError, "hidden0"),
        ((torch.randn(2, 3), (torch.zeros(2, 4), torch.zeros(2, 6))), RuntimeError, "hidden1"),
        ((torch.randn(2, 3).double(),), RuntimeError, "dtype"),
    ],
)
def test_bad_cell_inputs_match_torch(args, exc, message):
    with pytest.raises(exc, match=message):
        ls.LSTMCell(3, 4)(*args)
    with pytest.raises(exc):
        nn.LSTMCell(3, 4)(*args)


def test_network_config_errors_name_the_key():
    with pytest.raises(ValueError, match="unknown config keys \\['hiden_size'\\]"):
        ls.create_lstm_model({"input_size": 3, "hiden_size": 8})
    with pytest.raises(ValueError, match="input_size"):
        ls.create_lstm_model({"hidden_size": 8})
    with pytest.raises(ValueError, match="output_size must be greater than zero"):
        ls.create_lstm_model({"input_size": 3, "output_size": 0})
