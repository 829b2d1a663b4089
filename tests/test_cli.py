"""The mads-zoo command line, run as a user runs it: the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import run_cli, write_distribution
from plugin_sources import EXITS_ON_IMPORT, RAISES_ON_IMPORT, good


@pytest.fixture
def plugin_site(tmp_path):
    """A PYTHONPATH holding one good, one broken and one clashing plugin distribution."""
    root = tmp_path / "site"
    write_distribution(root, "zoo-good", {"cli_good": good("cli-net")}, {"good": "cli_good"})
    write_distribution(root, "zoo-broken", {"cli_broken": RAISES_ON_IMPORT}, {"bad": "cli_broken"})
    write_distribution(root, "zoo-late", {"cli_late": good("cli-net")}, {"late": "cli_late"})
    return {
        "PYTHONPATH": str(root),
        "MADS_ZOO_PLUGINS": "zoo-good,zoo-broken,zoo-late",
        "MADS_ZOO_STRICT_PLUGINS": "",
    }


def test_a_plugin_calling_sys_exit_at_import_is_reported_and_the_cli_works(tmp_path):
    # step 15: such a plugin made list, info and train exit 3 with no output, strict mode too
    root = tmp_path / "site"
    write_distribution(root, "zoo-exits", {"cli_exits": EXITS_ON_IMPORT}, {"exits": "cli_exits"})
    env = {"PYTHONPATH": str(root), "MADS_ZOO_PLUGINS": "mads-zoo-2dcnn,zoo-exits"}
    listed = run_cli("list", env={**env, "MADS_ZOO_STRICT_PLUGINS": ""})
    assert listed.returncode == 0, listed.stderr
    assert "zoo-exits" in listed.stdout and "sys.exit(3)" in listed.stdout
    assert "2dcnn" in listed.stdout
    strict = run_cli("info", "2dcnn", env={**env, "MADS_ZOO_STRICT_PLUGINS": "1"})
    assert strict.returncode == 1 and "sys.exit(3)" in strict.stderr
    assert "Traceback" not in strict.stderr and len(strict.stderr.strip().splitlines()) == 1


def test_version_and_help():
    from mads_zoo import __version__

    assert run_cli("--version").stdout.strip() == f"mads-zoo {__version__}"
    for args in ([], ["--help"], ["list", "--help"], ["info", "--help"], ["plugin", "new", "-h"]):
        result = run_cli(*args)
        assert result.returncode == 0 or (args == [] and result.returncode == 2), result.stderr
        assert "Usage" in result.stdout


def test_list_shows_every_kind_and_the_broken_plugin_with_exit_zero(plugin_site):
    result = run_cli("list", env=plugin_site)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for heading in ("architectures", "blocks", "samplers", "datasets", "broken plugins"):
        assert heading in out
    assert "cli-net" in out and "zoo-good 1.0.0" in out and "smote" in out
    assert "broken on purpose" in out and "zoo-broken" in out
    assert "duplicate name" in out and "zoo-late" in out


def test_list_json_has_the_same_content(plugin_site):
    result = run_cli("list", "--json", env=plugin_site)
    payload = json.loads(result.stdout)
    (net,) = [a for a in payload["architectures"] if a["name"] == "cli-net"]
    assert net["layout"] == "1d" and net["distribution"] == "zoo-good"
    assert net["search_space"]["hidden"] == "choice(8, 16, 32)"
    assert payload["broken"][0]["distribution"] == "zoo-broken"
    assert "zoo-good" in payload["conflicts"][0]["message"]
    assert {s["name"] for s in payload["samplers"]} >= {"none", "smote", "adasyn"}


def test_list_by_kind_and_pattern(plugin_site):
    samplers = json.loads(run_cli("list", "samplers", "random-*", "--json").stdout)
    assert list(samplers) == ["samplers", "broken", "conflicts"]
    assert [s["name"] for s in samplers["samplers"]] == ["random-over", "random-under"]
    by_pattern = json.loads(run_cli("list", "cli*", "--json", env=plugin_site).stdout)
    assert [a["name"] for a in by_pattern["architectures"]] == ["cli-net"]
    assert [s["name"] for s in by_pattern["samplers"]] == ["cli-net-sampler"]
    nothing = run_cli("list", "zzz*")
    assert nothing.returncode == 0 and "nothing registered matches 'zzz*'" in nothing.stdout


def test_strict_mode_makes_list_fail(plugin_site):
    result = run_cli("list", env={**plugin_site, "MADS_ZOO_STRICT_PLUGINS": "1"})
    assert result.returncode == 1
    assert "zoo-broken" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_info_shows_defaults_presets_space_and_parameter_counts(plugin_site):
    result = run_cli("info", "cli-net", env=plugin_site)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for fragment in ("zoo-good", "defaults", "preset 'tiny'", "search space", "uniform(0, 0.5)"):
        assert fragment in out
    # Flatten -> Linear(187, 16) -> Linear(16, 5): 187*16 + 16 + 16*5 + 5
    assert f"{187 * 16 + 16 + 16 * 5 + 5:,}" in out
    assert f"{187 * 8 + 8 + 8 * 5 + 5:,}" in out
    assert "SMOTE(random_state=0)" in run_cli("info", "smote").stdout


def test_unknown_names_give_one_line_with_a_suggestion():
    result = run_cli("info", "smot")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: unknown name 'smot'; did you mean 'smote'?"
    bad_kind = run_cli("list", "widgets", "x")
    assert bad_kind.returncode == 1 and "unknown kind 'widgets'" in bad_kind.stderr


def test_listing_does_not_import_torch():
    code = (
        "import sys\n"
        "from mads_zoo.cli import app\n"
        "from mads_zoo.registry import get_registry\n"
        "registry = get_registry()\n"
        "assert not registry.broken, registry.broken\n"
        "heavy = {'torch', 'wfdb', 'imblearn', 'ray', 'timm'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_list_fits_80_columns_without_breaking_words(plugin_site):
    # measured: piped or in an 80-column terminal, descriptions came out one word per line,
    # each cut with an ellipsis
    result = run_cli("list", env={**plugin_site, "COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in result.stdout
    listed = json.loads(run_cli("list", "--json", env=plugin_site).stdout)
    for arch in listed["architectures"]:
        opening = " ".join(arch["description"].split()[:3])
        assert any(opening in line for line in lines), opening
        assert any(f"({arch['distribution']} {arch['version']})" in line for line in lines)
