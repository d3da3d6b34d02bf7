"""One file per model, written atomically, read without ever running code from it.

The file is a `torch.save` of plain data only:

    {"format": "lstm-scratch", "format_version": 1, "library_version": "0.1.0",
     "kind": "Forecaster", "config": "<JSON>", "state": "<JSON>",
     "tensors": {"weights.<name>": Tensor, ...}}

Config and fitted statistics travel as JSON text, weights and arrays as tensors, so
`torch.load(weights_only=True)` can read it: its restricted unpickler refuses any other
object (a crafted pickle that would call os.system fails before anything runs).
Saving writes a temporary file in the same folder, fsyncs it and renames it over the
target: a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

FORMAT = "lstm-scratch"
FORMAT_VERSION = 1
EXTENSION = ".pt"


def library_version() -> str:
    from .. import __version__

    return __version__


def save_checkpoint(
    path: str | os.PathLike,
    kind: str,
    config: Mapping[str, Any],
    state: Mapping[str, Any],
    tensors: Mapping[str, Tensor],
) -> None:
    """Atomically write one model file (see the module docstring for the layout)."""
    path = os.fspath(path)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": library_version(),
        "kind": kind,
        "config": json.dumps(dict(config)),
        "state": json.dumps(dict(state)),
        "tensors": {name: t.detach().cpu() for name, t in tensors.items()},
    }
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=EXTENSION, dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_checkpoint(
    path: str | os.PathLike, kind: str, map_location: str | torch.device | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Tensor]]:
    """Read a file written by save_checkpoint -> (config, state, tensors).

    map_location defaults to the CPU, so a file saved from a GPU loads anywhere.
    Raises FileNotFoundError, or ValueError with one line saying why the file is refused.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: {path}")
    try:
        payload = torch.load(path, map_location=map_location or "cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, AttributeError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"refusing to load {path}: not a plain-data lstm-scratch model file ({reason[:200]})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not an lstm-scratch model file")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path} has model format version {version}, this lstm-scratch "
            f"({library_version()}) reads version {FORMAT_VERSION}; it was written by "
            f"lstm-scratch {payload.get('library_version', '?')}: load it with that version "
            f"and save it again"
        )
    if payload.get("kind") != kind:
        raise ValueError(f"{path} holds a {payload.get('kind')}, not a {kind}")
    return json.loads(payload["config"]), json.loads(payload["state"]), payload["tensors"]
