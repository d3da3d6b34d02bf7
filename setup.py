"""Installs the `lstm_scratch` library and the `kernels` package of Triton kernels.

torch is declared loosely on purpose: the Makefile pins the CPU build for these
machines, and a user with a CUDA build keeps theirs.
"""

from setuptools import find_packages, setup

setup(
    name="lstm-scratch",
    version="0.1.0",
    description="A from-scratch, educational LSTM library with fused Triton kernels",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["lstm_scratch", "lstm_scratch.*", "kernels", "kernels.*"]),
    package_data={"lstm_scratch": ["datasets/*.csv", "datasets/*.md"]},
    install_requires=[
        "torch>=2.1", "numpy>=1.24", "matplotlib>=3.7", "tqdm>=4.60", "pandas>=2.0",
    ],  # fmt: skip
    extras_require={"triton": ["triton>=3.0"]},
    entry_points={"console_scripts": ["lstm-scratch=lstm_scratch.cli:main"]},
)
