"""Backpropagation through time for one LSTM layer in one direction, written by hand.

The notation is that of `lstm_scratch.functional.lstm`: for each step t = 1..T,

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh                 (B, 4H) pre-activations
    i_t, f_t, g_t, o_t = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
    c_t = f_t * c_{t-1} + i_t * g_t
    m_t = o_t * tanh(c_t)
    h_t = W_hr m_t   (with a projection)   or   h_t = m_t

Forward: the input half W_ih x_t + b_ih + b_hh for every step is one matrix product
over all T*B rows; the loop adds W_hh h_{t-1} and does the pointwise work in place,
keeping only what the backward needs: the gates (i, f, g, o)_t, c_t, tanh(c_t), h_t.

Backward: with dh_t = dL/dh_t and dc_t = dL/dc_t (everything that reaches them: the
output at t, the step t+1, the final state), one step back is

    dm_t     = W_hr^T dh_t      (or dm_t = dh_t)
    dc_t    += dm_t * o_t * (1 - tanh(c_t)^2)
    da_i     = dc_t * g_t * i_t (1 - i_t)
    da_f     = dc_t * c_{t-1} * f_t (1 - f_t)
    da_g     = dc_t * i_t * (1 - g_t^2)
    da_o     = dm_t * tanh(c_t) * o_t (1 - o_t)
    dc_{t-1} = dc_t * f_t
    dh_{t-1} = W_hh^T da_t + dL/dout_{t-1}

Every factor that multiplies dc_t or dm_t depends only on forward values, so they are
computed for all steps at once before the loop ("local derivatives" J and K below);
the loop is then four pointwise products and one matrix product per step. Once all
da_t are known, the weight gradients are sums over steps, i.e. large matrix products:

    dW_ih = sum_t da_t^T x_t      dW_hh = sum_t da_t^T h_{t-1}     db = sum_t da_t
    dx_t  = da_t W_ih             dW_hr = sum_t dh_t^T m_t

Packed batches (lengths): past its end a sequence's state is frozen and its output is
zero. In the backward this means: da = 0, dc_{t-1} = dc_t, dh_{t-1} = dh_t there.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.autograd.function import FunctionCtx

from ..functional import lstm_layer, reverse_padded
from .recompute import backward_by_recomputing

States = tuple[Tensor, ...]


def alive_mask(lengths: Tensor | None, T: int, like: Tensor) -> Tensor | None:
    """(T, B, 1) of 1.0 where step t < lengths[b] (the sequence is running), else 0.0."""
    if lengths is None:
        return None
    t = torch.arange(T, device=like.device).unsqueeze(1)  # (T, 1)
    return (t < lengths.to(like.device).unsqueeze(0)).to(like.dtype).unsqueeze(-1)


class LSTMFunction(torch.autograd.Function):
    """One LSTM layer-direction over x (T, B, I), forward in time, with its own backward.

    apply(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr, lengths)
      -> out (T, B, P), h_T (B, P), c_T (B, H); biases, weight_hr and lengths may be None.
    """

    @staticmethod
    def forward(
        ctx: FunctionCtx,
        x: Tensor,
        h0: Tensor,
        c0: Tensor,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias_ih: Tensor | None,
        bias_hh: Tensor | None,
        weight_hr: Tensor | None,
        lengths: Tensor | None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        T, B, _ = x.shape
        H = c0.shape[-1]
        P = h0.shape[-1]
        mask = alive_mask(lengths, T, x)  # (T, B, 1) or None

        # The input half of every step at once: one (T*B, I) x (I, 4H) product.
        gates = x.flatten(0, 1) @ weight_ih.T  # (T*B, 4H)
        for bias in (bias_ih, bias_hh):
            if bias is not None:
                gates += bias
        gates = gates.view(T, B, 4 * H)  # a_t minus W_hh h_{t-1}; becomes (i f g o)_t
        hs = x.new_empty(T + 1, B, P)  # h_0 .. h_T
        cs = x.new_empty(T + 1, B, H)  # c_0 .. c_T
        tanh_cs = x.new_empty(T, B, H)  # tanh(c_1) .. tanh(c_T)
        ms = x.new_empty(T, B, H) if weight_hr is not None else None  # m_t before W_hr
        hs[0] = h0
        cs[0] = c0
        w_hh_t = weight_hh.T  # (P, 4H)
        # Per-step views made once (one call each instead of T indexing calls in the loop).
        a_ = gates.unbind(0)  # a_t (B, 4H)
        if_ = gates[..., : 2 * H].unbind(0)  # [i_t f_t] (B, 2H)
        i_, f_ = gates[..., :H].unbind(0), gates[..., H : 2 * H].unbind(0)  # (B, H) each
        g_ = gates[..., 2 * H : 3 * H].unbind(0)  # g_t (B, H)
        o_ = gates[..., 3 * H :].unbind(0)  # o_t (B, H)
        h_, c_, tanh_c_ = hs.unbind(0), cs.unbind(0), tanh_cs.unbind(0)
        m_ = h_[1:] if ms is None else ms.unbind(0)  # where o_t * tanh(c_t) goes
        for t in range(T):
            a_[t].addmm_(h_[t], w_hh_t)  # a_t = (W_ih x_t + b) + W_hh h_{t-1}
            if_[t].sigmoid_()  # i_t, f_t
            g_[t].tanh_()  # g_t
            o_[t].sigmoid_()  # o_t
            torch.mul(f_[t], c_[t], out=c_[t + 1])  # c_t = f_t * c_{t-1}
            c_[t + 1].addcmul_(i_[t], g_[t])  #          + i_t * g_t
            torch.tanh(c_[t + 1], out=tanh_c_[t])
            torch.mul(o_[t], tanh_c_[t], out=m_[t])  # m_t = o_t * tanh(c_t)
            if ms is not None:
                torch.mm(m_[t], weight_hr.T, out=h_[t + 1])  # h_t = W_hr m_t
            if mask is not None:  # finished sequences keep their state
                alive = mask[t] > 0
                torch.where(alive, h_[t + 1], h_[t], out=h_[t + 1])
                torch.where(alive, c_[t + 1], c_[t], out=c_[t + 1])

        out = hs[1:] if mask is None else hs[1:] * mask  # (T, B, P), zero past the end
        ctx.save_for_backward(
            x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr, gates, hs, cs, tanh_cs, ms
        )
        ctx.mask, ctx.lengths = mask, lengths
        ctx.has_bias = (bias_ih is not None, bias_hh is not None)
        return out, hs[T].clone(), cs[T].clone()

    @staticmethod
    def backward(
        ctx: FunctionCtx, d_out: Tensor, d_hT: Tensor, d_cT: Tensor
    ) -> tuple[Tensor | None, ...]:
        saved = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: a backward autograd can differentiate
            return LSTMFunction.differentiable_backward(ctx, saved[:8], (d_out, d_hT, d_cT))
        x, _, _, weight_ih, weight_hh, _, _, weight_hr, gates, hs, cs, tanh_cs, ms = saved
        mask = ctx.mask
        T, B, _ = x.shape
        H = cs.shape[-1]
        i, f, g, o = gates.chunk(4, dim=2)  # 4 x (T, B, H)

        # Local derivatives for all steps at once (see the module docstring):
        #   da_{i,f,g} = dc_t * J_{i,f,g}     da_o = dm_t * J_o
        #   dc_t      += dm_t * K             dc_{t-1} = dc_t * F
        # Written block by block into preallocated memory: at large sizes these passes
        # over (T, B, H) are a sizeable part of the backward. sigma' = s - s*s.
        J = torch.empty_like(gates)  # (T, B, 4H); becomes da_t in place
        J_i, J_f, J_g, J_o = J.chunk(4, dim=2)
        torch.addcmul(i, i, i, value=-1, out=J_i).mul_(g)  # J_i = g_t * i_t (1 - i_t)
        torch.addcmul(f, f, f, value=-1, out=J_f).mul_(cs[:-1])  # J_f = c_{t-1} f_t (1 - f_t)
        torch.mul(g, g, out=J_g).mul_(i)
        torch.sub(i, J_g, out=J_g)  # J_g = i_t (1 - g_t^2)
        torch.addcmul(o, o, o, value=-1, out=J_o).mul_(tanh_cs)  # J_o = tanh(c_t) o_t (1 - o_t)
        K = torch.mul(tanh_cs, tanh_cs).mul_(o)
        torch.sub(o, K, out=K)  # K = o_t (1 - tanh(c_t)^2), (T, B, H)
        F = f
        if mask is not None:  # past a sequence's end: da = 0, dc and dh pass unchanged
            J *= mask
            K *= mask
            F = torch.where(mask > 0, f, torch.ones_like(f))
            d_out = d_out * mask
            dead = 1 - mask  # (T, B, 1)
        J3 = J[:, :, : 3 * H].unflatten(2, (3, H))  # (T, B, 3, H): the i, f, g blocks

        dhs = torch.empty_like(hs)  # dhs[t + 1] = dL/dh_t (everything that reaches it)
        torch.add(d_out[T - 1], d_hT, out=dhs[T])
        dh_, d_out_, J_, J3_ = dhs.unbind(0), d_out.unbind(0), J.unbind(0), J3.unbind(0)
        Jo_, K_, F_ = J[..., 3 * H :].unbind(0), K.unbind(0), F.unbind(0)
        zeros = torch.zeros_like(d_hT)
        dc = d_cT.clone()  # (B, H)
        dc3 = dc.unsqueeze(1)  # (B, 1, H): the same memory, broadcast over the 3 gate blocks
        for t in range(T - 1, -1, -1):
            dh = dh_[t + 1]  # (B, P)
            dm = dh if weight_hr is None else dh @ weight_hr  # (B, H)
            dc.addcmul_(dm, K_[t])  # dc_t += dm_t * o_t * (1 - tanh(c_t)^2)
            J3_[t].mul_(dc3)  # da_i, da_f, da_g
            Jo_[t].mul_(dm)  # da_o
            dc.mul_(F_[t])  # dc_{t-1} = dc_t * f_t
            below = d_out_[t - 1] if t > 0 else zeros  # dL/dout_{t-1}
            if mask is not None:
                below = torch.addcmul(below, dh, dead[t])  # frozen: dh_{t-1} += dh_t
            torch.addmm(below, J_[t], weight_hh, out=dh_[t])  # dh_{t-1} = W_hh^T da_t + ...
        da = J.view(T * B, 4 * H)  # all the da_t, one row per (t, b)

        need = ctx.needs_input_grad
        dx = (da @ weight_ih).view_as(x) if need[0] else None  # (T, B, I)
        dW_ih = da.T @ x.flatten(0, 1) if need[3] else None  # (4H, I)
        dW_hh = da.T @ hs[:-1].flatten(0, 1) if need[4] else None  # (4H, P)
        db = da.sum(0) if any(ctx.has_bias) else None  # (4H,) the same for both biases
        dW_hr = None
        if weight_hr is not None and need[7]:
            dh_all = dhs[1:] if mask is None else dhs[1:] * mask  # (T, B, P)
            dW_hr = dh_all.flatten(0, 1).T @ ms.reshape(T * B, H)  # (P, H)
        db_ih = db if ctx.has_bias[0] and need[5] else None
        db_hh = db if ctx.has_bias[1] and need[6] else None
        return dx, dhs[0], dc, dW_ih, dW_hh, db_ih, db_hh, dW_hr, None

    @staticmethod
    def differentiable_backward(
        ctx: FunctionCtx, inputs: tuple[Tensor | None, ...], grad_outputs: tuple[Tensor, ...]
    ) -> tuple[Tensor | None, ...]:
        """The backward as a graph: `functional.lstm_layer` rerun and differentiated
        (see `recompute`); inputs are (x, h0, c0, weight_ih, ..., weight_hr)."""

        def forward(x, h0, c0, *params):  # noqa: ANN001, ANN202
            out, (h, c) = lstm_layer(x, (h0, c0), *params, lengths=ctx.lengths)
            return out, h, c

        grads = backward_by_recomputing(forward, inputs, ctx.needs_input_grad, grad_outputs)
        return (*grads, None)


def lstm_direction(
    x: Tensor,
    state: States,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    weight_hr: Tensor | None = None,
    lengths: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, States]:
    """`functional.lstm_layer` with the hand-written backward: same arguments, same result."""
    if reverse:
        x = reverse_padded(x, lengths)  # each sequence read from its own end
    out, h, c = LSTMFunction.apply(
        x, *state, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr, lengths
    )
    if reverse:
        out = reverse_padded(out, lengths)
    return out, (h, c)


def run(
    module: nn.Module,
    x: Tensor,
    state: States,
    params: dict[str, Tensor],
    lengths: Tensor | None,
    reverse: bool,
) -> tuple[Tensor, States]:
    """The "torch" backend for mode "LSTM" (see `lstm_scratch.backends`)."""
    return lstm_direction(x, state, **params, lengths=lengths, reverse=reverse)
