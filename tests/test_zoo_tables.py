"""The zoo-tables benchmark's measurements: activation bytes counted from the tensors
autograd saves (checked on layers whose saved tensors we can count by hand), and the
ranking statistics."""

import torch
from torch import nn

from benchmarks.zoo_tables import kendall_tau, ranks, saved_activation_bytes


def test_activation_bytes_count_the_saved_inputs_and_outputs_not_the_weights():
    B, F, O = 32, 5, 7
    model = nn.Sequential(nn.Linear(F, O), nn.ReLU())
    x = torch.randn(B, F)
    # Linear saves its input x (B, F) and its weight (a parameter: not an activation);
    # ReLU saves its output (B, O). float32: 4 bytes each.
    assert saved_activation_bytes(model, x) == 4 * (B * F + B * O)


def test_a_storage_saved_twice_counts_once():
    class Square(nn.Module):
        def forward(self, x):
            return x * x  # mul saves both operands: the same storage

    x = torch.randn(10, 3, requires_grad=True)
    assert saved_activation_bytes(Square(), x) == 4 * 30
    assert saved_activation_bytes(Square(), x.detach()) == 0  # no grad: nothing saved


def test_ranks_and_kendall_tau():
    runs = [{"model": "a", "score": 1.0}, {"model": "b", "score": 3.0},
            {"model": "c", "score": 2.0}]
    assert ranks(runs) == {"b": 1, "c": 2, "a": 3}
    assert ranks(runs, sign=1) == {"a": 1, "c": 2, "b": 3}
    assert kendall_tau(["a", "b", "c"], ["a", "b", "c"]) == 1.0
    assert kendall_tau(["a", "b", "c"], ["c", "b", "a"]) == -1.0
    assert kendall_tau(["a", "b", "c"], ["b", "a", "c"]) == 1 / 3  # 2 of 3 pairs agree
