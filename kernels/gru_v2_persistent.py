"""GRU v2: the whole time loop in ONE kernel launch, W_hh and b_hh kept on-chip.

The persistent design of `lstm_v2_persistent` (read it first: one program per BLOCK_B
batch rows owns the full hidden dimension, so H <= MAX_HIDDEN = 128 and no grid-wide
barrier is needed) applied to the GRU of `gru_v1_fused_gates`:

    W_r, W_z, W_n (each (H, H)) and b_hr, b_hz, b_hn loaded once; h in fp32 registers
    for t = 0 .. T-1:
        v_k = h W_k^T + b_hk               three tl.dot per step (k = r, z, n)
        r, z, n, h = gru_cell_forward(u_t, v, h)      (u = xw = x W_ih^T + b_ih)
        save gates_t = [r z n], v_n, h_t              (fp32)

Backward runs the loop in reverse, dh_{t-1} = dh z + d(hw_t) W_hh by three tl.dot with
the W_k on-chip, writing d(xw) and d(hw); then dW_hh = d(hw)^T H_prev and
db_hh = sum d(hw) as reductions over all T*B rows outside the recurrence.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from .common import (
    batch_tile,
    check_dtype,
    full_lengths,
    gru_cell_backward,
    gru_cell_forward,
    launch,
    load_blocks3,
    store_blocks3,
    weight_tiles3,
)
from .gru_v1_fused_gates import gru_reference, gru_weight_grads
from .lstm_v2_persistent import BLOCK_B, check_hidden, persistent_meta

MAX_HIDDEN = {torch.float32: 64, torch.float16: 128, torch.bfloat16: 128}


@triton.jit(do_not_specialize=["T", "B"])  # one build for every T and B
def gru_persistent_forward_kernel(
    xw_ptr,  # (T, B, 3H) x W_ih^T + b_ih for every step, contiguous
    w_hh_ptr,  # (3H, H) recurrent weights, contiguous
    b_hh_ptr,  # (3H,) recurrent bias (zeros when the layer has none)
    h0_ptr,  # (B, H) initial hidden state
    len_ptr,  # (B,) int32 sequence lengths
    out_ptr,  # out (T, B, H) outputs: h_t where alive, else 0
    gates_ptr,  # out (T, B, 3H) fp32 activated gates [r z n]
    v_n_ptr,  # out (T, B, H) fp32 recurrent candidate term W_hn h_{t-1} + b_hn
    h_ptr,  # out (T+1, B, H) fp32 hidden states h_0 .. h_T (frozen past each end)
    T, B, H,  # steps, batch size, hidden size (<= BLOCK_H)
    BLOCK_B: tl.constexpr,  # batch rows per program
    BLOCK_H: tl.constexpr,  # power of two >= H and >= 16
    PRECISION: tl.constexpr,  # tl.dot input_precision: see common.dot_precision
    DOT_DTYPE: tl.constexpr,  # tl.dot operand dtype (the weight dtype; see dot_dtype)
):
    cols, mask, s_off, g_off, length = batch_tile(len_ptr, B, H, 3, BLOCK_B, BLOCK_H)
    w_r, w_z, w_n = weight_tiles3(w_hh_ptr, H, cols, True, DOT_DTYPE)  # W_k^T, on-chip
    b_r, b_z, b_n = load_blocks3(b_hh_ptr + cols[None, :], H, cols[None, :] < H)  # (1, BLOCK_H)
    h = tl.load(h0_ptr + s_off, mask=mask, other=0.0).to(tl.float32)
    tl.store(h_ptr + s_off, h, mask=mask)

    xw_ptrs = xw_ptr + g_off
    gates_ptrs = gates_ptr + g_off
    hn_ptrs = v_n_ptr + s_off
    out_ptrs = out_ptr + s_off
    h_ptrs = h_ptr + s_off
    for t in range(T):
        hb = h.to(DOT_DTYPE)
        v_r = tl.dot(hb, w_r, input_precision=PRECISION) + b_r
        v_z = tl.dot(hb, w_z, input_precision=PRECISION) + b_z
        v_n = tl.dot(hb, w_n, input_precision=PRECISION) + b_n
        u_r, u_z, u_n = load_blocks3(xw_ptrs, H, mask)

        r, z, n, h_new = gru_cell_forward(u_r, u_z, u_n, v_r, v_z, v_n, h)

        alive = t < length
        h = tl.where(alive, h_new, h)
        store_blocks3(gates_ptrs, H, mask, r, z, n)
        tl.store(hn_ptrs, v_n, mask=mask)
        out = tl.where(alive, h_new, 0.0)
        tl.store(out_ptrs, out.to(out_ptr.dtype.element_ty), mask=mask)
        h_ptrs += B * H
        tl.store(h_ptrs, h, mask=mask)

        xw_ptrs += B * 3 * H
        gates_ptrs += B * 3 * H
        hn_ptrs += B * H
        out_ptrs += B * H


@triton.jit(do_not_specialize=["T", "B"])  # one build for every T and B
def gru_persistent_backward_kernel(
    dout_ptr,  # (T, B, H) dL/d(out)
    dhT_ptr,  # (B, H) dL/dh_T
    w_hh_ptr,  # (3H, H) recurrent weights
    gates_ptr,  # (T, B, 3H) fp32 [r z n] saved by the forward kernel
    v_n_ptr,  # (T, B, H) fp32 recurrent candidate terms
    h_ptr,  # (T+1, B, H) fp32 h_0 .. h_T
    len_ptr,  # (B,) int32 sequence lengths
    dxw_ptr,  # out (T, B, 3H) dL/d(xw), dtype of xw
    dhw_ptr,  # out (T, B, 3H) dL/d(hw), dtype of xw
    dh0_ptr,  # out (B, H) fp32 dL/dh_0
    T, B, H,
    BLOCK_B: tl.constexpr,
    BLOCK_H: tl.constexpr,
    PRECISION: tl.constexpr,
    DOT_DTYPE: tl.constexpr,
):
    cols, mask, s_off, g_off, length = batch_tile(len_ptr, B, H, 3, BLOCK_B, BLOCK_H)
    w_r, w_z, w_n = weight_tiles3(w_hh_ptr, H, cols, False, DOT_DTYPE)  # W_k, for d(v_k) W_k
    dh = tl.load(dhT_ptr + s_off, mask=mask, other=0.0).to(tl.float32)

    last = T - 1  # walk the 64-bit pointers to step T-1, then back one step at a time
    dout_ptrs = dout_ptr + s_off
    gates_ptrs = gates_ptr + g_off
    dxw_ptrs = dxw_ptr + g_off
    dhw_ptrs = dhw_ptr + g_off
    hn_ptrs = v_n_ptr + s_off
    h_ptrs = h_ptr + s_off  # h_{t-1} of step t lives at index t
    for _ in range(last):
        dout_ptrs += B * H
        gates_ptrs += B * 3 * H
        dxw_ptrs += B * 3 * H
        dhw_ptrs += B * 3 * H
        hn_ptrs += B * H
        h_ptrs += B * H
    for s in range(T):
        t = last - s
        alive = t < length
        dh += tl.where(alive, tl.load(dout_ptrs, mask=mask, other=0.0).to(tl.float32), 0.0)
        r, z, n = load_blocks3(gates_ptrs, H, mask)
        v_n = tl.load(hn_ptrs, mask=mask, other=0.0)
        h_prev = tl.load(h_ptrs, mask=mask, other=0.0)

        d_r, d_z, d_n, dh_direct = gru_cell_backward(dh, r, z, n, v_n, h_prev)
        d_r = tl.where(alive, d_r, 0.0)
        d_z = tl.where(alive, d_z, 0.0)
        d_n = tl.where(alive, d_n, 0.0)
        dv_n = d_n * r
        store_blocks3(dxw_ptrs, H, mask, d_r, d_z, d_n)
        store_blocks3(dhw_ptrs, H, mask, d_r, d_z, dv_n)

        dh_prev = dh_direct + tl.dot(d_r.to(DOT_DTYPE), w_r, input_precision=PRECISION)
        dh_prev += tl.dot(d_z.to(DOT_DTYPE), w_z, input_precision=PRECISION)
        dh_prev += tl.dot(dv_n.to(DOT_DTYPE), w_n, input_precision=PRECISION)
        dh = tl.where(alive, dh_prev, dh)

        dout_ptrs -= B * H
        gates_ptrs -= B * 3 * H
        dxw_ptrs -= B * 3 * H
        dhw_ptrs -= B * 3 * H
        hn_ptrs -= B * H
        h_ptrs -= B * H
    tl.store(dh0_ptr + s_off, dh, mask=mask)


class GRUv2Function(torch.autograd.Function):
    """(xw, h0, w_hh, b_hh, lengths, tf32) -> (out, h_T); see the module docstring."""

    @staticmethod
    def forward(ctx, xw, h0, w_hh, b_hh, lengths, tf32):
        (T, B, _), H = xw.shape, w_hh.shape[1]
        xw, w_hh, h0 = xw.contiguous(), w_hh.contiguous(), h0.contiguous()
        bias = w_hh.new_zeros(3 * H) if b_hh is None else b_hh.contiguous()
        lens = full_lengths(lengths, T, B, xw.device)
        out = xw.new_empty(T, B, H)
        gates = xw.new_empty(T, B, 3 * H, dtype=torch.float32)
        v_n = xw.new_empty(T, B, H, dtype=torch.float32)
        hs = xw.new_empty(T + 1, B, H, dtype=torch.float32)
        meta = persistent_meta(H, w_hh.dtype, tf32)
        launch(
            gru_persistent_forward_kernel, (triton.cdiv(B, BLOCK_B),),
            xw, w_hh, bias, h0, lens, out, gates, v_n, hs, T, B, H, **meta,
        )
        ctx.save_for_backward(w_hh, lens, gates, v_n, hs)
        ctx.meta, ctx.tf32, ctx.has_bias = meta, tf32, b_hh is not None
        return out, hs[T].to(h0.dtype)

    @staticmethod
    def backward(ctx, dout, dh_T):
        w_hh, lens, gates, v_n, hs = ctx.saved_tensors
        T, B, H = v_n.shape
        dxw = torch.empty_like(gates, dtype=dout.dtype)
        dhw = torch.empty_like(dxw)
        dh0 = torch.empty_like(dh_T, dtype=torch.float32)
        launch(
            gru_persistent_backward_kernel, (triton.cdiv(B, BLOCK_B),),
            dout.contiguous(), dh_T.contiguous(), w_hh, gates, v_n, hs, lens, dxw, dhw, dh0,
            T, B, H, **ctx.meta,
        )
        dw_hh, db_hh = gru_weight_grads(dhw, hs, w_hh, ctx.tf32)
        return dxw, dh0.to(dh_T.dtype), dw_hh, db_hh if ctx.has_bias else None, None, None


def gru_v2(xw: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor | None = None,
           lengths: Tensor | None = None, tf32: bool = False) -> tuple[Tensor, Tensor]:
    """Same contract as `gru_v1` (reference: `gru_reference`), for H <= MAX_HIDDEN."""
    check_dtype(xw)
    check_hidden(w_hh.shape[1], w_hh.dtype, MAX_HIDDEN)
    return GRUv2Function.apply(xw, h0, w_hh, b_hh, lengths, tf32)


__all__ = ["MAX_HIDDEN", "gru_reference", "gru_v2"]
