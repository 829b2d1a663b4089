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
from mads_zoo.fileio import describe_os_error

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``mads-zoo`` console script."""
    try:
        app()
    except MadsZooError as error:
        _fail(str(error))
    except OSError as error:  # a full disk, a permission, a folder where a file goes
        _fail(describe_os_error(error))


def _fail(line: str) -> None:
    """Print ``error: LINE`` to stderr and exit 1."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", line), highlight=False,
                      soft_wrap=True)  # fmt: skip
    sys.exit(1)
