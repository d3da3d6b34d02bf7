"""Our adaptation of the RNN and MultiheadAttention tests in PyTorch's test/test_nn.py.

Each test keeps the name of torch's test it adapts (test_<torch's name>), builds ours
where torch's builds its own module, and, where torch's test checks a property of one
module, checks the same property on ours and on torch's, with torch's module (same
state_dict) as the reference for values. Recurrent tests run on every CPU backend.

Not adapted, with the reason:
- cuDNN-only and multi-GPU tests (test_cudnn_weight_format, test_cudnn_weight_tying,
  test_RNN_cpu_vs_cudnn_*, test_cuda_rnn_fused, test_rnn_check_device's multi-GPU part):
  ours has no cuDNN path; the single-GPU device check runs here when CUDA is present.
- test_RNN_nonlinearity, test_RNN_dropout (relu nn.RNN only): ours has no Elman RNN.
- MultiheadAttention fast-path and nested-tensor tests (test_multihead_attn_fast_path_*,
  test_multihead_attn_nested_tensor_outside_fast_path): they test torch's fused
  inference kernel and NestedTensor internals, which ours does not have.
"""

import itertools

import pytest
import torch
from torch import nn
from torch.autograd import gradcheck, gradgradcheck
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstm_scratch as ls

BACKENDS = pytest.mark.parametrize("backend", ["autograd", "bptt"])
STACKS = pytest.mark.parametrize("mode", ["LSTM", "GRU"])


def stacks(mode, backend, *args, **kwargs):
    """(torch's, ours) with the same arguments and torch's weights in ours."""
    torch.manual_seed(0)
    ref = getattr(nn, mode)(*args, **kwargs)
    ours = getattr(ls, mode)(*args, backend=backend, **kwargs)
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def flat(result):
    if isinstance(result, torch.Tensor):
        return [result]
    return [t for r in result for t in flat(r)]


# --- cells -------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", ["GRUCell", "LSTMCell"])
def test_RNN_cell_and_LSTM_cell(name, bias):
    """test_RNN_cell / test_LSTM_cell: six steps from a given state, then backward."""
    torch.manual_seed(0)
    ref, ours = getattr(nn, name)(10, 20, bias=bias), getattr(ls, name)(10, 20, bias=bias)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 10)
    results = []
    for cell in (ref, ours):
        hx = torch.randn(3, 20, generator=torch.Generator().manual_seed(1))
        state = (hx, hx.clone()) if name == "LSTMCell" else hx
        for _ in range(6):
            state = cell(x, state)
        sum(s.sum() for s in flat(state)).backward()
        results.append(flat(state) + [p.grad for p in cell.parameters()])
    torch.testing.assert_close(results[1], results[0])


@pytest.mark.parametrize("name", ["GRUCell", "LSTMCell"])
def test_RNN_cell_no_broadcasting(name):
    """Sizes that would broadcast are errors, for torch's cell and ours alike."""
    for m in (nn, ls):
        cell = getattr(m, name)(10, 20)

        def run(x, h, cell=cell):
            return cell(x, (h, h) if name == "LSTMCell" else h)

        for x, h in [
            (torch.randn(3, 10), torch.randn(1, 20)),  # hidden batch 1 vs 3
            (torch.randn(1, 10), torch.randn(3, 20)),  # input batch 1 vs 3
            (torch.randn(3, 1), torch.randn(3, 20)),  # input size 1 vs 10
            (torch.randn(3, 10), torch.randn(3, 1)),  # hidden size 1 vs 20
        ]:
            with pytest.raises(RuntimeError):
                run(x, h)


@pytest.mark.parametrize("name", ["GRUCell", "LSTMCell"])
def test_RNN_cell_forward_zero_hidden_size(name):
    x, hx = torch.randn(3, 10), torch.randn(3, 0)
    for m in (nn, ls):
        cell = getattr(m, name)(10, 0)
        out = cell(x, (hx, hx) if name == "LSTMCell" else hx)
        assert all(o.shape == (3, 0) for o in flat(out))


