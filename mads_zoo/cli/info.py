"""``mads-zoo info NAME``: everything about one registered thing."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from mads_zoo.cli.console import console
from mads_zoo.config import resolve_config
from mads_zoo.errors import MadsZooError
from mads_zoo.models import build_model, count_parameters
from mads_zoo.registry import Entry, get_registry
from mads_zoo.specs import Architecture


def _mapping_table(title: str, mapping: dict[str, Any], value_header: str = "value") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("key", style="cyan")
    table.add_column(value_header)
    for key in sorted(mapping):
        table.add_row(key, str(mapping[key]))
    return table


def parameter_counts(arch: Architecture) -> dict[str, str]:
    """Trainable parameters at defaults and at each preset, on the default input shape."""
    counts = {}
    for preset in [None, *arch.presets]:
        label = "defaults" if preset is None else f"preset {preset!r}"
        try:
            model = build_model(arch, resolve_config(arch, preset=preset))
            counts[label] = f"{count_parameters(model):,}"
        except MadsZooError as error:
            counts[label] = f"[red]does not build: {error}[/]"
    return counts


def _show_architecture(arch: Architecture) -> None:
    shape = ", ".join(map(str, arch.input_shape))
    console.print(f"layout: {arch.layout}  input shape: (batch, {shape})")
    console.print(_mapping_table("defaults", dict(arch.defaults)))
    for name, preset in arch.presets.items():
        console.print(_mapping_table(f"preset {name!r} (over defaults)", dict(preset)))
    space = {key: dim.describe() for key, dim in arch.search_space.items()}
    console.print(_mapping_table("search space", space, "values"))
    table = Table(title="parameters", title_justify="left")
    table.add_column("config", style="cyan")
    table.add_column("trainable parameters", justify="right")
    for label, count in parameter_counts(arch).items():
        table.add_row(label, count)
    console.print(table)


def _show(entry: Entry) -> None:
    spec = entry.spec
    header = (
        f"[bold]{entry.name}[/] ({entry.kind[:-1]})\n{spec.description}\n"
        f"plugin: {entry.plugin.name}  distribution: {entry.plugin.distribution} "
        f"{entry.plugin.version}  module: {entry.plugin.module}"
    )
    console.print(Panel(header, expand=False))
    if entry.kind == "architectures":
        _show_architecture(spec)
    elif entry.kind == "samplers":
        console.print(f"built with seed 0: {spec.build(0)!r}")
    elif entry.kind == "blocks":
        build = spec.build.resolve() if hasattr(spec.build, "resolve") else spec.build
        console.print(f"{getattr(build, '__name__', 'build')}{inspect.signature(build)}")
    elif entry.kind == "datasets":
        console.print(f"classes: {' '.join(spec.classes)}")


def info_command(
    name: Annotated[str, typer.Argument(help="A registered name (see `mads-zoo list`).")],
) -> None:
    """Show everything about one registered thing.

    Plugin and distribution, defaults, presets, search space, and for an architecture its
    parameter count at defaults and at each preset on its default input shape.
    """
    for entry in get_registry().lookup(name):
        _show(entry)
