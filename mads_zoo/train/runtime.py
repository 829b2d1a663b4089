"""Where and how computation runs: device, precision, threads, seeds."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from mads_zoo.errors import ConfigError
from mads_zoo.hardware import available_cores, cpu_has_bf16
from mads_zoo.train.spec import PRECISIONS


def configure_threads(threads: int | None = None) -> int:
    """Use ``threads`` intra-op threads (default: every core this process may use)."""
    threads = threads or available_cores()
    torch.set_num_threads(threads)
    return threads


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU; ``cpu``/``cuda``/``cuda:N`` as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu or cuda") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available")
    return device


def resolve_precision(precision: str, device: torch.device) -> str:
    """Turn ``auto`` into ``bf16`` or ``fp32`` for ``device``; validate the others.

    ``auto`` is bf16 autocast on CUDA and on CPUs with native bf16 support, fp32 elsewhere
    (``benchmarks/throughput.py`` measures both and what bf16 costs in macro recall).
    """
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16"
    return "bf16" if cpu_has_bf16() else "fp32"


def inference_precision(training_precision: str | None, device: torch.device) -> str:
    """bf16 for a model trained under bf16 autocast where ``device`` runs it natively, else fp32.

    A model trained in fp32 (or of unknown training precision) is run in fp32.
    """
    if training_precision == "bf16" and resolve_precision("auto", device) == "bf16":
        return "bf16"
    return "fp32"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so that the same seed gives the same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


#: cuBLAS needs a fixed workspace for reproducible matrix products (CUDA's documentation).
CUBLAS_WORKSPACE = ":4096:8"


def deterministic_kernels(device: torch.device) -> None:
    """On CUDA, ask for deterministic kernels so a seed gives the same numbers every run.

    cuDNN's autotuner is turned off (it may pick a different algorithm per process),
    cuDNN and every op with a deterministic variant use it, and cuBLAS gets a fixed
    workspace (``CUBLAS_WORKSPACE_CONFIG``, set only where the user has not set it; it takes
    effect in a process whose CUDA context starts after this call, as in a bench's fresh
    worker). An op with no deterministic variant warns instead of failing. On the CPU nothing
    changes: its kernels are already deterministic for a fixed thread count
    (docs/protocol.md says what is bitwise where).
    """
    if device.type != "cuda":
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True, warn_only=True)
