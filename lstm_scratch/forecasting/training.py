"""The training loop: one function, `fit_network`, used by LSTMModel and Forecaster.

Per epoch, for each mini-batch (shuffled with a generator seeded by seed + epoch):
    loss = mean((network(X_b) - Y_b)^2) / accumulation_steps     backward()
    every `accumulation_steps` batches:
        clip the global gradient norm  ||g||_2 <= clip_norm,  then one Adam step
then the validation loss, the learning-rate schedule, and early stopping:
    the weights of the best validation epoch are restored at the end.

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
from collections.abc import Iterator, Mapping
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from tqdm import tqdm  # not tqdm.auto: it warns "IProgress not found" in notebooks

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
    for key in ("epochs", "batch_size", "accumulation_steps"):
        if not isinstance(merged[key], int) or merged[key] <= 0:
            raise ValueError(f"{key} should be a positive int, got {merged[key]!r}")
    if merged["scheduler"] not in SCHEDULERS:
        raise ValueError(f"scheduler should be one of {SCHEDULERS}, got {merged['scheduler']!r}")
    if not merged["learning_rate"] > 0:
        raise ValueError(f"learning_rate should be positive, got {merged['learning_rate']!r}")
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


@torch.no_grad()
def evaluate_loss(network: nn.Module, X: Tensor, Y: Tensor, batch_size: int) -> float:
    """Mean squared error over (X, Y) in evaluation mode, batch by batch."""
    network.eval()
    total = 0.0
    for start in range(0, len(X), batch_size):
        pred = network(X[start : start + batch_size]).float()
        total += float(((pred - Y[start : start + batch_size]) ** 2).sum())
    return total / Y.numel()


def _warmup_factor(epoch: int, warmup_epochs: int) -> float:
    return min(1.0, (epoch + 1) / warmup_epochs) if warmup_epochs > 0 else 1.0


def fit_network(
    network: nn.Module,
    X_train: Tensor,
    Y_train: Tensor,
    X_val: Tensor | None = None,
    Y_val: Tensor | None = None,
    config: Mapping[str, Any] | None = None,
    seed: int = 0,
    verbose: bool = True,
) -> list[dict[str, float]]:
    """Train `network` in place on (X_train (N, L, F), Y_train (N, O)); returns the history.

    history: one dict per epoch with epoch, train_loss, val_loss (None without a validation
    set), lr. Early stopping watches val_loss (train_loss without validation data) and the
    best epoch's weights are loaded back before returning. All tensors must already be on
    the network's device. verbose=False prints nothing.
    """
    cfg = check_train_config(config or {})
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
    best_loss, best_state, stale = math.inf, copy.deepcopy(network.state_dict()), 0
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
        train_loss = _train_epoch(
            model, network, optimizer, scaler, X_train, Y_train, cfg, generator, use_amp
        )
        train_loss = _mean_over_ranks(train_loss, world_size)
        val_loss = evaluate_loss(network, X_val, Y_val, cfg["batch_size"]) if has_val else None
        history.append(
            {"epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss, "lr": lr}
        )
        bar.set_postfix(
            train=f"{train_loss:.4f}", val="-" if val_loss is None else f"{val_loss:.4f}"
        )

        watched = val_loss if has_val else train_loss
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
) -> float:
    """One pass over this rank's share of a shuffled epoch; returns the mean loss."""
    rank, world_size = _world()
    order = torch.randperm(len(X), generator=generator)  # the same on every rank
    order = order[: len(order) - len(order) % world_size][rank::world_size]  # this rank's share
    batches = list(order.split(cfg["batch_size"]))
    accumulate = cfg["accumulation_steps"]
    model.train()
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for i, index in enumerate(batches):
        steps_now = (i + 1) % accumulate == 0 or i + 1 == len(batches)
        sync = contextlib.nullcontext() if steps_now or model is network else model.no_sync()
        with sync, torch.autocast("cuda", dtype=torch.float16, enabled=use_amp):
            pred = model(X[index])  # (b, O)
            loss = ((pred.float() - Y[index]) ** 2).mean()
            scaler.scale(loss / accumulate).backward()
        total += float(loss.detach()) * len(index)
        if steps_now:
            scaler.unscale_(optimizer)
            if cfg["clip_norm"] is not None:
                nn.utils.clip_grad_norm_(network.parameters(), cfg["clip_norm"])
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
    return total / max(1, len(order))
