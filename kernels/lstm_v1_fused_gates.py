"""LSTM v1: ONE Triton kernel per time step for all the pointwise gate math.

The readable reference among the kernels. The expensive parts stay matrix products:

    xw  = x W_ih^T + b_ih + b_hh           (T, B, 4H)  one GEMM for all steps, by the caller
    for t = 0 .. T-1:
        hw    = h_{t-1} W_hh^T              (B, 4H)     one torch matmul per step
        [i f g o] = act(xw_t + hw)          }
        c_t = f c_{t-1} + i g               }  lstm_forward_step_kernel, one launch per step
        h_t = o tanh(c_t)                   }

With lengths (B,), sequence b only runs steps t < lengths[b]: past its end h and c are
frozen and its output is 0 (the contract of `lstm_scratch.layer.recurrence`).

Backward, t = T-1 .. 0, carrying dh (to h_t) and dc (to c_t) in fp32:

    dh += dout_t
    dG_t, dc_{t-1} = lstm_cell_backward(dh, dc, gates_t, c_{t-1}, c_t)   lstm_backward_step_kernel
    dh_{t-1} = dG_t W_hh                    one torch matmul per step

and after the loop, as one GEMM over all T*B rows instead of T small ones,

    dW_hh = sum_t dG_t^T h_{t-1}            (4H, H)
    dxw   = dG                              autograd turns it into dW_ih, db, dx (GEMMs)

Numerics: h is carried in the input dtype (it feeds a torch matmul), c and every
gradient in fp32; gate math in fp32. TF32 matmuls only with tf32=True.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from .common import (
    STEP_CONFIG,
    check_dtype,
    full_lengths,
    launch,
    load_blocks4,
    lstm_cell_backward,
    lstm_cell_forward,
    matmul_precision,
    step_start,
    step_tile,
    store_blocks4,
    store_step_output,
)

BLOCK_H = 64  # hidden features per program (any H works: the grid covers it)


@triton.jit(do_not_specialize=["t", "B"])  # one build for every step t and batch size B
def lstm_forward_step_kernel(
    xw_ptr,  # (T, B, 4H) x W_ih^T + b_ih + b_hh, any float dtype, contiguous; step t read
    hw_ptr,  # (B, 4H) h_{t-1} W_hh^T, same dtype
    h_prev_ptr,  # (B, H) h_{t-1}, input dtype (read only to freeze ended sequences)
    cs_ptr,  # (T+1, B, H) fp32 cell states: c_{t-1} read at index t, c_t written at t+1
    len_ptr,  # (B,) int32 sequence lengths
    t,  # this step's index: row b is alive if t < lengths[b]
    gates_ptr,  # out (T, B, 4H) fp32 activated gates [i f g o], saved for backward; step t
    h_ptr,  # out (B, H) h_t in the input dtype (= h_{t-1} where the sequence has ended)
    out_ptr,  # out (T, B, H) the layer's output, step t: h_t where alive, else 0
    B, H,  # batch size, hidden size
    BLOCK_H: tl.constexpr,
):
    xw_ptr = step_start(xw_ptr, t, B, 4 * H)  # (B, 4H) of step t
    gates_ptr = step_start(gates_ptr, t, B, 4 * H)
    out_ptr = step_start(out_ptr, t, B, H)
    c_prev_ptr = step_start(cs_ptr, t, B, H)  # c_{t-1}, stored at index t
    c_ptr = c_prev_ptr + B * H  # c_t
    row, _, mask, s_off, g_off = step_tile(H, 4, BLOCK_H)  # one batch row per program

    pre_i, pre_f, pre_g, pre_o = load_blocks4(xw_ptr + g_off, H, mask)  # x W_ih^T + b
    hw_i, hw_f, hw_g, hw_o = load_blocks4(hw_ptr + g_off, H, mask)  # h_{t-1} W_hh^T
    c_prev = tl.load(c_prev_ptr + s_off, mask=mask)
    h_prev = tl.load(h_prev_ptr + s_off, mask=mask).to(tl.float32)

    i, f, g, o, c, h = lstm_cell_forward(
        pre_i + hw_i, pre_f + hw_f, pre_g + hw_g, pre_o + hw_o, c_prev
    )

    alive = t < tl.load(len_ptr + row)
    store_blocks4(gates_ptr + g_off, H, mask, i, f, g, o)
    tl.store(c_ptr + s_off, tl.where(alive, c, c_prev), mask=mask)
    store_step_output(h_ptr + s_off, out_ptr + s_off, mask, alive, h, h_prev)


@triton.jit(do_not_specialize=["t", "B"])  # one build for every step t and batch size B
def lstm_backward_step_kernel(
    dout_ptr,  # (T, B, H) dL/d(output), any float dtype; step t read
    dh_ptr,  # (B, H) fp32 dL/dh_t through the recurrence (dG_{t+1} W_hh, or dL/dh_T)
    dc_ptr,  # (B, H) fp32 dL/dc_t from step t+1; overwritten with dL/dc_{t-1}
    gates_ptr,  # (T, B, 4H) fp32 activated gates; step t read
    cs_ptr,  # (T+1, B, H) fp32 cell states: c_{t-1} at index t, c_t at t+1
    len_ptr,  # (B,) int32 sequence lengths
    t,  # this step's index
    dgates_ptr,  # out (T, B, 4H) dL/d(pre-activations), in the dtype of xw; step t written
    dh_skip_ptr,  # out (B, H) fp32 the part of dL/dh_{t-1} not through W_hh:
    #               dL/dh_t itself where the sequence has ended (h was copied), else 0
    B, H,
    BLOCK_H: tl.constexpr,
):
    dout_ptr = step_start(dout_ptr, t, B, H)
    gates_ptr = step_start(gates_ptr, t, B, 4 * H)
    dgates_ptr = step_start(dgates_ptr, t, B, 4 * H)
    c_prev_ptr = step_start(cs_ptr, t, B, H)
    c_ptr = c_prev_ptr + B * H
    row, _, mask, s_off, g_off = step_tile(H, 4, BLOCK_H)
    alive = t < tl.load(len_ptr + row)

    dh = tl.load(dh_ptr + s_off, mask=mask)
    dh += tl.where(alive, tl.load(dout_ptr + s_off, mask=mask).to(tl.float32), 0.0)
    dc = tl.load(dc_ptr + s_off, mask=mask)
    i, f, g, o = load_blocks4(gates_ptr + g_off, H, mask)
    c_prev = tl.load(c_prev_ptr + s_off, mask=mask)
    c = tl.load(c_ptr + s_off, mask=mask)

    d_i, d_f, d_g, d_o, dc_prev = lstm_cell_backward(dh, dc, i, f, g, o, c_prev, c)

    store_blocks4(
        dgates_ptr + g_off, H, mask,
        tl.where(alive, d_i, 0.0), tl.where(alive, d_f, 0.0),
        tl.where(alive, d_g, 0.0), tl.where(alive, d_o, 0.0),
    )
    tl.store(dc_ptr + s_off, tl.where(alive, dc_prev, dc), mask=mask)
    tl.store(dh_skip_ptr + s_off, tl.where(alive, 0.0, dh), mask=mask)


def lstm_reference(
    xw: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, lengths: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Exactly what lstm_v1 and lstm_v2 compute: the library's own LSTM cell step
    (`lstm_scratch.cells.StandardLSTM.step`) over time, on autograd (any dtype).

    xw (T, B, 4H) = x W_ih^T + b_ih + b_hh; h0, c0 (B, H); w_hh (4H, H); lengths (B,).
    Returns out (T, B, H) (0 past each sequence's end), h_T, c_T (each sequence's last step).
    """
    from lstm_scratch.cells import StandardLSTM
    from lstm_scratch.layer import recurrence

    out, (h, c) = recurrence(StandardLSTM(), xw, (h0, c0), {"weight_hh": w_hh}, lengths)
    return out, h, c


