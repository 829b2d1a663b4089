"""The ``mads-zoo`` command line (typer + rich).

Each command lives in its own module; this one assembles them and turns any
:class:`~mads_zoo.errors.MadsZooError` into a one-line message and a non-zero exit.
"""

from __future__ import annotations

import sys

from rich.text import Text

from mads_zoo.cli.app import app
from mads_zoo.cli.console import err_console
from mads_zoo.errors import MadsZooError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``mads-zoo`` console script."""
    try:
        app()
    except MadsZooError as error:
        message = Text.assemble(("error:", "bold red"), " ", str(error))
        err_console.print(message, highlight=False, soft_wrap=True)
        sys.exit(1)
