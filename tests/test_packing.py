"""How many runs share one GPU (no GPU needed: footprints are given, or measured on the CPU)."""

from __future__ import annotations

import pytest

from mads_zoo.bench.packing import (
    CONTEXT_BYTES,
    MOST_RUNS_PER_GPU,
    Footprint,
    gpu_share,
    measure_footprint,
    runs_per_gpu,
)

GIB = 2**30
#: One H200 as measured in step 8: 2dcnn trains ~45,000 beats/s at ~130 MFLOP per training beat.
H200_2DCNN = Footprint(peak_bytes=200 * 2**20, train_tflops=5.9, gpu_bytes=141 * GIB,
                       gpu_tflops=700.0)  # fmt: skip


def test_a_launch_bound_run_is_packed_up_to_the_cpus_that_feed_the_gpu():
    assert runs_per_gpu(H200_2DCNN, cpus_per_gpu=16, cpus_per_trial=1) == 16
    assert runs_per_gpu(H200_2DCNN, cpus_per_gpu=16, cpus_per_trial=2) == 8
    assert runs_per_gpu(H200_2DCNN, cpus_per_gpu=64, cpus_per_trial=1) == MOST_RUNS_PER_GPU


def test_memory_and_arithmetic_each_limit_the_packing():
    big = Footprint(peak_bytes=30 * GIB, train_tflops=5.9, gpu_bytes=141 * GIB, gpu_tflops=700.0)
    assert runs_per_gpu(big, 16, 1) == int(0.8 * 141 * GIB // (30 * GIB + CONTEXT_BYTES)) == 3
    busy = Footprint(peak_bytes=GIB, train_tflops=120.0, gpu_bytes=141 * GIB, gpu_tflops=700.0)
    assert runs_per_gpu(busy, 16, 1) == 2  # 0.5 of the card / 0.17 each
    hungry = Footprint(peak_bytes=200 * GIB, train_tflops=800.0, gpu_bytes=141 * GIB,
                       gpu_tflops=700.0)  # fmt: skip
    assert runs_per_gpu(hungry, 16, 1) == 1  # never fewer than one


def test_the_share_each_run_reserves_never_overbooks_a_gpu():
    assert gpu_share(1) == 1.0 and gpu_share(4) == 0.25
    for runs in range(1, 17):
        assert runs * gpu_share(runs) <= 1.0 and gpu_share(runs) > 0.99 / runs - 1e-4
    with pytest.raises(ValueError, match="runs per GPU must be >= 1"):
        gpu_share(0)


def test_a_footprint_is_measured_by_training_the_defaults():
    footprint = measure_footprint("2dcnn", (1, 16, 12), device="cpu", steps=1)
    assert footprint.train_tflops > 0
    assert (footprint.peak_bytes, footprint.gpu_bytes, footprint.gpu_tflops) == (0, 0, 0.0)
