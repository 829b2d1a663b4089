"""Training throughput: the engine against the course-style loop, same model, batch and steps.

The course-style loop is what a user would otherwise write (as the ``mltrainer`` package
does): a per-sample ``torch.utils.data.Dataset``, ``DataLoader(batch_size=..., shuffle=True)``,
fp32, Adam. The engine is :class:`mads_zoo.train.engine.Trainer` (tensor batches, grad
clipping, bf16 autocast where the CPU has it). Both start from the same initial weights and
run the same number of optimizer steps on the real MIT-BIH intra training fold; both are
then scored on the whole validation fold. Inference beats/s is measured for ``2dcnn`` at
defaults.

Reproduce (about 6 minutes on 2 cores)::

    .venv/bin/python benchmarks/throughput.py
    .venv/bin/python benchmarks/throughput.py --steps 100 --archs 2dcnn   # quicker
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.data import Dataset as TorchDataset

from mads_zoo.config import resolve_config, split_engine_keys
from mads_zoo.data import prepare_folds
from mads_zoo.models import build_model, count_parameters
from mads_zoo.registry import get_registry
from mads_zoo.train.engine import Trainer, TrainSettings, evaluate, predict_logits
from mads_zoo.train.runtime import configure_threads, resolve_precision


class BeatDataset(TorchDataset):
    """The per-sample dataset of the course-style loop."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


def course_loop(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    batch: int,
    steps: int,
    lr: float,
    precision: str = "fp32",
):
    """Train the way the course does; return (seconds, beats/s).

    With ``precision="bf16"`` the course loop gets the engine's two arithmetic levers in two
    lines: bf16 autocast around the forward pass and channels-last for 2D models.
    """
    torch.manual_seed(0)
    loader = DataLoader(BeatDataset(x, y), batch_size=batch, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    fast = precision == "bf16"
    if fast and x.ndim == 4:
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


def engine_run(model, folds, batch, steps, lr, precision):
    """Train with the engine for exactly ``steps`` steps; return (seconds, beats/s)."""
    settings = TrainSettings(  # the course loop's optimizer, so that only the loop differs
        epochs=10_000,
        batch_size=batch,
        lr=lr,
        optimizer="adam",
        schedule="constant",
        weight_decay=0.0,
        precision=precision,
        max_steps=steps,
        early_stopping=0,
    )
    # one validation pass happens at the end of the (single, truncated) epoch; its time is
    # excluded from train_seconds
    fit = Trainer(settings).fit(
        model,
        folds.train.x,
        folds.train.y,
        folds.val.x[:64],
        folds.val.y[:64],
        class_names=folds.classes,
    )
    return fit.train_seconds, fit.beats_per_second


def inference(model: nn.Module, x: np.ndarray, precision: str) -> float:
    """Beats/s of batched eval-mode prediction over ``x`` (after one warm-up batch)."""
    tensor = torch.from_numpy(x)
    predict_logits(model, tensor[:256], precision=precision)
    started = time.perf_counter()
    predict_logits(model, tensor, batch_size=2048, precision=precision)
    return len(tensor) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["2dcnn", "1dcnngru"])
    parser.add_argument("--configs", nargs="+", default=["defaults", "seed-best"])
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps per run")
    args = parser.parse_args()
    threads = configure_threads()
    auto = resolve_precision("auto", torch.device("cpu"))
    print(f"torch {torch.__version__}, {threads} threads, engine precision auto -> {auto}")
    registry = get_registry()
    rows = []
    folds_by_layout = {}
    for name in args.archs:
        arch = registry.architecture(name)
        if arch.layout not in folds_by_layout:
            folds_by_layout[arch.layout] = prepare_folds(
                "mitbih", "intra", "none", seed=0, layout=arch.layout
            )
        folds = folds_by_layout[arch.layout]
        for label in args.configs:
            config = resolve_config(arch, preset=None if label == "defaults" else label)
            _, engine_keys = split_engine_keys(config)
            batch, lr = engine_keys.get("batch_size", 32), engine_keys.get("lr", 1e-3)
            torch.manual_seed(0)
            initial = build_model(arch, config)
            runs = {}
            for runner in ("course", f"course {auto}", "engine fp32", f"engine {auto}"):
                model = copy.deepcopy(initial)
                if runner.startswith("course"):
                    precision = runner.split()[1] if " " in runner else "fp32"
                    seconds, rate = course_loop(
                        model, folds.train.x, folds.train.y, batch, args.steps, lr, precision
                    )
                else:
                    precision = runner.split()[1]
                    seconds, rate = engine_run(model, folds, batch, args.steps, lr, precision)
                val = evaluate(model, folds.val.x, folds.val.y, folds.classes)
                runs[runner] = (seconds, rate, val["accuracy"], val["macro_recall"])
                print(
                    f"{name:>9} {label:>9} batch {batch:>3} {runner:>12}: {rate:7.0f} beats/s "
                    f"({seconds:5.1f} s)  val acc {val['accuracy']:.4f}  "
                    f"macro recall {val['macro_recall']:.4f}",
                    flush=True,
                )
            rows.append((name, label, batch, count_parameters(initial), runs))
    print(f"\n{args.steps} steps each, real MIT-BIH intra training fold, same initial weights")
    print(
        f"{'arch':>9} {'config':>9} {'batch':>5} {'params':>9} {'course b/s':>10} "
        f"{'course ' + auto:>11} {'fp32 b/s':>9} {auto + ' b/s':>9} {'course ' + auto + ' x':>13} "
        f"{'engine ' + auto + ' x':>13} {'loop x':>6}  val macro recall course / fp32 / " + auto
    )
    for name, label, batch, params, runs in rows:
        course, course_fast = runs["course"], runs[f"course {auto}"]
        fp32, fast = runs["engine fp32"], runs[f"engine {auto}"]
        print(
            f"{name:>9} {label:>9} {batch:>5} {params:>9,} {course[1]:>10.0f} "
            f"{course_fast[1]:>11.0f} {fp32[1]:>9.0f} {fast[1]:>9.0f} "
            f"{course_fast[1] / course[1]:>13.2f} {fast[1] / course[1]:>13.2f} "
            f"{fast[1] / course_fast[1]:>6.2f}  {course[3]:.4f} / {fp32[3]:.4f} / {fast[3]:.4f}"
        )
    print(
        "course bf16 x: the course loop with autocast + channels-last (two lines); "
        "loop x: what the engine's loop adds on top of those two lines"
    )
    if "2dcnn" in args.archs:
        arch = registry.architecture("2dcnn")
        model = build_model(arch, resolve_config(arch)).eval()
        x = folds_by_layout["2d"].val.x
        for precision in ("fp32", auto):
            rate = inference(model, x, precision)
            print(f"inference 2dcnn defaults {precision}: {rate:,.0f} beats/s")


if __name__ == "__main__":
    main()
