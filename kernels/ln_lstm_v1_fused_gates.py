"""Layer-normalised LSTM v1: the per-step kernel with both LayerNorms fused in.

Exactly `lstm_scratch.cells.LayerNormLSTM.step` (Ba et al. 2016, eqs. 20-22):

    xw  = LN(x W_ih^T; a_x) + b             (T, B, 4H)  for all steps, by the caller
    for t = 0 .. T-1:
        hw  = h_{t-1} W_hh^T                (B, 4H)     one torch matmul per step
        u   = (hw - mean(hw)) * rstd_h      }  LayerNorm over all 4H features of a row,
        [i f g o] = xw_t + u a_h            }  rstd = 1 / sqrt(var + eps), var biased
        c_t = sigmoid(f) c_{t-1} + sigmoid(i) tanh(g)
        v   = (c_t - mean(c_t)) * rstd_c    }  LayerNorm over the H features of c_t
        h_t = sigmoid(o) tanh(v a_c + b_c)  }  (c_t itself, not LN(c_t), is carried)

One program per batch row holds the whole row (4 blocks of BLOCK_H >= H), since both
LayerNorms reduce over it. Saved for backward: the activated gates, u and rstd_h, c_t
(the cell LayerNorm is recomputed from c_t).

Backward per step (LayerNorm backward: dz = rstd (dy_hat - mean(dy_hat) - y mean(dy_hat y)),
y the normalised values, dy_hat = dy * gain):

    dy  = dh sigmoid(o) (1 - tanh(.)^2)     dpre_o = dh tanh(.) o (1 - o)
    dc_t = dc + LNback_c(dy a_c)            then i, f, g and dc_{t-1} as in the plain LSTM
    d(hw) = LNback_h(dG a_h)                dh_{t-1} = d(hw) W_hh      (torch matmul)

and over all T*B rows afterwards: dW_hh = d(hw)^T H_prev, da_h = sum dG u,
da_c = sum dy v, db_c = sum dy; dxw = dG (autograd: the input LayerNorm, W_ih, b, x).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from .common import (
    block_size,
    check_dtype,
    full_lengths,
    launch,
    load_blocks4,
    matmul_precision,
    row_config,
    sigmoid,
    step_start,
    step_tile,
    store_blocks4,
    store_step_output,
    tanh,
)

# One program holds a whole row of 4H gates (and, in backward, u, du and dG beside them)
# in registers. A block has at most 65,536 32-bit registers (one SM's register file),
# whatever its number of warps: at H = 4096 the backward kernel spills with 16 warps
# (128 registers per thread, the most 512 threads may have) and at H = 8192 both kernels
# spill with 32 warps (64 each). H = 2048 compiles without spills (8 warps, <= 186
# registers) for sm_80 and sm_90: kernels/compile_check.py proves it on every run.
MAX_HIDDEN = 2048


@triton.jit
def _ln_stats(x0, x1, x2, x3, mask, n, eps):
    """Mean and 1/sqrt(biased var + eps) over the masked entries of four blocks."""
    mean = (tl.sum(x0, 0) + tl.sum(x1, 0) + tl.sum(x2, 0) + tl.sum(x3, 0)) / n
    d0 = tl.where(mask, x0 - mean, 0.0)
    d1 = tl.where(mask, x1 - mean, 0.0)
    d2 = tl.where(mask, x2 - mean, 0.0)
    d3 = tl.where(mask, x3 - mean, 0.0)
    var = (tl.sum(d0 * d0, 0) + tl.sum(d1 * d1, 0) + tl.sum(d2 * d2, 0) + tl.sum(d3 * d3, 0)) / n
    return mean, 1.0 / tl.sqrt(var + eps)


@triton.jit
def _cell_ln(c, a_c, b_c, mask, H, eps):
    """v = LN(c) without gain, y = v a_c + b_c and rstd, over the H features of one row."""
    mean = tl.sum(c, 0) / H
    d = tl.where(mask, c - mean, 0.0)
    rstd = 1.0 / tl.sqrt(tl.sum(d * d, 0) / H + eps)
    v = d * rstd
    return v, v * a_c + b_c, rstd


@triton.jit(do_not_specialize=["t", "B"])  # one build for every step t and batch size B
def ln_lstm_forward_step_kernel(
    xw_ptr,  # (T, B, 4H) LN(x W_ih^T; a_x) + b; step t read
    hw_ptr,  # (B, 4H) h_{t-1} W_hh^T, before its LayerNorm
    hs_ptr,  # (T+1, B, H) h: h_{t-1} read at index t, h_t (h_{t-1} where ended) written
    #          at t+1, input dtype
    cs_ptr,  # (T+1, B, H) fp32 c, the same way
    a_h_ptr,  # (4H,) gain of the recurrent LayerNorm
    a_c_ptr,  # (H,) gain of the cell LayerNorm
    b_c_ptr,  # (H,) shift of the cell LayerNorm (zeros when the layer has none)
    len_ptr,  # (B,) int32 sequence lengths
    t,  # this step's index
    gates_ptr,  # out (T, B, 4H) fp32 activated gates [i f g o]; step t
    u_ptr,  # out (T, B, 4H) fp32 normalised recurrent half u = (hw - mean) rstd_h
    rstd_ptr,  # out (T, B) fp32 rstd_h of each row
    out_ptr,  # out (T, B, H) output: h_t where alive, else 0
    B, H,
    eps,
    BLOCK_H: tl.constexpr,
):
    xw_ptr = step_start(xw_ptr, t, B, 4 * H)
    gates_ptr = step_start(gates_ptr, t, B, 4 * H)
    u_ptr = step_start(u_ptr, t, B, 4 * H)
    rstd_ptr = step_start(rstd_ptr, t, B, 1)
    out_ptr = step_start(out_ptr, t, B, H)
    h_prev_ptr = step_start(hs_ptr, t, B, H)
    h_ptr = h_prev_ptr + B * H
    c_prev_ptr = step_start(cs_ptr, t, B, H)
    c_ptr = c_prev_ptr + B * H
    row, cols, mask, s_off, g_off = step_tile(H, 4, BLOCK_H)  # grid (B,): a whole row

    hw0, hw1, hw2, hw3 = load_blocks4(hw_ptr + g_off, H, mask)
    mean, rstd = _ln_stats(hw0, hw1, hw2, hw3, mask, 4 * H, eps)
    u0 = tl.where(mask, (hw0 - mean) * rstd, 0.0)
    u1 = tl.where(mask, (hw1 - mean) * rstd, 0.0)
    u2 = tl.where(mask, (hw2 - mean) * rstd, 0.0)
    u3 = tl.where(mask, (hw3 - mean) * rstd, 0.0)
    pre_i, pre_f, pre_g, pre_o = load_blocks4(xw_ptr + g_off, H, mask)
    a_i, a_f, a_g, a_o = load_blocks4(a_h_ptr + cols, H, mask)  # gain a_h, per gate

    i = sigmoid(pre_i + u0 * a_i)
    f = sigmoid(pre_f + u1 * a_f)
    g = tanh(pre_g + u2 * a_g)
    o = sigmoid(pre_o + u3 * a_o)
    c_prev = tl.load(c_prev_ptr + s_off, mask=mask, other=0.0)
    c = tl.where(mask, f * c_prev + i * g, 0.0)
    a_c = tl.load(a_c_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    b_c = tl.load(b_c_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    _, y, _ = _cell_ln(c, a_c, b_c, mask, H, eps)
    h = o * tanh(y)

    alive = t < tl.load(len_ptr + row)
    h_prev = tl.load(h_prev_ptr + s_off, mask=mask, other=0.0).to(tl.float32)
    store_blocks4(gates_ptr + g_off, H, mask, i, f, g, o)
    store_blocks4(u_ptr + g_off, H, mask, u0, u1, u2, u3)
    tl.store(rstd_ptr + row, rstd)
    tl.store(c_ptr + s_off, tl.where(alive, c, c_prev), mask=mask)
    store_step_output(h_ptr + s_off, out_ptr + s_off, mask, alive, h, h_prev)


@triton.jit(do_not_specialize=["t", "B"])  # one build for every step t and batch size B
def ln_lstm_backward_step_kernel(
    dout_ptr,  # (T, B, H) dL/d(output); step t read
    dh_ptr,  # (B, H) fp32 dL/dh_t through the recurrence
    dc_ptr,  # (B, H) fp32 dL/dc_t from step t+1; overwritten with dL/dc_{t-1}
    gates_ptr,  # (T, B, 4H) fp32 activated gates; step t read
    u_ptr,  # (T, B, 4H) fp32 normalised recurrent half; step t read
    rstd_ptr,  # (T, B) fp32 rstd_h; step t read
    cs_ptr,  # (T+1, B, H) fp32 c: c_{t-1} at index t, c_t at t+1
    a_h_ptr,  # (4H,) recurrent LayerNorm gain
    a_c_ptr,  # (H,) cell LayerNorm gain
    b_c_ptr,  # (H,) cell LayerNorm shift (zeros when none)
    len_ptr,  # (B,) int32 sequence lengths
    t,  # this step's index
    dgates_ptr,  # out (T, B, 4H) dL/d(pre-activations) = dL/d(xw), dtype of xw (0 past end)
    dhw_ptr,  # out (T, B, 4H) dL/d(hw), dtype of xw (0 past end)
    dy_v_ptr,  # out (T, B, H) fp32 dy * v: each step's share of dL/da_c
    dy_ptr,  # out (T, B, H) fp32 dy: each step's share of dL/db_c
    dh_skip_ptr,  # out (B, H) fp32 dL/dh_t where the sequence has ended, else 0
    B, H,
    eps,
    BLOCK_H: tl.constexpr,
):
    dout_ptr = step_start(dout_ptr, t, B, H)
    gates_ptr = step_start(gates_ptr, t, B, 4 * H)
    u_ptr = step_start(u_ptr, t, B, 4 * H)
    rstd_ptr = step_start(rstd_ptr, t, B, 1)
    c_prev_ptr = step_start(cs_ptr, t, B, H)
    c_ptr = c_prev_ptr + B * H
    dgates_ptr = step_start(dgates_ptr, t, B, 4 * H)
    dhw_ptr = step_start(dhw_ptr, t, B, 4 * H)
    dy_v_ptr = step_start(dy_v_ptr, t, B, H)
    dy_ptr = step_start(dy_ptr, t, B, H)
    row, cols, mask, s_off, g_off = step_tile(H, 4, BLOCK_H)
    alive = t < tl.load(len_ptr + row)

    dh = tl.load(dh_ptr + s_off, mask=mask, other=0.0)
    dh += tl.where(alive, tl.load(dout_ptr + s_off, mask=mask, other=0.0).to(tl.float32), 0.0)
    dc = tl.load(dc_ptr + s_off, mask=mask, other=0.0)
    i, f, g, o = load_blocks4(gates_ptr + g_off, H, mask)
    c_prev = tl.load(c_prev_ptr + s_off, mask=mask, other=0.0)
    c = tl.load(c_ptr + s_off, mask=mask, other=0.0)
    a_c = tl.load(a_c_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    b_c = tl.load(b_c_ptr + cols, mask=mask, other=0.0).to(tl.float32)

    # h_t = o tanh(y), y = v a_c + b_c, v = LN(c_t)
    v, y, rstd_c = _cell_ln(c, a_c, b_c, mask, H, eps)
    ty = tanh(y)
    d_o = dh * ty * o * (1.0 - o)
    dy = tl.where(mask, dh * o * (1.0 - ty * ty), 0.0)
    dv = dy * a_c
    dc += rstd_c * (dv - tl.sum(dv, 0) / H - v * (tl.sum(dv * v, 0) / H))
    d_i = dc * g * i * (1.0 - i)
    d_f = dc * c_prev * f * (1.0 - f)
    d_g = dc * i * (1.0 - g * g)
    d_i = tl.where(alive & mask, d_i, 0.0)
    d_f = tl.where(alive & mask, d_f, 0.0)
    d_g = tl.where(alive & mask, d_g, 0.0)
    d_o = tl.where(alive & mask, d_o, 0.0)

    # hw -> u = LN(hw) -> u a_h adds to every gate's pre-activation
    u0, u1, u2, u3 = load_blocks4(u_ptr + g_off, H, mask)
    a_i, a_f, a_g, a_o = load_blocks4(a_h_ptr + cols, H, mask)
    du0, du1, du2, du3 = d_i * a_i, d_f * a_f, d_g * a_g, d_o * a_o
    n = 4 * H
    mean_du = (tl.sum(du0, 0) + tl.sum(du1, 0) + tl.sum(du2, 0) + tl.sum(du3, 0)) / n
    mean_duu = (
        tl.sum(du0 * u0, 0) + tl.sum(du1 * u1, 0) + tl.sum(du2 * u2, 0) + tl.sum(du3 * u3, 0)
    ) / n
    rstd_h = tl.load(rstd_ptr + row)

    store_blocks4(dgates_ptr + g_off, H, mask, d_i, d_f, d_g, d_o)
    store_blocks4(  # d(hw) = rstd_h (du - mean(du) - u mean(du u)), LayerNorm's backward
        dhw_ptr + g_off, H, mask,
        rstd_h * (du0 - mean_du - u0 * mean_duu), rstd_h * (du1 - mean_du - u1 * mean_duu),
        rstd_h * (du2 - mean_du - u2 * mean_duu), rstd_h * (du3 - mean_du - u3 * mean_duu),
    )
    dy = tl.where(alive, dy, 0.0)
    tl.store(dy_v_ptr + s_off, dy * v, mask=mask)
    tl.store(dy_ptr + s_off, dy, mask=mask)
    dc_kept = tl.load(dc_ptr + s_off, mask=mask, other=0.0)
    tl.store(dc_ptr + s_off, tl.where(alive, dc * f, dc_kept), mask=mask)
    tl.store(dh_skip_ptr + s_off, tl.where(alive, 0.0, dh), mask=mask)


def ln_lstm_reference(
    xw: Tensor,
    h0: Tensor,
    c0: Tensor,
    w_hh: Tensor,
    ln_hh_weight: Tensor,
    ln_cell_weight: Tensor,
    ln_cell_bias: Tensor | None = None,
    lengths: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """What ln_lstm_v1 computes: the library's own layer-norm LSTM cell step
    (`lstm_scratch.cells.LayerNormLSTM.step`) over time, on autograd.

    Returns out (T, B, H), h_T, c_T (each sequence's last step).
    """
    from lstm_scratch.cells import LayerNormLSTM
    from lstm_scratch.layer import recurrence

    p = {"weight_hh": w_hh, "ln_hh_weight": ln_hh_weight, "ln_cell_weight": ln_cell_weight}
    if ln_cell_bias is not None:
        p["ln_cell_bias"] = ln_cell_bias
    out, (h, c) = recurrence(LayerNormLSTM(), xw, (h0, c0), p, lengths)
    return out, h, c


class LNLSTMv1Function(torch.autograd.Function):
    """(xw, h0, c0, w_hh, a_h, a_c, b_c, lengths, eps, tf32) -> (out, h_T, c_T)."""

    @staticmethod
    def forward(ctx, xw, h0, c0, w_hh, a_h, a_c, b_c, lengths, eps, tf32):
        (T, B, _), H = xw.shape, w_hh.shape[1]
        xw, w_hh = xw.contiguous(), w_hh.contiguous()
        shift = a_c.new_zeros(H) if b_c is None else b_c.contiguous()
        lens = full_lengths(lengths, T, B, xw.device)
        gates = xw.new_empty(T, B, 4 * H, dtype=torch.float32)
        u = torch.empty_like(gates)
        rstd = xw.new_empty(T, B, dtype=torch.float32)
        cs = xw.new_empty(T + 1, B, H, dtype=torch.float32)
        hs = xw.new_empty(T + 1, B, H)  # h_0 .. h_T, frozen past each end
        out = xw.new_empty(T, B, H)
        cs[0], hs[0] = c0, h0
        with matmul_precision(tf32):
            for t in range(T):
                launch(
                    ln_lstm_forward_step_kernel, (B,),
                    xw, hs[t] @ w_hh.T, hs, cs, a_h, a_c, shift, lens, t,
                    gates, u, rstd, out, B, H, eps,
                    BLOCK_H=block_size(H), **row_config(block_size(H), 256),
                )
        ctx.save_for_backward(w_hh, a_h, a_c, shift, lens, gates, u, rstd, cs, hs)
        ctx.eps, ctx.tf32, ctx.has_shift = eps, tf32, b_c is not None
        return out, hs[T].to(h0.dtype), cs[T].to(c0.dtype)

    @staticmethod
    def backward(ctx, dout, dh_T, dc_T):
        w_hh, a_h, a_c, shift, lens, gates, u, rstd, cs, hs = ctx.saved_tensors
        T, B, H = dout.shape
        dout = dout.contiguous()
        dh = dh_T.float().contiguous()
        dc = dc_T.float().clone().contiguous()
        dgates = torch.empty_like(gates, dtype=hs.dtype)
        dhw = torch.empty_like(dgates)
        dy_v = cs.new_empty(T, B, H)
        dy = torch.empty_like(dy_v)
        dh_skip = torch.empty_like(dh)
        with matmul_precision(ctx.tf32):
            for t in reversed(range(T)):
                launch(
                    ln_lstm_backward_step_kernel, (B,),
                    dout, dh, dc, gates, u, rstd, cs, a_h, a_c, shift,
                    lens, t, dgates, dhw, dy_v, dy, dh_skip, B, H, ctx.eps,
                    BLOCK_H=block_size(H), **row_config(block_size(H), 128),
                )
                dh = dh_skip + (dhw[t] @ w_hh).float()
            h_prev = hs[:-1].reshape(T * B, H)
            dw_hh = dhw.reshape(T * B, 4 * H).T @ h_prev  # (4H, H)
        da_h = (dgates.float() * u).sum(dim=(0, 1))
        da_c, db_c = dy_v.sum(dim=(0, 1)), dy.sum(dim=(0, 1))
        return (
            dgates, dh.to(dh_T.dtype), dc.to(dc_T.dtype), dw_hh.to(w_hh.dtype),
            da_h.to(a_h.dtype), da_c.to(a_c.dtype), db_c.to(a_c.dtype) if ctx.has_shift else None,
            None, None, None,
        )


def ln_lstm_v1(
    xw: Tensor,
    h0: Tensor,
    c0: Tensor,
    w_hh: Tensor,
    ln_hh_weight: Tensor,
    ln_cell_weight: Tensor,
    ln_cell_bias: Tensor | None = None,
    lengths: Tensor | None = None,
    eps: float = 1e-5,
    tf32: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """One layer-normalised LSTM layer-direction; contract of `ln_lstm_reference`.

    xw (T, B, 4H) = LN(x W_ih^T; a_x) + b. Differentiable in every tensor argument.
    H <= MAX_HIDDEN; float32, float16 or bfloat16.
    """
    check_dtype(xw)
    H = w_hh.shape[1]
    if H > MAX_HIDDEN:
        raise ValueError(
            f"the layer-norm LSTM kernel holds a row of 4H gates per program and supports "
            f"hidden_size <= {MAX_HIDDEN}, got {H}"
        )
    return LNLSTMv1Function.apply(
        xw, h0, c0, w_hh, ln_hh_weight, ln_cell_weight, ln_cell_bias, lengths, eps, tf32
    )
