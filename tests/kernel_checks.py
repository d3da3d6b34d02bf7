"""Checking a Triton kernel function against its float64 PyTorch reference.

The kernels compute in fp32, so the fp32 tolerance is relative to the reference's size:
||kernel - reference|| <= 1e-5 ||reference|| for the outputs and for every gradient.
bfloat16 keeps 8 significant bits (relative rounding 2^-9 ~ 2e-3 per value), and the
errors of T steps add up: 2e-2 relative for bf16, 2e-3 for fp16 (11 bits).

The kernels run where the environment says: on the GPU when CUDA is present, else in
Triton's interpreter on the CPU (tests/conftest.py turns it on). The float64 reference
always runs on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

FP32_REL_TOL = 1e-5
REL_TOL = {torch.float32: FP32_REL_TOL, torch.float16: 2e-3, torch.bfloat16: 2e-2}
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def rel_err(a: Tensor, ref: Tensor, floor: float = 1e-30) -> float:
    """||a - ref|| / max(||ref||, floor)."""
    ref = ref.detach().cpu().double()
    return ((a.detach().cpu().double() - ref).norm() / ref.norm().clamp_min(floor)).item()


def compare_with_reference(
    kernel: Callable[..., tuple[Tensor, ...]],
    reference: Callable[..., tuple[Tensor, ...]],
    args64: list[Tensor],
    dtype: torch.dtype = torch.float32,
    floor: float = 1e-30,
    **kwargs: object,
) -> list[float]:
    """Relative errors of kernel(args in dtype, on DEVICE) vs reference(args64 on the CPU):
    outputs, then grads.

    Every tensor in args64 is a float64 leaf (tensor keyword arguments such as lengths
    are moved to DEVICE for the kernel); the same fixed upstream gradient is pulled
    back through both. Returns one relative error per output and per argument gradient.
    `floor` bounds the denominator from below: with saturated gates some gradients vanish
    (~e^-80) and only an error relative to the upstream gradient's scale (floor=1) means
    anything.
    """
    leaves64 = [a.detach().clone().requires_grad_() for a in args64]
    ref = reference(*leaves64, **kwargs)
    g = torch.Generator().manual_seed(1234)  # fixed: results must not depend on test order
    upstream = [torch.randn(r.shape, generator=g, dtype=r.dtype) for r in ref]
    ref_grads = torch.autograd.grad(ref, leaves64, upstream)
    leaves = [a.detach().to(DEVICE, dtype).requires_grad_() for a in args64]
    on_device = {k: v.to(DEVICE) if isinstance(v, Tensor) else v for k, v in kwargs.items()}
    out = kernel(*leaves, **on_device)
    grads = torch.autograd.grad(out, leaves, [u.to(DEVICE, dtype) for u in upstream])
    for t in (*out, *grads):
        assert torch.isfinite(t).all(), "non-finite values from the kernel"
    return [rel_err(a, r, floor) for a, r in zip((*out, *grads), (*ref, *ref_grads), strict=True)]
