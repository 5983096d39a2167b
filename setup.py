"""Packaging for scratchnet.

The top-level folder ``kernels/`` is installed as the subpackage
``scratchnet.kernels`` (there is no top-level ``kernels`` module in
site-packages).  NumPy is the only hard dependency of the engine; everything
else is an extra.
"""
from setuptools import setup

PACKAGES = [
    "scratchnet",
    "scratchnet.autograd",
    "scratchnet.ops",
    "scratchnet.nn",
    "scratchnet.nn.functional",
    "scratchnet.nn.modules",
    "scratchnet.nn.utils",
    "scratchnet.optim",
    "scratchnet.data",
    "scratchnet.models",
    "scratchnet.kernels",
    "scratchnet.kernels.masked_conv",
    "scratchnet.kernels.rnn_cell",
    "scratchnet.kernels.sampler",
]

# Every scratchnet.kernels* package lives under kernels/ in the source tree.
PACKAGE_DIR = {"scratchnet": "scratchnet", "scratchnet.kernels": "kernels"}

setup(
    name="scratchnet",
    version="0.1.0",
    description="A deep-learning library written from scratch on NumPy/CuPy, "
    "with its own autograd engine and Triton/Numba kernels.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=PACKAGES,
    package_dir=PACKAGE_DIR,
    install_requires=["numpy>=1.24"],
    extras_require={
        "test": [
            "pytest>=7",
            "hypothesis>=6",
            "torch>=2.1,<3",
            "scikit-learn>=1.2",
            "mlxtend>=0.23",
            "scipy>=1.9",
            "matplotlib>=3.5",
        ],
        "data": ["scikit-learn>=1.2", "mlxtend>=0.23"],
        "gpu": ["cupy-cuda13x"],
        "kernels": ["triton>=3.0", "numba>=0.59", "numba-cuda>=0.4"],
        "bench": ["torch>=2.1,<3", "matplotlib>=3.5"],
    },
    entry_points={"console_scripts": ["scratchnet=scratchnet.cli:main"]},
)
