"""Shared rich consoles for the CLI (stdout for results, stderr for errors and progress)."""

from __future__ import annotations

from rich.console import Console

#: Below this many columns tables switch to their narrow layout (wrapped or fewer columns).
WIDE_TABLE = 110

console = Console()
err_console = Console(stderr=True)
