"""One LSTM layer, forward and backward through time, in plain NumPy.

The same equations as `lstm_scratch/cells/lstm.py` (`StandardLSTM.step` forward,
`LSTMFunction.backward` backward), written step by step without any of the tricks
the fast version uses, so that every line is one equation:

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh        (B, 4H), gate order (i, f, g, o)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Shapes: x (T, B, I), h0 and c0 (B, H), weight_ih (4H, I), weight_hh (4H, H), biases (4H,).
No projection and no packed lengths here: those are in the torch version.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


def sigmoid(a: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-a))


def lstm_forward(
    x: Array,
    h0: Array,
    c0: Array,
    weight_ih: Array,
    weight_hh: Array,
    bias_ih: Array,
    bias_hh: Array,
) -> tuple[Array, Array, Array, dict[str, list[Array]]]:
    """Run the layer over x (T, B, I). Returns (h_1..h_T (T, B, H), h_T, c_T, cache)."""
    H = h0.shape[1]
    cache: dict[str, list[Array]] = {"x": [], "h_prev": [], "c_prev": [], "gates": [], "c": []}
    h, c = h0, c0
    outputs = []
    for x_t in x:
        a = x_t @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh  # (B, 4H)
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H : 2 * H])
        g = np.tanh(a[:, 2 * H : 3 * H])
        o = sigmoid(a[:, 3 * H :])
        cache["x"].append(x_t)
        cache["h_prev"].append(h)
        cache["c_prev"].append(c)
        cache["gates"].append((i, f, g, o))
        c = f * c + i * g  # (B, H)
        h = o * np.tanh(c)  # (B, H)
        cache["c"].append(c)
        outputs.append(h)
    return np.stack(outputs), h, c, cache


def lstm_backward(
    d_out: Array,
    d_hT: Array,
    d_cT: Array,
    weight_ih: Array,
    weight_hh: Array,
    cache: dict[str, list[Array]],
) -> dict[str, Array]:
    """Gradients of a loss L given dL/d(outputs) (T, B, H), dL/dh_T and dL/dc_T (B, H).

    Returns dL/d of x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh.
    """
    T = d_out.shape[0]
    grads = {
        "x": np.zeros((T, *cache["x"][0].shape)),
        "weight_ih": np.zeros_like(weight_ih),
        "weight_hh": np.zeros_like(weight_hh),
        "bias": np.zeros(weight_ih.shape[0]),
    }
    dh = d_out[T - 1] + d_hT  # dL/dh_T: the last output and the final state
    dc = d_cT.copy()
    for t in reversed(range(T)):
        i, f, g, o = cache["gates"][t]
        tanh_c = np.tanh(cache["c"][t])
        # h_t = o * tanh(c_t)
        do = dh * tanh_c
        dc = dc + dh * o * (1 - tanh_c**2)
        # c_t = f * c_{t-1} + i * g
        di, df, dg = dc * g, dc * cache["c_prev"][t], dc * i
        # through the activations back to the pre-activations a_t
        da = np.concatenate(
            [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1
        )  # (B, 4H)
        # a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
        grads["weight_ih"] += da.T @ cache["x"][t]
        grads["weight_hh"] += da.T @ cache["h_prev"][t]
        grads["bias"] += da.sum(axis=0)
        grads["x"][t] = da @ weight_ih
        dh = da @ weight_hh + (d_out[t - 1] if t > 0 else 0.0)  # dL/dh_{t-1}
        dc = dc * f  # dL/dc_{t-1}
    bias = grads.pop("bias")
    return {**grads, "h0": dh, "c0": dc, "bias_ih": bias, "bias_hh": bias.copy()}
