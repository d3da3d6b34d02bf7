"""GRU v1: ONE Triton kernel per time step for all the pointwise gate math.

The GRU in torch's reset-after form and gate order (r, z, n):

    u = xw = x W_ih^T + b_ih                (T, B, 3H)  one GEMM for all steps, by the caller
    for t = 0 .. T-1:
        v = hw = h_{t-1} W_hh^T + b_hh      (B, 3H)     one torch matmul per step
        r = sigmoid(u_r + v_r)              }
        z = sigmoid(u_z + v_z)              }  gru_forward_step_kernel, one launch per step
        n = tanh(u_n + r * v_n)             }  (v_n = W_hn h + b_hn, the recurrent
        h_t = (1 - z) n + z h_{t-1}         }   candidate term, is saved for backward)

u and v are the names of `lstm_scratch/cells/gru.py` (its `gru_update` is this math).

Backward, t = T-1 .. 0 (gru_cell_backward, gru_backward_step_kernel):

    dh += dout_t
    d(xw_t) = [da_r, da_z, da_n]      d(hw_t) = [da_r, da_z, da_n r]
    dh_{t-1} = dh z + d(hw_t) W_hh          one torch matmul per step

then over all T*B rows at once: dW_hh = d(hw)^T H_prev, db_hh = sum d(hw), and
dxw -> dW_ih, db_ih, dx by autograd. Lengths freeze h and zero the output past each
sequence's end, as for the LSTM. h is carried in the input dtype, all math in fp32.
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
    gru_cell_backward,
    gru_cell_forward,
    launch,
    load_blocks3,
    matmul_precision,
    step_start,
    step_tile,
    store_blocks3,
    store_step_output,
)

BLOCK_H = 64


@triton.jit(do_not_specialize=["t", "B"])  # one build for every step t and batch size B
def gru_forward_step_kernel(
    xw_ptr,  # (T, B, 3H) x W_ih^T + b_ih; step t read
    hw_ptr,  # (B, 3H) h_{t-1} W_hh^T + b_hh
    hs_ptr,  # (T+1, B, H) hidden states: h_{t-1} read at index t, h_t written at t+1
    #          (= h_{t-1} where the sequence has ended)
    len_ptr,  # (B,) int32 sequence lengths
    t,  # this step's index: row b is alive if t < lengths[b]
    gates_ptr,  # out (T, B, 3H) fp32 activated gates [r z n], for backward; step t
    v_n_ptr,  # out (T, B, H) fp32 recurrent candidate term v_n = W_hn h_{t-1} + b_hn
    out_ptr,  # out (T, B, H) output, step t: h_t where alive, else 0
    B, H,
    BLOCK_H: tl.constexpr,
):
    xw_ptr = step_start(xw_ptr, t, B, 3 * H)
    gates_ptr = step_start(gates_ptr, t, B, 3 * H)
    v_n_ptr = step_start(v_n_ptr, t, B, H)
    out_ptr = step_start(out_ptr, t, B, H)
    h_prev_ptr = step_start(hs_ptr, t, B, H)
    h_ptr = h_prev_ptr + B * H
    row, _, mask, s_off, g_off = step_tile(H, 3, BLOCK_H)  # one batch row per program

    u_r, u_z, u_n = load_blocks3(xw_ptr + g_off, H, mask)
    v_r, v_z, v_n = load_blocks3(hw_ptr + g_off, H, mask)
    h_prev = tl.load(h_prev_ptr + s_off, mask=mask).to(tl.float32)

    r, z, n, h = gru_cell_forward(u_r, u_z, u_n, v_r, v_z, v_n, h_prev)

    alive = t < tl.load(len_ptr + row)
    store_blocks3(gates_ptr + g_off, H, mask, r, z, n)
    tl.store(v_n_ptr + s_off, v_n, mask=mask)
    store_step_output(h_ptr + s_off, out_ptr + s_off, mask, alive, h, h_prev)


@triton.jit(do_not_specialize=["t", "B"])  # one build for every step t and batch size B
def gru_backward_step_kernel(
    dout_ptr,  # (T, B, H) dL/d(output); step t read
    dh_ptr,  # (B, H) fp32 dL/dh_t through the recurrence
    gates_ptr,  # (T, B, 3H) fp32 activated gates [r z n]; step t read
    v_n_ptr,  # (T, B, H) fp32 recurrent candidate terms; step t read
    hs_ptr,  # (T+1, B, H) hidden states; h_{t-1} read at index t
    len_ptr,  # (B,) int32 sequence lengths
    t,  # this step's index
    dxw_ptr,  # out (T, B, 3H) dL/d(xw) (0 past the end), dtype of xw; step t written
    dhw_ptr,  # out (T, B, 3H) dL/d(hw) (0 past the end), dtype of xw; step t written
    dh_skip_ptr,  # out (B, H) fp32 the part of dL/dh_{t-1} not through W_hh:
    #               dh z where alive, dh itself where the sequence has ended
    B, H,
    BLOCK_H: tl.constexpr,
):
    dout_ptr = step_start(dout_ptr, t, B, H)
    gates_ptr = step_start(gates_ptr, t, B, 3 * H)
    v_n_ptr = step_start(v_n_ptr, t, B, H)
    h_prev_ptr = step_start(hs_ptr, t, B, H)
    dxw_ptr = step_start(dxw_ptr, t, B, 3 * H)
    dhw_ptr = step_start(dhw_ptr, t, B, 3 * H)
    row, _, mask, s_off, g_off = step_tile(H, 3, BLOCK_H)
    alive = t < tl.load(len_ptr + row)

    dh = tl.load(dh_ptr + s_off, mask=mask)
    dh += tl.where(alive, tl.load(dout_ptr + s_off, mask=mask).to(tl.float32), 0.0)
    r, z, n = load_blocks3(gates_ptr + g_off, H, mask)
    v_n = tl.load(v_n_ptr + s_off, mask=mask)
    h_prev = tl.load(h_prev_ptr + s_off, mask=mask).to(tl.float32)

    d_r, d_z, d_n, dh_direct = gru_cell_backward(dh, r, z, n, v_n, h_prev)

    d_r = tl.where(alive, d_r, 0.0)
    d_z = tl.where(alive, d_z, 0.0)
    d_n = tl.where(alive, d_n, 0.0)
    store_blocks3(dxw_ptr + g_off, H, mask, d_r, d_z, d_n)
    store_blocks3(dhw_ptr + g_off, H, mask, d_r, d_z, d_n * r)
    tl.store(dh_skip_ptr + s_off, tl.where(alive, dh_direct, dh), mask=mask)


def gru_reference(
    xw: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor | None, lengths: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Exactly what gru_v1 and gru_v2 compute: the library's own GRU cell step
    (`lstm_scratch.cells.StandardGRU.step`) over time, on autograd (any dtype).

    xw (T, B, 3H) = u = x W_ih^T + b_ih; h0 (B, H); w_hh (3H, H); b_hh (3H,) or None.
    Returns out (T, B, H) (0 past each sequence's end) and h_T.
    """
    from lstm_scratch.cells import StandardGRU
    from lstm_scratch.layer import recurrence

    p = {"weight_hh": w_hh} if b_hh is None else {"weight_hh": w_hh, "bias_hh": b_hh}
    out, (h,) = recurrence(StandardGRU(), xw, (h0,), p, lengths)
    return out, h


