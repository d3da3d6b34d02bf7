#!/usr/bin/env bash
# One lease on a CUDA machine (the device tool): the kernels' correctness on real hardware,
# then the kernel benchmark. Logs and results go to $OUT.
#
#   bash benchmarks/gpu_check.sh            tests, layer-norm drift check, benchmark
#   bash benchmarks/gpu_check.sh tests      only the tests
#
# The device machine has torch and triton but no pip: the checkout is imported through
# PYTHONPATH, and `lstm_scratch.kernels` (an install-time mapping of kernels/) is a link.
set -u
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
[ -e lstm_scratch/kernels ] || ln -s ../kernels lstm_scratch/kernels
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
what=${1:-all}

{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv
  python3 -c "import torch, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__)"
} 2>&1 | tee "$OUT/env.txt"

# 1. Every kernel test, and the module tests that run backend="triton", on the GPU.
timeout 240 python3 -m pytest -q -p no:cacheprovider -o addopts="" -n 8 -rf \
  tests/test_kernels_lstm.py tests/test_kernels_gru.py tests/test_kernels_backend.py \
  tests/test_kernels_dispatch_sizes.py tests/test_kernels_benchmark.py tests/test_backends.py \
  tests/test_torch_empty_batch.py tests/test_torch_double_backward.py 2>&1 | tee "$OUT/tests.log" | tail -25
[ "$what" = tests ] && exit 0

# 2. The layer-norm kernel over 256 steps against float64, beside torch's own float32 run of
#    the same reference on the same GPU, for several seeds and sizes.
timeout 60 python3 - <<'PY' 2>&1 | tee "$OUT/ln_drift.log"
import sys
sys.path.insert(0, "tests")
from kernel_checks import compare_with_reference
from test_kernels_lstm import ln_args
from lstm_scratch import kernels
from lstm_scratch.kernels.ln_lstm_v1_fused_gates import ln_lstm_reference
print("H seed | kernel out, h_T, c_T | torch fp32 out, h_T, c_T")
for H in (3, 32, 256):
    for seed in range(4):
        args = ln_args(256, 2, H, seed=seed)
        ours = compare_with_reference(kernels.ln_lstm_v1, ln_lstm_reference, args)[:3]
        torch32 = compare_with_reference(ln_lstm_reference, ln_lstm_reference, args)[:3]
        print(H, seed, "|", " ".join(f"{e:.2e}" for e in ours), "|",
              " ".join(f"{e:.2e}" for e in torch32))
PY

# 3. The benchmark grid (results files in $OUT).
timeout 300 python3 -m benchmarks.kernels --out "$OUT" 2>&1 | tee "$OUT/bench.log" | tail -45
