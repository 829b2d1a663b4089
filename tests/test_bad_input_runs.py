"""Bad bench run folders and leftovers: other data or options on resume, corrupt records, kill -9.

Run folders are made by ``start_bench`` or the fake planner of test_bench.py (no Ray), and
the CLI runs in-process through ``mads_zoo.cli.main``, the console script's entry point.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from bench_fakes import stored_run
from conftest import files_under, one_line_error
from test_data_readers import kaggle_dir, table

from mads_zoo.bench import cluster
from mads_zoo.bench.budget import get_budget
from mads_zoo.bench.harness import BENCH_SEED, BenchRequest, resume_bench, start_bench
from mads_zoo.bench.results import Combo, RunStore


def snapshot(folder: Path) -> dict[Path, bytes]:
    """Every file below ``folder`` and its bytes: to check that nothing was written or lost."""
    return {path: path.read_bytes() for path in files_under(folder)}


@pytest.fixture
def kaggle_run(tmp_path, monkeypatch) -> Path:
    """A bench run recorded on a kaggle-csv folder of 240 train and 60 test beats.

    Running it (Ray, training) fails the test at once: resuming must be refused before.
    """
    from mads_zoo.bench import harness

    monkeypatch.setattr(harness, "run_bench", lambda *a, **k: pytest.fail("the bench ran"))
    request = BenchRequest(
        budget=get_budget("smoke"), archs=["2dcnn"], strategies=["none"],
        dataset="kaggle-csv", data_dir=kaggle_dir(tmp_path / "a"),
    )  # fmt: skip
    return start_bench(request, tmp_path / "run").root


# --- row 1: resume with other data or options --------------------------------------------------


def test_resume_refuses_the_same_beats_split_differently(kaggle_run, tmp_path, cli):
    # the same 300 beats in the same order, 250 train + 50 test: the test fold would change
    moved = kaggle_dir(tmp_path / "b", train=table(slice(0, 250)), test=table(slice(250, 300)))
    before = snapshot(kaggle_run)
    result = cli("bench", "--resume", str(kaggle_run), "--data-dir", str(moved), columns=300)
    line = one_line_error(result)
    assert not result.stdout.strip()
    run = RunStore(kaggle_run).load_run()
    assert f"was made with kaggle-csv data from {tmp_path / 'a'} (300 beats, fingerprint " in line
    assert f"--data-dir {moved} holds different data (300 beats, fingerprint " in line
    assert run.data.fingerprint in line and "resume with the same data or start a new run" in line
    assert snapshot(kaggle_run) == before  # nothing written: no trials, no Ray folder


def test_resume_refuses_options_other_than_the_runs_own(kaggle_run, cli):
    before = snapshot(kaggle_run)
    refused = [  # options given with --resume, and what the one line says of them
        (
            ("--split", "inter", "--seed", "3"),
            f"{kaggle_run} was made with --split intra; --seed {BENCH_SEED}, but --resume was "
            "given ",
            "--split inter; --seed 3: drop those options",
        ),
        (
            ("--budget", "smoke", "--budget-set", "trials=3"),
            "made with --budget-set trials=2, but --resume was given --budget-set trials=3",
        ),
        (("--budget", "quick"), "--budget quick"),
        (
            ("--arch", "2dcnn", "--sampler", "smote"),
            "made with 1 combo (2dcnn--none), but --resume was given 1 combo (2dcnn--smote)",
        ),
        (("--out", "elsewhere"), "drop --out"),
    ]
    for options, *fragments in refused:
        result = cli("bench", "--resume", str(kaggle_run), *options, columns=300)
        one_line_error(result, *fragments)
        assert not result.stdout.strip()
    assert snapshot(kaggle_run) == before
    # the command that made the run, given again with --resume, is accepted
    request = BenchRequest(
        budget=get_budget("smoke"), archs=["2dcnn"], strategies=["none"], dataset="kaggle-csv"
    )
    given = ("dataset", "split", "seed", "budget", "combos")
    assert resume_bench(kaggle_run, None, request, given).root == kaggle_run


# --- row 2: corrupt records ----------------------------------------------------------------------


@pytest.fixture
def finished_run(tmp_path) -> Path:
    """A finished run folder (the fake planner's results), as the harness writes it."""
    combos = [Combo("a", "none"), Combo("b", "none")]
    return stored_run(tmp_path / "run", combos, get_budget("smoke")).root


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"data": {"dataset": "mitbih", "spl', "JSONDecodeError: Unterminated string"),
        ("", "JSONDecodeError: Expecting value"),
        ("[1, 2]", "expected a RunRecord (a mapping), found [1, 2]"),
        ('{"seed": 0}', "missing key 'data'"),
        ("BUDGET_AS_TEXT", "unknown key 'old'"),
    ],
)
def test_a_corrupt_run_json_is_one_line_and_left_as_it_is(finished_run, cli, text, why):
    path = finished_run / "run.json"
    if text == "BUDGET_AS_TEXT":  # valid JSON, a budget of the wrong type
        text = path.read_text().replace('"budget": {', '"budget": "smoke", "old": {')
    path.write_text(text)
    before = snapshot(finished_run)
    for command in (["report", str(finished_run)], ["bench", "--resume", str(finished_run)]):
        result = cli(*command, columns=300)
        line = one_line_error(result)
        assert not result.stdout.strip()
        assert f"{path} is corrupt or not a record of this version of mads-zoo ({why}" in line
        assert line.endswith("it was left as it is: restore it, or start a new run")
    assert snapshot(finished_run) == before


