"""Shared fixtures: real installed distributions for the plugin machinery, CLI runners."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def write_distribution(
    root: Path,
    dist: str,
    modules: dict[str, str],
    entry_points: dict[str, str],
    version: str = "1.0.0",
) -> Path:
    """Install a throwaway distribution into ``root`` the way pip lays one out.

    ``modules`` maps module names to source; ``entry_points`` maps entry-point names in the
    ``mads_zoo`` group to module names. Put ``root`` on sys.path (or PYTHONPATH) to install it.
    """
    root.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[mads_zoo]\n{lines}")
    return root


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run the installed ``mads-zoo`` console script; returns the CompletedProcess."""
    exe = Path(sys.executable).with_name("mads-zoo")
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=300
    )


@pytest.fixture
def fresh_registry(monkeypatch):
    """Load a fresh registry (and forget it afterwards) so tests see their own plugins."""
    from mads_zoo import registry

    registry.reset_registry()
    yield registry
    registry.reset_registry()