def test_lstmcell_backward_only_one_output_grad():
    """Backward from h' alone, or from c' alone, reaches the input."""
    cell = ls.LSTMCell(2, 3).double()
    for i in range(2):
        s = torch.randn(1, 2, dtype=torch.double, requires_grad=True)
        cell(s)[i].sum().backward()
        assert s.grad is not None and s.grad.abs().sum().item() > 0


# --- stacks ------------------------------------------------------------------------------


@BACKENDS
@STACKS
@pytest.mark.parametrize("proj_size", [0, 2])
def test_rnn_initial_hidden_state(mode, backend, proj_size):
    """test_rnn_initial_hidden_state and test_projections_lstm_initial_hidden_state:
    no hx is the same as zeros."""
    if mode == "GRU" and proj_size:
        return test_projections_errors_on_gru_and_rnn()
    options = {"proj_size": proj_size} if mode == "LSTM" else {}
    _, rnn = stacks(mode, backend, 30, 20, 2, **options)
    x = torch.randn(10, 32, 30)
    zeros = torch.zeros(2, 32, proj_size or 20)
    hidden = (zeros, torch.zeros(2, 32, 20)) if mode == "LSTM" else zeros
    for a, b in zip(flat(rnn(x)), flat(rnn(x, hidden)), strict=True):
        assert torch.equal(a, b)


def test_projections_errors_on_gru_and_rnn():
    for m in (nn, ls):
        for proj_size in (0, 2):
            with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
                m.GRU(3, 4, proj_size=proj_size)


@BACKENDS
@STACKS
@pytest.mark.parametrize("proj_size", [0, 3])
def test_rnn_args_check(mode, backend, proj_size):
    """test_rnn_args_check / test_projections_lstm_args_check: every wrong size of the
    input or of a state is a RuntimeError, for torch's module and ours."""
    if mode == "GRU" and proj_size:
        return None
    I, H, L, T, B, D = 3, 5, 2, 4, 6, 2
    options = {"proj_size": proj_size} if mode == "LSTM" else {}
    for m in stacks(mode, backend, I, H, L, bidirectional=True, **options):
        def run(x_size, sizes, m=m):
            states = [torch.randn(s) for s in sizes]
            m(torch.randn(x_size), tuple(states) if mode == "LSTM" else states[0])

        h_size = (L * D, B, proj_size or H)
        sizes = [h_size, (L * D, B, H)] if mode == "LSTM" else [h_size]
        run((T, B, I), sizes)  # correct
        bad_inputs = [(T, B, I + 1)]
        for bad in bad_inputs:
            with pytest.raises(RuntimeError):
                run(bad, sizes)
        for k in range(len(sizes)):
            for dim, delta in itertools.product(range(3), (1,)):
                wrong = list(sizes)
                shape = list(wrong[k])
                shape[dim] += delta
                wrong[k] = tuple(shape)
                with pytest.raises(RuntimeError):
                    run((T, B, I), wrong)


@BACKENDS
@STACKS
@pytest.mark.parametrize("bidirectional", [True, False])
def test_RNN_input_size_zero(mode, backend, bidirectional):
    """A batch of size 0: torch's test builds it as (5, 0, 3)."""
    for rnn in stacks(mode, backend, 3, 4, bidirectional=bidirectional):
        x = torch.zeros(5, 0, 3, requires_grad=True)
        out = rnn(x)[0]
        assert out.shape == (5, 0, (2 if bidirectional else 1) * 4)
        out.sum().backward()
        assert x.grad.shape == x.shape


@BACKENDS
@STACKS
def test_RNN_change_dropout(mode, backend):
    """Changing .dropout after construction takes effect, as in torch."""
    ref, ours = stacks(mode, backend, 4, 6, 2)
    x = torch.randn(5, 3, 4)
    for p in (0.0, 1.0):
        for rnn in (ref, ours):
            rnn.dropout = p
        want, got = flat(ref(x)), flat(ours(x))
        torch.testing.assert_close(got, want)  # p = 0 and p = 1 are deterministic


