"""PositionalEncoding: add the sinusoidal table of `functional.sinusoidal_positions`.

    y = dropout(x + PE[:T])        x (B, T, d_model), or (T, B, d_model) if not batch_first
"""

from __future__ import annotations

from torch import Tensor, nn

from . import functional as F
from .checks import check_bool, check_positive_int, check_probability


class PositionalEncoding(nn.Module):
    """Sinusoidal positional encoding (Vaswani et al. 2017); odd d_model is fine.

    The table for `max_len` positions is a buffer (not saved in the state_dict: it is a
    function of d_model alone). Longer inputs raise ValueError.
    """

    def __init__(
        self, d_model: int, max_len: int = 5000, dropout: float = 0.0, batch_first: bool = True
    ) -> None:
        super().__init__()
        self.d_model = check_positive_int("d_model", d_model)
        self.max_len = check_positive_int("max_len", max_len)
        self.dropout = check_probability("dropout", dropout)
        self.batch_first = check_bool("batch_first", batch_first)
        self.register_buffer("pe", F.sinusoidal_positions(max_len, d_model), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """y = dropout(x + PE[:T]), x (B, T, d_model) or (T, B, d_model) if not batch_first."""
        if x.dim() != 3 or x.size(-1) != self.d_model:
            layout = "batch, time" if self.batch_first else "time, batch"
            raise ValueError(f"x should be ({layout}, {self.d_model}), got {tuple(x.shape)}")
        T = x.size(1 if self.batch_first else 0)
        if T > self.max_len:
            raise ValueError(f"sequence length {T} is longer than max_len={self.max_len}")
        pe = self.pe[:T].to(x.dtype)  # (T, d)
        pe = pe if self.batch_first else pe.unsqueeze(1)  # (T, d) or (T, 1, d)
        return F.dropout(x + pe, self.dropout, self.training)

    def extra_repr(self) -> str:
        return f"{self.d_model}, max_len={self.max_len}, dropout={self.dropout}"
