"""The LSTM cell, as torch.nn.LSTM computes it: parameters, step, hand-derived backward.

Hochreiter & Schmidhuber (1997) with the forget gate of Gers et al. (2000), and the
optional projection of Sak et al. (2014, LSTMP). The four gate blocks are stacked in
torch's order (i, f, g, o):

    weight_ih = [W_ii; W_if; W_ig; W_io]  (4H, I)     bias_ih, bias_hh  (4H,)
    weight_hh = [W_hi; W_hf; W_hg; W_ho]  (4H, P)     weight_hr (P, H)  only with proj_size P

where P = proj_size, or H without projection (then h_t has H features). The equations
are in `StandardLSTM.step` (forward) and `LSTMFunction.backward` (backward). The Triton
kernels for this cell (`kernel = "lstm"`: kernels/lstm_v1_fused_gates.py, lstm_v2_persistent.py)
are checked against this same step: their `lstm_reference` is `layer.recurrence` over
`StandardLSTM.step`, and their pointwise math is kernels/common.py's `lstm_cell_forward`
and `lstm_cell_backward`, the same equations.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx

from ..functional.basic import linear
from .cell import Cell, Params, State
from .recompute import backward_by_recomputing


def lstm_input_half(
    x: Tensor, weight_ih: Tensor, bias_ih: Tensor | None, bias_hh: Tensor | None
) -> Tensor:
    """xw = W_ih x_t + b_ih + b_hh for every step at once, (..., 4H): the part of the
    pre-activations that does not wait for h_{t-1}. Both biases go here."""
    bias = bias_ih if bias_hh is None else bias_hh if bias_ih is None else bias_ih + bias_hh
    return linear(x, weight_ih, bias)


def lstm_parameter_shapes(
    G: int, input_size: int, hidden_size: int, proj_size: int, bias: bool
) -> dict[str, tuple[int, ...]]:
    """torch's names and shapes for G stacked gate blocks (G = 4 here), in torch's order."""
    H = hidden_size
    P = proj_size if proj_size > 0 else H
    shapes: dict[str, tuple[int, ...]] = {"weight_ih": (G * H, input_size), "weight_hh": (G * H, P)}
    if bias:
        shapes.update(bias_ih=(G * H,), bias_hh=(G * H,))
    if proj_size > 0:
        shapes["weight_hr"] = (P, H)
    return shapes


class LSTMFamily(Cell):
    """What every LSTM cell here shares: gates (i, f, g, o), state (h, c), forget bias on f."""

    name = "LSTM"
    gates = "ifgo"
    forget_gate = 1

    def state_sizes(self, hidden_size: int, proj_size: int) -> tuple[int, int]:
        return (proj_size if proj_size > 0 else hidden_size), hidden_size  # h, c


class StandardLSTM(LSTMFamily):
    """torch's LSTM cell (with projection when the parameters hold weight_hr)."""

    title = "the LSTM cell"
    kernel = "lstm"

    def parameter_shapes(
        self, input_size: int, hidden_size: int, proj_size: int, bias: bool
    ) -> dict[str, tuple[int, ...]]:
        return lstm_parameter_shapes(len(self.gates), input_size, hidden_size, proj_size, bias)

    def input_half(self, x: Tensor, p: Params) -> Tensor:
        return lstm_input_half(x, p["weight_ih"], p.get("bias_ih"), p.get("bias_hh"))

    def step(self, xw: Tensor, state: State, p: Params) -> State:
        """One step from xw = W_ih x_t + b_ih + b_hh (B, 4H) and (h_{t-1}, c_{t-1}):

            a_t = xw + W_hh h_{t-1}                                     (B, 4H)
            i_t = sigmoid(a_i)   f_t = sigmoid(a_f)   g_t = tanh(a_g)   o_t = sigmoid(a_o)
            c_t = f_t * c_{t-1} + i_t * g_t
            m_t = o_t * tanh(c_t)
            h_t = W_hr m_t  (with a projection)   or   h_t = m_t
        """
        h, c = state  # (B, P or H), (B, H)
        a = xw + linear(h, p["weight_hh"])  # (B, 4H)
        i, f, g, o = a.chunk(4, dim=-1)  # 4 x (B, H)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g  # (B, H)
        m = o * torch.tanh(c)  # (B, H)
        weight_hr = p.get("weight_hr")
        h = m if weight_hr is None else linear(m, weight_hr)  # (B, P or H)
        return h, c

    def run_bptt(
        self, x: Tensor, state: State, p: Params, lengths: Tensor | None
    ) -> tuple[Tensor, State]:
        out, h, c = LSTMFunction.apply(
            x, *state, p["weight_ih"], p["weight_hh"], p.get("bias_ih"), p.get("bias_hh"),
            p.get("weight_hr"), lengths,
        )
        return out, (h, c)


