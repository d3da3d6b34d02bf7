"""The public API of torch's modules, offered by ours: compared name by name with dir().

Every public attribute and method of nn.LSTM, nn.GRU, nn.LSTMCell, nn.GRUCell and
nn.MultiheadAttention exists on ours, or is in NOT_OFFERED with the reason, which the
README repeats. The helpers torch's RNNs expose are called on both with the same
arguments and must agree.
"""

from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import lstm_scratch as ls

PAIRS = {
    "LSTM": (lambda: nn.LSTM(3, 4, 2, bidirectional=True, proj_size=2),
             lambda: ls.LSTM(3, 4, 2, bidirectional=True, proj_size=2)),
    "GRU": (lambda: nn.GRU(3, 4, 2, bidirectional=True),
            lambda: ls.GRU(3, 4, 2, bidirectional=True)),
    "LSTMCell": (lambda: nn.LSTMCell(3, 4), lambda: ls.LSTMCell(3, 4)),
    "GRUCell": (lambda: nn.GRUCell(3, 4), lambda: ls.GRUCell(3, 4)),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(4, 2),
                           lambda: ls.MultiheadAttention(4, 2)),
}
NOT_OFFERED = {
    ("MultiheadAttention", "merge_masks"): "a helper of torch's fused fast path; ours has none",
}
README = Path(__file__).resolve().parent.parent / "README.md"


def twins(name):
    make_ref, make_ours = PAIRS[name]
    torch.manual_seed(0)
    ref, ours = make_ref(), make_ours()
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def public(obj) -> set[str]:
    return {n for n in dir(obj) if not n.startswith("_")}


@pytest.mark.parametrize("name", PAIRS)
def test_every_public_name_of_torchs_module_is_offered_or_listed(name):
    ref, ours = twins(name)
    missing = public(ref) - public(ours)
    listed = {attr for (cls, attr) in NOT_OFFERED if cls == name}
    assert missing == listed, f"not offered and not listed: {sorted(missing - listed)}"
    for attr in listed:  # each is in ours' README section with its reason
        assert f"`{name}.{attr}`" in README.read_text()


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_flatten_parameters_is_a_no_op(name):
    ref, ours = twins(name)
    x = torch.randn(5, 2, 3)
    before = [p.clone() for p in ours.parameters()]
    out = ours(x)[0]
    assert ours.flatten_parameters() is None
    torch.testing.assert_close(ours(x)[0], out, rtol=0, atol=0)
    for p, q in zip(ours.parameters(), before, strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_all_weights_are_torchs_in_torchs_order_and_the_parameters_themselves(name):
    ref, ours = twins(name)
    want, got = ref.all_weights, ours.all_weights
    assert [len(w) for w in got] == [len(w) for w in want]
    for ws, ws_ref in zip(got, want, strict=True):
        for w, w_ref in zip(ws, ws_ref, strict=True):
            assert torch.equal(w, w_ref)
    assert got[0][0] is ours.weight_ih_l0  # training through all_weights trains the module


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_rnn_helpers_agree_with_torchs(name):
    ref, ours = twins(name)
    x = torch.randn(5, 2, 3)
    packed = pack_padded_sequence(torch.randn(5, 3, 3), torch.tensor([5, 3, 2]))
    for data, batch_sizes in ((x, None), (packed.data, packed.batch_sizes)):
        assert ours.get_expected_hidden_size(data, batch_sizes) == ref.get_expected_hidden_size(
            data, batch_sizes
        )
        if name == "LSTM":
            assert ours.get_expected_cell_size(data, batch_sizes) == ref.get_expected_cell_size(
                data, batch_sizes
            )
    good = ref(x)[1]
    ref.check_forward_args(x, good, None)
    ours.check_forward_args(x, good, None)
    bad = tuple(h[:, :1] for h in good) if name == "LSTM" else good[:, :1]
    errors = []
    for module in (ref, ours):
        with pytest.raises(RuntimeError) as info:
            module.check_forward_args(x, bad, None)
        errors.append(str(info.value))
    assert errors[1] == errors[0]
    for module in (ref, ours):
        with pytest.raises(RuntimeError, match="input must have 3 dimensions, got 2"):
            module.check_input(x[0], None)
    perm = torch.tensor([1, 0])
    for got, want in zip(ours.permute_hidden(good, perm), ref.permute_hidden(good, perm)):
        assert torch.equal(got, want)
