"""The typer application: global options and the list of commands."""

from __future__ import annotations

from typing import Annotated

import typer

from mads_zoo.__about__ import __version__
from mads_zoo.cli import bench, data, evaluate, info, listing, plugin, train

app = typer.Typer(
    name="mads-zoo",
    help=(
        "A plugin-based model zoo and benchmark harness for imbalanced time-series "
        "classification (MIT-BIH heartbeats: N S V F Q)."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"mads-zoo {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Model zoo and benchmark harness for imbalanced heartbeat classification."""


app.command("list")(listing.list_command)
app.command("info")(info.info_command)
app.command("train")(train.train_command)
app.command("evaluate")(evaluate.evaluate_command)
app.command("predict")(evaluate.predict_command)
app.command("bench")(bench.bench_command)
app.command("report")(bench.report_command)
app.add_typer(plugin.plugin_app, name="plugin")
app.add_typer(data.data_app, name="data")