def test_a_corrupt_trial_record_is_named_and_a_killed_write_is_ignored(finished_run, cli):
    trials = sorted((finished_run / "trials").glob("*.json"))
    (trials[0].parent / ".partial-x1y2.json").write_text('{"spec": ')  # a write killed midway
    assert len(RunStore(finished_run).all_trials()) == len(trials)
    trials[0].write_text('{"spec": {"combo": "a--none"}}')
    before = snapshot(finished_run)
    result = cli("report", str(finished_run), columns=300)
    line = one_line_error(result)
    assert not result.stdout.strip()
    corrupt = f"{trials[0]} is corrupt or not a record of this version of mads-zoo"
    assert f"{corrupt} (expected a Combo (a mapping) at spec.combo, found 'a--none')" in line
    assert snapshot(finished_run) == before


# --- row 3: what a killed bench leaves behind -------------------------------------------------


def fake_ray_process(temp: Path) -> subprocess.Popen:
    """A process that looks like one of the embedded Ray's: it names ``temp`` as its folder."""
    sleep = "import time; time.sleep(60)"
    return subprocess.Popen([sys.executable, "-c", sleep, "ray::IDLE", f"--temp-dir={temp}"])


def dead_driver() -> dict[str, object]:
    """The owner mark of a driver that was killed: its pid is gone."""
    driver = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    start = cluster._process_start(driver.pid)
    driver.kill()
    driver.wait()
    return {"pid": driver.pid, "start": start}


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reaping reads /proc (Linux)")
def test_cleanup_reaps_a_killed_benchs_ray_and_nothing_else(tmp_path, monkeypatch, cli):
    monkeypatch.setattr(cluster, "TEMP_PARENT", tmp_path)
    orphan, live, foreign = (tmp_path / f"mzr-{name}" for name in ("orphan", "live", "foreign"))
    run_ray = tmp_path / "run" / "ray"
    run_ray.parent.mkdir()
    (run_ray.parent / "run.json").write_text("{}")  # a bench run folder of this user
    for folder in (orphan, live, foreign):
        (folder / "session_1" / "logs").mkdir(parents=True)
        (folder / "session_1" / "logs" / "raylet.out").write_text(folder.name)
    (orphan / cluster.OWNER_FILE).write_text(json.dumps({**dead_driver(), "logs_to": str(run_ray)}))
    cluster._claim(live, None)  # this process: a bench that is running
    processes = {folder: fake_ray_process(folder) for folder in (orphan, live, foreign)}
    try:
        result = cli("bench", "--cleanup", columns=300)
        output = result.stdout + result.stderr
        assert result.returncode == 0 and "Traceback" not in output
        assert "cleaned up after a killed bench (driver pid " in output
        assert f"Ray folder {orphan}): stopped 1 Ray processes; its logs are in {run_ray}" in output
        assert processes[orphan].wait(timeout=10) is not None and not orphan.exists()
        assert (run_ray / "logs" / "raylet.out").read_text() == "mzr-orphan"
        # a live driver's Ray and a Ray without mads-zoo's mark are left alone
        assert processes[live].poll() is None and processes[foreign].poll() is None
        assert (live / cluster.OWNER_FILE).is_file() and foreign.is_dir()
        result = cli("bench", "--cleanup", columns=300)
        assert "nothing to clean up" in result.stdout + result.stderr
    finally:
        for process in processes.values():
            process.kill()
            process.wait()