class LSTMFunction(torch.autograd.Function):
    """One LSTM layer-direction over x (T, B, I), forward in time, with its own backward.

    apply(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr, lengths)
      -> out (T, B, P), h_T (B, P), c_T (B, H); biases, weight_hr and lengths may be None.
    With lengths (B,), past its end a sequence's state is frozen and its output zero.
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
        """`StandardLSTM.step` for every t, in place, keeping what the backward needs:
        the gates (i, f, g, o)_t, c_t, tanh(c_t), h_t and (with a projection) m_t."""
        from ..layer import alive_mask

        T, B, _ = x.shape
        H = c0.shape[-1]
        P = h0.shape[-1]
        mask = alive_mask(lengths, T, x)  # (T, B, 1) or None

        gates = lstm_input_half(x, weight_ih, bias_ih, bias_hh)  # (T, B, 4H); becomes (i f g o)_t
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
            a_[t].addmm_(h_[t], w_hh_t)  # a_t = xw_t + W_hh h_{t-1}
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
        """Backpropagation through time, derived by hand.

        With dh_t = dL/dh_t and dc_t = dL/dc_t (everything that reaches them: the output
        at t, the step t+1, the final state), one step back is

            dm_t     = W_hr^T dh_t      (or dm_t = dh_t)
            dc_t    += dm_t * o_t * (1 - tanh(c_t)^2)
            da_i     = dc_t * g_t * i_t (1 - i_t)
            da_f     = dc_t * c_{t-1} * f_t (1 - f_t)
            da_g     = dc_t * i_t * (1 - g_t^2)
            da_o     = dm_t * tanh(c_t) * o_t (1 - o_t)
            dc_{t-1} = dc_t * f_t
            dh_{t-1} = W_hh^T da_t + dL/dout_{t-1}

        Every factor that multiplies dc_t or dm_t depends only on forward values, so the
        local derivatives J (da = dc * J, da_o = dm * J_o), K (dc += dm * K) and F
        (dc_{t-1} = dc_t * F) are computed for all steps before the loop, which is then
        four pointwise products and one matrix product per step. The weight gradients
        are sums over steps, i.e. large matrix products:

            dW_ih = sum_t da_t^T x_t      dW_hh = sum_t da_t^T h_{t-1}     db = sum_t da_t
            dx_t  = da_t W_ih             dW_hr = sum_t dh_t^T m_t

        Past a sequence's end (lengths): da = 0, dc_{t-1} = dc_t, dh_{t-1} = dh_t.
        With create_graph=True the backward must itself be differentiable: then the
        layer is recomputed on the autograd path (`recompute`).
        """
        saved = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: a backward autograd can differentiate
            return LSTMFunction.differentiable_backward(ctx, saved[:8], (d_out, d_hT, d_cT))
        x, _, _, weight_ih, weight_hh, _, _, weight_hr, gates, hs, cs, tanh_cs, ms = saved
        mask = ctx.mask
        T, B, _ = x.shape
        H = cs.shape[-1]
        i, f, g, o = gates.chunk(4, dim=2)  # 4 x (T, B, H)

        # J, K, F written block by block into preallocated memory: at large sizes these
        # passes over (T, B, H) are a sizeable part of the backward. sigma' = s - s*s.
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
        """The backward as a graph: the layer rerun on the autograd path and
        differentiated (see `recompute`); inputs are (x, h0, c0, weight_ih, ..., weight_hr)."""
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")

        def forward(x: Tensor, h0: Tensor, c0: Tensor, *weights: Tensor | None) -> tuple:
            from ..layer import run_layer

            p = {n: w for n, w in zip(names, weights) if w is not None}
            out, (h, c) = run_layer(StandardLSTM(), x, (h0, c0), p, ctx.lengths)
            return out, h, c

        grads = backward_by_recomputing(forward, inputs, ctx.needs_input_grad, grad_outputs)
        return (*grads, None)
