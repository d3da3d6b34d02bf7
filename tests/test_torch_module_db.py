"""torch's own module tests, run on ours: the `module_db` entries of LSTM, GRU, LSTMCell,
GRUCell and MultiheadAttention (torch.testing._internal.common_modules, shipped in the
torch wheel), adapted.

For every sample input torch generates (float64, training and eval, every CPU backend
for the stacks), ours is built with the same constructor arguments, loads torch's
state_dict, and must give torch's outputs and every gradient within 1e-10; the sample's
reference_fn (torch's own check, e.g. unbatched == batched of one) must hold for ours
too. Every error input must raise torch's exception type with a message matching torch's
pattern. What test/test_modules.py does beyond this needs torch internals (memory
formats, CUDA streams, meta devices) and is not adapted.
"""

import copy
import pickle

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

import lstm_scratch as ls

_frozen = torch.backends.flags_frozen()
from torch.testing._internal.common_modules import ModuleErrorEnum, module_db  # noqa: E402

if not _frozen:  # importing torch's test utilities freezes torch.backends flags for the
    # whole process (torch.backends.disable_global_flags()); undo it for the other tests
    torch.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation_flag"] = True

OURS = {
    nn.LSTM: ls.LSTM,
    nn.GRU: ls.GRU,
    nn.LSTMCell: ls.LSTMCell,
    nn.GRUCell: ls.GRUCell,
    nn.MultiheadAttention: ls.MultiheadAttention,
}
STACKS = (nn.LSTM, nn.GRU)
CPU_BACKENDS = ("autograd", "bptt")
INFOS = {info.module_cls: info for info in module_db if info.module_cls in OURS}


def samples(info, training: bool):
    return info.module_inputs_func(
        info, device="cpu", dtype=torch.float64, requires_grad=True, training=training,
        with_packed_sequence=True,  # the GRU's generator adds packed samples with this flag
    )


def grid():
    for cls in INFOS:
        for training in (True, False):
            for backend in CPU_BACKENDS if cls in STACKS else (None,):
                mode = "train" if training else "eval"
                name = cls.__name__ + (f"-{backend}" if backend else "")
                yield pytest.param(cls, backend, training, id=f"{name}-{mode}")


def build(cls, backend, sample, training):
    args, kwargs = sample.constructor_input.args, sample.constructor_input.kwargs
    torch.manual_seed(0)
    ref = cls(*args, **kwargs).double().train(training)
    extra = {"backend": backend} if backend else {}
    ours = OURS[cls](*args, **kwargs, **extra).double().train(training)
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def tensors(result) -> list[torch.Tensor]:
    if result is None:
        return []
    if isinstance(result, torch.Tensor):
        return [result]
    if isinstance(result, PackedSequence):
        return [result.data]
    return [t for r in result for t in tensors(r)]


def run(module, sample, upstream=None):
    """Outputs, and the gradients of every input and parameter for a fixed upstream."""
    args = copy.deepcopy(sample.forward_input.args)
    kwargs = copy.deepcopy(sample.forward_input.kwargs)
    leaves = [t for t in tensors(args) if t.requires_grad]
    module.zero_grad(set_to_none=True)
    outputs = tensors(module(*args, **kwargs))
    if upstream is None:
        torch.manual_seed(1)
        upstream = [torch.randn_like(o) for o in outputs]
    grads = torch.autograd.grad(
        outputs, leaves + list(module.parameters()), upstream, allow_unused=True
    )
    return outputs, grads, upstream, args, kwargs


@pytest.mark.slow
@pytest.mark.parametrize("cls, backend, training", list(grid()))
def test_module_db_samples_match_torch(cls, backend, training):
    """Every sample of torch's generator, as test_modules.py's test_forward and test_grad
    do it (a loop over the samples), with torch's module as the reference."""
    all_samples = samples(INFOS[cls], training)
    assert len(all_samples) >= 2
    for k, sample in enumerate(all_samples):
        ref, ours = build(cls, backend, sample, training)
        want, want_grads, upstream, _, _ = run(ref, sample)
        got, got_grads, _, args, kwargs = run(ours, sample, upstream)
        msg = f"sample {k}: {sample.constructor_input.kwargs or sample.constructor_input.args}"
        torch.testing.assert_close(got, want, rtol=0, atol=1e-10, msg=msg)
        torch.testing.assert_close(got_grads, want_grads, rtol=0, atol=1e-10, msg=msg)
        packed = any(isinstance(a, PackedSequence) for a in args)
        if sample.reference_fn is not None and not packed:  # torch's own property of the
            # module (unbatched == a batch of one); it has no meaning for packed input
            expected = sample.reference_fn(ours, *args, **kwargs)
            torch.testing.assert_close(
                tensors(ours(*args, **kwargs)), tensors(expected), msg=msg
            )


def error_grid():
    for cls, info in INFOS.items():
        if info.module_error_inputs_func is None:
            continue
        errors = info.module_error_inputs_func(
            info, device="cpu", dtype=torch.float32, requires_grad=False, training=True
        )
        for k in range(len(errors)):
            yield pytest.param(cls, k, id=f"{cls.__name__}-{k}")


@pytest.mark.parametrize("cls, k", list(error_grid()))
def test_module_db_error_input_raises_as_torch(cls, k):
    info = INFOS[cls]
    error = info.module_error_inputs_func(
        info, device="cpu", dtype=torch.float32, requires_grad=False, training=True
    )[k]
    sample = error.module_error_input
    args, kwargs = sample.constructor_input.args, sample.constructor_input.kwargs
    with pytest.raises(error.error_type, match=error.error_regex):
        module = OURS[cls](*args, **kwargs)
        assert error.error_on == ModuleErrorEnum.FORWARD_ERROR, "construction should fail"
        module(*sample.forward_input.args, **sample.forward_input.kwargs)


@pytest.mark.parametrize("cls", list(INFOS), ids=lambda c: c.__name__)
def test_module_db_pickle_and_deepcopy_keep_the_module(cls):
    """test_modules.py's test_pickle and deepcopy: the copy computes the same."""
    sample = samples(INFOS[cls], False)[0]
    _, ours = build(cls, "bptt" if cls in STACKS else None, sample, False)
    args, kwargs = sample.forward_input.args, sample.forward_input.kwargs
    want = tensors(ours(*args, **kwargs))
    for twin in (pickle.loads(pickle.dumps(ours)), copy.deepcopy(ours)):
        torch.testing.assert_close(tensors(twin(*args, **kwargs)), want, rtol=0, atol=0)
