"""Installs the `lstm_scratch` library, its Triton kernels included as `lstm_scratch.kernels`.

The kernels keep their own top-level folder, kernels/, in the repository (they are read
on their own), but install inside the package (`package_dir` below): nothing called
`kernels` is installed at top level, where it would collide with other distributions.
An editable install (`make install`, `pip install -e .`) maps the name the same way.

torch is declared loosely on purpose: the Makefile pins the CPU build for these
machines, and a user with a CUDA build keeps theirs.
"""

import re

from setuptools import find_packages, setup

KERNELS = "lstm_scratch.kernels"  # the import name of the kernels/ folder


def version() -> str:
    """`__version__` from lstm_scratch/_version.py, read as text: setup.py imports no torch."""
    with open("lstm_scratch/_version.py", encoding="utf-8") as file:
        return re.search(r'^__version__ = "([^"]+)"', file.read(), re.M).group(1)


setup(
    name="lstm-scratch",
    version=version(),
    description="A from-scratch, educational LSTM library with fused Triton kernels",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["lstm_scratch", "lstm_scratch.*"]) + [KERNELS],
    package_dir={KERNELS: "kernels"},
    package_data={"lstm_scratch": ["datasets/*.csv", "datasets/*.md"]},
    install_requires=[
        "torch>=2.1", "numpy>=1.24", "matplotlib>=3.7", "tqdm>=4.60", "pandas>=2.0",
    ],  # fmt: skip
    extras_require={"triton": ["triton>=3.0"]},
    entry_points={"console_scripts": ["lstm-scratch=lstm_scratch.cli:main"]},
)
