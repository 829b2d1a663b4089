"""``mads-zoo data prepare`` and ``mads-zoo data info``, run as a user runs them."""

from __future__ import annotations

import pytest
from conftest import run_cli


def test_data_info_prints_class_counts_per_fold_before_and_after_the_sampler():
    result = run_cli("data", "info", "synthetic", "--split", "inter", "--sampler", "random-over")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "synthetic · split inter · sampler random-over · seed 0" in out
    for header in ("class", "train", "val", "test", "train after random-over"):
        assert header in out
    assert "validation: record-wise: DS1 records" in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") == 6}
    assert set(rows) >= {"N", "S", "V", "F", "Q", "total"}


def test_data_prepare_reports_the_beats(tmp_cache):
    result = run_cli("data", "prepare", "synthetic")
    assert result.returncode == 0, result.stderr
    assert "synthetic: 6,000 beats" in result.stdout and "ready in" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sampler", "smot"], "error: unknown sampler 'smot'; did you mean 'smote'?"),
        (["--split", "intre"], "error: unknown split 'intre'; did you mean 'intra' or 'inter'?"),
    ],
)
def test_unknown_names_give_one_error_line(args, message):
    result = run_cli("data", "info", "synthetic", *args)
    assert result.returncode == 1
    assert result.stderr.strip() == message


def test_missing_data_gives_one_error_line(tmp_path):
    result = run_cli("data", "prepare", "mitbih", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "144 MIT-BIH record files are missing" in lines[0]


@pytest.mark.slow
def test_data_info_on_mitbih_with_smote(mitbih_cache, mitdb_dir):
    result = run_cli("data", "info", "mitbih", "--data-dir", str(mitdb_dir), "--sampler", "smote")
    assert result.returncode == 0, result.stderr
    assert "65,219 (20.0 %)" in result.stdout and "326,095" in result.stdout
