"""The GRU cell, as torch.nn.GRU computes it: parameters, step, hand-derived backward.

Gated recurrent unit (Cho et al. 2014) in the "reset-after" form that torch and cuDNN
compute, gate blocks in torch's order (r, z, n):

    weight_ih = [W_ir; W_iz; W_in]  (3H, I)      bias_ih (3H,)
    weight_hh = [W_hr; W_hz; W_hn]  (3H, H)      bias_hh (3H,)

The two matrix products of a step are named u and v everywhere (here, in the hand-written
backward and in the Triton kernels):

    u_t = W_ih x_t + b_ih = [u_r u_z u_n]       v_t = W_hh h_{t-1} + b_hh = [v_r v_z v_n]

Reset-after versus reset-before: Cho et al. apply the reset gate before the product,
n_t = tanh(u_n + W_hn (r_t * h_{t-1}) + b_hn); torch (and here) after it, to v_n, bias
b_hn included. Then all three recurrent products are one (3H, H) product computed before
r_t is known, which is why cuDNN chose it; b_hn is reset with the product, so it cannot
be merged into b_in (both biases are kept, as in torch). z_t is the GRU's keep gate:
z = 1 copies h_{t-1} through, the LSTM forget gate's role (it gets the forget bias).

The Triton kernels for this cell (`kernel = "gru"`: kernels/gru_v1_fused_gates.py,
gru_v2_persistent.py) are checked against this same step (`gru_reference` is
`layer.recurrence` over `StandardGRU.step`); their pointwise math, kernels/common.py's
`gru_cell_forward` and `gru_cell_backward`, is `gru_update` and its backward here.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx

from ..functional.basic import linear
from .cell import Cell, Params, State
from .recompute import backward_by_recomputing


def gru_update(u: Tensor, v: Tensor, h: Tensor) -> Tensor:
    """h_t from u_t, v_t (B, 3H) and h_{t-1} (B, H):

        r_t = sigmoid(u_r + v_r)                      reset gate
        z_t = sigmoid(u_z + v_z)                      update (keep) gate
        n_t = tanh(u_n + r_t * v_n)                   candidate
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}
    """
    u_r, u_z, u_n = u.chunk(3, dim=-1)  # 3 x (B, H)
    v_r, v_z, v_n = v.chunk(3, dim=-1)  # 3 x (B, H)
    r = torch.sigmoid(u_r + v_r)
    z = torch.sigmoid(u_z + v_z)
    n = torch.tanh(u_n + r * v_n)
    return (1 - z) * n + z * h  # (B, H)


class GRUFamily(Cell):
    """What every GRU cell here shares: gates (r, z, n), state (h,), torch's parameters,
    the forget bias on z."""

    name = "GRU"
    gates = "rzn"
    forget_gate = 1

    def parameter_shapes(
        self, input_size: int, hidden_size: int, proj_size: int, bias: bool
    ) -> dict[str, tuple[int, ...]]:
        H = hidden_size
        shapes: dict[str, tuple[int, ...]] = {
            "weight_ih": (3 * H, input_size), "weight_hh": (3 * H, H)
        }
        if bias:
            shapes.update(bias_ih=(3 * H,), bias_hh=(3 * H,))
        return shapes

    def state_sizes(self, hidden_size: int, proj_size: int) -> tuple[int]:
        return (hidden_size,)


class StandardGRU(GRUFamily):
    """torch's GRU cell."""

    title = "the GRU cell"
    kernel = "gru"

    def input_half(self, x: Tensor, p: Params) -> Tensor:
        """u = W_ih x_t + b_ih for every step at once, (..., 3H)."""
        return linear(x, p["weight_ih"], p.get("bias_ih"))

    def step(self, xw: Tensor, state: State, p: Params) -> State:
        """One step from u_t = xw (B, 3H): v_t = W_hh h_{t-1} + b_hh, then `gru_update`."""
        (h,) = state  # (B, H)
        v = linear(h, p["weight_hh"], p.get("bias_hh"))  # (B, 3H)
        return (gru_update(xw, v, h),)

    def run_bptt(
        self, x: Tensor, state: State, p: Params, lengths: Tensor | None
    ) -> tuple[Tensor, State]:
        out, h = GRUFunction.apply(
            x, *state, p["weight_ih"], p["weight_hh"], p.get("bias_ih"), p.get("bias_hh"), lengths
        )
        return out, (h,)


