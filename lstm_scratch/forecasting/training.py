"""The training loop: one function, `fit_network`, used by WindowRegressor and Forecaster.

Per epoch, for each mini-batch (shuffled with a generator seeded by seed + epoch):
    loss = mean((network(X_b) - Y_b)^2) / accumulation_steps     backward()
    (multi-task: Y is {task: targets} and loss = sum_k w_k L_k, see models/multitask.py)
    every `accumulation_steps` batches:
        clip the global gradient norm  ||g||_2 <= clip_norm,  then one Adam step
then the validation loss, the learning-rate schedule, and early stopping:
    the weights of the best validation epoch are restored at the end.
An epoch whose loss is NaN or infinite ends training: TrainingDivergedError, or with
on_nonfinite="stop" a RuntimeWarning and the best finite epoch's weights.

Schedules: "plateau" (halve the rate when validation stalls), "cosine"
(lr_e = lr/2 (1 + cos(pi e / E))), None; each optionally after a linear warm-up of
`warmup_epochs`. Mixed precision (float16 autocast + gradient scaling) runs on CUDA only.
Under `torchrun` (torch.distributed initialised) the network is wrapped in
DistributedDataParallel and each rank takes its share of every shuffled epoch; gradients
are averaged across ranks so every rank ends with the same weights.
"""

from __future__ import annotations

import contextlib
import copy
import math
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from tqdm import tqdm  # not tqdm.auto: it warns "IProgress not found" in notebooks

from ..models.multitask import TASKS, check_task_weights, task_losses, weighted_loss
from .validation import check_choice, check_training_values

Targets = Tensor | Mapping[str, Tensor]  # (N, O), or {task: targets} for a multi-task fit

TRAIN_DEFAULTS: dict[str, Any] = {
    "epochs": 100,
    "batch_size": 64,
    "learning_rate": 1e-3,
    "weight_decay": 0.0,
    "clip_norm": 1.0,  # None: no clipping
    "scheduler": "plateau",  # "plateau" | "cosine" | None
    "warmup_epochs": 0,
    "patience": 15,  # epochs without improvement before stopping; None: never stop early
    "accumulation_steps": 1,
    "amp": True,  # float16 autocast; used on CUDA only
    "on_nonfinite": "raise",  # a NaN/inf loss: "raise", or "stop" (keep the best epoch, warn)
    "task_weights": None,  # multi-task fits: {task: w_k}; None: 1 for each task
    "monitor": "loss",  # early stopping watches "loss" (the weighted sum) or one task's loss
}
SCHEDULERS = ("plateau", "cosine", None)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block with torch's CPU generator seeded, then give the caller's state back.

    Inside, weight initialisation and dropout masks are reproducible; outside, the
    user's random stream is untouched. (CUDA kernels may still be non-deterministic.)
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def resolve_device(device: str | torch.device) -> torch.device:
    """'auto' -> CUDA when available, else CPU; 'cuda' without CUDA is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but CUDA is not available; use device='cpu' or 'auto'")
    return device


def check_train_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """TRAIN_DEFAULTS overridden by the matching keys of config, checked."""
    merged = {**TRAIN_DEFAULTS, **{k: v for k, v in config.items() if k in TRAIN_DEFAULTS}}
    check_training_values(merged)
    check_choice("scheduler", merged["scheduler"], SCHEDULERS)
    return merged


def _world() -> tuple[int, int]:
    """(rank, world_size); (0, 1) outside torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _mean_over_ranks(value: float, world_size: int) -> float:
    if world_size == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / world_size


def _rows(Y: Targets, index: Tensor | slice) -> Targets:
    return {task: y[index] for task, y in Y.items()} if isinstance(Y, Mapping) else Y[index]


def batch_losses(
    model: nn.Module, X: Tensor, Y: Targets, task_weights: Mapping[str, float] | None
) -> dict[str, Tensor]:
    """{"loss": what is minimised} on one batch, plus each task's loss in a multi-task fit.

    single task (task_weights None): loss = mean((model(X) - Y)^2)
    multi-task: L_k from the model's per-task outputs, loss = sum_k w_k L_k
    """
    if task_weights is None:
        return {"loss": ((model(X).float() - Y) ** 2).mean()}  # (b, O) vs (b, O)
    losses = task_losses(model(X, per_task=True), Y)
    return {"loss": weighted_loss(losses, task_weights), **losses}