@BACKENDS
@STACKS
def test_rnn_retain_variables(mode, backend):
    """Two backward passes through one graph (retain_graph=True) give the same gradients."""
    _, rnn = stacks(mode, backend, 10, 20, 2)
    x = torch.randn(5, 6, 10, requires_grad=True)
    output = rnn(x)
    output[0].sum().backward(retain_graph=True)
    grads = [x.grad.clone()] + [p.grad.clone() for p in rnn.parameters()]
    for _ in range(2):
        rnn.zero_grad()
        x.grad.zero_()
        output[0].sum().backward(retain_graph=True)
        torch.testing.assert_close([x.grad] + [p.grad for p in rnn.parameters()], grads)


@BACKENDS
@STACKS
@pytest.mark.parametrize("bidirectional", [False, True])
def test_variable_sequence(mode, backend, bidirectional):
    """A packed batch of variable lengths is the same as each sequence run alone
    (torch's test_variable_sequence), and as torch's module on the packed batch."""
    ref, rnn = stacks(mode, backend, 4, 5, 2, bidirectional=bidirectional)
    lengths = [7, 5, 5, 2, 1, 1]
    x = torch.randn(max(lengths), len(lengths), 4)
    packed = pack_padded_sequence(x, lengths)
    out, state = rnn(packed)
    padded, _ = pad_packed_sequence(out)
    for b, n in enumerate(lengths):
        alone, alone_state = rnn(x[:n, b : b + 1])
        torch.testing.assert_close(padded[:n, b : b + 1], alone)
        for s, s_alone in zip(flat(state), flat(alone_state), strict=True):
            torch.testing.assert_close(s[:, b : b + 1], s_alone)
    torch.testing.assert_close(out.data, ref(packed)[0].data)


@BACKENDS
@STACKS
def test_LSTM_and_GRU_grad_and_gradgrad(mode, backend):
    """torch's test_LSTM_grad_and_gradgrad / test_GRU_grad_and_gradgrad (float64)."""
    _, rnn = stacks(mode, backend, 2, 2, 2, bidirectional=True)
    rnn = rnn.double()
    x = torch.randn(1, 3, 2, dtype=torch.double, requires_grad=True)
    assert gradcheck(lambda x: rnn(x)[0], (x,))
    assert gradgradcheck(lambda x: rnn(x)[0], (x,))


@BACKENDS
@STACKS
def test_rnn_weight_norm(mode, backend):
    """Weight norm on weight_hh_l0: one parameter becomes two and the forward uses them."""
    _, rnn = stacks(mode, backend, 4, 5, 1)
    n = len(list(rnn.parameters()))
    rnn = torch.nn.utils.parametrizations.weight_norm(rnn, name="weight_hh_l0")
    assert len(list(rnn.parameters())) == n + 1
    x = torch.randn(3, 2, 4)
    out = rnn(x)[0]
    out.sum().backward()
    g = rnn.parametrizations.weight_hh_l0.original0
    assert g.grad is not None and g.grad.abs().sum() > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@STACKS
def test_rnn_check_device(mode):
    """Input, state and weights on different devices: an error, not a silent copy."""
    rnn = getattr(ls, mode)(3, 4).cuda()
    with pytest.raises(RuntimeError):
        rnn(torch.randn(2, 1, 3))  # input on the CPU


# --- MultiheadAttention ------------------------------------------------------------------


def mha_pair(*args, **kwargs):
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(*args, **kwargs)
    ours = ls.MultiheadAttention(*args, **kwargs)
    ours.load_state_dict(ref.state_dict())
    return ref.eval(), ours.eval()


