"""Hostile inputs: how many bad, hostile and faulty inputs the library refuses cleanly.

    python benchmarks/hostile_inputs.py                 # prints the summary, writes
                                                        # results/hostile_inputs-<date>.{json,md}
    python benchmarks/hostile_inputs.py --label main --verbose

Each case calls a public entry point (modules, create_model, Forecaster, WindowRegressor,
DataNormalizer, metrics, fit_network, model files, saving) the wrong way. A case is

    clean    the expected exception type, a one-line message that names the argument
             (or the file and the field), and nothing forbidden in it; or, for the
             behaviour cases (saving, training that diverges), the behaviour asserted
    unclear  an exception, but another type or a message that does not name the argument
    silent   no exception: the bad input was accepted (for a behaviour case: what it
             asserts did not hold, e.g. a save replaced a symlink)

The same script runs on any checkout (only public names are used), so the counts before
and after a change compare like with like. Every case is ours, written from the issue's
classes; none is read off our own output.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import pathlib
import pickle
import platform
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

import lstm_scratch as ls
from lstm_scratch.forecasting import WindowRegressor, metrics
from lstm_scratch.forecasting.training import fit_network

RESULTS = pathlib.Path(__file__).parent / "results"
NAN, INF = float("nan"), float("inf")


@dataclass
class Case:
    group: str
    label: str
    run: Callable[[], object]
    errors: tuple[type[BaseException], ...] | None  # None: a behaviour case (run asserts)
    words: tuple[str, ...] = ()  # each must appear in the message, as a word
    forbidden: tuple[str, ...] = ()
    one_line: bool = False


@dataclass
class Outcome:
    case: Case
    status: str
    detail: str = field(default="")


CASES: list[Case] = []


def case(group, label, run, errors=None, words=(), forbidden=(), one_line=False):
    errors = errors if errors is None or isinstance(errors, tuple) else (errors,)
    CASES.append(Case(group, label, run, errors, tuple(words), tuple(forbidden), one_line))


def named(word: str, message: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", message) is not None


def classify(c: Case) -> Outcome:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c.run()
    except BaseException as error:  # noqa: BLE001 - classifying is the point
        if isinstance(error, (SystemExit, KeyboardInterrupt)) and c.errors is None:
            raise
        message = str(error)
        if c.errors is None:  # a behaviour case: an AssertionError is the bad behaviour
            status = "silent" if isinstance(error, AssertionError) else "unclear"
            return Outcome(c, status, f"{type(error).__name__}: {message[:200]}")
        if not isinstance(error, c.errors):
            return Outcome(c, "unclear", f"{type(error).__name__}: {message[:200]}")
        missing = [w for w in c.words if not named(w, message)]
        present = [w for w in c.forbidden if w in message]
        if missing or present or (c.one_line and "\n" in message.strip()):
            why = f"missing {missing}" if missing else f"contains {present}" if present else ""
            return Outcome(c, "unclear", f"{type(error).__name__}: {message[:200]} ({why})")
        return Outcome(c, "clean", f"{type(error).__name__}: {message[:200]}")
    if c.errors is None:
        return Outcome(c, "clean", "behaved as asserted")
    return Outcome(c, "silent", "no exception")


# ======================================================================================
# fixtures: small data and fitted models, built once
def series(n: int = 120) -> np.ndarray:
    t = np.arange(n, dtype=np.float64)
    return 10 + np.sin(t / 4) + 0.01 * t


FAST = {"epochs": 2, "device": "cpu", "hidden_size": 8}
Y = series()
X2 = np.stack([np.cos(np.arange(120) / 3), np.arange(120) / 120.0], axis=1)  # (T, 2)
F = ls.Forecaster(horizon=3, sequence_length=8, verbose=False, **FAST).fit(Y)
F_COV = ls.Forecaster(horizon=3, sequence_length=8, verbose=False, **FAST).fit(Y, X2)
LX = np.random.default_rng(0).normal(size=(80, 2))
LY = LX[:, 0] * 2
LM = WindowRegressor({"sequence_length": 4, **FAST}).fit(LX, LY, verbose=False)
WORK = pathlib.Path(tempfile.mkdtemp(prefix="hostile-"))
MODEL = WORK / "model.pt"
F.save(MODEL)
LMODEL = WORK / "lstm_model.pt"
LM.save(LMODEL)
PAYLOAD = torch.load(MODEL, weights_only=True)
LPAYLOAD = torch.load(LMODEL, weights_only=True)


def forecaster(**config):
    def run():
        return ls.Forecaster(horizon=2, sequence_length=6, verbose=False,
                             **{**FAST, **config}).fit(Y)
    return run


# ======================================================================================
# modules
def modules() -> None:
    g = "modules"
    x32, h32 = torch.randn(2, 3), torch.randn(2, 4)
    h64 = h32.double()
    dtype = (TypeError, RuntimeError)
    cell, gru_cell = ls.LSTMCell(3, 4), ls.GRUCell(3, 4)
    case(g, "LSTMCell float64 hx[0] for float32 weights", lambda: cell(x32, (h64, h32)), dtype,
         ["hx[0]"])
    case(g, "LSTMCell float64 hx[1]", lambda: cell(x32, (h32, h64)), dtype, ["hx[1]"])
    case(g, "LSTMCell float64 hx (both)", lambda: cell(x32, (h64, h64)), dtype, ["hx[0]"])
    case(g, "LSTMCell half hx", lambda: cell(x32, (h32.half(), h32)), dtype, ["hx[0]"])
    case(g, "GRUCell float64 hx", lambda: gru_cell(x32, h64), dtype, ["hx"])
    case(g, "GRUCell half hx", lambda: gru_cell(x32, h32.half()), dtype, ["hx"])
    case(g, "LSTMCell list input", lambda: cell([[1.0, 2.0, 3.0]]), TypeError, ["input"])
    case(g, "LSTMCell ndarray input", lambda: cell(np.ones((2, 3), np.float32)), TypeError,
         ["input"])
    case(g, "GRUCell list input", lambda: gru_cell([[1.0, 2.0, 3.0]]), TypeError, ["input"])
    case(g, "GRUCell ndarray input", lambda: gru_cell(np.ones((2, 3))), TypeError, ["input"])
    case(g, "LSTMCell float64 input", lambda: cell(x32.double()), dtype, ["input"])
    lstm, gru = ls.LSTM(3, 4), ls.GRU(3, 4)
    case(g, "LSTM list input", lambda: lstm([[[1.0, 2.0, 3.0]]]), TypeError, ["input"])
    case(g, "GRU ndarray input", lambda: gru(np.ones((2, 1, 3))), TypeError, ["input"])
    case(g, "LSTM half input", lambda: lstm(torch.randn(2, 1, 3).half()), (ValueError,),
         ["input"])

    mha = ls.MultiheadAttention(4, 2)
    q = torch.randn(3, 1, 4)
    for dt in (torch.long, torch.half, torch.float64):
        case(g, f"MultiheadAttention {dt} query", lambda dt=dt: mha(q.to(dt), q, q), dtype,
             ["query"])
    case(g, "MultiheadAttention int key", lambda: mha(q, q.long(), q), dtype, ["key"])
    case(g, "MultiheadAttention half value", lambda: mha(q, q, q.half()), dtype, ["value"])
    case(g, "MultiheadAttention list query", lambda: mha(q.tolist(), q, q), TypeError, ["query"])
    case(g, "MultiheadAttention ndarray key", lambda: mha(q, q.numpy(), q), TypeError, ["key"])

    conv = ls.CausalConv1d(3, 4, 2)
    xc = torch.randn(1, 3, 5)
    case(g, "CausalConv1d long input", lambda: conv(xc.long()), dtype, ["x"])
    case(g, "CausalConv1d half input", lambda: conv(xc.half()), dtype, ["x"])
    case(g, "CausalConv1d float64 input", lambda: conv(xc.double()), dtype, ["x"])
    case(g, "CausalConv1d T=0", lambda: conv(torch.randn(1, 3, 0)), ValueError,
         ["x", "time"])
    case(g, "CausalConv1d unbatched T=0", lambda: conv(torch.randn(3, 0)), ValueError, ["x"])
    case(g, "CausalConv1d ndarray input", lambda: conv(xc.numpy()), TypeError, ["x"])
    case(g, "CausalConv1d list input", lambda: conv(xc.tolist()), TypeError, ["x"])
    case(g, "CausalConv1d kernel_size=True", lambda: ls.CausalConv1d(3, 4, True), TypeError,
         ["kernel_size"])
    case(g, "CausalConv1d dilation=True", lambda: ls.CausalConv1d(3, 4, 2, True), TypeError,
         ["dilation"])
    case(g, "MultiScaleConv kernel_sizes=5", lambda: ls.MultiScaleConv(3, 4, 5), TypeError,
         ["kernel_sizes"])
    case(g, "MultiScaleConv kernel_sizes=(3, 0)", lambda: ls.MultiScaleConv(3, 4, (3, 0)),
         ValueError, ["kernel_sizes[1]"])

    case(g, "TCN channels=4", lambda: ls.TCN(3, channels=4), TypeError, ["channels"])
    case(g, "TCN channels=[]", lambda: ls.TCN(3, channels=[]), ValueError, ["channels"])
    case(g, "TCN channels=[4, 0]", lambda: ls.TCN(3, channels=[4, 0]), ValueError,
         ["channels[1]"])
    case(g, "TCN channels=[4, True]", lambda: ls.TCN(3, channels=[4, True]), TypeError,
         ["channels[1]"])
    case(g, "TCN channels='32'", lambda: ls.TCN(3, channels="32"), TypeError, ["channels"])
    case(g, "TCN kernel_size=True", lambda: ls.TCN(3, kernel_size=True), TypeError,
         ["kernel_size"])
    tcn = ls.TCN(3, channels=[4])
    case(g, "TCN long input", lambda: tcn(xc.long()), dtype, ["x"])
    case(g, "TCN half input", lambda: tcn(xc.half()), dtype, ["x"])
    case(g, "TCN T=0", lambda: tcn(torch.randn(1, 3, 0)), ValueError, ["x"])
    case(g, "TCN list input", lambda: tcn(xc.tolist()), TypeError, ["x"])

    case(g, "LSTMCell(True, 4)", lambda: ls.LSTMCell(True, 4), TypeError, ["input_size"])
    case(g, "GRUCell(3, True)", lambda: ls.GRUCell(3, True), TypeError, ["hidden_size"])
    case(g, "MultiheadAttention(True, 1)", lambda: ls.MultiheadAttention(True, 1), TypeError,
         ["embed_dim"])


def zoo() -> None:
    g = "zoo models"
    x = torch.randn(2, 5, 3)
    dtype = (TypeError, RuntimeError)
    for name in ls.list_models():
        with torch.random.fork_rng():
            model = ls.create_model(name, 3, 2, **({"d_model": 16, "num_heads": 2}
                                                   if name == "multiscale_hybrid" else {}))
        case(g, f"{name}: int64 input", lambda m=model: m(x.long()), dtype, ["x"])
        case(g, f"{name}: half input", lambda m=model: m(x.half()), dtype, ["x"])
        case(g, f"{name}: list input", lambda m=model: m(x.tolist()), TypeError, ["x"])
        case(g, f"create_model({name!r}, 3, 0)", lambda n=name: ls.create_model(n, 3, 0),
             ValueError, ["output_size"])
        case(g, f"create_model({name!r}, 3, True)", lambda n=name: ls.create_model(n, 3, True),
             TypeError, ["output_size"])
    for name, key, value in [
        ("lstm", "hidden_size", True),
        ("gru", "num_layers", True),
        ("mlp", "hidden_sizes", (True,)),
        ("tcn", "channels", (True,)),
        ("tcn", "channels", 8),
        ("transformer", "num_layers", True),
        ("cnn_lstm", "conv_channels", True),
        ("attention_lstm", "attention_size", True),
        ("mlp", "window", True),
    ]:
        case(g, f"create_model({name!r}, {key}={value!r})",
             lambda n=name, k=key, v=value: ls.create_model(n, 3, 1, **{k: v}), TypeError, [key])
    case(g, "create_model(3, 3, 1)", lambda: ls.create_model(3, 3, 1), TypeError, ["name"])


# ======================================================================================
# Forecaster
def forecaster_config() -> None:
    g = "Forecaster arguments"
    for key, value, error in [
        ("learning_rate", INF, ValueError),
        ("learning_rate", NAN, ValueError),
        ("learning_rate", 0.0, ValueError),
        ("learning_rate", -1e-3, ValueError),
        ("learning_rate", "0.01", TypeError),
        ("clip_norm", -1.0, ValueError),
        ("clip_norm", 0.0, ValueError),
        ("clip_norm", NAN, ValueError),
        ("clip_norm", INF, ValueError),
        ("val_fraction", -0.5, ValueError),
        ("val_fraction", 1.0, ValueError),
        ("val_fraction", 1.5, ValueError),
        ("val_fraction", NAN, ValueError),
        ("epochs", True, TypeError),
        ("epochs", 2.5, TypeError),
        ("epochs", 0, ValueError),
        ("batch_size", True, TypeError),
        ("batch_size", 0, ValueError),
        ("weight_decay", -1.0, ValueError),
        ("weight_decay", NAN, ValueError),
        ("patience", 0, ValueError),
        ("patience", True, TypeError),
        ("warmup_epochs", -1, ValueError),
        ("accumulation_steps", 0, ValueError),
        ("amp", "yes", TypeError),
        ("scheduler", "step", ValueError),
        ("season_length", 0, ValueError),
        ("season_length", True, TypeError),
        ("transform", "log", ValueError),
        ("device", "gpu", ValueError),
        ("device", 3, TypeError),
        ("dropout", 1.5, ValueError),
        ("hidden_size", 0, ValueError),
        ("hidden_size", True, TypeError),
    ]:
        case(g, f"Forecaster({key}={value!r})", forecaster(**{key: value}), error, [key])
    for key, value, error in [
        ("horizon", True, TypeError),
        ("horizon", 2.0, TypeError),
        ("horizon", "3", TypeError),
        ("horizon", 0, ValueError),
        ("sequence_length", True, TypeError),
        ("sequence_length", 0, ValueError),
        ("sequence_length", 2.5, TypeError),
        ("seed", True, TypeError),
        ("seed", "a", TypeError),
        ("verbose", "yes", TypeError),
    ]:
        args = {"horizon": 2, "sequence_length": 6, "verbose": False, key: value}
        case(g, f"Forecaster({key}={value!r})",
             lambda a=args: ls.Forecaster(**a, **FAST).fit(Y), error, [key])


def forecaster_calls() -> None:
    g = "Forecaster inputs"
    for label, value, error in [
        ("[]", [], ValueError),
        ("5.0", 5.0, TypeError),
        ("None", None, TypeError),
        ("'abc'", "abc", TypeError),
        ("a dict", {"a": 1}, TypeError),
        ("complex", Y + 1j, TypeError),
        ("strings", np.array(["a"] * 50), TypeError),
        ("NaN", np.r_[Y[:50], NAN, Y[51:]], ValueError),
        ("two columns", np.stack([Y, Y], 1), ValueError),
        ("3-D", Y.reshape(2, 60, 1), ValueError),
    ]:
        case(g, f"fit({label})", lambda v=value: ls.Forecaster(verbose=False, **FAST).fit(v),
             error, ["y"])
    fc = lambda: ls.Forecaster(verbose=False, **FAST)  # noqa: E731
    case(g, "fit(y, X with fewer rows)", lambda: fc().fit(Y, X2[:50]), ValueError, ["X"])
    case(g, "fit(y, X complex)", lambda: fc().fit(Y, X2 + 1j), TypeError, ["X"])
    case(g, "fit(y, X strings)", lambda: fc().fit(Y, np.array([["a"]] * 120)), TypeError, ["X"])
    case(g, "fit(y, seed=True)", lambda: fc().fit(Y, seed=True), TypeError, ["seed"])
    for label, value, error in [("True", True, TypeError), ("2.0", 2.0, TypeError),
                                ("'3'", "3", TypeError), ("0", 0, ValueError),
                                ("-1", -1, ValueError)]:
        case(g, f"predict({label})", lambda v=value: F.predict(v), error, ["steps"])
    case(g, "predict(3, y=[])", lambda: F.predict(3, []), ValueError, ["y"])
    case(g, "predict(3, y with NaN)", lambda: F.predict(3, np.r_[Y[:-1], NAN]), ValueError, ["y"])
    case(g, "predict(3, y complex)", lambda: F.predict(3, Y + 1j), TypeError, ["y"])
    case(g, "predict(3, y two columns)", lambda: F.predict(3, np.stack([Y, Y], 1)), ValueError,
         ["y"])
    case(g, "predict: X with 3 columns for 2", lambda: F_COV.predict(2, Y, np.c_[X2, X2[:, :1]]),
         ValueError, ["X"])
    case(g, "predict: X with 1 column for 2", lambda: F_COV.predict(2, Y, X2[:, 0]), ValueError,
         ["X"])
    for key, value, error in [("samples", 0, ValueError), ("samples", True, TypeError),
                              ("samples", -5, ValueError), ("level", 1.5, ValueError),
                              ("level", 0.0, ValueError), ("level", NAN, ValueError),
                              ("level", "90%", TypeError), ("seed", True, TypeError)]:
        case(g, f"predict_interval(3, {key}={value!r})",
             lambda k=key, v=value: F.predict_interval(3, **{k: v}), error, [key])
    case(g, "evaluate(2-D test array)", lambda: F.evaluate(np.stack([Y[:10], Y[:10]], 1)),
         ValueError, ["y_test"])
    case(g, "evaluate([])", lambda: F.evaluate([]), ValueError, ["y_test"])
    case(g, "evaluate(all NaN)", lambda: F.evaluate(np.full(10, NAN)), ValueError, ["y_test"])
    case(g, "evaluate(None)", lambda: F.evaluate(None), TypeError, ["y_test"])
    case(g, "explain(step=True)", lambda: F.explain(step=True), TypeError, ["step"])
    case(g, "explain(step=-1)", lambda: F.explain(step=-1), ValueError, ["step"])
    case(g, "save(None)", lambda: F.save(None), TypeError, ["path"])
    case(g, "save(123)", lambda: F.save(123), TypeError, ["path"])


def divergence() -> None:
    g = "training that fails"
    diverged = (ArithmeticError, RuntimeError)
    case(g, "Forecaster learning_rate=1e30 (finite, diverges)",
         forecaster(learning_rate=1e30, clip_norm=None, epochs=3), diverged, ["learning_rate"])
    case(g, "LSTMModel learning_rate=1e30",
         lambda: WindowRegressor({"sequence_length": 4, **FAST, "learning_rate": 1e30,
                               "clip_norm": None}).fit(LX, LY, verbose=False),
         diverged, ["learning_rate"])

    def huge_targets():
        net = ls.create_model("lstm", 2, 1, hidden_size=4)
        fit_network(net, torch.randn(16, 4, 2), torch.full((16, 1), 3e38),
                    config={"epochs": 2, "device": "cpu"}, verbose=False)

    case(g, "fit_network with targets of 3e38 (inf loss)", huge_targets, diverged,
         ["non-finite"])

    def nan_weights():
        net = ls.create_model("lstm", 2, 1, hidden_size=4)
        with torch.no_grad():
            net.head.bias.fill_(NAN)
        fit_network(net, torch.randn(16, 4, 2), torch.randn(16, 1),
                    config={"epochs": 2}, verbose=False)

    case(g, "fit_network on a network with NaN weights", nan_weights, diverged, ["non-finite"])
    case(g, "fit_network learning_rate=inf",
         lambda: fit_network(ls.create_model("lstm", 2, 1), torch.randn(8, 4, 2),
                             torch.randn(8, 1), config={"learning_rate": INF}, verbose=False),
         ValueError, ["learning_rate"])


# ======================================================================================
def normalizer_and_metrics() -> None:
    g = "DataNormalizer"
    N = ls.DataNormalizer
    case(g, "DataNormalizer('zscore')", lambda: N("zscore"), TypeError, ["config"])
    case(g, "DataNormalizer(['zscore'])", lambda: N(["zscore"]), TypeError, ["config"])
    case(g, "strategy 'robust'", lambda: N({"strategy": "robust"}), ValueError, ["strategy"])
    case(g, "eps=-1", lambda: N({"eps": -1.0}), ValueError, ["eps"])
    case(g, "eps='a'", lambda: N({"eps": "a"}), TypeError, ["eps"])
    case(g, "eps=nan", lambda: N({"eps": NAN}), ValueError, ["eps"])
    for label, value, error in [("[]", [], ValueError), ("None", None, TypeError),
                                ("'abc'", "abc", TypeError), ("complex", Y + 1j, TypeError),
                                ("3-D", np.ones((2, 2, 2)), ValueError),
                                ("NaN", np.r_[Y, NAN], ValueError),
                                ("inf", np.r_[Y, INF], ValueError),
                                ("empty 2-D", np.ones((0, 3)), ValueError)]:
        case(g, f"fit({label})", lambda v=value: N().fit(v), error, ["x"])
    case(g, "transform before fit", lambda: N().transform(Y), RuntimeError, ["fit"])
    case(g, "transform 3 columns after fitting 2",
         lambda: N().fit(np.ones((5, 2))).transform(np.ones((5, 3))), ValueError, ["x"])
    state = N().fit(Y).state_dict()
    case(g, "from_state({})", lambda: N.from_state({}), ValueError, ["strategy"])
    case(g, "from_state NaN scale",
         lambda: N.from_state({**state, "stats": {**state["stats"], "scale": NAN}}),
         ValueError, ["stats.scale"])
    case(g, "from_state zero scale",
         lambda: N.from_state({**state, "stats": {**state["stats"], "scale": 0.0}}),
         ValueError, ["stats.scale"])
    case(g, "from_state stats without shift",
         lambda: N.from_state({**state, "stats": {"scale": 1.0}}), ValueError, ["stats"])

    g = "metrics"
    case(g, "rmse([], [])", lambda: metrics.rmse([], []), ValueError, ["y_true"])
    case(g, "smape(all NaN targets)", lambda: metrics.smape(np.full(5, NAN), np.ones(5)),
         ValueError, ["y_true"])
    case(g, "rmse(NaN forecast)", lambda: metrics.rmse(np.ones(5), np.r_[1, 1, NAN, 1, 1]),
         ValueError, ["y_pred"])
    case(g, "mase(NaN y_train)", lambda: metrics.mase(np.ones(3), np.ones(3), np.full(9, NAN)),
         ValueError, ["y_train"])
    case(g, "rmse('abc', 'abc')", lambda: metrics.rmse("abc", "abc"), TypeError, ["y_true"])
    case(g, "rmse(None, None)", lambda: metrics.rmse(None, None), TypeError, ["y_true"])
    case(g, "mae(complex)", lambda: metrics.mae(Y + 1j, Y), TypeError, ["y_true"])
    case(g, "r2(lengths 5 and 4)", lambda: metrics.r2(np.ones(5), np.ones(4)), ValueError,
         ["y_true", "y_pred"])
    case(g, "all_metrics(all NaN)",
         lambda: metrics.all_metrics(np.full(4, NAN), np.ones(4), np.arange(9.0)), ValueError,
         ["y_true"])


def lstm_model() -> None:
    g = "LSTMModel"
    M = WindowRegressor
    case(g, "LSTMModel('config')", lambda: M("config"), TypeError, ["config"])
    for key, value, error in [("sequence_length", True, TypeError),
                              ("sequence_length", 0, ValueError),
                              ("learning_rate", NAN, ValueError),
                              ("clip_norm", -1, ValueError), ("epochs", True, TypeError),
                              ("hidden_size", 0, ValueError), ("seed", True, TypeError)]:
        case(g, f"LSTMModel({{{key!r}: {value!r}}})",
             lambda k=key, v=value: M({**FAST, "sequence_length": 4, k: v}).fit(
                 LX, LY, verbose=False), error, [key])
    fit = lambda *a, **k: M({"sequence_length": 4, **FAST}).fit(*a, verbose=False, **k)  # noqa
    case(g, "fit(None, y)", lambda: fit(None, LY), TypeError, ["X"])
    case(g, "fit([], [])", lambda: fit([], []), ValueError, ["X"])
    case(g, "fit(X, y with fewer rows)", lambda: fit(LX, LY[:50]), ValueError, ["y"])
    case(g, "fit(X complex, y)", lambda: fit(LX + 1j, LY), TypeError, ["X"])
    case(g, "fit(X, y with NaN)", lambda: fit(LX, np.r_[LY[:-1], NAN]), ValueError, ["y"])
    for value, error in [(1.0, ValueError), (-0.1, ValueError), (True, TypeError),
                         (NAN, ValueError)]:
        case(g, f"fit(validation_split={value!r})",
             lambda v=value: fit(LX, LY, validation_split=v), error, ["validation_split"])
    case(g, "fit(seed=True)", lambda: fit(LX, LY, seed=True), TypeError, ["seed"])
    case(g, "predict(X with 3 columns for 2)", lambda: LM.predict(np.ones((10, 3))), ValueError,
         ["X"])
    case(g, "predict(None)", lambda: LM.predict(None), TypeError, ["X"])
    case(g, "predict(X shorter than one window)", lambda: LM.predict(LX[:2]), ValueError, ["X"])
    case(g, "evaluate(X shorter than one window)", lambda: LM.evaluate(LX[:2], LY[:2]),
         ValueError, ["X"])
    case(g, "predict(steps=True)", lambda: LM.predict(LX, steps=True), TypeError, ["steps"])
    case(g, "predict(steps=0)", lambda: LM.predict(LX, steps=0), ValueError, ["steps"])
    case(g, "evaluate(X, all-NaN y)", lambda: LM.evaluate(LX, np.full(80, NAN)), ValueError,
         ["y"])
    case(g, "evaluate(X, y of other length)", lambda: LM.evaluate(LX, LY[:40]), ValueError,
         ["y"])
    case(g, "evaluate(X, y with 2 columns)", lambda: LM.evaluate(LX, LX), ValueError, ["y"])


# ======================================================================================
# model files
def write(payload: dict, name: str) -> pathlib.Path:
    path = WORK / name
    torch.save(payload, path)
    return path


def altered(base: dict, name: str, section: str | None = None, **changes) -> pathlib.Path:
    payload = dict(base)
    if section in ("config", "state"):
        content = json.loads(payload[section])
        for key, value in changes.items():
            if value is KeyError:
                content.pop(key)
            else:
                content[key] = value
        payload[section] = json.dumps(content)
    elif section == "tensors":
        payload["tensors"] = {**payload["tensors"], **changes}
    else:
        payload.update(changes)
    return write(payload, name)


class Exploit:
    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def model_files() -> None:
    g = "model files"
    bad = ValueError
    raw = MODEL.read_bytes()

    def load_file(name: str, data: bytes, load=ls.Forecaster.load):
        path = WORK / name
        path.write_bytes(data)
        return lambda: load(path)

    case(g, "truncated file", load_file("trunc.pt", raw[: len(raw) // 2]), bad, ["trunc.pt"],
         one_line=True)
    case(g, "truncated to 100 bytes", load_file("trunc100.pt", raw[:100]), bad,
         ["trunc100.pt"], one_line=True)
    case(g, "empty file", load_file("empty.pt", b""), bad, ["empty.pt"], one_line=True)
    case(g, "text file", load_file("text.pt", b"date,value\n2020-01-01,3\n"), bad, ["text.pt"],
         one_line=True)
    case(g, "random bytes", load_file("noise.pt", os.urandom(4096)), bad, ["noise.pt"],
         one_line=True)
    case(g, "a JSON file", load_file("j.pt", b'{"horizon": 3}'), bad, ["j.pt"], one_line=True)
    tensors = PAYLOAD["tensors"]
    weight = next(k for k in tensors if k.startswith("members."))
    for label, path, words in [
        ("config not JSON", altered(PAYLOAD, "c1.pt", config="{not json"), ["c1.pt", "config"]),
        ("config missing 'horizon'", altered(PAYLOAD, "c2.pt", "config", horizon=KeyError),
         ["c2.pt", "horizon"]),
        ("config horizon a string", altered(PAYLOAD, "c3.pt", "config", horizon="3"),
         ["c3.pt", "horizon"]),
        ("config horizon 0", altered(PAYLOAD, "c4.pt", "config", horizon=0), ["c4.pt", "horizon"]),
        ("config model unknown", altered(PAYLOAD, "c5.pt", "config", model="wavenet"),
         ["c5.pt", "wavenet"]),
        ("config a list", altered(PAYLOAD, "c6.pt", config="[1, 2]"), ["c6.pt", "config"]),
        ("state missing target_norm", altered(PAYLOAD, "s1.pt", "state", target_norm=KeyError),
         ["s1.pt", "target_norm"]),
        ("state n_features a string", altered(PAYLOAD, "s2.pt", "state", n_features="1"),
         ["s2.pt", "n_features"]),
        ("state target_norm NaN scale",
         altered(PAYLOAD, "s3.pt", "state", target_norm={"strategy": "zscore", "eps": 0.0,
                                                         "stats": {"shift": 0.0, "scale": NAN}}),
         ["s3.pt", "scale"]),
        ("state target_norm zero scale",
         altered(PAYLOAD, "s4.pt", "state", target_norm={"strategy": "zscore", "eps": 0.0,
                                                         "stats": {"shift": 0.0, "scale": 0.0}}),
         ["s4.pt", "scale"]),
        ("state not JSON", altered(PAYLOAD, "s5.pt", state="{{"), ["s5.pt", "state"]),
        ("NaN weights", altered(PAYLOAD, "t1.pt", "tensors",
                                **{weight: torch.full_like(tensors[weight], NAN)}),
         ["t1.pt", weight]),
        ("inf in the series", altered(PAYLOAD, "t2.pt", "tensors",
                                      **{"series.y": torch.full((120,), INF)}),
         ["t2.pt", "series.y"]),
        ("weight of the wrong shape", altered(PAYLOAD, "t3.pt", "tensors",
                                              **{weight: torch.zeros(3, 3)}), ["t3.pt", weight]),
        ("a weight missing",
         write({**PAYLOAD, "tensors": {k: v for k, v in tensors.items() if k != weight}},
               "t4.pt"), ["t4.pt", weight]),
        ("series.y missing",
         write({**PAYLOAD, "tensors": {k: v for k, v in tensors.items() if k != "series.y"}},
               "t5.pt"), ["t5.pt", "series.y"]),
        ("tensors a list", altered(PAYLOAD, "t6.pt", tensors=[1, 2]), ["t6.pt", "tensors"]),
        ("a tensor that is a string", altered(PAYLOAD, "t7.pt", "tensors", **{weight: "w"}),
         ["t7.pt", weight]),
        ("config hidden_size changed", altered(
            PAYLOAD, "t8.pt", "config",
            config={**json.loads(PAYLOAD["config"])["config"], "hidden_size": 5}), ["t8.pt"]),
        ("format_version '1'", altered(PAYLOAD, "v1.pt", format_version="1"),
         ["v1.pt", "format_version"]),
        ("format_version missing",
         write({k: v for k, v in PAYLOAD.items() if k != "format_version"}, "v2.pt"),
         ["v2.pt", "format_version"]),
        ("kind LSTMModel read as Forecaster", LMODEL, ["lstm_model.pt", "kind"]),
    ]:
        case(g, label, lambda p=path: ls.Forecaster.load(p), bad, words, one_line=True)
    ltensors = LPAYLOAD["tensors"]
    lweight = next(iter(ltensors))
    for label, path, words in [
        ("LSTMModel state sizes wrong", altered(LPAYLOAD, "l1.pt", "state", sizes=[5, 1]),
         ["l1.pt"]),
        ("LSTMModel state missing y_norm", altered(LPAYLOAD, "l2.pt", "state", y_norm=KeyError),
         ["l2.pt", "y_norm"]),
        ("LSTMModel NaN weight", altered(LPAYLOAD, "l3.pt", "tensors",
                                         **{lweight: torch.full_like(ltensors[lweight], NAN)}),
         ["l3.pt", lweight]),
        ("LSTMModel config sequence_length -1",
         altered(LPAYLOAD, "l4.pt", "config", sequence_length=-1), ["l4.pt", "sequence_length"]),
    ]:
        case(g, label, lambda p=path: WindowRegressor.load(p), bad, words, one_line=True)

    marker = WORK / "pwned.txt"
    no_advice = ("weights_only",)
    evil = {"format": "lstm-scratch", "format_version": 1, "x": Exploit(marker)}
    zipped = write(evil, "evil_zip.pt")
    rawp = WORK / "evil_raw.pt"
    rawp.write_bytes(pickle.dumps(evil, protocol=2))
    module_pickle = write({"format": "lstm-scratch", "net": torch.nn.Linear(2, 2)}, "module.pt")

    def refused_without_running(path):
        def run():
            try:
                ls.Forecaster.load(path)
            finally:
                assert not marker.exists(), "the pickle RAN CODE"
        return run

    for label, path in [("hostile pickle in a torch zip", zipped),
                        ("hostile raw pickle", rawp), ("a pickled nn.Module", module_pickle)]:
        case(g, label, refused_without_running(path), bad, [path.name], no_advice, one_line=True)
    case(g, "map_location='cuda' on a CPU machine",
         lambda: ls.Forecaster.load(MODEL, map_location="cuda"), ValueError, ["map_location"],
         ("model.pt:",))
    case(g, "map_location='bogus'", lambda: ls.Forecaster.load(MODEL, map_location="bogus"),
         ValueError, ["map_location"])
    case(g, "map_location=5", lambda: ls.Forecaster.load(MODEL, map_location=5), TypeError,
         ["map_location"])
    case(g, "load(None)", lambda: ls.Forecaster.load(None), TypeError, ["path"])
    case(g, "load(a directory)", lambda: ls.Forecaster.load(WORK), IsADirectoryError,
         [str(WORK)])
    os.mkfifo(WORK / "load-pipe.pt")
    case(g, "load(a FIFO)", lambda: ls.Forecaster.load(WORK / "load-pipe.pt"), ValueError,
         ["load-pipe.pt"], one_line=True)


# ======================================================================================
# saving: behaviour cases (the run asserts)
def saving() -> None:
    g = "saving"

    def keeps_mode(mode):
        def run():
            path = WORK / f"mode{mode:o}.pt"
            path.write_bytes(b"old")
            os.chmod(path, mode)
            F.save(path)
            assert stat.S_IMODE(os.stat(path).st_mode) == mode, oct(os.stat(path).st_mode)
        return run

    def umask_mode(mask):
        def run():
            path = WORK / f"new{mask:o}.pt"
            old = os.umask(mask)
            try:
                F.save(path)
            finally:
                os.umask(old)
            got = stat.S_IMODE(os.stat(path).st_mode)
            assert got == 0o666 & ~mask, oct(got)
        return run

    def through_symlink(relative):
        def run():
            real = WORK / f"real{relative}.pt"
            real.write_bytes(b"old")
            link = WORK / f"link{relative}.pt"
            link.symlink_to(real.name if relative else real)
            F.save(link)
            assert link.is_symlink(), "the link was replaced by a file"
            assert ls.Forecaster.load(real).horizon == F.horizon
        return run

    def dangling_symlink():
        link = WORK / "dangling.pt"
        link.symlink_to(WORK / "target-made-by-save.pt")
        F.save(link)
        assert link.is_symlink() and (WORK / "target-made-by-save.pt").is_file()

    def refuses_fifo():
        fifo = WORK / "pipe.pt"
        os.mkfifo(fifo)
        try:
            F.save(fifo)
        except (ValueError, OSError) as error:
            assert "pipe.pt" in str(error), error
        else:
            raise AssertionError("saved over a FIFO")
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced"

    def refuses_directory():
        folder = WORK / "folder.pt"
        folder.mkdir()
        try:
            F.save(folder)
        except OSError as error:
            assert "folder.pt" in str(error), error
        else:
            raise AssertionError("saved over a directory")
        assert folder.is_dir()

    def hidden_files(folder):
        return sorted(p for p in os.listdir(folder) if p.startswith("."))

    def interrupted(exception):
        def run():
            folder = pathlib.Path(tempfile.mkdtemp(dir=WORK))
            path = folder / "m.pt"
            F.save(path)
            before = path.read_bytes()
            original = torch.save

            def crash(obj, f, *args, **kwargs):
                f.write(b"half")
                raise exception

            torch.save = crash
            try:
                F.save(path)
            except BaseException:  # noqa: BLE001
                pass
            finally:
                torch.save = original
            assert path.read_bytes() == before, "the previous file was damaged"
            assert hidden_files(folder) == [], hidden_files(folder)
        return run

    def killed_process_leaves_nothing_after_next_save():
        folder = pathlib.Path(tempfile.mkdtemp(dir=WORK))
        path = folder / "m.pt"
        script = (
            "import os, sys, torch, pickle\n"
            "import lstm_scratch as ls\n"
            f"f = ls.Forecaster.load({str(MODEL)!r})\n"
            "def die(obj, fh, *a, **k):\n"
            "    fh.write(b'half'); fh.flush(); os.kill(os.getpid(), 9)\n"
            "torch.save = die\n"
            f"f.save({str(path)!r})\n"
        )
        subprocess.run([sys.executable, "-c", script], check=False, capture_output=True,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        F.save(path)
        assert hidden_files(folder) == [], hidden_files(folder)

    case(g, "existing 0644 file keeps 0644", keeps_mode(0o644))
    case(g, "existing 0640 file keeps 0640", keeps_mode(0o640))
    case(g, "new file under umask 022 is 0644", umask_mode(0o022))
    case(g, "new file under umask 002 is 0664", umask_mode(0o002))
    case(g, "save through an absolute symlink", through_symlink(False))
    case(g, "save through a relative symlink", through_symlink(True))
    case(g, "save through a dangling symlink", dangling_symlink)
    case(g, "save to a FIFO is refused", refuses_fifo)
    case(g, "save to a directory is refused", refuses_directory)
    case(g, "KeyboardInterrupt mid-save", interrupted(KeyboardInterrupt()))
    case(g, "disk full mid-save", interrupted(OSError(28, "No space left on device")))
    case(g, "SIGKILL mid-save, then a new save", killed_process_leaves_nothing_after_next_save)


# ======================================================================================
def collect() -> list[Case]:
    CASES.clear()
    for add in (modules, zoo, forecaster_config, forecaster_calls, divergence,
                normalizer_and_metrics, lstm_model, model_files, saving):
        add()
    return list(CASES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="", help="a name for this run (e.g. main, branch)")
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="results file stem (default results/hostile_inputs-<date>)")
    parser.add_argument("--verbose", action="store_true", help="print every case not clean")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        outcomes = [classify(c) for c in collect()]
    finally:
        shutil.rmtree(WORK, ignore_errors=True)

    groups: dict[str, dict[str, int]] = {}
    for o in outcomes:
        counts = groups.setdefault(o.case.group, {"cases": 0, "clean": 0, "unclear": 0,
                                                  "silent": 0})
        counts["cases"] += 1
        counts[o.status] += 1
    total = {k: sum(g[k] for g in groups.values()) for k in ("cases", "clean", "unclear",
                                                              "silent")}
    lines = [f"| {name} | {c['cases']} | {c['clean']} | {c['unclear']} | {c['silent']} |"
             for name, c in groups.items()]
    table = "\n".join(["| class | cases | clean | unclear | silent |", "|---|---|---|---|---|",
                       *lines, f"| **all** | {total['cases']} | {total['clean']} | "
                       f"{total['unclear']} | {total['silent']} |"])
    print(table)
    if args.verbose:
        for o in outcomes:
            if o.status != "clean":
                print(f"[{o.status}] {o.case.group}: {o.case.label}: {o.detail}")

    date = datetime.date.today().isoformat()
    stem = args.out or RESULTS / f"hostile_inputs-{date}{'-' + args.label if args.label else ''}"
    record = {
        "label": args.label,
        "date": date,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "command": " ".join(["python", *sys.argv]),
        "library": str(pathlib.Path(ls.__file__).parent),  # which checkout was tested
        "totals": total,
        "classes": groups,
        "cases": [{"class": o.case.group, "case": o.case.label, "status": o.status,
                   "detail": o.detail} for o in outcomes],
    }
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(record, indent=1))
    with contextlib.suppress(OSError):
        stem.with_suffix(".md").write_text(
            f"# Hostile inputs{' (' + args.label + ')' if args.label else ''}, {date}\n\n"
            f"torch {torch.__version__}, Python {platform.python_version()}, "
            f"{platform.platform()}\n\n`{record['command']}` with the library imported from "
            f"`{record['library']}`: {total['clean']} of {total['cases']} cases clean.\n\n"
            f"{table}\n"
        )


if __name__ == "__main__":
    main()
