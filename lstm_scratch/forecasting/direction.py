"""The direction of the next move, as a 3-class task: labels, metrics and baselines.

A move is d = y_next - y_last. With a flat threshold theta >= 0:

    class 0 "down" if d < -theta      class 1 "flat" if |d| <= theta      class 2 "up" if d > theta

theta is in the units of y (after whatever transform the model sees). `flat_threshold`
picks it from the training moves as the `flat_fraction` quantile of |d|, so that about
that fraction of the training moves are "flat" (1/3 by default: three classes of
roughly equal size on a series whose ups and downs balance).

Metrics (c true classes, p predicted, K = 3 classes):

    accuracy    = mean(c == p)
    confusion   M_ij = #{c = i and p = j}            rows: true, columns: predicted
    macro-F1    = mean of F1_k = 2 M_kk / (sum_j M_kj + sum_i M_ik) over the classes k
                  present in c or p

Baselines: "majority" predicts the most frequent training class every time;
"persistence" predicts that the next move goes the way of the last observed one.
"""

from __future__ import annotations

import numpy as np

NUM_CLASSES = 3


def direction_labels(moves: np.ndarray, flat_threshold: float) -> np.ndarray:
    """moves d (n,) -> classes (n,) int64: 0 down (d < -theta), 1 flat, 2 up (d > theta)."""
    if not np.isfinite(flat_threshold) or flat_threshold < 0:
        raise ValueError(f"flat_threshold should be a finite number >= 0, got {flat_threshold!r}")
    d = np.asarray(moves, dtype=np.float64)
    return np.where(d > flat_threshold, 2, np.where(d < -flat_threshold, 0, 1)).astype(np.int64)


def flat_threshold(moves: np.ndarray, flat_fraction: float = 1 / 3) -> float:
    """The flat_fraction quantile of |d| over the (training) moves d."""
    if not 0 <= flat_fraction < 1:
        raise ValueError(f"flat_fraction should be in [0, 1), got {flat_fraction!r}")
    return float(np.quantile(np.abs(np.asarray(moves, dtype=np.float64)), flat_fraction))


def _classes(true: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c, p = np.asarray(true).ravel(), np.asarray(pred).ravel()
    if c.shape != p.shape or len(c) == 0:
        raise ValueError(
            f"true and pred should have equal, non-empty lengths, got {len(c)} and {len(p)}"
        )
    for name, labels in (("true", c), ("pred", p)):
        if not np.isin(labels, np.arange(NUM_CLASSES)).all():
            raise ValueError(f"{name} should hold classes 0, 1, 2 only, got {np.unique(labels)}")
    return c.astype(np.int64), p.astype(np.int64)


def confusion_matrix(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """M (3, 3) int: M[i, j] = how many of true class i were predicted j."""
    c, p = _classes(true, pred)
    return np.bincount(NUM_CLASSES * c + p, minlength=NUM_CLASSES**2).reshape(3, 3)


def direction_metrics(true: np.ndarray, pred: np.ndarray) -> dict[str, object]:
    """{"accuracy", "macro_f1", "confusion" (nested lists, rows true)}."""
    M = confusion_matrix(true, pred)
    tp, support, predicted = np.diag(M), M.sum(axis=1), M.sum(axis=0)  # (3,) each
    present = (support + predicted) > 0
    f1 = 2 * tp[present] / (support + predicted)[present]
    return {
        "accuracy": float(tp.sum() / M.sum()),
        "macro_f1": float(f1.mean()),
        "confusion": M.tolist(),
    }


def majority_baseline(train_labels: np.ndarray, n: int) -> np.ndarray:
    """n predictions of the most frequent training class (the lowest index on a tie)."""
    counts = np.bincount(np.asarray(train_labels, dtype=np.int64), minlength=NUM_CLASSES)
    return np.full(n, int(counts.argmax()), dtype=np.int64)


def persistence_baseline(last_moves: np.ndarray, flat_threshold: float) -> np.ndarray:
    """The class of each last observed move y_last - y_before, as the next move's class."""
    return direction_labels(last_moves, flat_threshold)
