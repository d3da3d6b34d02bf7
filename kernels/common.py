"""What every kernel shares: stable activations, the cells' pointwise math, where a
program's elements sit (tiles) and how gate blocks move, launch counting, sizes, precision.

Activations. sigmoid(x) = 1 / (1 + e^-x) overflows e^-x for x < -88 in fp32, and the
textbook tanh(x) = (e^x - e^-x) / (e^x + e^-x) gives inf/inf = NaN for |x| > 44. Both
are written here in terms of e = exp(-|x|) <= 1, which never overflows:

    sigmoid(x) = 1 / (1 + e)        if x >= 0,     e / (1 + e)      otherwise
    tanh(x)    = sign(x) (1 - e^2) / (1 + e^2)     (e^2 = exp(-2|x|))

Block sizes. `tl.dot` on a GPU needs every dimension >= 16, so hidden and batch blocks
are at least 16 wide (masked loads zero the padding). The interpreter would accept less.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import triton
import triton.language as tl

# How many times each kernel was launched; tests read it to prove a kernel really ran.
LAUNCHES: Counter[str] = Counter()
# While `recording_launches()` is active: every launch is appended here instead of run.
_RECORDED: list[Launch] | None = None

MIN_BLOCK = 16  # the smallest tl.dot dimension a GPU accepts
SUPPORTED_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


@dataclass(frozen=True)
class Launch:
    """One kernel launch as the launcher asked for it: what `kernel[grid](*args, **meta)` gets."""

    kernel: object  # the @triton.jit function
    args: tuple
    meta: dict  # constexprs, num_warps, num_stages


def launch(kernel, grid: tuple[int, ...], *args, **meta) -> None:
    """kernel[grid](*args, **meta), counted in LAUNCHES under the kernel's name."""
    if _RECORDED is not None:
        _RECORDED.append(Launch(kernel, args, meta))
        return
    LAUNCHES[kernel.fn.__name__] += 1
    kernel[grid](*args, **meta)


@contextmanager
def recording_launches() -> Iterator[list[Launch]]:
    """Launches inside this block are recorded, not run (`kernels.compile_check` uses it to
    learn, from the launchers themselves, which builds they ask for). Pair it with tensors
    on the "meta" device: the launchers' own torch ops then cost nothing either."""
    global _RECORDED
    before, _RECORDED = _RECORDED, []
    try:
        yield _RECORDED
    finally:
        _RECORDED = before


def block_size(n: int) -> int:
    """The power-of-two block that covers n features, at least MIN_BLOCK."""
    return max(MIN_BLOCK, triton.next_power_of_2(n))


def check_dtype(x: torch.Tensor) -> None:
    if x.dtype not in SUPPORTED_DTYPES:
        raise TypeError(
            f"the Triton kernels take float32, float16 or bfloat16 inputs, got {x.dtype}"
        )


def full_lengths(
    lengths: torch.Tensor | None, T: int, B: int, device: torch.device
) -> torch.Tensor:
    """Lengths as int32 on the kernel's device; every sequence has T steps if None."""
    if lengths is None:
        return torch.full((B,), T, dtype=torch.int32, device=device)
    return lengths.to(device=device, dtype=torch.int32).contiguous()


def tf32_enabled() -> bool:
    """Whether the user allowed TF32 for fp32 matmuls.

    torch >= 2.9 has `torch.backends.cuda.matmul.fp32_precision` ("ieee" / "tf32"; it
    follows `torch.backends.fp32_precision` when left at "none"). Once that new API has
    been set, reading the legacy `allow_tf32` raises RuntimeError, so the new one is read
    wherever it exists and `allow_tf32` only on older torch.
    """
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):
        return matmul.fp32_precision == "tf32"
    return bool(matmul.allow_tf32)


@contextmanager
def matmul_precision(tf32: bool) -> Iterator[None]:
    """torch matmuls in this block use TF32 on Ampere+ GPUs only if tf32=True.

    Set and restored through the API `tf32_enabled` reads (new one first, legacy flag on
    older torch), so the two are never mixed."""
    matmul = torch.backends.cuda.matmul
    name, value = (
        ("fp32_precision", "tf32" if tf32 else "ieee")
        if hasattr(matmul, "fp32_precision")
        else ("allow_tf32", tf32)
    )
    before = getattr(matmul, name)
    setattr(matmul, name, value)
    try:
        yield
    finally:
        setattr(matmul, name, before)