@torch.no_grad()
def evaluate_losses(
    network: nn.Module,
    X: Tensor,
    Y: Targets,
    batch_size: int,
    task_weights: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """`batch_losses` over all of (X, Y) in evaluation mode, batch by batch (means of means
    weighted by batch size, so each is the mean over the whole set)."""
    network.eval()
    totals: dict[str, float] = {}
    for start in range(0, len(X), batch_size):
        rows = slice(start, start + batch_size)
        for name, loss in batch_losses(network, X[rows], _rows(Y, rows), task_weights).items():
            totals[name] = totals.get(name, 0.0) + float(loss) * len(X[rows])
    return {name: total / len(X) for name, total in totals.items()}


def evaluate_loss(network: nn.Module, X: Tensor, Y: Tensor, batch_size: int) -> float:
    """Mean squared error over (X, Y) in evaluation mode, batch by batch."""
    return evaluate_losses(network, X, Y, batch_size)["loss"]


def _warmup_factor(epoch: int, warmup_epochs: int) -> float:
    return min(1.0, (epoch + 1) / warmup_epochs) if warmup_epochs > 0 else 1.0


def fit_network(
    network: nn.Module,
    X_train: Tensor,
    Y_train: Targets,
    X_val: Tensor | None = None,
    Y_val: Targets | None = None,
    config: Mapping[str, Any] | None = None,
    seed: int = 0,
    verbose: bool = True,
) -> list[dict[str, float]]:
    """Train `network` in place on (X_train (N, L, F), Y_train (N, O)); returns the history.

    history: one dict per epoch with epoch, train_loss, val_loss (None without a validation
    set), lr. Early stopping watches val_loss (train_loss without validation data) and the
    best epoch's weights are loaded back before returning. A NaN or infinite loss raises
    TrainingDivergedError; with config on_nonfinite="stop" it ends training with a
    RuntimeWarning and the best finite epoch instead (and still raises if there is none).
    All tensors must already be on the network's device. verbose=False prints nothing.

    Multi-task (a model from models/multitask.py): Y_train and Y_val are {task: targets},
    config["task_weights"] weighs the tasks' losses, the history adds train_<task> and
    val_<task> per epoch, and config["monitor"] = a task name stops early on that task's
    loss instead of the weighted sum.
    """
    cfg = check_train_config(config or {})
    task_weights = _check_tasks(cfg, Y_train)
    rank, world_size = _world()
    device = next(network.parameters()).device
    use_amp = bool(cfg["amp"]) and device.type == "cuda"
    has_val = X_val is not None and len(X_val) > 0

    model: nn.Module = network
    if world_size > 1:
        model = nn.parallel.DistributedDataParallel(network)  # broadcasts rank 0's weights
    optimizer = torch.optim.Adam(
        network.parameters(), lr=cfg["learning_rate"], weight_decay=cfg["weight_decay"]
    )
    plateau = (
        torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=0.5, patience=max(1, (cfg["patience"] or 10) // 3)
        )
        if cfg["scheduler"] == "plateau"
        else None
    )
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    generator = torch.Generator().manual_seed(seed)

    history: list[dict[str, float]] = []
    best_loss, best_state, stale = math.inf, None, 0
    bar = tqdm(
        range(cfg["epochs"]),
        desc="fit",
        unit="epoch",
        disable=not verbose or rank != 0,
        leave=False,
    )
    for epoch in bar:
        lr = _scheduled_lr(cfg, epoch, optimizer)
        for group in optimizer.param_groups:
            group["lr"] = lr
        train = _train_epoch(
            model, network, optimizer, scaler, X_train, Y_train, cfg, generator, use_amp,
            task_weights,
        )
        train = {name: _mean_over_ranks(value, world_size) for name, value in train.items()}
        val = (
            evaluate_losses(network, X_val, Y_val, cfg["batch_size"], task_weights)
            if has_val
            else {}
        )
        train_loss, val_loss = train["loss"], val.get("loss")
        history.append(
            {"epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss, "lr": lr}
            | {f"train_{task}": train[task] for task in train if task != "loss"}
            | {f"val_{task}": val[task] for task in val if task != "loss"}
        )
        bar.set_postfix(
            train=f"{train_loss:.4f}", val="-" if val_loss is None else f"{val_loss:.4f}"
        )

        watched = (val if has_val else train)[cfg["monitor"]]
        if not all(math.isfinite(v) for v in (train_loss, watched, *val.values())):
            bar.close()
            _diverged(history, cfg["on_nonfinite"], found_finite=best_state is not None)
            break
        if plateau is not None and epoch >= cfg["warmup_epochs"]:
            plateau.step(watched)
        if watched < best_loss:
            best_loss, best_state, stale = watched, copy.deepcopy(network.state_dict()), 0
        else:
            stale += 1
            if cfg["patience"] is not None and stale >= cfg["patience"]:
                break
    bar.close()
    network.load_state_dict(best_state)
    network.eval()
    return history


class TrainingDivergedError(FloatingPointError, ValueError):
    """Training produced a NaN or infinite loss; no model is returned as if it had trained.
    Also a ValueError: the cause is a value (a rate, the data), and callers that report bad
    values in one line (the CLI) report this one too."""


def _diverged(history: list[dict[str, float]], policy: str, found_finite: bool) -> None:
    """A non-finite loss in the last epoch of `history`: raise, or (policy 'stop', when an
    earlier epoch was finite) warn that training stops there with the best epoch's weights."""
    last = history[-1]
    what = (
        f"epoch {last['epoch']} gave a non-finite loss (train_loss={last['train_loss']}, "
        f"val_loss={last['val_loss']}) at learning_rate={last['lr']:g}"
    )
    if policy == "stop" and found_finite:
        warnings.warn(
            f"{what}; on_nonfinite='stop': training stopped, the weights of the best earlier "
            f"epoch are kept",
            RuntimeWarning,
            stacklevel=3,
        )
        return
    hint = "" if found_finite else " (no epoch had a finite loss, so there is no model to keep)"
    raise TrainingDivergedError(
        f"training diverged: {what}{hint}; lower learning_rate, set clip_norm, check the data "
        f"for extreme values, or pass on_nonfinite='stop' to keep the best finite epoch"
    )


def _check_tasks(cfg: Mapping[str, Any], Y: Targets) -> dict[str, float] | None:
    """The checked task weights of a multi-task fit (Y a mapping), None for a single task."""
    if not isinstance(Y, Mapping):
        if cfg["task_weights"] is not None or cfg["monitor"] != "loss":
            raise ValueError(
                "task_weights and monitor are for multi-task fits: pass Y_train as "
                f"{{task: targets}} with tasks {list(TASKS)}"
            )
        return None
    if cfg["monitor"] not in ("loss", *TASKS):
        raise ValueError(f"monitor should be 'loss' or a task in {list(TASKS)}, "
                         f"got {cfg['monitor']!r}")
    return check_task_weights(cfg["task_weights"])


def _scheduled_lr(cfg: Mapping[str, Any], epoch: int, optimizer: torch.optim.Optimizer) -> float:
    """This epoch's learning rate: warm-up x (cosine | plateau's current rate | constant)."""
    warmup = _warmup_factor(epoch, cfg["warmup_epochs"])
    if cfg["scheduler"] == "cosine":
        return cfg["learning_rate"] * warmup * 0.5 * (1 + math.cos(math.pi * epoch / cfg["epochs"]))
    if cfg["scheduler"] == "plateau" and epoch > cfg["warmup_epochs"]:
        return optimizer.param_groups[0]["lr"]  # ReduceLROnPlateau owns it after warm-up
    return cfg["learning_rate"] * warmup


def _train_epoch(
    model: nn.Module,
    network: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    X: Tensor,
    Y: Tensor,
    cfg: Mapping[str, Any],
    generator: torch.Generator,
    use_amp: bool,
    task_weights: Mapping[str, float] | None,
) -> dict[str, float]:
    """One pass over this rank's share of a shuffled epoch; returns the mean losses."""
    rank, world_size = _world()
    order = torch.randperm(len(X), generator=generator)  # the same on every rank
    order = order[: len(order) - len(order) % world_size][rank::world_size]  # this rank's share
    batches = list(order.split(cfg["batch_size"]))
    accumulate = cfg["accumulation_steps"]
    model.train()
    optimizer.zero_grad(set_to_none=True)
    totals: dict[str, float] = {}
    for i, index in enumerate(batches):
        steps_now = (i + 1) % accumulate == 0 or i + 1 == len(batches)
        sync = contextlib.nullcontext() if steps_now or model is network else model.no_sync()
        with sync, torch.autocast("cuda", dtype=torch.float16, enabled=use_amp):
            losses = batch_losses(model, X[index], _rows(Y, index), task_weights)
            scaler.scale(losses["loss"] / accumulate).backward()
        for name, loss in losses.items():
            totals[name] = totals.get(name, 0.0) + float(loss.detach()) * len(index)
        if steps_now:
            scaler.unscale_(optimizer)
            if cfg["clip_norm"] is not None:
                nn.utils.clip_grad_norm_(network.parameters(), cfg["clip_norm"])
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
    return {name: total / max(1, len(order)) for name, total in totals.items()}
