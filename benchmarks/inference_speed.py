"""Inference speed: beats/s by batch size and precision, and the real-time factor of a record.

For each architecture at its defaults (eval mode, channels-last for 2D models, the engine's
``predict_logits``), classify the real MIT-BIH intra validation fold at several batch sizes in
fp32 and bf16, each after one warm-up pass; print beats/s and the ratio against the batch of
4,096 that ``predict`` used before step 7. The engine's ``INFERENCE_BATCH`` is the batch
chosen from this table. Then run the whole ``mads-zoo predict`` path on record 100 (30 min
of ECG: read the record, cut the beats, classify) and print the real-time factor: seconds of
ECG per second of processing.

Reproduce (about 4 minutes on 2 cores, run alone)::

    .venv/bin/python benchmarks/inference_speed.py
    .venv/bin/python benchmarks/inference_speed.py --archs 2dcnn --batches 128 256 512
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from mads_zoo.config import RunRequest, resolve_run
from mads_zoo.data.folds import prepare_folds
from mads_zoo.data.locate import find_mitdb
from mads_zoo.predict import predict_beats, read_input_beats
from mads_zoo.registry import get_registry
from mads_zoo.train.engine import predict_logits
from mads_zoo.train.run import build_run_model
from mads_zoo.train.runtime import configure_threads, resolve_precision
from mads_zoo.train.spec import INFERENCE_BATCH

BASELINE_BATCH = 4096


def rate(model: torch.nn.Module, x: torch.Tensor, batch: int, precision: str) -> float:
    """Beats/s of ``predict_logits`` over ``x`` after a warm-up pass; best of two."""
    predict_logits(model, x[: batch * 2], batch_size=batch, precision=precision)
    best = 0.0
    for _ in range(2):
        started = time.perf_counter()
        predict_logits(model, x, batch_size=batch, precision=precision)
        best = max(best, len(x) / (time.perf_counter() - started))
    return best


def real_time_factor(arch_name: str, model: torch.nn.Module, precision: str, record: Path) -> str:
    """The whole predict path on a WFDB ``record`` (MIT-BIH 100): read, cut beats, classify."""
    import wfdb

    arch = get_registry().architecture(arch_name)
    started = time.perf_counter()
    beats = read_input_beats(record)
    read_s = time.perf_counter() - started
    table = predict_beats(model, arch.layout, beats.x, ("N", "S", "V", "F", "Q"), precision)
    total_s = time.perf_counter() - started
    header = wfdb.rdheader(str(record))
    ecg_s = header.sig_len / header.fs  # record 100: 650,000 samples at 360 Hz
    return (
        f"{arch_name}: record {record.name} ({ecg_s / 60:.1f} min, {len(table):,} beats) in "
        f"{total_s:.2f} s ({read_s:.2f} s reading and cutting beats): real-time factor "
        f"{ecg_s / total_s:,.0f}x"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--archs", nargs="+", default=["2dcnn", "1dcnngru", "2dtransformer", "timm-resnet"]
    )
    parser.add_argument(
        "--batches", nargs="+", type=int, default=[64, 128, 256, 512, 1024, BASELINE_BATCH]
    )
    parser.add_argument("--beats", type=int, default=8192, help="beats per measurement")
    parser.add_argument("--dataset", default="mitbih", help="a registered dataset")
    parser.add_argument("--data-dir", type=Path, default=None, help="where its files are")
    parser.add_argument(
        "--record", type=Path, help="the WFDB record timed end to end (default: MIT-BIH 100)"
    )
    args = parser.parse_args(argv)
    record = args.record or find_mitdb() / "100"
    threads = configure_threads()
    bf16 = resolve_precision("auto", torch.device("cpu"))
    precisions = ["fp32"] + (["bf16"] if bf16 == "bf16" else [])
    print(f"torch {torch.__version__}, {threads} threads; engine INFERENCE_BATCH {INFERENCE_BATCH}")
    lines = []
    for name in args.archs:
        spec = resolve_run(RunRequest(architecture=name, dataset=args.dataset))
        layout = get_registry().architecture(name).layout
        folds = prepare_folds(spec.data, layout, args.data_dir)
        x = torch.from_numpy(folds.val.x[: args.beats])
        model = build_run_model(spec, folds.input_shape, len(folds.classes)).eval()
        for precision in precisions:
            rates = {b: rate(model, x, b, precision) for b in args.batches}
            best = max(rates, key=lambda b: rates[b])
            cells = "  ".join(f"{b}: {r:,.0f}" for b, r in rates.items())
            baseline = rates.get(BASELINE_BATCH)
            versus = (
                f"; {best} vs {BASELINE_BATCH}: {rates[best] / baseline:.2f}x" if baseline else ""
            )
            print(f"{name:>13} {precision}: {cells}  (best batch {best}{versus})", flush=True)
        lines.append(real_time_factor(name, model, precisions[-1], record))
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