def dot_precision(tf32: bool, dtype: torch.dtype, H: int) -> str:
    """tl.dot's input_precision for fp32 operands of hidden size H: "tf32" if TF32 is asked
    for, else "tf32x3", which is as exact as fp32 products and runs on tensor cores.

    tf32x3 splits each operand a = a_hi + a_lo (a_hi: TF32's 10-bit mantissa, a_lo: the
    rest, rounded to TF32 again) and sums three tensor-core products,
        a b ~ a_hi b_hi + a_hi b_lo + a_lo b_hi        (a_lo b_lo ~ 2^-22 a b is dropped),
    so each product keeps ~22 bits, near fp32's 24. Measured on an H100 (v2 kernels, H=64,
    `benchmarks/results/NVIDIA_H100_80GB_HBM3-fp32-dot-2026-11-22.md`): 3.0 us per LSTM
    step against 17.8 us for the exact "ieee" dot on CUDA cores, with the same error
    against float64 (3.5e-7 vs 3.6e-7 after 256 steps).

    Where H is not a multiple of MIN_BLOCK (and above it), the masked tf32x3 builds hit
    the 255-register cap of 8 warps and spill 4-32 B (compile_check, sm_90); 16 warps cap
    at 128 registers and spill more. Those sizes keep the exact "ieee" dot on CUDA cores.
    16-bit operands always multiply exactly on tensor cores, so they get "ieee" whatever
    tf32 says (one build per dtype)."""
    if dtype != torch.float32:
        return "ieee"
    if tf32:
        return "tf32"
    return "tf32x3" if H <= MIN_BLOCK or H % MIN_BLOCK == 0 else "ieee"


# ---------------------------------------------------------------------------------------
# Launch configurations: warps per program and software-pipelining depth. Triton's
# defaults (4 warps, 3 stages) are tuned for GEMM tiles; `kernels.compile_check` compiles
# every build for sm_90 and sm_80 and fails if one of these spills or overflows.
# ---------------------------------------------------------------------------------------

# Per-step kernels (v1): BLOCK_H = 64 features per program, one per thread with 2 warps;
# there is no loop in them, so nothing to pipeline.
STEP_CONFIG = {"num_warps": 2, "num_stages": 1}
# Persistent kernels (v2): 4 (LSTM) or 3 (GRU) (BLOCK_H, BLOCK_H) weight tiles stay live
# for the whole time loop. 8 warps spread them over 256 threads (at BLOCK_H = 128 in
# 16-bit: 4 * 128 * 128 * 2 B / 256 = 512 B, 128 registers, per thread); one stage, since
# pipelining the loop's loads (num_stages = 3) double-buffers them in shared memory
# and, at BLOCK_H = 128, pushed the LSTM and GRU builds past the 227 KiB of an H100 block.
PERSISTENT_CONFIG = {"num_warps": 8, "num_stages": 1}


