"""Parity report: the worst disagreement between ls.LSTM and torch.nn.LSTM over the
option grid of the parity tests, per dtype and backend, for outputs and gradients.

    python benchmarks/parity.py          # prints a table, writes results/parity-<date>.{json,md}

The tests assert the tolerances (float64 1e-10, float32 1e-5); this script reports how
far inside them we are.
"""

from __future__ import annotations

import datetime
import itertools
import json
import pathlib
import platform

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import lstm_scratch as ls
from lstm_scratch import backends

T, B, I, H, P = 5, 3, 4, 6, 3
RESULTS = pathlib.Path(__file__).parent / "results"


def leaves_and_outputs(module, x, hx, form, batch_first, lengths):
    x = x.clone().requires_grad_()
    hx = tuple(h.clone().requires_grad_() for h in hx) if hx else None
    if form == "packed":
        x_in = pack_padded_sequence(x, lengths, batch_first, enforce_sorted=False)
    else:
        x_in = x
    out, (h, c) = module(x_in, hx)
    out = out.data if form == "packed" else out
    return [x, *(hx or ())], [out, h, c]


def worst_errors(case, dtype, backend):
    bias, batch_first, bidirectional, proj, layers, form, with_hx = case
    torch.manual_seed(0)
    kw = dict(num_layers=layers, bias=bias, batch_first=batch_first,
              bidirectional=bidirectional, proj_size=proj)
    ref = nn.LSTM(I, H, **kw).to(dtype)
    ours = ls.LSTM(I, H, **kw, backend=backend).to(dtype)
    ours.load_state_dict(ref.state_dict())
    D = 2 if bidirectional else 1
    batch = () if form == "unbatched" else (B,)
    x = torch.randn(*((B, T) if batch_first and batch else (T, *batch)), I, dtype=dtype)
    hx = (torch.randn(layers * D, *batch, proj or H, dtype=dtype),
          torch.randn(layers * D, *batch, H, dtype=dtype)) if with_hx else None
    lengths = torch.tensor([3, T, 1])
    ref_in, ref_out = leaves_and_outputs(ref, x, hx, form, batch_first, lengths)
    our_in, our_out = leaves_and_outputs(ours, x, hx, form, batch_first, lengths)
    upstream = [torch.randn_like(o) for o in ref_out]
    for outs in (ref_out, our_out):
        sum((o * g).sum() for o, g in zip(outs, upstream)).backward()
    out_err = max((a - b).abs().max().item() for a, b in zip(our_out, ref_out))
    grads = [(a.grad, b.grad) for a, b in zip(our_in, ref_in)]
    grads += [(p.grad, dict(ref.named_parameters())[n].grad) for n, p in ours.named_parameters()]
    grad_err = max((a - b).abs().max().item() for a, b in grads)
    return out_err, grad_err


def main() -> None:
    grid = list(itertools.product([True, False], [False, True], [False, True], [0, P], [1, 3],
                                  ["batched", "unbatched", "packed"], [False, True]))
    rows = []
    for backend in [b for b in backends.available("LSTM") if b != "triton"]:
        for dtype in (torch.float64, torch.float32):
            errors = [worst_errors(case, dtype, backend) for case in grid]
            rows.append({
                "backend": backend, "dtype": str(dtype).removeprefix("torch."),
                "cases": len(grid),
                "worst_output_error": max(e[0] for e in errors),
                "worst_gradient_error": max(e[1] for e in errors),
            })
    date = datetime.date.today().isoformat()
    header = (
        "| backend | dtype | cases | worst output error | worst gradient error |\n"
        "|---|---|---|---|---|\n"
    )
    table = header + "".join(
        f"| {r['backend']} | {r['dtype']} | {r['cases']} | {r['worst_output_error']:.2e} "
        f"| {r['worst_gradient_error']:.2e} |\n" for r in rows
    )
    meta = {"date": date, "torch": torch.__version__, "python": platform.python_version(),
            "machine": platform.processor() or platform.machine(),
            "grid": "bias x batch_first x bidirectional x proj{0,3} x layers{1,3} "
                    "x {batched, unbatched, packed} x hx{no, yes}; T=5 B=3 I=4 H=6"}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"parity-{date}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    (RESULTS / f"parity-{date}.md").write_text(
        f"# ls.LSTM vs torch.nn.LSTM parity ({date}, torch {meta['torch']})\n\n"
        f"Grid: {meta['grid']}. Errors are max absolute differences over outputs (output, "
        f"h_n, c_n) and over every gradient (input, h_0, c_0, every parameter).\n\n{table}"
    )
    print(table)


if __name__ == "__main__":
    main()
