"""Bad arguments and inputs raise what torch raises: the same exception type, and
torch's message contained in ours. Each case calls torch's module with the same input."""

import pytest
import torch
from torch import nn

import lstm_scratch as ls

q = torch.randn(3, 2, 4)  # (L, B, E) for attention
CALLS = {  # name: (call with torch's classes, call with ours)
    "rnn-input-dtype": lambda m: m.LSTM(3, 4)(torch.randn(2, 1, 3, dtype=torch.float64)),
    "gru-input-dtype": lambda m: m.GRU(3, 4)(torch.randn(2, 1, 3, dtype=torch.float64)),
    "rnn-input-size": lambda m: m.GRU(3, 4)(torch.randn(2, 1, 5)),
    "rnn-bias-int": lambda m: m.LSTM(3, 4, bias=0),
    "rnn-hidden-size-0": lambda m: m.LSTM(3, 0),
    "rnn-hidden-shape": lambda m: m.GRU(3, 4)(torch.randn(2, 1, 3), torch.zeros(1, 2, 4)),
    "lstm-cell-state-shape": lambda m: m.LSTM(3, 4)(
        torch.randn(2, 1, 3), (torch.zeros(1, 1, 4), torch.zeros(1, 1, 5))
    ),
    "mha-embed-divisible": lambda m: m.MultiheadAttention(5, 2),
    "mha-1d-query": lambda m: m.MultiheadAttention(4, 2)(*(torch.randn(4),) * 3),
    "mha-key-dim": lambda m: m.MultiheadAttention(4, 2)(q, q[0], q[0]),
    "mha-1d-attn-mask": lambda m: m.MultiheadAttention(4, 2)(q, q, q, attn_mask=torch.zeros(3)),
    "mha-4d-attn-mask": lambda m: m.MultiheadAttention(4, 2)(
        q, q, q, attn_mask=torch.zeros(1, 4, 3, 3)
    ),
    "mha-2d-attn-mask-shape": lambda m: m.MultiheadAttention(4, 2)(
        q, q, q, attn_mask=torch.zeros(3, 4)
    ),
    "mha-3d-attn-mask-shape": lambda m: m.MultiheadAttention(4, 2)(
        q, q, q, attn_mask=torch.zeros(5, 3, 3)
    ),
    "mha-unbatched-3d-attn-mask": lambda m: m.MultiheadAttention(4, 2)(
        q[:, 0], q[:, 0], q[:, 0], attn_mask=torch.zeros(3, 3, 3)
    ),
    "mha-key-padding-mask-dim": lambda m: m.MultiheadAttention(4, 2)(
        q, q, q, key_padding_mask=torch.zeros(2, 3, 1, dtype=torch.bool)
    ),
    "mha-key-padding-mask-length": lambda m: m.MultiheadAttention(4, 2)(
        q, q, q, key_padding_mask=torch.zeros(2, 4, dtype=torch.bool)
    ),
    "mha-key-padding-mask-batch": lambda m: m.MultiheadAttention(4, 2)(
        q, q, q, key_padding_mask=torch.zeros(3, 3, dtype=torch.bool)
    ),
    "mha-key-value-shapes": lambda m: m.MultiheadAttention(4, 2)(q, q[:2], q),
    "mha-embed-dim": lambda m: m.MultiheadAttention(4, 2)(q[..., :3], q, q),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_same_exception_as_torch_with_torchs_text(call):
    with pytest.raises(Exception) as theirs:
        call(nn)
    with pytest.raises(type(theirs.value)) as ours:
        call(ls)
    assert str(theirs.value) in str(ours.value)


ACCEPTED = {  # torch accepts these; so do we, with the same result
    "gru-cell-hidden-size-0": lambda m: m.GRUCell(3, 0),
    "lstm-cell-hidden-size-0": lambda m: m.LSTMCell(3, 0),
    "gru-cell-input-size-0": lambda m: m.GRUCell(0, 3),
    "gru-cell-bias-int": lambda m: m.GRUCell(3, 4, bias=1),
    "lstm-cell-bias-int-0": lambda m: m.LSTMCell(3, 4, bias=0),
}


@pytest.mark.parametrize("make", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted_as_torch_accepts_it(make):
    torch.manual_seed(0)
    ref, ours = make(nn), make(ls)
    assert repr(ours) == repr(ref)
    ours.load_state_dict(ref.state_dict())  # the same parameters exist
    x = torch.randn(2, ref.input_size)
    torch.testing.assert_close(ours(x), ref(x))


def test_cell_with_negative_size_fails_as_torch():
    for m in (nn, ls):
        with pytest.raises(RuntimeError):
            m.GRUCell(3, -1)