def row_config(block: int, features_per_warp: int) -> dict[str, int]:
    """Kernels that hold a whole row of `block` features per program (the layer-norm
    LSTM): one warp per `features_per_warp` features, 4 to 32 warps, so the per-thread
    share stays constant as the row grows instead of spilling. The forward step takes
    256 per warp; the backward holds more arrays per feature and takes 128 (with 256 it
    spilled 8 B in bf16 at BLOCK_H = 1024 on sm_80; the forward spilled 4 B with 128)."""
    return {"num_warps": min(32, max(4, block // features_per_warp)), "num_stages": 1}


def dot_dtype(dtype: torch.dtype) -> tl.dtype:
    """The tl.dot operand dtype for weights of `dtype`: the weight dtype itself on a GPU.

    Triton 3.9's interpreter multiplies bfloat16 dot operands as their raw bits (wrong
    results), so under TRITON_INTERPRET=1 bf16 operands are upcast to fp32 instead; the
    compiled GPU path keeps them bf16 (accumulating in fp32 either way).
    """
    if dtype == torch.bfloat16 and os.environ.get("TRITON_INTERPRET") == "1":
        return tl.float32
    return {torch.float32: tl.float32, torch.float16: tl.float16, torch.bfloat16: tl.bfloat16}[
        dtype
    ]


@triton.jit
def step_start(ptr, t, B, width):
    """ptr + t B width: where step t starts in a contiguous (T, B, width) buffer (64-bit).

    The per-step kernels take whole (T, B, .) buffers and the step index rather than
    slices such as xw[t]: a slice starts 16-byte aligned or not depending on t, B and H,
    and Triton compiles one build per alignment pattern; allocations always start aligned.
    """
    return ptr + t.to(tl.int64) * B * width


# ---------------------------------------------------------------------------------------
# Where a program's elements sit, and moving gate blocks between memory and registers.
# Offsets are 64-bit: T B 4H overflows int32 for long sequences of wide layers.
# ---------------------------------------------------------------------------------------


@triton.jit
def step_tile(H, G: tl.constexpr, BLOCK_H: tl.constexpr):
    """The per-step (v1) kernels' tile: program (b, j) owns hidden features j BLOCK_H ...
    (j BLOCK_H + BLOCK_H - 1) of batch row b.

    Returns row (= b, int64), cols (BLOCK_H,), mask (cols < H), s_off (the features'
    offsets in one step of a (B, H) buffer) and g_off (in one step of a (B, G H) buffer,
    gate block 0; block k is at g_off + k H).
    """
    row = tl.program_id(0).to(tl.int64)
    cols = tl.program_id(1) * BLOCK_H + tl.arange(0, BLOCK_H)
    return row, cols, cols < H, row * H + cols, row * G * H + cols


@triton.jit
def batch_tile(len_ptr, B, H, G: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr):
    """The persistent (v2) kernels' tile: program p owns batch rows p BLOCK_B ...
    (p BLOCK_B + BLOCK_B - 1) and every hidden feature.

    Returns cols (BLOCK_H,), mask (BLOCK_B, BLOCK_H), s_off and g_off (as in `step_tile`,
    now (BLOCK_B, BLOCK_H)) and the rows' sequence lengths (BLOCK_B, 1) from len_ptr.
    """
    rows = tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)
    cols = tl.arange(0, BLOCK_H)
    mask = (rows[:, None] < B) & (cols[None, :] < H)
    rows64 = rows.to(tl.int64)
    s_off = rows64[:, None] * H + cols[None, :]
    g_off = rows64[:, None] * G * H + cols[None, :]
    length = tl.load(len_ptr + rows, mask=rows < B, other=0)[:, None]
    return cols, mask, s_off, g_off, length


@triton.jit
def weight_tile(w_ptr, k, H, cols, transpose: tl.constexpr, DOT_DTYPE: tl.constexpr):
    """Gate block k of W_hh (G H, H) as a (BLOCK_H, BLOCK_H) tile of DOT_DTYPE, zero outside
    H x H, for the persistent kernels to hold on-chip. transpose=True gives W_k^T (element
    [a, b] = W_k[b, a]), the operand of h W_k^T; transpose=False gives W_k, for dG_k W_k."""
    mask = (cols[:, None] < H) & (cols[None, :] < H)
    if transpose:
        off = cols[None, :] * H + cols[:, None]
    else:
        off = cols[:, None] * H + cols[None, :]
    return tl.load(w_ptr + k * H * H + off, mask=mask, other=0.0).to(DOT_DTYPE)


@triton.jit
def weight_tiles3(w_ptr, H, cols, transpose: tl.constexpr, DOT_DTYPE: tl.constexpr):
    """`weight_tile` k = 0, 1, 2."""
    w0 = weight_tile(w_ptr, 0, H, cols, transpose, DOT_DTYPE)
    w1 = weight_tile(w_ptr, 1, H, cols, transpose, DOT_DTYPE)
    return w0, w1, weight_tile(w_ptr, 2, H, cols, transpose, DOT_DTYPE)


@triton.jit
def weight_tiles4(w_ptr, H, cols, transpose: tl.constexpr, DOT_DTYPE: tl.constexpr):
    """`weight_tile` k = 0 .. 3."""
    w0, w1, w2 = weight_tiles3(w_ptr, H, cols, transpose, DOT_DTYPE)
    return w0, w1, w2, weight_tile(w_ptr, 3, H, cols, transpose, DOT_DTYPE)


@triton.jit
def load_blocks3(ptrs, H, mask):
    """Gate blocks 0, 1, 2 of a (., 3H) row: ptrs, ptrs + H, ptrs + 2H, as fp32."""
    b0 = tl.load(ptrs, mask=mask, other=0.0).to(tl.float32)
    b1 = tl.load(ptrs + H, mask=mask, other=0.0).to(tl.float32)
    b2 = tl.load(ptrs + 2 * H, mask=mask, other=0.0).to(tl.float32)
    return b0, b1, b2


@triton.jit
def load_blocks4(ptrs, H, mask):
    """Gate blocks 0 .. 3 of a (., 4H) row, as fp32."""
    b0, b1, b2 = load_blocks3(ptrs, H, mask)
    return b0, b1, b2, tl.load(ptrs + 3 * H, mask=mask, other=0.0).to(tl.float32)


@triton.jit
def store_blocks3(ptrs, H, mask, b0, b1, b2):
    """Stores gate blocks 0, 1, 2 at ptrs + k H, in the dtype ptrs point to."""
    ty = ptrs.dtype.element_ty
    tl.store(ptrs, b0.to(ty), mask=mask)
    tl.store(ptrs + H, b1.to(ty), mask=mask)
    tl.store(ptrs + 2 * H, b2.to(ty), mask=mask)


@triton.jit
def store_blocks4(ptrs, H, mask, b0, b1, b2, b3):
    """Stores gate blocks 0 .. 3 at ptrs + k H, in the dtype ptrs point to."""
    store_blocks3(ptrs, H, mask, b0, b1, b2)
    tl.store(ptrs + 3 * H, b3.to(ptrs.dtype.element_ty), mask=mask)


@triton.jit
def store_step_output(h_ptrs, out_ptrs, mask, alive, h, h_prev):
    """The lengths contract for one step: where the row is alive, h_t = h and out_t = h;
    past its end h_t = h_{t-1} (frozen) and out_t = 0."""
    tl.store(h_ptrs, tl.where(alive, h, h_prev).to(h_ptrs.dtype.element_ty), mask=mask)
    tl.store(out_ptrs, tl.where(alive, h, 0.0).to(out_ptrs.dtype.element_ty), mask=mask)


@triton.jit
def sigmoid(x):
    e = tl.exp(-tl.abs(x))
    return tl.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@triton.jit
def tanh(x):
    e2 = tl.exp(-2.0 * tl.abs(x))
    t = (1.0 - e2) / (1.0 + e2)
    return tl.where(x >= 0, t, -t)


# ---------------------------------------------------------------------------------------
# The LSTM cell's pointwise math, shared by the v1 (per-step) and v2 (persistent) kernels
# ---------------------------------------------------------------------------------------


@triton.jit
def lstm_cell_forward(pre_i, pre_f, pre_g, pre_o, c_prev):
    """Gate activations and the cell update from the pre-activations (all fp32).

    i, f, o = sigmoid(.), g = tanh(.);  c = f c_prev + i g;  h = o tanh(c)
    """
    i = sigmoid(pre_i)
    f = sigmoid(pre_f)
    g = tanh(pre_g)
    o = sigmoid(pre_o)
    c = f * c_prev + i * g
    h = o * tanh(c)
    return i, f, g, o, c, h


@triton.jit
def lstm_cell_backward(dh, dc, i, f, g, o, c_prev, c):
    """Gradients of the pre-activations and of c_prev, given dL/dh_t and dL/dc_t.

    dc_t   = dc + dh o (1 - tanh(c)^2)          (c_t reaches the loss directly and via h_t)
    dpre_i = dc_t g i (1 - i)        dpre_f = dc_t c_prev f (1 - f)
    dpre_g = dc_t i (1 - g^2)        dpre_o = dh tanh(c) o (1 - o)
    dc_prev = dc_t f
    """
    tc = tanh(c)
    dc = dc + dh * o * (1.0 - tc * tc)
    dpre_i = dc * g * i * (1.0 - i)
    dpre_f = dc * c_prev * f * (1.0 - f)
    dpre_g = dc * i * (1.0 - g * g)
    dpre_o = dh * tc * o * (1.0 - o)
    return dpre_i, dpre_f, dpre_g, dpre_o, dc * f


# ---------------------------------------------------------------------------------------
# The GRU cell's pointwise math (reset-after form, torch's gate order r, z, n)
# ---------------------------------------------------------------------------------------


@triton.jit
def gru_cell_forward(u_r, u_z, u_n, v_r, v_z, v_n, h_prev):
    """u_* = (x W_ih^T + b_ih) blocks, v_* = (h W_hh^T + b_hh) blocks, all fp32 (the
    names of `lstm_scratch/cells/gru.py`, whose `gru_update` this is).

    r = sigmoid(u_r + v_r);  z = sigmoid(u_z + v_z);  n = tanh(u_n + r v_n);
    h = (1 - z) n + z h_prev
    """
    r = sigmoid(u_r + v_r)
    z = sigmoid(u_z + v_z)
    n = tanh(u_n + r * v_n)
    h = (1.0 - z) * n + z * h_prev
    return r, z, n, h


@triton.jit
def gru_cell_backward(dh, r, z, n, v_n, h_prev):
    """Gradients of the pre-activations given dL/dh_t.

    da_n = dh (1 - z)(1 - n^2)          (= d(u_n), and d(v_n) = da_n r)
    da_r = da_n v_n r (1 - r)           (= d(u_r) = d(v_r))
    da_z = dh (h_prev - n) z (1 - z)    (= d(u_z) = d(v_z))
    the direct part of dh_prev: dh z    (the rest flows through W_hh)
    """
    da_n = dh * (1.0 - z) * (1.0 - n * n)
    da_r = da_n * v_n * r * (1.0 - r)
    da_z = dh * (h_prev - n) * z * (1.0 - z)
    return da_r, da_z, da_n, dh * z
