"""multitask: one recurrent encoder shared by a regression head and a direction head.

    x (B, T, F) -> encoder (our StackedLSTM or GRU) -> top layer's final h  e (B, D*H)
                -> dropout -> regression head  Linear -> y_hat (B, O)   the next O values
                -> dropout -> direction head   Linear -> z     (B, 3)   logits of down/flat/up

Trained on the weighted sum of the per-task losses (`weighted_loss`):

    L = w_regression L_regression + w_direction L_direction
    L_regression = mean_{b,o} (y_hat_bo - y_bo)^2                        (MSE)
    L_direction  = -mean_b log softmax(z_b)[c_b]                         (cross-entropy)

Both heads read the same e, so the gradient of L reaching the encoder is
w_regression dL_regression/de + w_direction dL_direction/de, while each head's own weights
see only their task's term: a task with weight 0 leaves its head's gradient exactly zero.
The same class trained with one weight set to 0 is the single-task model of the same size.

Under the zoo's contract, `model(x)` is the regression head (B, O), so Forecaster,
MC dropout and integrated gradients work unchanged (they train and read that head only);
`model(x, per_task=True)` returns {"regression": (B, O), "direction": (B, 3)}, which is
what `fit_network` trains when it is given per-task targets.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from .. import functional as F
from ..checks import check_positive_int, check_probability
from ..gru import GRU
from ..lstm import StackedLSTM
from .base import check_input, recurrent_encoder, top_layer_final

TASKS = ("regression", "direction")
DIRECTIONS = ("down", "flat", "up")  # class indices 0, 1, 2
ENCODERS = ("lstm", "gru")


class MultiTaskModel(nn.Module):
    """A shared LSTM/GRU encoder with a regression head and a 3-class direction head."""

    def __init__(
        self,
        input_size: int,
        output_size: int,
        encoder: str = "lstm",
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"encoder should be one of {ENCODERS}, got {encoder!r}")
        self.input_size = check_positive_int("input_size", input_size)
        self.dropout = check_probability("dropout", dropout)
        recurrent = StackedLSTM if encoder == "lstm" else GRU
        self.encoder = recurrent_encoder(recurrent, input_size, hidden_size, num_layers, dropout)
        self.heads = nn.ModuleDict({
            "regression": nn.Linear(hidden_size, check_positive_int("output_size", output_size)),
            "direction": nn.Linear(hidden_size, len(DIRECTIONS)),
        })

    def encode(self, x: Tensor) -> Tensor:
        """x (B, T, F) -> e (B, H): the top layer's final hidden state, shared by the heads."""
        check_input(x, self.input_size, "multitask", self)
        _, state = self.encoder(x)  # LSTM (h_n, c_n) or GRU h_n
        return top_layer_final(state, 1)  # (B, H)

    def forward(self, x: Tensor, per_task: bool = False) -> Tensor | dict[str, Tensor]:
        """The regression head (B, O); with per_task=True every head's output by task name."""
        e = F.dropout(self.encode(x), self.dropout, self.training)  # (B, H)
        if not per_task:
            return self.heads["regression"](e)  # (B, O)
        return {task: head(e) for task, head in self.heads.items()}  # (B, O), (B, 3)


def task_losses(outputs: Mapping[str, Tensor], targets: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Each task's mean loss: MSE for "regression" (targets (B, O) float), cross-entropy
    for "direction" (targets (B,) class indices 0 = down, 1 = flat, 2 = up).

        L_regression = mean_{b,o} (y_hat_bo - y_bo)^2
        L_direction  = -mean_b log softmax(z_b)[c_b],  log softmax(z)_k = z_k - log sum_j e^{z_j}
    """
    missing = sorted(set(TASKS) - set(targets))
    if missing:
        raise ValueError(f"targets should hold every task {list(TASKS)}; missing {missing}")
    y_hat, y = outputs["regression"].float(), targets["regression"]  # (B, O), (B, O)
    z, c = outputs["direction"].float(), targets["direction"]  # (B, 3), (B,)
    log_p = z - z.logsumexp(dim=-1, keepdim=True)  # (B, 3)
    return {
        "regression": ((y_hat - y) ** 2).mean(),
        "direction": -log_p.gather(1, c.long()[:, None]).mean(),
    }


def check_task_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """{task: w_task}, every task named, weights >= 0 and not all 0; None -> 1 for each."""
    if weights is None:
        return dict.fromkeys(TASKS, 1.0)
    if not isinstance(weights, Mapping) or set(weights) != set(TASKS):
        raise ValueError(
            f"task_weights should map every task {list(TASKS)} to a weight, got {weights!r}"
        )
    checked = {task: float(weights[task]) for task in TASKS}
    if any(not w >= 0 for w in checked.values()) or not any(checked.values()):
        raise ValueError(f"task_weights should be >= 0 and not all 0, got {weights!r}")
    return checked


def weighted_loss(losses: Mapping[str, Tensor], weights: Mapping[str, float]) -> Tensor:
    """L = sum_k w_k L_k over the tasks."""
    return sum(weights[task] * losses[task] for task in TASKS)
