"""Training throughput: the engine against the course-style loop, same model, batch and steps.

The course-style loop is what a user would otherwise write (as the ``mltrainer`` package
does): a per-sample ``torch.utils.data.Dataset``, ``DataLoader(batch_size=..., shuffle=True)``,
fp32, Adam. The engine is the run core's :func:`mads_zoo.train.run.fit` (tensor batches, grad
clipping, bf16 autocast where the CPU has it) with the course loop's optimizer (Adam, constant
lr, no weight decay), so that only the loop differs. Both start from the same initial weights
(the run spec's seeded build) and run the same number of optimizer steps on the real MIT-BIH
intra training fold; both are then scored on the whole validation fold. Inference beats/s is
measured for ``2dcnn`` at defaults.

Reproduce (about 6 minutes on 2 cores)::

    .venv/bin/python benchmarks/throughput.py
    .venv/bin/python benchmarks/throughput.py --steps 100 --archs 2dcnn   # quicker
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.data import Dataset as TorchDataset

from mads_zoo.config import RunRequest, resolve_run
from mads_zoo.data.folds import Folds, prepare_folds
from mads_zoo.registry import get_registry
from mads_zoo.train.engine import evaluate, predict_logits
from mads_zoo.train.run import build_run_model, fit
from mads_zoo.train.runtime import configure_threads, resolve_precision
from mads_zoo.train.spec import RunSpec

#: The course loop's optimizer, given to the engine so that only the loop differs.
COURSE_RECIPE = {"optimizer": "adam", "schedule": "constant", "weight_decay": 0.0}


class BeatDataset(TorchDataset[tuple[torch.Tensor, torch.Tensor]]):
    """The per-sample dataset of the course-style loop."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


@dataclass(frozen=True)
class Measured:
    """One loop's speed and the validation figures of the model it trained."""

    seconds: float
    beats_per_second: float
    val_accuracy: float
    val_macro_recall: float


def course_loop(
    model: nn.Module, folds: Folds, batch: int, steps: int, lr: float, precision: str
) -> tuple[float, float]:
    """Train the way the course does; return (seconds, beats/s).

    With ``precision="bf16"`` the course loop gets the engine's two arithmetic levers in two
    lines: bf16 autocast around the forward pass and channels-last for 2D models.
    """
    torch.manual_seed(0)
    loader = DataLoader(BeatDataset(folds.train.x, folds.train.y), batch_size=batch, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    fast = precision == "bf16"
    if fast and folds.train.x.ndim == 4:
        model.to(memory_format=torch.channels_last)
    done, started = 0, time.perf_counter()
    while done < steps:
        for xb, yb in loader:
            optimizer.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=fast):
                loss = loss_fn(model(xb).float(), yb)
            loss.backward()
            optimizer.step()
            done += 1
            if done == steps:
                break
    seconds = time.perf_counter() - started
    return seconds, steps * batch / seconds


def engine_spec(arch: str, preset: str | None, args: argparse.Namespace, precision: str) -> RunSpec:
    """The run core's spec of ``arch`` at ``preset``: the course's optimizer, ``--steps`` steps."""
    return resolve_run(
        RunRequest(
            architecture=arch,
            preset=preset,
            overrides=COURSE_RECIPE,
            dataset=args.dataset,
            epochs=10_000,
            max_steps=args.steps,
            early_stopping=0,
            precision=precision,
        )
    )


def measure(spec: RunSpec, folds: Folds, runner: str) -> Measured:
    """Train ``spec``'s model (its seeded initial weights) with ``runner``; score it on val."""
    recipe = spec.training.recipe
    if runner.startswith("course"):
        precision = runner.split()[1] if " " in runner else "fp32"
        model = build_run_model(spec, folds.input_shape, len(folds.classes))
        steps = spec.training.max_steps or 1
        seconds, rate = course_loop(model, folds, recipe.batch_size, steps, recipe.lr, precision)
    else:
        model, result = fit(spec, folds)  # validation time is not in train_seconds
        seconds, rate = result.train_seconds, result.beats_per_second
    val = evaluate(model, folds.val, folds.classes)
    return Measured(seconds, rate, val.accuracy, val.macro_recall)


