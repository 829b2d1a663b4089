"""Bad config values where they enter (config files, --budget-set): one line, nothing written.

These run ``mads_zoo.cli.main`` in-process (the console script's entry point), so the
one-line printer itself is under test: a message holding ``[config]`` must reach the
terminal verbatim, not as rich markup.
"""

from __future__ import annotations

import pytest
from conftest import one_line_error

from mads_zoo.errors import UnknownNameError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sampler = 5", "expected a str at sampler, found 5"),
        ("split = 3", "expected a str at split, found 3"),
        ('preset = ["a"]', "expected a str at preset, found ['a']"),
        ("architecture = 1", "expected a str at architecture, found 1"),
        ("config = 5", "expected a mapping at config, found 5"),
        ("metrics = 'x'", "expected a mapping at metrics, found 'x'"),
        ("sampelr = 'smote'", "unknown key 'sampelr'"),
    ],
)
def test_config_file_values_of_the_wrong_type(cli, monkeypatch, tmp_path, text, expected):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "x.toml"
    config.write_text(text + "\n")
    line = one_line_error(cli("train", "2dcnn", "--config", str(config)))
    assert line == f"error: config file {config}: {expected}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.toml"]  # no runs/ folder


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("val_fraction=abc", "budget val_fraction must be a number in (0, 0.5), got 'abc'"),
        ("trials=abc", "budget trials must be a positive integer, got 'abc'"),
        ("trials=true", "budget trials must be a positive integer, got True"),
        ("threads=1.5", "budget threads must be a non-negative integer, got 1.5"),
        ("cpus_per_trial=abc", "budget cpus_per_trial must be a number in (0, inf], got 'abc'"),
        ("metric=3", "budget metric must be a name (a string), got 3"),
        ("precision=5", "budget precision must be a name (a string), got 5"),
        ("gpus_per_trial=[1]", "budget gpus_per_trial must be 'auto' or a number >= 0, got [1]"),
    ],
)
def test_budget_values_of_the_wrong_type(cli, monkeypatch, tmp_path, setting, expected):
    monkeypatch.chdir(tmp_path)
    line = one_line_error(cli("bench", "--all", "--budget-set", setting))
    assert line == f"error: {expected}"
    assert list(tmp_path.iterdir()) == []  # no run folder


def test_messages_with_brackets_are_printed_verbatim(cli, monkeypatch, tmp_path):
    """Rich markup must not eat ``[config]``/``[bold]`` inside an error message."""
    monkeypatch.chdir(tmp_path)
    line = one_line_error(cli("bench", "--all", "--budget-set", "[bold]x=1"))
    assert "'[bold]x'" in line


def test_unknown_name_of_the_wrong_type_says_so():
    error = UnknownNameError("sampler", 5, ["none", "smote"])  # type: ignore[arg-type]
    assert str(error) == "sampler must be a name (a string), got 5"
