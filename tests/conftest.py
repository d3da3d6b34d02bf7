"""Test set-up shared by every test file.

Triton kernels are tested on CPU through Triton's interpreter, which must be switched on
before triton is first imported; on a machine with a GPU they run for real.
"""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