def lstm_weight_grad(dgates: Tensor, h0: Tensor, out: Tensor, w_hh: Tensor, tf32: bool) -> Tensor:
    """dW_hh = sum_t da_t^T h_{t-1}: one GEMM over all T*B rows (h_{t-1} = h0, out[:-1])."""
    T, B, G = dgates.shape
    with matmul_precision(tf32):
        h_prev = torch.cat([h0.to(out.dtype).unsqueeze(0), out[:-1]])  # (T, B, H)
        dw_hh = dgates.reshape(T * B, G).T @ h_prev.reshape(T * B, G // 4)  # (4H, H)
    return dw_hh.to(w_hh.dtype)


class LSTMv1Function(torch.autograd.Function):
    """(xw, h0, c0, w_hh, lengths, tf32) -> (out, h_T, c_T); see the module docstring."""

    @staticmethod
    def forward(ctx, xw, h0, c0, w_hh, lengths, tf32):
        (T, B, _), H = xw.shape, w_hh.shape[1]
        xw = xw.contiguous()
        w_hh = w_hh.contiguous()
        lens = full_lengths(lengths, T, B, xw.device)
        gates = xw.new_empty(T, B, 4 * H, dtype=torch.float32)
        cs = xw.new_empty(T + 1, B, H, dtype=torch.float32)  # c_0 .. c_T
        out = xw.new_empty(T, B, H)
        cs[0] = c0
        h = h0.to(xw.dtype).contiguous()
        grid = (B, triton.cdiv(H, BLOCK_H))
        with matmul_precision(tf32):
            for t in range(T):
                hw = h @ w_hh.T  # (B, 4H)
                h_next = torch.empty_like(h)
                launch(
                    lstm_forward_step_kernel, grid,
                    xw, hw, h, cs, lens, t, gates, h_next, out, B, H,
                    BLOCK_H=BLOCK_H, **STEP_CONFIG,
                )
                h = h_next
        ctx.save_for_backward(h0, w_hh, lens, gates, cs, out)
        ctx.tf32 = tf32
        return out, h.to(h0.dtype), cs[T].to(c0.dtype)

    @staticmethod
    def backward(ctx, dout, dh_T, dc_T):
        h0, w_hh, lens, gates, cs, out = ctx.saved_tensors
        T, B, H = out.shape
        dout = dout.contiguous()
        dh = dh_T.float().contiguous()
        dc = dc_T.float().clone().contiguous()
        dgates = torch.empty_like(gates, dtype=out.dtype)  # (T, B, 4H)
        dh_skip = torch.empty_like(dh)
        grid = (B, triton.cdiv(H, BLOCK_H))
        with matmul_precision(ctx.tf32):
            for t in reversed(range(T)):
                launch(
                    lstm_backward_step_kernel, grid,
                    dout, dh, dc, gates, cs, lens, t, dgates, dh_skip, B, H,
                    BLOCK_H=BLOCK_H, **STEP_CONFIG,
                )
                dh = dh_skip + (dgates[t] @ w_hh).float()  # (B, H)
        dw_hh = lstm_weight_grad(dgates, h0, out, w_hh, ctx.tf32)
        return dgates, dh.to(h0.dtype), dc.to(h0.dtype), dw_hh, None, None


def lstm_v1(
    xw: Tensor,
    h0: Tensor,
    c0: Tensor,
    w_hh: Tensor,
    lengths: Tensor | None = None,
    tf32: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM layer-direction from the precomputed input half of the gates.

    xw (T, B, 4H) = x W_ih^T + b_ih + b_hh; h0, c0 (B, H); w_hh (4H, H); lengths (B,)
    or None. Returns out (T, B, H), h_T, c_T; differentiable in xw, h0, c0, w_hh.
    Any hidden size; float32, float16 or bfloat16.
    """
    check_dtype(xw)
    return LSTMv1Function.apply(xw, h0, c0, w_hh, lengths, tf32)
