"""`mads-zoo plugin new`: scaffold -> install -> listed -> its own tests pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import run_cli


def test_a_scaffolded_plugin_installs_lists_and_passes_its_tests(tmp_path):
    created = run_cli("plugin", "new", "my-net", "--dir", str(tmp_path))
    assert created.returncode == 0, created.stderr
    package = tmp_path / "mads-zoo-my-net"
    assert (package / "pyproject.toml").is_file()
    assert (package / "src" / "mads_zoo_my_net" / "plugin.py").is_file()

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(package),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {"PYTHONPATH": str(target), "MADS_ZOO_PLUGINS": "mads-zoo-my-net"}
    listed = json.loads(run_cli("list", "arch", "--json", env=env).stdout)
    (arch,) = [a for a in listed["architectures"] if a["name"] == "my-net"]
    assert arch["distribution"] == "mads-zoo-my-net" and not listed["broken"]

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, **env},
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout


def test_plugin_new_refuses_bad_names_and_existing_folders(tmp_path):
    bad = run_cli("plugin", "new", "My_Net", "--dir", str(tmp_path))
    assert bad.returncode == 1 and "lowercase" in bad.stderr
    (tmp_path / "mads-zoo-taken").mkdir()
    (tmp_path / "mads-zoo-taken" / "keep.txt").write_text("mine")
    taken = run_cli("plugin", "new", "taken", "--dir", str(tmp_path))
    assert taken.returncode == 1 and "already exists" in taken.stderr
    assert (tmp_path / "mads-zoo-taken" / "keep.txt").read_text() == "mine"
