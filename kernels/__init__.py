"""Fused Triton kernels for the LSTM and the GRU, numbered as they get faster.

    lstm_v1_fused_gates   one kernel per time step for all the pointwise gate math
    lstm_v2_persistent    the whole time loop in one launch, W_hh held on-chip
    gru_v1_fused_gates    the same two for the GRU (reset-after form, torch gate order)
    gru_v2_persistent
    ln_lstm_v1_fused_gates  the layer-normalised LSTM step (LayerNorm over 4H in-kernel)

Each file has the math as a comment, the kernels with every pointer argument explained,
a pure-PyTorch reference of exactly what the kernels compute, and a
`torch.autograd.Function` whose backward also runs Triton kernels.

On a machine without a GPU, set TRITON_INTERPRET=1 before importing triton (and this
package): Triton's interpreter then runs the same kernels on CPU tensors, slowly.

The folder is kernels/ at the top of the repository; it installs inside the library, as
`lstm_scratch.kernels` (setup.py's package_dir), so `import lstm_scratch.kernels`.
"""

from .common import LAUNCHES
from .gru_v1_fused_gates import gru_v1
from .gru_v2_persistent import gru_v2
from .ln_lstm_v1_fused_gates import ln_lstm_v1
from .lstm_v1_fused_gates import lstm_v1
from .lstm_v2_persistent import lstm_v2

__all__ = ["LAUNCHES", "gru_v1", "gru_v2", "ln_lstm_v1", "lstm_v1", "lstm_v2"]
