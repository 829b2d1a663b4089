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
        [str(exe), *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=900
    )


@pytest.fixture
def cli(monkeypatch, capsys):
    """``run(*args, columns=200)``: ``mads-zoo ARGS`` through the console script's entry point
    in this process (no start-up cost); returns a CompletedProcess (exit code, stdout, stderr)."""
    from mads_zoo.cli import main

    def run(*args: str, columns: int = 200) -> subprocess.CompletedProcess:
        monkeypatch.setattr(sys, "argv", ["mads-zoo", *args])
        monkeypatch.setenv("COLUMNS", str(columns))
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run


def one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Assert ``result`` failed (exit 1, no traceback) with one ``error:`` line on stderr holding
    every fragment; return that line."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def fresh_registry(monkeypatch):
    """Load a fresh registry (and forget it afterwards) so tests see their own plugins."""
    from mads_zoo import registry

    registry.reset_registry()
    yield registry
    registry.reset_registry()


# --- data: MIT-BIH records, a private cache per test, the 48 records prepared once ----------

MITDB_DEFAULT = REPO_ROOT.parent / "shared" / "data" / "mitdb"


def files_under(folder: Path) -> list[Path]:
    """Every file below ``folder``, sorted (to check that nothing was left behind)."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: reads all 48 MIT-BIH records or full folds (deselect: -m 'not slow')"
    )


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own empty MADS_ZOO_CACHE_DIR, so no test writes to ~/.cache."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("MADS_ZOO_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(scope="session")
def mitdb_dir() -> Path:
    """The 48 MIT-BIH records: $MADS_ZOO_DATA_DIR, else <repo root>/../shared/data/mitdb."""
    path = Path(os.environ.get("MADS_ZOO_DATA_DIR") or MITDB_DEFAULT)
    if not (path / "234.atr").is_file():
        pytest.skip(f"the MIT-BIH records are not at {path} (set MADS_ZOO_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def prepared_mitbih(tmp_path_factory, mitdb_dir):
    """(cache folder, seconds): all 48 records built once per session into their own cache."""
    import time

    from mads_zoo.data import mitbih

    cache = tmp_path_factory.mktemp("mitbih-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MADS_ZOO_CACHE_DIR", str(cache))
        started = time.perf_counter()
        mitbih.load(mitdb_dir)
        seconds = time.perf_counter() - started
    return cache, seconds


@pytest.fixture
def mitbih_cache(prepared_mitbih, monkeypatch) -> Path:
    """Point MADS_ZOO_CACHE_DIR at the session's prepared MIT-BIH cache."""
    cache, _ = prepared_mitbih
    monkeypatch.setenv("MADS_ZOO_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def mitdb_links(tmp_path, mitdb_dir) -> Path:
    """A folder of symlinks to the 48 records; tests swap single files for broken copies."""
    links = tmp_path / "mitdb"
    links.mkdir()
    for source in mitdb_dir.iterdir():
        if source.suffix in {".hea", ".dat", ".atr"}:
            (links / source.name).symlink_to(source)
    return links
