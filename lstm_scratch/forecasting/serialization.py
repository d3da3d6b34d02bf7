"""One file per model, written atomically, read without ever running code from it.

The file is a `torch.save` of plain data only:

    {"format": "lstm-scratch", "format_version": 1, "library_version": "0.1.0",
     "kind": "Forecaster", "config": "<JSON>", "state": "<JSON>",
     "tensors": {"members.<i>.<name>": Tensor, ...}}

Config and fitted statistics travel as JSON text, weights and arrays as tensors, so
`torch.load(weights_only=True)` can read it: its restricted unpickler refuses any other
object (a crafted pickle that would call os.system fails before anything runs).

Reading checks the file against a schema before anything is built from it: the format
and its version, the required keys of config and state with their types (SCHEMAS),
tensors only, all finite, and (`load_weights`) weights whose names and shapes match the
network the config describes. Each violation is one CheckpointError line naming the
file and the field, e.g. `model.pt: config.horizon: expected int, got str`.

Saving writes a temporary file next to the target, fsyncs it and renames it over the
target: a crash mid-save leaves the previous file intact. It writes through a symlink to
the file it names, keeps an existing file's permission bits (a new file gets the
umask's, as `open` and `torch.save` do), refuses a directory or a device node, and
removes its temporary file on any failure; one left by a killed process is removed by
the next save to the same path.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import pickle
import re
import stat
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from .transforms import DataNormalizer

FORMAT = "lstm-scratch"
FORMAT_VERSION = 1
EXTENSION = ".pt"

# The keys each kind of model file must hold, with their JSON types (None: JSON null).
# "normalizers": the state keys holding a DataNormalizer state (null where optional).
SCHEMAS: dict[str, dict[str, Any]] = {
    "Forecaster": {
        "config": {
            "model": (str,),
            "horizon": (int,),
            "sequence_length": (int, None),
            "seed": (int,),
            "config": (dict,),
        },
        "state": {
            "sequence_length_": (int,),
            "season_length_": (int,),
            "transform_": (str,),
            "choices": (dict,),
            "fallback_": (str, None),
            "n_members": (int,),
            "target_norm": (dict,),
            "cov_norm": (dict, None),
            "train_history": (list,),
            "metadata": (dict,),
            "n_features": (int,),
        },
        "tensors": {"series.y": (Tensor,)},
        "normalizers": ("target_norm", "cov_norm"),
    },
    "WindowRegressor": {
        "config": {"model": (str,), "sequence_length": (int,), "seed": (int,)},
        "state": {
            "x_norm": (dict,),
            "y_norm": (dict,),
            "y_is_1d": (bool,),
            "train_history": (list,),
            "sizes": (list,),
        },
        "tensors": {},
        "normalizers": ("x_norm", "y_norm"),
    },
}

# Kinds files were saved under before a rename -> the kind they are now.
RENAMED_KINDS: dict[str, str] = {"LSTMModel": "WindowRegressor"}

# Any other kind (e.g. a bare network saved by save_checkpoint): dict config and state.
ANY_KIND: dict[str, Any] = {"config": {}, "state": {}, "tensors": {}, "normalizers": ()}


class CheckpointError(ValueError):
    """A model file that cannot be loaded; the message names the file and the field."""


def library_version() -> str:
    from .._version import __version__

    return __version__


# --- saving ---------------------------------------------------------------------------
def save_checkpoint(
    path: str | os.PathLike,
    kind: str,
    config: Mapping[str, Any],
    state: Mapping[str, Any],
    tensors: Mapping[str, Tensor],
) -> None:
    """Atomically write one model file (see the module docstring for the layout)."""
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": library_version(),
        "kind": kind,
        "config": json.dumps(dict(config)),
        "state": json.dumps(dict(state)),
        "tensors": {name: t.detach().cpu() for name, t in tensors.items()},
    }
    target = _save_target(os.fspath(path))
    folder, name = os.path.split(target)
    os.makedirs(folder, exist_ok=True)
    _remove_stale_temporaries(folder, name)
    mode = stat.S_IMODE(os.stat(target).st_mode) if os.path.exists(target) else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    try:
        os.chmod(tmp, mode)  # mkstemp made it 0600
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)  # atomic on POSIX and Windows
    except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _fsync_folder(folder)


def _save_target(path: str) -> str:
    """The regular file a save to `path` replaces: symlinks followed to what they name."""
    target = os.path.realpath(path)
    if os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, "cannot save a model over a directory", path)
    if os.path.exists(target) and not stat.S_ISREG(os.stat(target).st_mode):
        raise ValueError(
            f"refusing to save a model to {path}: it is not a regular file (a device, pipe or "
            f"socket would be replaced by one); give the path of a file"
        )
    return target


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows."""
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove_stale_temporaries(folder: str, name: str) -> None:
    """Temporary files of earlier saves to `name` whose process no longer runs (killed)."""
    for tmp in glob.glob(os.path.join(glob.escape(folder), f".{glob.escape(name)}.*.tmp")):
        match = re.fullmatch(rf"\.{re.escape(name)}\.(\d+)\..+\.tmp", os.path.basename(tmp))
        if match and not _process_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                os.remove(tmp)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- loading --------------------------------------------------------------------------