@pytest.mark.parametrize(
    "options, mask",
    [
        ({}, None),  # test_multihead_attn_no_masking
        ({}, "key_padding"),  # test_multihead_attn_key_padding_mask
        ({"add_bias_kv": True}, "both"),  # test_multihead_attn_add_bias_kv
        ({"add_zero_attn": True}, "both"),  # test_multihead_attn_add_zero_attn
        ({"add_bias_kv": True, "add_zero_attn": True}, "both"),  # _all_arguments
        ({"kdim": 3, "vdim": 5}, "attn"),  # separate projection weights
        ({"bias": False}, "attn"),  # test_multihead_attn_in_proj_bias_none
    ],
    ids=["no-masking", "key-padding", "bias-kv", "zero-attn", "all", "kdim-vdim", "no-bias"],
)
def test_multihead_attention(options, mask):
    """test_multihead_attention's cases: outputs, weights and gradients as torch's."""
    E, H, L, S, B = 6, 2, 4, 5, 3
    ref, ours = mha_pair(E, H, **options)
    q = torch.randn(L, B, E)
    k = torch.randn(S, B, options.get("kdim", E))
    v = torch.randn(S, B, options.get("vdim", E))
    kwargs = {}
    if mask in ("key_padding", "both"):
        kwargs["key_padding_mask"] = torch.rand(B, S) > 0.7
        kwargs["key_padding_mask"][:, 0] = False  # every query sees one key
    if mask in ("attn", "both"):
        kwargs["attn_mask"] = torch.triu(torch.ones(L, S, dtype=torch.bool), diagonal=2)
    results = []
    for m in (ref, ours):
        out, w = m(q, k, v, **kwargs)
        (out.sum() + w.sum()).backward()
        results.append([out, w] + [p.grad for p in m.parameters()])
    torch.testing.assert_close(results[1], results[0])


def test_multihead_attn_3d_attn_mask():
    """A 3-D mask (B*H, L, S) gives, for each batch, the result of its own 2-D mask."""
    E, H, L, S, B = 6, 2, 4, 5, 3
    _, mha = mha_pair(E, H)
    q, k, v = torch.randn(L, B, E), torch.randn(S, B, E), torch.randn(S, B, E)
    mask = torch.randint(0, 2, (B, L, S)).bool()
    mask[..., 0] = False
    out, _ = mha(q, k, v, attn_mask=mask.repeat_interleave(H, dim=0))
    for b in range(B):
        alone, _ = mha(q[:, b : b + 1], k[:, b : b + 1], v[:, b : b + 1], attn_mask=mask[b])
        torch.testing.assert_close(out[:, b : b + 1], alone)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_multihead_attention_dtype(dtype):
    _, mha = mha_pair(4, 2)
    mha = mha.to(dtype)
    q = torch.randn(3, 2, 4, dtype=dtype)
    out, w = mha(q, q, q)
    assert out.dtype == dtype and w.dtype == dtype and out.shape == (3, 2, 4)


def test_multihead_attn_in_proj_weight_none():
    """kdim/vdim differ from embed_dim: in_proj_weight is None, the three weights exist."""
    for m in mha_pair(4, 2, kdim=3, vdim=5):
        assert m.in_proj_weight is None
        assert m.q_proj_weight.shape == (4, 4) and m.k_proj_weight.shape == (4, 3)


def test_multihead_attn_invalid_shape():
    """torch's invalid shapes: the same exception type as torch's module, every one."""
    q = torch.randn(4, 4)
    cases = [
        dict(query=torch.randn(4, 4), key=torch.randn(4, 4, 4), value=torch.randn(4, 4)),
        dict(query=q, key=q, value=q, key_padding_mask=torch.zeros(4, 4)),
        dict(query=q, key=q, value=q, attn_mask=torch.zeros(4)),
        dict(query=q, key=q, value=q, attn_mask=torch.zeros(3, 4, 4)),  # heads = 2
        dict(query=torch.randn(4, 2, 4), key=torch.randn(4, 2, 4), value=torch.randn(4, 2, 4),
             attn_mask=torch.zeros(1, 4, 4, 4)),
    ]
    for kwargs in cases:
        errors = []
        for m in mha_pair(4, 2):
            with pytest.raises(Exception) as info:
                m(**kwargs)
            errors.append(info.value)
        assert isinstance(errors[1], type(errors[0])), (errors[0], errors[1])
        assert str(errors[0]) in str(errors[1])
