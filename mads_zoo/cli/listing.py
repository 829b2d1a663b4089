"""``mads-zoo list``: what is registered, by whom, and which plugins failed to load.

Listing never builds a model nor imports torch: it reads the registry only.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from mads_zoo.cli.console import WIDE_TABLE, console
from mads_zoo.errors import ConfigError
from mads_zoo.registry import Entry, Registry, get_registry, resolve_kind
from mads_zoo.specs import KINDS
from mads_zoo.strategies import LOSS_STRATEGIES


def entry_record(entry: Entry) -> dict[str, Any]:
    """A JSON-ready description of one registered object."""
    spec = entry.spec
    record: dict[str, Any] = {"name": entry.name}
    if entry.kind == "architectures":
        record["layout"] = spec.layout
    record.update(
        plugin=entry.plugin.name,
        distribution=entry.plugin.distribution,
        version=entry.plugin.version,
        description=spec.description,
    )
    if entry.kind == "architectures":
        record["defaults"] = dict(spec.defaults)
        record["presets"] = {name: dict(p) for name, p in spec.presets.items()}
        record["search_space"] = {k: v.describe() for k, v in spec.search_space.items()}
    if entry.kind == "datasets":
        record["classes"] = list(spec.classes)
    return record


def problems_record(registry: Registry) -> dict[str, list[dict[str, str]]]:
    """Broken plugins and rejected duplicate names, JSON-ready."""
    return {
        "broken": [
            {
                "plugin": b.plugin.name,
                "distribution": b.plugin.distribution,
                "version": b.plugin.version,
                "error": b.error,
            }
            for b in registry.broken
        ],
        "conflicts": [
            {
                "kind": c.kind,
                "name": c.name,
                "kept": f"{c.kept.distribution} {c.kept.version}",
                "rejected": f"{c.rejected.distribution} {c.rejected.version}",
                "message": str(c),
            }
            for c in registry.conflicts
        ],
    }


def _kind_table(kind: str, entries: list[Entry], width: int) -> Table:
    """One kind's table; fits ``width`` columns by wrapping descriptions at word boundaries."""
    compact = width < WIDE_TABLE
    table = Table(title=f"{kind} ({len(entries)})", title_justify="left", expand=False)
    table.add_column("name", style="bold cyan", no_wrap=True)
    if kind == "architectures":
        table.add_column("layout", no_wrap=True)
    if not compact:
        table.add_column("plugin (distribution version)", no_wrap=True)
    table.add_column("description (plugin)" if compact else "description", overflow="fold")
    for entry in entries:
        row: list[str | Text] = [entry.name]
        if kind == "architectures":
            row.append(entry.spec.layout)
        plugin = f"{entry.plugin.name} ({entry.plugin.distribution} {entry.plugin.version})"
        description = Text(entry.spec.description)
        if compact:
            description.append(f"\n{plugin}", style="dim")
        else:
            row.append(plugin)
        row.append(description)
        table.add_row(*row)
    return table


def _print_problems(registry: Registry) -> None:
    if registry.broken:
        table = Table(title="broken plugins (skipped)", title_justify="left", style="red")
        for column in ("plugin", "distribution", "version", "error"):
            table.add_column(column)
        for b in registry.broken:
            table.add_row(b.plugin.name, b.plugin.distribution, b.plugin.version, b.error)
        console.print(table)
    for conflict in registry.conflicts:
        console.print(f"[yellow]duplicate name:[/] {conflict}", highlight=False)


def list_command(
    kind_or_pattern: Annotated[
        str | None,
        typer.Argument(
            metavar="KIND",
            help="architectures, blocks, samplers or datasets (singular and 'arch' work); "
            "anything else is taken as PATTERN.",
            show_default=False,
        ),
    ] = None,
    pattern: Annotated[
        str | None,
        typer.Argument(
            metavar="PATTERN", help="fnmatch pattern on names, e.g. 'cnn*'.", show_default=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """List registered architectures, blocks, samplers and datasets.

    Examples: [cyan]mads-zoo list[/], [cyan]mads-zoo list samplers[/],
    [cyan]mads-zoo list 'cnn*'[/], [cyan]mads-zoo list arch '2d*' --json[/]
    """
    kinds = list(KINDS)
    if kind_or_pattern is not None:
        kind = resolve_kind(kind_or_pattern)
        if kind is not None:
            kinds = [kind]
        elif pattern is None:
            pattern = kind_or_pattern
        else:
            raise ConfigError(f"unknown kind {kind_or_pattern!r}; use one of {', '.join(KINDS)}")
    registry = get_registry()
    found = {kind: registry.find(kind, pattern or "*") for kind in kinds}
    if as_json:
        payload: dict[str, Any] = {k: [entry_record(e) for e in v] for k, v in found.items()}
        payload.update(problems_record(registry))
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    for kind, entries in found.items():
        if entries or pattern is None:
            console.print(_kind_table(kind, entries, console.width))
        if kind == "samplers" and pattern is None:
            losses = ", ".join(LOSS_STRATEGIES)
            console.print(
                f"imbalance strategies (--strategy): every sampler, and the loss weightings "
                f"{losses} (builtin)",
                highlight=False,
            )
    if pattern is not None and not any(found.values()):
        console.print(f"nothing registered matches {pattern!r} (patterns use fnmatch: 'cnn*')")
    _print_problems(registry)