def load_checkpoint(
    path: str | os.PathLike, kind: str, map_location: str | torch.device | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Tensor]]:
    """Read and check a file written by save_checkpoint -> (config, state, tensors).

    map_location defaults to the CPU, so a file saved from a GPU loads anywhere.
    Raises FileNotFoundError, ValueError for a bad map_location (before the file is
    read), or CheckpointError (a ValueError) with one line naming the file and the field.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path should be a file path (str or os.PathLike), got "
                        f"{type(path).__name__}")
    path = os.fspath(path)
    location = _check_map_location(map_location)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file not found: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "a directory, not a model file", path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: not a regular file (a pipe or device?), not a model file")
    with open(path, "rb") as f:
        try:
            payload = torch.load(f, map_location=location, weights_only=True)
        except pickle.UnpicklingError as error:
            blocked = re.search(r"unsupported (GLOBAL \S+)|WeightsUnpickler error:\s*(.+)",
                                str(error))
            what = f" ({blocked.group(1) or blocked.group(2).strip()})" if blocked else ""
            raise CheckpointError(
                f"{path}: refusing to load: it holds objects other than plain data{what}, "
                f"which a model file never does"
            ) from None
        except Exception as error:  # truncated, not a torch file, damaged archive, ...
            raise CheckpointError(
                f"{path}: not a readable lstm-scratch model file (truncated or damaged? "
                f"{type(error).__name__}: {_first_line(error)})"
            ) from None
    return _check_payload(path, payload, kind)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else "no details")[:160]


def _check_map_location(map_location: object) -> str | torch.device:
    if map_location is None:
        return "cpu"
    if not isinstance(map_location, (str, torch.device)):
        raise TypeError(f"map_location should be 'cpu', 'cuda', 'cuda:N' or a torch.device, "
                        f"got {type(map_location).__name__}")
    try:
        device = torch.device(map_location)
    except RuntimeError:
        raise ValueError(
            f"map_location should be 'cpu', 'cuda', 'cuda:N' or a torch.device, "
            f"got {map_location!r}"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"map_location={str(map_location)!r} but CUDA is not available on this machine; "
            f"load with map_location='cpu'"
        )
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"map_location should be a CPU or CUDA device, got {map_location!r}")
    return device


def _check_payload(
    path: str, payload: object, kind: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Tensor]]:
    """The schema: format, version, kind, config/state keys and types, finite tensors."""

    def fail(field: str, problem: str) -> CheckpointError:
        return CheckpointError(f"{path}: {field}: {problem}")

    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise fail("format", "not an lstm-scratch model file")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise fail(
            "format_version",
            f"model format version {version!r}, this lstm-scratch ({library_version()}) reads "
            f"version {FORMAT_VERSION}; it was written by lstm-scratch "
            f"{payload.get('library_version', '?')}: load it with that version and save it again",
        )
    stored = payload.get("kind")
    if RENAMED_KINDS.get(stored, stored) != kind:
        raise fail("kind", f"holds a {stored}, not a {kind}")
    schema = SCHEMAS.get(kind, ANY_KIND)
    sections = {}
    for section in ("config", "state"):
        text = payload.get(section)
        if not isinstance(text, str):
            raise fail(section, f"expected JSON text, got {type(text).__name__}")
        try:
            sections[section] = json.loads(text)
        except json.JSONDecodeError as error:
            raise fail(section, f"not valid JSON ({error})") from None
        _check_keys(fail, section, sections[section], schema[section])
    for key in schema["normalizers"]:
        if sections["state"][key] is not None:
            try:
                DataNormalizer.from_state(sections["state"][key])
            except (ValueError, TypeError) as error:
                raise fail(f"state.{key}", _first_line(error)) from None
    tensors = payload.get("tensors")
    if not isinstance(tensors, dict):
        raise fail("tensors", f"expected a dict of tensors, got {type(tensors).__name__}")
    _check_keys(fail, "tensors", tensors, schema["tensors"])
    for name, tensor in tensors.items():
        if not isinstance(tensor, Tensor):
            raise fail(f"tensors.{name}", f"expected a tensor, got {type(tensor).__name__}")
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise fail(f"tensors.{name}", "holds NaN or infinite values")
    return sections["config"], sections["state"], tensors


def _check_keys(fail: Any, section: str, values: object, types: Mapping[str, tuple]) -> None:
    if not isinstance(values, dict):
        raise fail(section, f"expected a dict, got {type(values).__name__}")
    for key, allowed in types.items():
        if key not in values:
            raise fail(f"{section}.{key}", "missing")
        value = values[key]
        ok = any(
            value is None if t is None else isinstance(value, t) and (t is bool or not isinstance(
                value, bool))
            for t in allowed
        )
        if not ok:
            names = " or ".join("null" if t is None else t.__name__ for t in allowed)
            raise fail(f"{section}.{key}", f"expected {names}, got {type(value).__name__}")


@contextlib.contextmanager
def reading(path: str | os.PathLike) -> Iterator[None]:
    """Rebuilding a model from a checked file: a bad value the config or state still holds
    (a horizon of 0, a NaN scale, a missing statistic) is reported against the file."""
    try:
        yield
    except CheckpointError:
        raise
    except (ValueError, TypeError, KeyError) as error:
        detail = f"missing key {error}" if isinstance(error, KeyError) else _first_line(error)
        raise CheckpointError(
            f"{os.fspath(path)}: the config or state does not rebuild a model: {detail}"
        ) from None


def load_weights(
    path: str | os.PathLike, network: nn.Module, weights: Mapping[str, Tensor], prefix: str = ""
) -> None:
    """Load `weights` into `network` after checking names and shapes against it; `prefix`
    is how the file's tensors name them (for the messages)."""
    expected = network.state_dict()
    missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    if missing:
        raise CheckpointError(
            f"{os.fspath(path)}: tensors.{prefix}{missing[0]}: missing (the config's network "
            f"has it{f', and {len(missing) - 1} more' if len(missing) > 1 else ''})"
        )
    if unexpected:
        raise CheckpointError(
            f"{os.fspath(path)}: tensors.{prefix}{unexpected[0]}: not a weight of the config's "
            f"network"
        )
    for name, tensor in weights.items():
        if tensor.shape != expected[name].shape:
            raise CheckpointError(
                f"{os.fspath(path)}: tensors.{prefix}{name}: shape {tuple(tensor.shape)}, but "
                f"the config's network has {tuple(expected[name].shape)}"
            )
    network.load_state_dict(weights)
