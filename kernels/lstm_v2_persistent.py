"""LSTM v2: the whole time loop in ONE kernel launch, W_hh loaded once and kept on-chip.

v1 pays, per time step, a matmul launch, a gate-kernel launch and a round trip of
h, c and the gates through global memory. Here each program owns BLOCK_B batch rows and
the full hidden dimension, loads the four gate blocks of W_hh once, and keeps h and c in
fp32 registers for all T steps:

    program p (rows p*BLOCK_B ...):
        W_k = W_hh[k*H:(k+1)*H]            k = i, f, g, o; each (H, H), loaded once
        h, c = h_0, c_0                    fp32 registers
        for t = 0 .. T-1:
            pre_k = xw_t[:, k] + h W_k^T   four tl.dot per step, no global memory for h
            i, f, g, o, c, h = lstm_cell_forward(pre, c)
            save gates_t, c_t, out_t       (what backward needs, and the output)

Why one program owns the whole hidden dimension: h_t from *all* hidden features is needed
by every feature at step t+1. Splitting H over programs would need a grid-wide barrier
per step, which only works if all programs are co-resident on the GPU (else it deadlocks)
and which the interpreter, running programs one after another, cannot emulate. So v2
supports H <= MAX_HIDDEN[dtype]: the padded (H, H) gate blocks, four of them, must fit
in one program's registers and shared memory for the whole loop. That is H <= 128 for
16-bit weights and H <= 64 for fp32 (4*128*128 fp32 = 256 KiB does not fit an SM; see
MAX_HIDDEN). Larger H raises ValueError; the backend's dispatch sends it to v1 (any H).

Backward is the same loop in reverse (lstm_cell_backward per step, dh_{t-1} = dG_t W_hh
by four tl.dot with the W_k kept on-chip), writing only the gate gradients dG; then, as
GEMMs over all T*B rows outside the recurrence:

    dW_hh = dG^T [h_0; out_0..out_{T-2}]     dxw = dG  (autograd: dW_ih, db, dx)

Numerics: h and c are fp32 registers; with 16-bit weights, h is rounded to the weight
dtype only as a tl.dot operand (accumulation is fp32). fp32 dots are as exact as fp32
("tf32x3" on tensor cores, or "ieee" on CUDA cores; `common.dot_precision`) unless
tf32=True. Pointers advance by one step's stride per iteration, so offsets into (T, B, 4H)
buffers never form T*B*H in 32 bits. Block sizes are >= 16 (tl.dot on GPU).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from .common import (
    MIN_BLOCK,
    PERSISTENT_CONFIG,
    batch_tile,
    block_size,
    check_dtype,
    dot_dtype,
    dot_precision,
    full_lengths,
    launch,
    load_blocks4,
    lstm_cell_backward,
    lstm_cell_forward,
    store_blocks4,
    weight_tiles4,
)
from .lstm_v1_fused_gates import lstm_reference, lstm_weight_grad

# The largest H whose W_hh stays on-chip, per weight dtype. Four (BLOCK_H, BLOCK_H) tiles:
# at BLOCK_H = 128 that is 128 KiB in 16 bits (8 warps hold it in 192-249 registers per
# thread, no spill) but 256 KiB in fp32: more than the 227 KiB of shared memory an H100
# block may have and than 8 warps' registers can hold (thousands of bytes of spills per
# thread); kernels/compile_check.py and benchmarks/results/kernels-sm90-*.md have the numbers.
MAX_HIDDEN = {torch.float32: 64, torch.float16: 128, torch.bfloat16: 128}
# At BLOCK_H = 128 only an H that Triton can prove a multiple of 16 fits: that build
# vectorises its loads and stays in registers, while H = 65..127 otherwise (scalar loads,
# a 64-bit address per element) spills 100-290 B per thread even with 16 warps.
FULL_BLOCK_MULTIPLE = 16
BLOCK_B = MIN_BLOCK  # batch rows per program
# Triton 3.9's LLVM (its SLP vectorizer, which Triton runs for sm_90 but not sm_80) aborts
# the process on the exact-fp32 backward at BLOCK_H = 64 with 8 warps ("Instruction does
# not dominate all uses"), and with 16 warps for H = 33..63; with 32 warps it compiles
# (64 registers, no spill). With 4 warps it aborts even at BLOCK_H = 16, and more warps
# than needed spill a few bytes on sm_80 (16 warps at BLOCK_H = 16), so: one warp per two
# hidden features, 8, 16, 32 warps at BLOCK_H = 16, 32, 64, each compiled clean for sm_80
# and sm_90. 16-bit, TF32 and 3xTF32 backward builds keep PERSISTENT_CONFIG.
def exact_fp32_backward_config(block_h: int) -> dict[str, int]:
    return {"num_warps": block_h // 2, "num_stages": 1}


def fits(H: int, dtype: torch.dtype, limits: dict[torch.dtype, int]) -> bool:
    """Whether a persistent kernel holds hidden size H of `dtype` on-chip (see MAX_HIDDEN)."""
    return H <= limits[dtype] and (block_size(H) < 128 or H % FULL_BLOCK_MULTIPLE == 0)


def check_hidden(H: int, dtype: torch.dtype, limits: dict[torch.dtype, int]) -> None:
    if not fits(H, dtype, limits):
        raise ValueError(
            f"the persistent (v2) kernels hold W_hh on-chip and support hidden_size <= "
            f"{limits[dtype]} in {dtype} (above 64 only multiples of "
            f"{FULL_BLOCK_MULTIPLE}), got {H}; use the v1 kernels for this hidden size"
        )


def persistent_meta(H: int, dtype: torch.dtype, tf32: bool) -> dict:
    """A persistent kernel's constexprs and launch configuration for hidden size H and
    weights of `dtype` (its grid: one program per BLOCK_B batch rows)."""
    return dict(
        BLOCK_B=BLOCK_B, BLOCK_H=block_size(H), PRECISION=dot_precision(tf32, dtype, H),
        DOT_DTYPE=dot_dtype(dtype), **PERSISTENT_CONFIG,
    )


@triton.jit(do_not_specialize=["T", "B"])  # one build for every T and B
def lstm_persistent_forward_kernel(
    xw_ptr,  # (T, B, 4H) x W_ih^T + b_ih + b_hh for every step, contiguous
    w_hh_ptr,  # (4H, H) recurrent weights, contiguous; its dtype is the dot operand dtype
    h0_ptr,  # (B, H) initial hidden state
    c0_ptr,  # (B, H) initial cell state
    len_ptr,  # (B,) int32 sequence lengths (row b runs steps t < lengths[b])
    out_ptr,  # out (T, B, H) outputs: h_t where alive, else 0
    gates_ptr,  # out (T, B, 4H) fp32 activated gates [i f g o], for backward
    c_ptr,  # out (T+1, B, H) fp32 cell states c_0 .. c_T (frozen past each end)
    hT_ptr,  # out (B, H) fp32 final hidden state (each row's last real step)
    T, B, H,  # steps, batch size, hidden size (<= BLOCK_H)
    BLOCK_B: tl.constexpr,  # batch rows per program
    BLOCK_H: tl.constexpr,  # power of two >= H and >= 16
    PRECISION: tl.constexpr,  # tl.dot input_precision: see common.dot_precision
    DOT_DTYPE: tl.constexpr,  # tl.dot operand dtype (the weight dtype; see dot_dtype)
):
    cols, mask, s_off, g_off, length = batch_tile(len_ptr, B, H, 4, BLOCK_B, BLOCK_H)
    w_i, w_f, w_g, w_o = weight_tiles4(w_hh_ptr, H, cols, True, DOT_DTYPE)  # W_k^T, on-chip
    h = tl.load(h0_ptr + s_off, mask=mask, other=0.0).to(tl.float32)
    c = tl.load(c0_ptr + s_off, mask=mask, other=0.0).to(tl.float32)
    tl.store(c_ptr + s_off, c, mask=mask)

    xw_ptrs = xw_ptr + g_off  # advance one step per iteration: pointers are 64-bit
    gates_ptrs = gates_ptr + g_off
    out_ptrs = out_ptr + s_off
    c_ptrs = c_ptr + s_off
    for t in range(T):
        hb = h.to(DOT_DTYPE)  # dot operand; h itself stays fp32
        pre_i, pre_f, pre_g, pre_o = load_blocks4(xw_ptrs, H, mask)
        pre_i += tl.dot(hb, w_i, input_precision=PRECISION)
        pre_f += tl.dot(hb, w_f, input_precision=PRECISION)
        pre_g += tl.dot(hb, w_g, input_precision=PRECISION)
        pre_o += tl.dot(hb, w_o, input_precision=PRECISION)

        i, f, g, o, c_new, h_new = lstm_cell_forward(pre_i, pre_f, pre_g, pre_o, c)

        alive = t < length  # (BLOCK_B, 1)
        c = tl.where(alive, c_new, c)
        h = tl.where(alive, h_new, h)
        store_blocks4(gates_ptrs, H, mask, i, f, g, o)
        out = tl.where(alive, h_new, 0.0)
        tl.store(out_ptrs, out.to(out_ptr.dtype.element_ty), mask=mask)
        c_ptrs += B * H
        tl.store(c_ptrs, c, mask=mask)

        xw_ptrs += B * 4 * H
        gates_ptrs += B * 4 * H
        out_ptrs += B * H
    tl.store(hT_ptr + s_off, h, mask=mask)


@triton.jit(do_not_specialize=["T", "B"])  # one build for every T and B
def lstm_persistent_backward_kernel(
    dout_ptr,  # (T, B, H) dL/d(out), contiguous
    dhT_ptr,  # (B, H) dL/dh_T
    dcT_ptr,  # (B, H) dL/dc_T
    w_hh_ptr,  # (4H, H) recurrent weights
    gates_ptr,  # (T, B, 4H) fp32 activated gates saved by the forward kernel
    c_ptr,  # (T+1, B, H) fp32 c_0 .. c_T saved by the forward kernel
    len_ptr,  # (B,) int32 sequence lengths
    dgates_ptr,  # out (T, B, 4H) dL/d(pre-activations) (0 past each end), dtype of xw
    dh0_ptr,  # out (B, H) fp32 dL/dh_0
    dc0_ptr,  # out (B, H) fp32 dL/dc_0
    T, B, H,
    BLOCK_B: tl.constexpr,
    BLOCK_H: tl.constexpr,
    PRECISION: tl.constexpr,
    DOT_DTYPE: tl.constexpr,
):
    cols, mask, s_off, g_off, length = batch_tile(len_ptr, B, H, 4, BLOCK_B, BLOCK_H)
    w_i, w_f, w_g, w_o = weight_tiles4(w_hh_ptr, H, cols, False, DOT_DTYPE)  # W_k, for dG_k W_k
    dh = tl.load(dhT_ptr + s_off, mask=mask, other=0.0).to(tl.float32)
    dc = tl.load(dcT_ptr + s_off, mask=mask, other=0.0).to(tl.float32)

    # start at step T-1 and walk back; (T-1)*B*H is formed from 64-bit pointers
    last = T - 1
    dout_ptrs = dout_ptr + s_off
    gates_ptrs = gates_ptr + g_off
    dgates_ptrs = dgates_ptr + g_off
    c_ptrs = c_ptr + s_off
    for _ in range(last):
        dout_ptrs += B * H
        gates_ptrs += B * 4 * H
        dgates_ptrs += B * 4 * H
        c_ptrs += B * H
    c_ptrs += B * H  # c_T; c_{t-1} is one step back
    for s in range(T):
        t = last - s
        alive = t < length
        dh += tl.where(alive, tl.load(dout_ptrs, mask=mask, other=0.0).to(tl.float32), 0.0)
        i, f, g, o = load_blocks4(gates_ptrs, H, mask)
        c = tl.load(c_ptrs, mask=mask, other=0.0)
        c_prev = tl.load(c_ptrs - B * H, mask=mask, other=0.0)

        d_i, d_f, d_g, d_o, dc_prev = lstm_cell_backward(dh, dc, i, f, g, o, c_prev, c)
        d_i = tl.where(alive, d_i, 0.0)
        d_f = tl.where(alive, d_f, 0.0)
        d_g = tl.where(alive, d_g, 0.0)
        d_o = tl.where(alive, d_o, 0.0)
        store_blocks4(dgates_ptrs, H, mask, d_i, d_f, d_g, d_o)

        dh_prev = tl.dot(d_i.to(DOT_DTYPE), w_i, input_precision=PRECISION)
        dh_prev += tl.dot(d_f.to(DOT_DTYPE), w_f, input_precision=PRECISION)
        dh_prev += tl.dot(d_g.to(DOT_DTYPE), w_g, input_precision=PRECISION)
        dh_prev += tl.dot(d_o.to(DOT_DTYPE), w_o, input_precision=PRECISION)
        dh = tl.where(alive, dh_prev, dh)  # past the end h was copied: dh passes through
        dc = tl.where(alive, dc_prev, dc)

        dout_ptrs -= B * H
        gates_ptrs -= B * 4 * H
        dgates_ptrs -= B * 4 * H
        c_ptrs -= B * H
    tl.store(dh0_ptr + s_off, dh, mask=mask)
    tl.store(dc0_ptr + s_off, dc, mask=mask)


class LSTMv2Function(torch.autograd.Function):
    """(xw, h0, c0, w_hh, lengths, tf32) -> (out, h_T, c_T); see the module docstring."""

    @staticmethod
    def forward(ctx, xw, h0, c0, w_hh, lengths, tf32):
        (T, B, _), H = xw.shape, w_hh.shape[1]
        xw, w_hh = xw.contiguous(), w_hh.contiguous()
        h0, c0 = h0.contiguous(), c0.contiguous()
        lens = full_lengths(lengths, T, B, xw.device)
        out = xw.new_empty(T, B, H)
        gates = xw.new_empty(T, B, 4 * H, dtype=torch.float32)
        cs = xw.new_empty(T + 1, B, H, dtype=torch.float32)
        h_T = xw.new_empty(B, H, dtype=torch.float32)
        meta = persistent_meta(H, w_hh.dtype, tf32)
        launch(
            lstm_persistent_forward_kernel, (triton.cdiv(B, BLOCK_B),),
            xw, w_hh, h0, c0, lens, out, gates, cs, h_T, T, B, H, **meta,
        )
        ctx.save_for_backward(h0, w_hh, lens, gates, cs, out)
        ctx.meta, ctx.tf32 = meta, tf32
        return out, h_T.to(h0.dtype), cs[T].to(c0.dtype)

    @staticmethod
    def backward(ctx, dout, dh_T, dc_T):
        h0, w_hh, lens, gates, cs, out = ctx.saved_tensors
        T, B, H = out.shape
        dgates = torch.empty_like(gates, dtype=out.dtype)
        dh0 = torch.empty_like(dh_T, dtype=torch.float32)
        dc0 = torch.empty_like(dh0)
        meta = ctx.meta
        if meta["DOT_DTYPE"] == tl.float32 and meta["PRECISION"] == "ieee":
            meta = {**meta, **exact_fp32_backward_config(meta["BLOCK_H"])}
        launch(
            lstm_persistent_backward_kernel, (triton.cdiv(B, BLOCK_B),),
            dout.contiguous(), dh_T.contiguous(), dc_T.contiguous(), w_hh, gates, cs, lens,
            dgates, dh0, dc0, T, B, H, **meta,
        )
        dw_hh = lstm_weight_grad(dgates, h0, out, w_hh, ctx.tf32)
        return dgates, dh0.to(h0.dtype), dc0.to(h0.dtype), dw_hh, None, None


def lstm_v2(xw: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, lengths: Tensor | None = None,
            tf32: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """Same contract as `lstm_v1` (reference: `lstm_reference`), for H <= MAX_HIDDEN."""
    check_dtype(xw)
    check_hidden(w_hh.shape[1], w_hh.dtype, MAX_HIDDEN)
    return LSTMv2Function.apply(xw, h0, c0, w_hh, lengths, tf32)


__all__ = ["MAX_HIDDEN", "lstm_reference", "lstm_v2"]
