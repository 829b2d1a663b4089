"""Size and training speed of every registered architecture.

For each architecture: trainable parameters at its defaults and at the preset (``seed-best``
unless --preset says otherwise), and the throughput of a full training step (forward,
cross-entropy, backward, Adam update) in beats per second at that preset, with the preset's
own ``batch_size``. An architecture without the preset is timed at its defaults, and the
table says so. A few warm-up steps run first; then --repeats rounds of --steps steps are
timed and the fastest round counts (as ``timeit`` does), which keeps other processes on a
shared machine from inflating the numbers.

Reproduce (the numbers depend on the machine and its load)::

    .venv/bin/python benchmarks/arch_speed.py                 # every architecture, on CPU
    .venv/bin/python benchmarks/arch_speed.py '1d*' --steps 20 --repeats 5 --threads 2
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass

import torch
from torch import nn

from mads_zoo.config import RunRequest, resolve_run
from mads_zoo.models import count_parameters
from mads_zoo.registry import get_registry
from mads_zoo.specs import Architecture
from mads_zoo.train.run import build_run_model

#: The five AAMI classes: the models' output width.
CLASSES = 5


@dataclass
class Row:
    """One architecture's measurements."""

    name: str
    params_defaults: int
    params_preset: int | None
    timed_at: str
    batch: int
    seconds_per_step: float

    @property
    def beats_per_second(self) -> float:
        """Beats through a full training step per second."""
        return self.batch / self.seconds_per_step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_training_step(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, warmup: int, steps: int, repeats: int
) -> float:
    """Seconds of one forward + backward + Adam step on ``(x, y)``.

    After ``warmup`` steps: the mean over ``steps`` steps of the fastest of ``repeats`` rounds.
    """
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    rounds = []
    for _ in range(repeats):
        _sync(x.device)
        start = time.perf_counter()
        for _ in range(steps):
            step()
        _sync(x.device)
        rounds.append((time.perf_counter() - start) / steps)
    return min(rounds)


def measure(
    arch: Architecture, preset: str, *, warmup: int, steps: int, repeats: int, device: torch.device
) -> Row:
    """Parameter counts at defaults and ``preset``; step time at ``preset`` (else defaults)."""
    defaults = resolve_run(RunRequest(architecture=arch.name))
    params_defaults = count_parameters(build_run_model(defaults, arch.input_shape, CLASSES))
    has_preset = preset in arch.presets
    spec = (
        resolve_run(RunRequest(architecture=arch.name, preset=preset)) if has_preset else defaults
    )
    model = build_run_model(spec, arch.input_shape, CLASSES).to(device)
    params_preset = count_parameters(model) if has_preset else None
    batch = spec.training.recipe.batch_size
    generator = torch.Generator().manual_seed(0)
    x = torch.rand((batch, *arch.input_shape), generator=generator).to(device)
    y = torch.randint(0, CLASSES, (batch,), generator=generator).to(device)
    seconds = time_training_step(model, x, y, warmup=warmup, steps=steps, repeats=repeats)
    return Row(
        name=arch.name,
        params_defaults=params_defaults,
        params_preset=params_preset,
        timed_at=preset if has_preset else "defaults",
        batch=batch,
        seconds_per_step=seconds,
    )


def format_table(rows: list[Row], preset: str) -> str:
    """A plain-text table of ``rows``."""
    header = (
        "architecture",
        "params (defaults)",
        f"params ({preset})",
        "timed at",
        "batch",
        "ms/step",
        "beats/s",
    )
    lines = [
        (
            row.name,
            f"{row.params_defaults:,}",
            "-" if row.params_preset is None else f"{row.params_preset:,}",
            row.timed_at,
            str(row.batch),
            f"{1000 * row.seconds_per_step:.1f}",
            f"{row.beats_per_second:,.0f}",
        )
        for row in rows
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines, strict=True)]

    def render(cells: tuple[str, ...]) -> str:
        aligned = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(aligned)

    rule = tuple("-" * w for w in widths)
    return "\n".join(render(cells) for cells in [header, rule, *lines])


def main(argv: list[str] | None = None) -> None:
    """Measure every architecture matching the pattern and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern of names")
    parser.add_argument("--preset", default="seed-best", help="preset to time (default seed-best)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps a round (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds; the fastest counts (3)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)

    archs = [entry.spec for entry in get_registry().find("architectures", args.pattern)]
    if not archs:
        sys.exit(f"no architecture matches {args.pattern!r}; see `mads-zoo list architectures`")
    rows = []
    for arch in archs:
        row = measure(
            arch,
            args.preset,
            warmup=args.warmup,
            steps=args.steps,
            repeats=args.repeats,
            device=device,
        )
        rows.append(row)
        print(f"  measured {arch.name}", file=sys.stderr, flush=True)

    print(
        f"forward + backward + Adam step: fastest of {args.repeats} rounds of {args.steps} steps "
        f"after {args.warmup} warm-up; "
        f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})"
    )
    print(format_table(rows, args.preset))
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "benchmarks/arch_speed.py"])
    extra = " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    print(f"reproduce: {command} {extra}".rstrip())


if __name__ == "__main__":
    main()
