"""The benchmark harness: budget, search-space translation, results; one real Ray Tune run."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import run_cli, write_distribution

from mads_zoo import space
from mads_zoo.bench.budget import PRESETS, get_budget
from mads_zoo.bench.harness import select_combos
from mads_zoo.bench.report import leaderboard_rows
from mads_zoo.bench.results import Combo, config_toml
from mads_zoo.bench.search import tune_space
from mads_zoo.bench.trial import engine_settings
from mads_zoo.errors import ConfigError, UnknownNameError
from mads_zoo.train.run import read_config_file

DIVERGES = """
import mads_zoo


def build(config, input_shape, num_classes):
    import torch
    from torch import nn

    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(input_shape[-1], num_classes)

        def forward(self, x):
            return self.linear(x.flatten(1)[:, : self.linear.in_features]) * float("inf")

    return Boom()


@mads_zoo.hookimpl
def register_architectures(register):
    register(mads_zoo.Architecture(name="boom-net", layout="1d", build=build,
                                   description="Diverges on purpose."))
"""


def test_budget_presets_and_overrides():
    assert set(PRESETS) == {"smoke", "quick", "full"}
    assert PRESETS["full"].trials >= 20 and PRESETS["full"].final_seeds == 3
    assert PRESETS["full"].max_epochs == 40 and PRESETS["quick"].final_seeds == 1
    assert get_budget("quick", {"trials": 7}).trials == 7
    with pytest.raises(UnknownNameError, match="did you mean 'trials'"):
        get_budget("quick", {"trails": 7})
    with pytest.raises(ConfigError, match="grace_period cannot exceed"):
        get_budget("smoke", {"grace_period": 5})
    with pytest.raises(UnknownNameError, match="did you mean 'quick'"):
        get_budget("quik")


def test_a_budget_epoch_is_the_same_beats_whatever_the_batch_size():
    budget = get_budget("quick").to_dict()
    for batch in (64, 128, 256):
        trial = engine_settings({"batch_size": batch}, budget, seed=0, final=False)
        assert trial.epoch_steps * batch == budget["epoch_beats"] == 2_560
        assert trial.schedule == "onecycle" and trial.epochs == budget["max_epochs"]
    full = engine_settings({"batch_size": 64}, get_budget("full").to_dict(), seed=0, final=True)
    assert full.epoch_steps is None  # one pass over the un-resampled training fold


def test_search_spaces_translate_to_ray_tune():
    from ray.tune.search.sample import Categorical, Float, Integer

    translated = tune_space(
        {
            "a": space.choice([1, 2]),
            "b": space.randint(1, 5),
            "c": space.uniform(0.1, 0.4),
            "d": space.loguniform(1e-4, 1e-2),
        }
    )
    assert isinstance(translated["a"], Categorical) and translated["a"].categories == [1, 2]
    assert isinstance(translated["b"], Integer)
    assert (translated["b"].lower, translated["b"].upper) == (1, 6)  # Tune's upper is exclusive
    assert isinstance(translated["c"], Float) and isinstance(translated["d"], Float)


def test_combos_follow_the_patterns():
    combos = select_combos(["2d*"], ["smote", "none"])
    assert Combo("2dcnn", "smote") in combos and Combo("2dtransformer", "none") in combos
    assert all(c.architecture.startswith("2d") for c in combos)
    with pytest.raises(UnknownNameError, match="did you mean 'smote'"):
        select_combos(["2dcnn"], ["smot"])


def test_best_config_toml_is_a_train_config(tmp_path):
    path = tmp_path / "best.toml"
    path.write_text(
        config_toml(
            Combo("2dcnn", "smote"), {"hidden": 64, "dropout": 0.25, "batch_size": 16}, {"val": 0.9}
        )
    )
    data = read_config_file(path)
    assert data["architecture"] == "2dcnn" and data["sampler"] == "smote"
    assert data["config"] == {"hidden": 64, "dropout": 0.25, "batch_size": 16}


def test_leaderboard_ranks_by_macro_f1_and_lists_failures():
    def final(arch, f1):
        stat = {"mean": f1, "std": 0.0}
        return {
            "architecture": arch,
            "sampler": "none",
            "runs": [{}],
            "test": {"accuracy": stat, "macro_recall": stat, "macro_f1": stat},
            "recall": {"N": 1.0},
            "params": 10,
            "tuning_seconds": 1,
            "train_seconds": 1,
            "trials": 2,
            "failed_trials": 0,
        }

    rows = leaderboard_rows(
        [
            final("a", 0.5),
            {"architecture": "x", "sampler": "none", "error": "boom"},
            final("b", 0.9),
        ]
    )
    assert [r["architecture"] for r in rows] == ["b", "a", "x"]
    assert rows[2]["accuracy"] == "failed"


@pytest.mark.slow
def test_a_smoke_bench_runs_with_real_ray_and_resumes(tmp_path):
    site = tmp_path / "site"
    write_distribution(site, "zoo-boom", {"zoo_boom": DIVERGES}, {"boom": "zoo_boom"})
    env = {"PYTHONPATH": str(site)}
    run = tmp_path / "run"
    args = [
        "bench",
        "--arch",
        "2dcnn",
        "--arch",
        "boom-net",
        "--sampler",
        "none",
        "--sampler",
        "random-under",
        "--dataset",
        "synthetic",
        "--budget",
        "smoke",
        "--out",
        "run",  # relative, as a user types it
    ]
    result = run_cli(*args, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "leaderboard" in result.stdout

    trials = pd.read_parquet(run / "trials.parquet")
    assert len(trials) == 2 + 2 + 1 + 1  # boom-net has no search space: one trial per combo
    boom = trials[trials.architecture == "boom-net"]
    assert (boom.status == "failed").all() and boom.error.str.contains("loss became").all()
    ok = trials[trials.architecture == "2dcnn"]
    assert ok.val_macro_recall.notna().all() and (ok.status != "failed").all()
    assert (run / "trials.csv").is_file()

    final = json.loads((run / "combos" / "2dcnn--none" / "final.json").read_text())
    assert final["test"]["accuracy"]["mean"] > 0 and len(final["runs"]) == 1
    from mads_zoo.data import prepare_folds

    test_fold = prepare_folds("synthetic", "intra", "none", seed=0, layout="2d").final_test()
    assert final["runs"][0]["test"]["n"] == len(test_fold)
    leaderboard = (run / "leaderboard.md").read_text()
    assert "2dcnn" in leaderboard and "Failed trials" in leaderboard and "boom-net" in leaderboard
    for png in ("per-class-recall.png", "best-so-far.png", "confusion-2dcnn--none.png"):
        assert (run / "plots" / png).stat().st_size > 5_000
    timing = json.loads((run / "timing.json").read_text())
    assert timing["wall_seconds"] > timing["ray_start_seconds"] > 0
    environment = json.loads((run / "environment.json").read_text())
    assert environment["budget"]["name"] == "smoke" and environment["torch"]

    best = run / "combos" / "2dcnn--none" / "best_config.toml"
    retrain = run_cli(
        "train",
        "2dcnn",
        "--config",
        str(best),
        "--dataset",
        "synthetic",
        "--max-steps",
        "3",
        "--out",
        str(tmp_path / "retrain"),
    )
    assert retrain.returncode == 0, retrain.stderr

    before = {p: p.stat().st_mtime_ns for p in run.glob("combos/*/final.json")}
    resumed = run_cli("bench", "--resume", "run", env=env, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert {p: p.stat().st_mtime_ns for p in run.glob("combos/*/final.json")} == before
    assert len(pd.read_parquet(run / "trials.parquet")) == len(trials)
    report = run_cli("report", str(run))
    assert report.returncode == 0 and "2dcnn" in report.stdout


@pytest.mark.slow
def test_the_embedded_ray_refuses_a_client_without_the_token(tmp_path):
    """Token authentication stays on: `ray status` without the token is refused."""
    import os
    import subprocess
    import sys

    import ray

    from mads_zoo.bench.harness import LOOPBACK, ray_session

    run_dir = tmp_path / "r"
    with ray_session(run_dir, None, num_cpus=1):
        assert os.environ.get("RAY_AUTH_MODE") == "token"
        port = ray._private.worker.global_worker.node.gcs_address.rsplit(":", 1)[1]
        status = [sys.executable, "-m", "ray.scripts.scripts", "status"]
        status += ["--address", f"{LOOPBACK}:{port}"]
        env = {k: v for k, v in os.environ.items() if k != "RAY_AUTH_TOKEN"}
        stranger = subprocess.run(
            status, env={**env, "HOME": str(tmp_path)}, capture_output=True, timeout=120
        )
        holder = subprocess.run(status, env=env, capture_output=True, text=True, timeout=120)
    assert stranger.returncode != 0 and b"token" in stranger.stdout + stranger.stderr
    assert holder.returncode == 0, holder.stderr[-500:]