def gru_weight_grads(dhw: Tensor, hs: Tensor, w_hh: Tensor, tf32: bool) -> tuple[Tensor, Tensor]:
    """dW_hh = d(hw)^T H_prev and db_hh = sum d(hw), each one reduction over all T*B rows."""
    T, B, G = dhw.shape
    with matmul_precision(tf32):
        h_prev = hs[:-1].to(dhw.dtype).reshape(T * B, G // 3)  # (T*B, H)
        dw_hh = dhw.reshape(T * B, G).T @ h_prev  # (3H, H)
    return dw_hh.to(w_hh.dtype), dhw.sum(dim=(0, 1), dtype=torch.float32).to(w_hh.dtype)


class GRUv1Function(torch.autograd.Function):
    """(xw, h0, w_hh, b_hh, lengths, tf32) -> (out, h_T); see the module docstring."""

    @staticmethod
    def forward(ctx, xw, h0, w_hh, b_hh, lengths, tf32):
        (T, B, _), H = xw.shape, w_hh.shape[1]
        xw, w_hh = xw.contiguous(), w_hh.contiguous()
        lens = full_lengths(lengths, T, B, xw.device)
        gates = xw.new_empty(T, B, 3 * H, dtype=torch.float32)
        v_n = xw.new_empty(T, B, H, dtype=torch.float32)
        hs = xw.new_empty(T + 1, B, H)  # h_0 .. h_T, frozen past each end
        out = xw.new_empty(T, B, H)
        hs[0] = h0
        grid = (B, triton.cdiv(H, BLOCK_H))
        with matmul_precision(tf32):
            for t in range(T):
                hw = hs[t] @ w_hh.T if b_hh is None else torch.addmm(b_hh, hs[t], w_hh.T)
                launch(
                    gru_forward_step_kernel, grid,
                    xw, hw, hs, lens, t, gates, v_n, out, B, H,
                    BLOCK_H=BLOCK_H, **STEP_CONFIG,
                )
        ctx.save_for_backward(w_hh, lens, gates, v_n, hs)
        ctx.has_bias, ctx.tf32 = b_hh is not None, tf32
        return out, hs[T].to(h0.dtype)

    @staticmethod
    def backward(ctx, dout, dh_T):
        w_hh, lens, gates, v_n, hs = ctx.saved_tensors
        T, B, H = v_n.shape
        dout = dout.contiguous()
        dh = dh_T.float().contiguous()
        dxw = torch.empty_like(gates, dtype=hs.dtype)  # (T, B, 3H)
        dhw = torch.empty_like(dxw)
        dh_skip = torch.empty_like(dh)
        grid = (B, triton.cdiv(H, BLOCK_H))
        with matmul_precision(ctx.tf32):
            for t in reversed(range(T)):
                launch(
                    gru_backward_step_kernel, grid,
                    dout, dh, gates, v_n, hs, lens, t, dxw, dhw, dh_skip, B, H,
                    BLOCK_H=BLOCK_H, **STEP_CONFIG,
                )
                dh = dh_skip + (dhw[t] @ w_hh).float()  # (B, H)
        dw_hh, db_hh = gru_weight_grads(dhw, hs, w_hh, ctx.tf32)
        return dxw, dh.to(dh_T.dtype), dw_hh, db_hh if ctx.has_bias else None, None, None


def gru_v1(
    xw: Tensor,
    h0: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None = None,
    lengths: Tensor | None = None,
    tf32: bool = False,
) -> tuple[Tensor, Tensor]:
    """One GRU layer-direction from xw (T, B, 3H) = x W_ih^T + b_ih; see `gru_reference`.

    Differentiable in xw, h0, w_hh, b_hh. Any hidden size; float32, float16, bfloat16.
    """
    check_dtype(xw)
    return GRUv1Function.apply(xw, h0, w_hh, b_hh, lengths, tf32)
