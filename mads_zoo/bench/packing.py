"""How many runs share one GPU: chosen per architecture from its measured memory and speed.

One training run of a seed architecture uses a sliver of a modern GPU (on one H200, `2dcnn`
trains 40,000-50,000 beats/s, about 6 TFLOP/s of a ~790 TFLOP/s card): it is bound by kernel
launches and host work, so several runs on one GPU at once multiply the throughput. With
``gpus_per_trial="auto"`` on a cluster with GPUs, the bench measures each architecture once
(:func:`measure_footprint`: a few training steps of its defaults on one GPU, alone) and packs
``k`` runs per GPU (:func:`runs_per_gpu`), ``k`` the smallest of:

- **memory**: runs whose peak (the allocator's, plus each process's CUDA context) fits in
  :data:`MEMORY_SHARE` of the GPU's memory;
- **speed**: runs whose combined arithmetic stays under :data:`BUSY_SHARE` of what the GPU
  measured on a bf16 matrix product (a run's share: its training FLOP/s, three times the
  forward pass's, over that rate);
- **CPUs**: one run per ``cpus_per_trial`` of the node's CPUs per GPU (every run is fed by a
  host process);
- :data:`MOST_RUNS_PER_GPU`.

Packing changes where and when runs train, never what they compute: each run is the same
pure function of its spec (``docs/protocol.md``, "Determinism: what is bitwise where"), which
the tests check with one and with two runs per (logical) GPU.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where runs train, not by the bench's driver
    import torch

#: Share of a GPU's memory that packed runs may plan to fill (the rest: fragmentation, cuDNN
#: workspaces, evaluation batches).
MEMORY_SHARE = 0.8
#: Share of the GPU's measured arithmetic rate that packed runs may plan to use together.
BUSY_SHARE = 0.5
#: Memory each process's CUDA context takes beside what the allocator reports.
CONTEXT_BYTES = 600 * 2**20
#: At most this many runs share one GPU.
MOST_RUNS_PER_GPU = 16
#: Ray counts resources in steps of 1e-4.
RAY_RESOURCE_STEP = 1e-4


@dataclass(frozen=True)
class Footprint:
    """What one training run of an architecture asks of one GPU, measured alone on it.

    Attributes:
        peak_bytes: The allocator's peak over a few training steps (weights, optimizer state,
            activations of one batch).
        train_tflops: Its training arithmetic rate alone (FLOP/s / 1e12).
        gpu_bytes: The GPU's memory.
        gpu_tflops: The GPU's measured bf16 matrix-product rate (FLOP/s / 1e12).
    """

    peak_bytes: int
    train_tflops: float
    gpu_bytes: int
    gpu_tflops: float


def runs_per_gpu(
    footprint: Footprint, cpus_per_gpu: float, cpus_per_trial: float, most: int = MOST_RUNS_PER_GPU
) -> int:
    """How many runs of ``footprint`` train on one GPU at once (at least one)."""
    needed = footprint.peak_bytes + CONTEXT_BYTES
    by_memory = math.floor(MEMORY_SHARE * footprint.gpu_bytes / needed)
    busy = footprint.train_tflops / footprint.gpu_tflops if footprint.gpu_tflops > 0 else 1.0
    by_speed = math.floor(BUSY_SHARE / busy) if busy > 0 else most
    by_cpus = math.floor(cpus_per_gpu / cpus_per_trial + 1e-9)
    return max(1, min(by_memory, by_speed, by_cpus, most))


def gpu_share(runs: int) -> float:
    """The ``num_gpus`` each of ``runs`` runs per GPU reserves (rounded down to Ray's step)."""
    if runs < 1:
        raise ValueError(f"runs per GPU must be >= 1, got {runs}")
    return math.floor(1 / runs / RAY_RESOURCE_STEP) * RAY_RESOURCE_STEP


def matmul_tflops(device: torch.device, size: int = 8192, repeats: int = 10) -> float:
    """The bf16 matrix-product rate of ``device``, in TFLOP/s."""
    import torch

    a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    a @ b  # warm-up (cuBLAS heuristics, clocks)
    _synchronize(device)
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    _synchronize(device)
    seconds = time.perf_counter() - started
    return 2 * size**3 * repeats / seconds / 1e12


def _synchronize(device: torch.device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_footprint(
    architecture: str,
    input_shape: tuple[int, ...],
    classes: int = 5,
    device: str = "cuda",
    steps: int = 20,
) -> Footprint:
    """Train ``architecture``'s defaults ``steps`` steps on ``device`` alone; what it needed.

    Runs in a Ray task that holds one whole GPU. On a CPU ``device`` (tests) the memory figures
    are 0 and the rate is the CPU's.
    """
    import torch
    from torch import nn

    from mads_zoo.bench.trial import forward_mflops
    from mads_zoo.config import RunRequest, resolve_run
    from mads_zoo.train.engine import autocast
    from mads_zoo.train.run import build_run_model

    target = torch.device(device)
    spec = resolve_run(RunRequest(architecture=architecture, device=device))
    model = build_run_model(spec, input_shape, classes)
    mflops = forward_mflops(model, input_shape)
    model.to(target).train()
    batch = spec.training.recipe.batch_size
    x = torch.randn(batch, *input_shape, device=target)
    y = torch.randint(0, classes, (batch,), device=target)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    cuda = target.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(target)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(target, "bf16"):
            loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    _synchronize(target)
    started = time.perf_counter()
    for _ in range(steps):
        step()
    _synchronize(target)
    beats_per_second = steps * batch / (time.perf_counter() - started)
    return Footprint(
        peak_bytes=int(torch.cuda.max_memory_allocated(target)) if cuda else 0,
        train_tflops=3 * mflops * 1e6 * beats_per_second / 1e12,
        gpu_bytes=int(torch.cuda.get_device_properties(target).total_memory) if cuda else 0,
        gpu_tflops=matmul_tflops(target) if cuda else 0.0,
    )
