"""The run core: one resolver, one fit, one evaluation of a saved model, for every caller."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mads_zoo import codec
from mads_zoo.config import RunRequest, resolve_run
from mads_zoo.data.folds import prepare_folds
from mads_zoo.data.spec import DataSpec
from mads_zoo.errors import ConfigError, UnknownNameError
from mads_zoo.metrics import MetricName
from mads_zoo.train.engine import evaluate
from mads_zoo.train.result import RunStatus
from mads_zoo.train.run import (
    TrainRecord,
    build_run_model,
    evaluate_checkpoint,
    fit,
    load_model,
    train_and_save,
)
from mads_zoo.train.spec import FoldName, RunSpec


def _spec(**request) -> RunSpec:
    options = {"architecture": "2dcnn", "dataset": "synthetic", "max_steps": 4, "epochs": 1}
    return resolve_run(RunRequest(**{**options, "precision": "fp32", **request}))


def test_the_resolver_merges_in_one_order_and_validates_every_value(tmp_path):
    config = tmp_path / "best.toml"
    config.write_text(
        'architecture = "2dcnn"\nsampler = "smote"\npreset = "seed-best"\n'
        "[config]\nhidden = 96\nlr = 0.002\n"
    )
    spec = resolve_run(
        RunRequest(
            architecture="2dcnn",
            config_file=config,
            overrides={"lr": 0.004},
            seed=7,
            epochs=2,
        )
    )
    # defaults -> preset seed-best (hidden 128, batch 16) -> file (hidden 96) -> --set (lr)
    assert spec.config["hidden"] == 96 and spec.config["batch_size"] == 16
    assert spec.training.recipe.lr == 0.004 and spec.training.recipe.epochs == 2
    assert spec.training.recipe.optimizer == "adam"  # the seed's recipe, from the preset
    assert spec.data == DataSpec("mitbih", "intra", "smote", 7, 0.1)  # sampler from the file
    assert "lr" not in spec.model_config and spec.model_config["hidden"] == 96
    # what a request names wins over the file; the data seed can differ from the model's
    other = resolve_run(RunRequest("2dcnn", config_file=config, sampler="none", data_seed=3))
    assert other.data.sampler == "none" and other.data.seed == 3 and other.training.seed == 0
    assert codec.loads(RunSpec, codec.dumps(spec)) == spec


@pytest.mark.parametrize(
    ("request_options", "error", "fragment"),
    [
        ({"architecture": "2dcnm"}, UnknownNameError, "did you mean '2dcnn'"),
        ({"overrides": {"hiden": 3}}, ConfigError, "did you mean 'hidden'"),
        ({"overrides": {"lr": -1}}, ConfigError, r"lr must be a number in \(0, 10\)"),
        ({"preset": "seed-bset"}, UnknownNameError, "did you mean 'seed-best'"),
        ({"monitor": "macro_f2"}, UnknownNameError, "did you mean 'macro_f1'"),
        ({"data_seed": -1}, ConfigError, "seed must be a non-negative integer"),
        ({"val_fraction": 0.7}, ConfigError, r"val_fraction must be a number in \(0, 0.5\]"),
    ],
)
def test_a_bad_request_is_one_line(request_options, error, fragment):
    with pytest.raises(error, match=fragment):
        resolve_run(RunRequest(**{"architecture": "2dcnn", **request_options}))


def test_a_config_file_for_another_architecture_is_refused(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('architecture = "1dcnngru"\n')
    with pytest.raises(ConfigError, match="is a config for '1dcnngru', not '2dcnn'"):
        resolve_run(RunRequest("2dcnn", config_file=config))


def test_fit_builds_the_same_model_from_the_same_spec_and_trains_it():
    spec = _spec()
    folds = prepare_folds(spec.data, "2d")
    first, result = fit(spec, folds)
    _, again = fit(spec, folds)
    assert result.status is RunStatus.COMPLETED and result.steps == 4
    untimed = [[(h.epoch, h.step, h.train_loss, h.lr, h.val) for h in r.history]
               for r in (result, again)]  # fmt: skip
    assert untimed[0] == untimed[1] and result.best == again.best
    assert result.best == evaluate(first, folds.val, folds.classes)
    assert result.parameters == sum(p.numel() for p in first.parameters())
    initial = build_run_model(spec, folds.input_shape, len(folds.classes))
    rebuilt = build_run_model(spec, folds.input_shape, len(folds.classes))
    assert all(
        np.array_equal(a.detach().numpy(), b.detach().numpy())
        for a, b in zip(initial.parameters(), rebuilt.parameters(), strict=True)
    )
    assert result.curve(MetricName.ACCURACY) == [r.val.accuracy for r in result.history]


def test_fit_refuses_folds_of_another_data_spec():
    spec = _spec()
    folds = prepare_folds(replace(spec.data, seed=1), "2d")
    with pytest.raises(ValueError, match=r"folds of .* given for a run on"):
        fit(spec, folds)


def test_train_and_save_then_evaluate_checkpoint_and_load_model(tmp_path):
    spec = _spec()
    outcome = train_and_save(spec, tmp_path / "run")
    record = codec.loads(TrainRecord, outcome.metrics_file.read_text())
    assert record == outcome.record and record.spec == spec
    checkpoint, metrics = evaluate_checkpoint(outcome.checkpoint)
    folds = prepare_folds(spec.data, "2d")
    expected = evaluate(outcome.model, folds.final_test(), folds.classes)
    assert metrics == expected  # the test fold rebuilt from the checkpoint's own data spec
    assert checkpoint.meta.validation == record.result.best
    _, val = evaluate_checkpoint(outcome.checkpoint, FoldName.VAL)
    assert val == record.result.best
    loaded, arch, model = load_model(outcome.checkpoint)
    assert arch.name == "2dcnn" and not model.training and loaded.meta.layout == "2d"