def inference(model: nn.Module, x: np.ndarray, precision: str) -> float:
    """Beats/s of batched eval-mode prediction over ``x`` (after one warm-up batch)."""
    tensor = torch.from_numpy(x)
    predict_logits(model, tensor[:256], precision=precision)
    started = time.perf_counter()
    predict_logits(model, tensor, batch_size=2048, precision=precision)
    return len(tensor) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["2dcnn", "1dcnngru"])
    parser.add_argument("--configs", nargs="+", default=["defaults", "seed-best"])
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps per run")
    parser.add_argument("--dataset", default="mitbih", help="a registered dataset")
    parser.add_argument("--data-dir", type=Path, default=None, help="where its files are")
    args = parser.parse_args(argv)
    threads = configure_threads()
    auto = resolve_precision("auto", torch.device("cpu"))
    print(f"torch {torch.__version__}, {threads} threads, engine precision auto -> {auto}")
    runners = ("course", f"course {auto}", "engine fp32", f"engine {auto}")
    rows = []
    folds_by_layout: dict[str, Folds] = {}
    for name in args.archs:
        layout = get_registry().architecture(name).layout
        for label in args.configs:
            preset = None if label == "defaults" else label
            specs = {p: engine_spec(name, preset, args, p) for p in ("fp32", auto)}
            if layout not in folds_by_layout:
                folds_by_layout[layout] = prepare_folds(specs["fp32"].data, layout, args.data_dir)
            folds = folds_by_layout[layout]
            runs = {}
            for runner in runners:
                spec = specs[runner.split()[1]] if runner.startswith("engine") else specs["fp32"]
                runs[runner] = measured = measure(spec, folds, runner)
                print(
                    f"{name:>9} {label:>9} batch {spec.training.recipe.batch_size:>3} "
                    f"{runner:>12}: {measured.beats_per_second:7.0f} beats/s "
                    f"({measured.seconds:5.1f} s)  val acc {measured.val_accuracy:.4f}  "
                    f"macro recall {measured.val_macro_recall:.4f}",
                    flush=True,
                )
            model = build_run_model(specs["fp32"], folds.input_shape, len(folds.classes))
            params = sum(p.numel() for p in model.parameters() if p.requires_grad)
            rows.append((name, label, specs["fp32"].training.recipe.batch_size, params, runs))
    print(f"\n{args.steps} steps each, {args.dataset} intra training fold, same initial weights")
    print(
        f"{'arch':>9} {'config':>9} {'batch':>5} {'params':>9} {'course b/s':>10} "
        f"{'course ' + auto:>11} {'fp32 b/s':>9} {auto + ' b/s':>9} {'course ' + auto + ' x':>13} "
        f"{'engine ' + auto + ' x':>13} {'loop x':>6}  val macro recall course / fp32 / " + auto
    )
    for name, label, batch, params, runs in rows:
        course, course_fast = runs["course"], runs[f"course {auto}"]
        fp32, fast = runs["engine fp32"], runs[f"engine {auto}"]
        print(
            f"{name:>9} {label:>9} {batch:>5} {params:>9,} {course.beats_per_second:>10.0f} "
            f"{course_fast.beats_per_second:>11.0f} {fp32.beats_per_second:>9.0f} "
            f"{fast.beats_per_second:>9.0f} "
            f"{course_fast.beats_per_second / course.beats_per_second:>13.2f} "
            f"{fast.beats_per_second / course.beats_per_second:>13.2f} "
            f"{fast.beats_per_second / course_fast.beats_per_second:>6.2f}  "
            f"{course.val_macro_recall:.4f} / {fp32.val_macro_recall:.4f} / "
            f"{fast.val_macro_recall:.4f}"
        )
    print(
        "course bf16 x: the course loop with autocast + channels-last (two lines); "
        "loop x: what the engine's loop adds on top of those two lines"
    )
    if "2dcnn" in args.archs and "2d" in folds_by_layout:
        spec = engine_spec("2dcnn", None, args, "fp32")
        folds = folds_by_layout["2d"]
        model = build_run_model(spec, folds.input_shape, len(folds.classes)).eval()
        for precision in ("fp32", auto):
            rate = inference(model, folds.val.x, precision)
            print(f"inference 2dcnn defaults {precision}: {rate:,.0f} beats/s")


if __name__ == "__main__":
    main()
