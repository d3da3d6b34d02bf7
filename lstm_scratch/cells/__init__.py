"""The recurrent cells: one file per cell, each the math of one time step.

    lstm.py             StandardLSTM   torch's LSTM (and LSTMP), with its hand-derived backward
    layer_norm_lstm.py  LayerNormLSTM  Ba et al.'s layer-normalised LSTM
    variant_lstm.py     VariantLSTM    peepholes, Greff et al.'s ablations, zoneout,
                                       variational dropout
    gru.py              StandardGRU    torch's GRU, with its hand-derived backward
    layer_norm_gru.py   LayerNormGRU   the layer-normalised GRU

Each fills in the contract of `cell.Cell`: parameter names and shapes in torch's order,
the initialisation rule, the input half of the gates, the step (equations in its
docstring) and, where it has one, the hand-derived backward. The layer runner
(`lstm_scratch/layer.py`) runs any of them over a sequence; the modules in lstm.py and
gru.py hold their parameters. `lstm_cell` and `gru_cell` translate the modules' keyword
options into a cell.
"""

from .cell import Cell
from .gru import StandardGRU
from .layer_norm_gru import LayerNormGRU
from .layer_norm_lstm import LayerNormLSTM
from .lstm import StandardLSTM
from .variant_lstm import VariantLSTM


def lstm_cell(
    layer_norm: bool = False,
    variant: str = "vanilla",
    peephole: bool = False,
    zoneout: float = 0.0,
    variational: float = 0.0,
) -> Cell:
    """The cell that `ls.LSTM` / `ls.LSTMCell`'s options name (already checked).

    Any variant option makes it a VariantLSTM ("NP" is torch's cell); layer_norm cannot
    be combined with them.
    """
    plain = variant in ("vanilla", "NP") and not peephole and zoneout == 0 and variational == 0
    if layer_norm and not plain:
        raise ValueError(
            "layer_norm=True cannot be combined with variant, peephole, coupled, zoneout or "
            "variational dropout"
        )
    if layer_norm:
        return LayerNormLSTM()
    if plain:
        return StandardLSTM()
    return VariantLSTM(variant, peephole, zoneout, variational)


def gru_cell(layer_norm: bool = False) -> Cell:
    """The cell that `ls.GRU` / `ls.GRUCell`'s options name."""
    return LayerNormGRU() if layer_norm else StandardGRU()


__all__ = [
    "Cell",
    "LayerNormGRU",
    "LayerNormLSTM",
    "StandardGRU",
    "StandardLSTM",
    "VariantLSTM",
    "gru_cell",
    "lstm_cell",
]
