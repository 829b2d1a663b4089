"""``mads-zoo plugin ...``: tools for plugin authors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mads_zoo.cli.console import console
from mads_zoo.scaffold import new_plugin

plugin_app = typer.Typer(help="Tools for plugin authors.", no_args_is_help=True)


@plugin_app.command("new")
def new_command(
    name: Annotated[str, typer.Argument(help="Name of the example architecture, e.g. 'my-net'.")],
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to create the package folder.")
    ] = Path("."),
) -> None:
    """Scaffold a third-party plugin package with one example architecture and its tests."""
    target = new_plugin(name, directory)
    console.print(f"created [bold]{target}[/]", highlight=False)
    console.print(
        f"next:\n  pip install -e {target}\n  mads-zoo list {name}\n  pytest {target / 'tests'}",
        highlight=False,
    )
