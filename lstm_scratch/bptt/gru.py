"""Backpropagation through time for one GRU layer in one direction, written by hand.

The GRU of Cho et al. 2014 in torch's "reset-after" form and gate order (r, z, n):

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)        reset gate
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)        update gate
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))   candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}  =  n_t + z_t * (h_{t-1} - n_t)

weight_ih = [W_ir; W_iz; W_in] (3H, I), weight_hh = [W_hr; W_hz; W_hn] (3H, H). Write
u_t = W_ih x_t + b_ih and v_t = W_hh h_{t-1} + b_hh (both (B, 3H)) for the two matrix
products; the forward keeps (r, z, n)_t, v_t and h_t.

Backward, with dh_t = dL/dh_t (from the output at t, the step t+1 and the final state):

    da_n = dh_t * (1 - z_t) * (1 - n_t^2)              (a_n: the argument of tanh)
    da_z = dh_t * (h_{t-1} - n_t) * z_t (1 - z_t)
    da_r = da_n * v_n * r_t (1 - r_t)                  (v_n = W_hn h_{t-1} + b_hn)
    du_t = [da_r, da_z, da_n]           dv_t = [da_r, da_z, da_n * r_t]
    dh_{t-1} = dh_t * z_t + W_hh^T dv_t + dL/dout_{t-1}

du_t = dh_t * J and dv_t = dh_t * (J * [1, 1, r_t]) with J computed for all steps
before the loop, so each step is three pointwise products and one matrix product. Then

    dW_ih = sum_t du_t^T x_t   db_ih = sum_t du_t   dx_t = du_t W_ih
    dW_hh = sum_t dv_t^T h_{t-1}   db_hh = sum_t dv_t

Packed batches (lengths): past a sequence's end its state is frozen and its output
zero, so there J = 0 and dh_{t-1} = dh_t (z is replaced by 1).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.autograd.function import FunctionCtx

from ..functional import gru_layer, reverse_padded
from .lstm import alive_mask
from .recompute import backward_by_recomputing

States = tuple[Tensor, ...]


class GRUFunction(torch.autograd.Function):
    """One GRU layer-direction over x (T, B, I), forward in time, with its own backward.

    apply(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, lengths) -> out (T, B, H), h_T;
    biases and lengths may be None.
    """

    @staticmethod
    def forward(
        ctx: FunctionCtx,
        x: Tensor,
        h0: Tensor,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias_ih: Tensor | None,
        bias_hh: Tensor | None,
        lengths: Tensor | None,
    ) -> tuple[Tensor, Tensor]:
        T, B, _ = x.shape
        H = h0.shape[-1]
        mask = alive_mask(lengths, T, x)  # (T, B, 1) or None

        gates = x.flatten(0, 1) @ weight_ih.T  # u_t for every step, (T*B, 3H)
        if bias_ih is not None:
            gates += bias_ih
        gates = gates.view(T, B, 3 * H)  # becomes (r, z, n)_t in place
        vs = x.new_zeros(T, B, 3 * H)  # v_t for every step
        if bias_hh is not None:
            vs += bias_hh
        hs = x.new_empty(T + 1, B, H)  # h_0 .. h_T
        hs[0] = h0
        w_hh_t = weight_hh.T  # (H, 3H)
        # Per-step views made once (one call each instead of T indexing calls in the loop).
        v_, h_ = vs.unbind(0), hs.unbind(0)  # v_t (B, 3H), h_t (B, H)
        rz_, vrz_ = gates[..., : 2 * H].unbind(0), vs[..., : 2 * H].unbind(0)  # (B, 2H)
        n_, vn_ = gates[..., 2 * H :].unbind(0), vs[..., 2 * H :].unbind(0)  # (B, H)
        for t in range(T):
            v_[t].addmm_(h_[t], w_hh_t)  # v_t = W_hh h_{t-1} + b_hh
            rz_[t].add_(vrz_[t]).sigmoid_()  # r_t, z_t
            r, z = rz_[t].chunk(2, dim=1)
            n_[t].addcmul_(r, vn_[t]).tanh_()  # n_t = tanh(u_n + r_t * v_n)
            torch.lerp(n_[t], h_[t], z, out=h_[t + 1])  # h_t = n_t + z_t * (h_{t-1} - n_t)
            if mask is not None:  # finished sequences keep their state
                torch.where(mask[t] > 0, h_[t + 1], h_[t], out=h_[t + 1])

        out = hs[1:] if mask is None else hs[1:] * mask  # (T, B, H), zero past the end
        ctx.save_for_backward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, gates, vs, hs)
        ctx.mask, ctx.lengths = mask, lengths
        ctx.has_bias = (bias_ih is not None, bias_hh is not None)
        return out, hs[T].clone()

    @staticmethod
    def backward(ctx: FunctionCtx, d_out: Tensor, d_hT: Tensor) -> tuple[Tensor | None, ...]:
        saved = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: a backward autograd can differentiate
            return GRUFunction.differentiable_backward(ctx, saved[:6], (d_out, d_hT))
        x, _, weight_ih, weight_hh, _, _, gates, vs, hs = saved
        mask = ctx.mask
        T, B, _ = x.shape
        H = hs.shape[-1]
        r, z, n = gates.chunk(3, dim=2)  # 3 x (T, B, H)

        # Local derivatives for all steps: du_t = dh_t * J, dv_t = dh_t * (J * [1, 1, r_t]).
        dn = (1 - z) * (1 - n * n)  # da_n / dh_t
        J = torch.cat(
            [dn * vs[:, :, 2 * H :] * r * (1 - r), (hs[:-1] - n) * z * (1 - z), dn], dim=2
        )  # (T, B, 3H)
        Z = z
        if mask is not None:  # past a sequence's end: du = dv = 0 and dh passes unchanged
            J *= mask
            Z = torch.where(mask > 0, z, torch.ones_like(z))
            d_out = d_out * mask
        Jv = J.clone()
        Jv[:, :, 2 * H :] *= r
        du = J.unflatten(2, (3, H))  # (T, B, 3, H); becomes du_t in place
        dv = Jv.unflatten(2, (3, H))  # becomes dv_t in place

        du_, dv_, Jv_ = du.unbind(0), dv.unbind(0), Jv.unbind(0)  # per-step views
        Z_, d_out_ = Z.unbind(0), d_out.unbind(0)
        zeros = torch.zeros_like(d_hT)
        dh = d_out_[T - 1] + d_hT  # dL/dh_T (B, H)
        for t in range(T - 1, -1, -1):
            du_[t].mul_(dh.unsqueeze(1))  # du_t = dh_t * J
            dv_[t].mul_(dh.unsqueeze(1))  # dv_t = dh_t * J * [1, 1, r_t]
            below = d_out_[t - 1] if t > 0 else zeros  # dL/dout_{t-1}
            dh = torch.addcmul(below, dh, Z_[t]).addmm_(Jv_[t], weight_hh)  # dh_{t-1}
        du_all = J.view(T * B, 3 * H)
        dv_all = Jv.view(T * B, 3 * H)

        need = ctx.needs_input_grad
        dx = (du_all @ weight_ih).view_as(x) if need[0] else None  # (T, B, I)
        dW_ih = du_all.T @ x.flatten(0, 1) if need[2] else None  # (3H, I)
        dW_hh = dv_all.T @ hs[:-1].reshape(T * B, H) if need[3] else None  # (3H, H)
        db_ih = du_all.sum(0) if ctx.has_bias[0] and need[4] else None
        db_hh = dv_all.sum(0) if ctx.has_bias[1] and need[5] else None
        return dx, dh, dW_ih, dW_hh, db_ih, db_hh, None

    @staticmethod
    def differentiable_backward(
        ctx: FunctionCtx, inputs: tuple[Tensor | None, ...], grad_outputs: tuple[Tensor, ...]
    ) -> tuple[Tensor | None, ...]:
        """The backward as a graph: `functional.gru_layer` rerun and differentiated
        (see `recompute`); inputs are (x, h0, weight_ih, weight_hh, bias_ih, bias_hh)."""

        def forward(*args):  # noqa: ANN002, ANN202
            return gru_layer(*args, lengths=ctx.lengths)

        grads = backward_by_recomputing(forward, inputs, ctx.needs_input_grad, grad_outputs)
        return (*grads, None)


def gru_direction(
    x: Tensor,
    h0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    lengths: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One GRU layer-direction over x (T, B, I) from h0 (B, H): (out (T, B, H), h_T).

    Same contract as the LSTM's `functional.lstm_layer`: with `lengths`, past each
    sequence's end the state is frozen and the output zero; `reverse` reads each
    sequence from its own end.
    """
    if reverse:
        x = reverse_padded(x, lengths)
    out, h = GRUFunction.apply(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, lengths)
    if reverse:
        out = reverse_padded(out, lengths)
    return out, h


def run(
    module: nn.Module,
    x: Tensor,
    state: States,
    params: dict[str, Tensor],
    lengths: Tensor | None,
    reverse: bool,
) -> tuple[Tensor, States]:
    """The "torch" backend for mode "GRU" (see `lstm_scratch.backends`)."""
    (h0,) = state
    out, h = gru_direction(x, h0, **params, lengths=lengths, reverse=reverse)
    return out, (h,)