class GRUFunction(torch.autograd.Function):
    """One GRU layer-direction over x (T, B, I), forward in time, with its own backward.

    apply(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, lengths) -> out (T, B, H), h_T;
    biases and lengths may be None. With lengths, past its end a sequence's state is
    frozen and its output zero.
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
        """`gru_update` for every t, in place, keeping (r, z, n)_t, v_t and h_t, with
        h_t = n_t + z_t * (h_{t-1} - n_t) (one lerp)."""
        from ..layer import alive_mask

        T, B, _ = x.shape
        H = h0.shape[-1]
        mask = alive_mask(lengths, T, x)  # (T, B, 1) or None

        gates = linear(x, weight_ih, bias_ih)  # u_t for every step, (T, B, 3H); becomes (r, z, n)_t
        vs = x.new_zeros(T, B, 3 * H)  # v_t for every step
        if bias_hh is not None:
            vs += bias_hh
        hs = x.new_empty(T + 1, B, H)  # h_0 .. h_T
        hs[0] = h0
        w_hh_t = weight_hh.T  # (H, 3H)
        # Per-step views made once (one call each instead of T indexing calls in the loop).
        v_, h_ = vs.unbind(0), hs.unbind(0)  # v_t (B, 3H), h_t (B, H)
        rz_, v_rz_ = gates[..., : 2 * H].unbind(0), vs[..., : 2 * H].unbind(0)  # (B, 2H)
        n_, v_n_ = gates[..., 2 * H :].unbind(0), vs[..., 2 * H :].unbind(0)  # (B, H)
        for t in range(T):
            v_[t].addmm_(h_[t], w_hh_t)  # v_t = W_hh h_{t-1} + b_hh
            rz_[t].add_(v_rz_[t]).sigmoid_()  # r_t, z_t
            r, z = rz_[t].chunk(2, dim=1)
            n_[t].addcmul_(r, v_n_[t]).tanh_()  # n_t = tanh(u_n + r_t * v_n)
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
        """Backpropagation through time, derived by hand.

        With dh_t = dL/dh_t (from the output at t, the step t+1 and the final state) and
        a_n = u_n + r_t * v_n the argument of tanh:

            da_n = dh_t * (1 - z_t) * (1 - n_t^2)
            da_z = dh_t * (h_{t-1} - n_t) * z_t (1 - z_t)
            da_r = da_n * v_n * r_t (1 - r_t)
            du_t = [da_r, da_z, da_n]           dv_t = [da_r, da_z, da_n * r_t]
            dh_{t-1} = dh_t * z_t + W_hh^T dv_t + dL/dout_{t-1}

        du_t = dh_t * J and dv_t = dh_t * (J * [1, 1, r_t]) with J computed for all steps
        before the loop, so each step is three pointwise products and one matrix product.
        Then the weight gradients are sums over steps:

            dW_ih = sum_t du_t^T x_t   db_ih = sum_t du_t   dx_t = du_t W_ih
            dW_hh = sum_t dv_t^T h_{t-1}   db_hh = sum_t dv_t

        Past a sequence's end (lengths): J = 0 and dh_{t-1} = dh_t (z replaced by 1).
        With create_graph=True the layer is recomputed on the autograd path (`recompute`).
        """
        saved = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: a backward autograd can differentiate
            return GRUFunction.differentiable_backward(ctx, saved[:6], (d_out, d_hT))
        x, _, weight_ih, weight_hh, _, _, gates, vs, hs = saved
        mask = ctx.mask
        T, B, _ = x.shape
        H = hs.shape[-1]
        r, z, n = gates.chunk(3, dim=2)  # 3 x (T, B, H)

        # J = [da_r, da_z, da_n] / dh_t, built in place: one (T, B, H) temporary at most
        J = torch.empty_like(gates)  # (T, B, 3H)
        J_r, J_z, J_n = J.chunk(3, dim=2)  # views, (T, B, H) each
        torch.mul(n, n, out=J_n).neg_().add_(1)  # 1 - n^2
        J_z.copy_(z).neg_().add_(1)  # 1 - z
        J_n.mul_(J_z)  # da_n / dh_t = (1 - z)(1 - n^2)
        J_z.mul_(z).mul_(hs[:-1] - n)  # da_z / dh_t = (h_{t-1} - n) z (1 - z)
        J_r.copy_(r).neg_().add_(1).mul_(r).mul_(vs[:, :, 2 * H :]).mul_(J_n)  # da_n v_n r (1-r)
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
        """The backward as a graph: the layer rerun on the autograd path and
        differentiated (see `recompute`); inputs are (x, h0, weight_ih, ..., bias_hh)."""
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

        def forward(x: Tensor, h0: Tensor, *weights: Tensor | None) -> tuple:
            from ..layer import run_layer

            p = {n: w for n, w in zip(names, weights) if w is not None}
            out, (h,) = run_layer(StandardGRU(), x, (h0,), p, ctx.lengths)
            return out, h

        grads = backward_by_recomputing(forward, inputs, ctx.needs_input_grad, grad_outputs)
        return (*grads, None)
