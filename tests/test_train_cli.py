"""`mads-zoo train`, `evaluate` and `predict` end to end on the real MIT-BIH intra split."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

from mads_zoo import codec
from mads_zoo.train.run import TrainRecord


@pytest.fixture
def real_env(mitdb_dir, mitbih_cache):
    return {"MADS_ZOO_DATA_DIR": str(mitdb_dir), "MADS_ZOO_CACHE_DIR": str(mitbih_cache)}


@pytest.fixture
def trained(tmp_path_factory, real_env):
    """A 2dcnn trained for 40 steps (twice, same seed) on the real intra split."""
    runs = []
    for name in ("a", "b"):
        out = tmp_path_factory.mktemp(f"run-{name}")
        result = run_cli(
            "train",
            "2dcnn",
            "--sampler",
            "random-over",
            "--epochs",
            "1",
            "--max-steps",
            "40",
            "--seed",
            "3",
            "--set",
            "hidden=16",
            "--precision",
            "fp32",
            "--out",
            str(out),
            env=real_env,
        )
        assert result.returncode == 0, result.stderr
        runs.append((out, result))
    return runs


@pytest.mark.slow
def test_train_saves_checkpoint_and_metrics_and_is_deterministic(trained):
    (first, output), (second, _) = trained
    assert "validation, best epoch 1" in output.stdout and "macro" in output.stdout
    a, b = (codec.loads(TrainRecord, (run / "metrics.json").read_text()) for run in (first, second))
    assert a.result.best == b.result.best  # every cell of the validation confusion matrix
    assert a.result.history[0].train_loss == b.result.history[0].train_loss
    assert a.result.steps == 40 and a.spec.config["hidden"] == 16
    assert a.spec.data.sampler == "random-over" and a.spec.data.seed == 3
    assert a.result.fold_sizes.train == 78_797 and a.result.fold_sizes.train_resampled > 300_000
    assert a.result.best.n == 8_755
    assert (first / "model.pt").is_file()
    # the engine's recipe at 2dcnn's defaults; --epochs wins over the config's 3
    recipe = a.spec.training.recipe
    assert (recipe.optimizer, recipe.schedule, recipe.batch_size, recipe.epochs) == (
        "adamw", "onecycle", 256, 1
    )  # fmt: skip
    from mads_zoo.train.checkpoint import load_checkpoint

    checkpoint = load_checkpoint(first / "model.pt")
    assert checkpoint.meta.precision == "fp32" == checkpoint.inference_precision()
    assert checkpoint.meta.data == a.spec.data and checkpoint.meta.validation == a.result.best


@pytest.mark.slow
def test_evaluate_and_predict_use_the_checkpoint(trained, real_env, mitdb_dir, tmp_path):
    checkpoint = trained[0][0] / "model.pt"
    result = run_cli("evaluate", str(checkpoint), env=real_env)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((checkpoint.parent / "metrics-test.json").read_text())
    assert metrics["n"] == 21_889 and "confusion matrix" in result.stdout
    assert (checkpoint.parent / "confusion-test.png").stat().st_size > 5_000

    out = tmp_path / "100.csv"
    predicted = run_cli("predict", str(checkpoint), str(mitdb_dir / "100"), "--out", str(out))
    assert predicted.returncode == 0, predicted.stderr
    table = pd.read_csv(out)
    assert list(table.columns) == [
        "index",
        "sample",
        "symbol",
        "class",
        "p_N",
        "p_S",
        "p_V",
        "p_F",
        "p_Q",
    ]
    from mads_zoo.data import load_beats

    beats_100 = load_beats("mitbih", mitdb_dir)
    in_record = beats_100.record == "100"
    assert len(table) == in_record.sum() == 2_271  # the same beats as the training data
    assert (table["sample"].to_numpy() == beats_100.sample[in_record]).all()
    assert np.allclose(table.filter(like="p_").sum(axis=1), 1.0, atol=1e-5)

    beats = tmp_path / "beats.csv"
    rows = np.random.default_rng(0).random((5, 187))
    np.savetxt(beats, np.column_stack([rows, np.zeros(5)]), delimiter=",")
    from_csv = run_cli("predict", str(checkpoint), str(beats), "--out", str(tmp_path / "p.csv"))
    assert from_csv.returncode == 0, from_csv.stderr
    assert len(pd.read_csv(tmp_path / "p.csv")) == 5


def test_bad_input_gives_one_line(tmp_path):
    not_a_checkpoint = tmp_path / "model.pt"
    not_a_checkpoint.write_text("hello")
    result = run_cli("evaluate", str(not_a_checkpoint))
    assert result.returncode == 1 and "is not a readable checkpoint" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    typo = run_cli("train", "2dcnm")
    assert typo.returncode == 1 and "did you mean '2dcnn'" in typo.stderr
    bad_key = run_cli("train", "2dcnn", "--set", "hiden=3")
    assert bad_key.returncode == 1 and "did you mean 'hidden'" in bad_key.stderr
    bad_value = run_cli("train", "2dcnn", "--set", "factor=2", "--dataset", "synthetic")
    assert bad_value.returncode == 1 and "factor must be a number in (0, 1)" in bad_value.stderr
