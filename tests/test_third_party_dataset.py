"""A third-party dataset of another shape (3 channels x 50 samples, 3 classes, 2 features),
installed as a real distribution, works end to end with no change in the engine: listed,
described, trained by every builtin architecture, saved, evaluated and benched."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import one_line_error, write_distribution
from plugin_sources import SHAPED_DATASET

from mads_zoo.config import RunRequest, resolve_run
from mads_zoo.data.folds import prepare_folds
from mads_zoo.data.spec import DataSpec, InputSignature
from mads_zoo.fusion import FeatureInputs, call_model
from mads_zoo.metrics import Metrics
from mads_zoo.train.result import RunStatus
from mads_zoo.train.run import fit

SHAPED = "shaped-toy"
CLASSES = ("calm", "spike", "wave")
SIGNATURE = InputSignature(3, 50, ("energy", "slope"))
#: Beats per class of each fold (intra, seed 0): 20 % stratified test, then 10 % of the rest.
FOLD_COUNTS = {
    "train": {"calm": 302, "spike": 86, "wave": 43},
    "val": {"calm": 34, "spike": 10, "wave": 5},
    "test": {"calm": 84, "spike": 24, "wave": 12},
}


@pytest.fixture
def shaped(tmp_path, monkeypatch, fresh_registry):
    """The registry with the shaped-toy plugin installed next to every installed plugin."""
    site = tmp_path / "site"
    module = f"zoo_shaped_{abs(hash(str(tmp_path))) % 10**8}"  # the import system caches names
    write_distribution(site, "zoo-shaped", {module: SHAPED_DATASET}, {"shaped": module})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("MADS_ZOO_PLUGINS", raising=False)
    monkeypatch.delenv("MADS_ZOO_STRICT_PLUGINS", raising=False)
    registry = fresh_registry.get_registry()
    assert not registry.broken and not registry.conflicts, registry.broken
    assert registry.entry("datasets", SHAPED).plugin.distribution == "zoo-shaped"
    return registry


def request(architecture: str, **options) -> RunRequest:
    """A short fp32 CPU run of ``architecture`` on the shaped dataset."""
    return RunRequest(architecture, dataset=SHAPED, precision="fp32", device="cpu", **options)


def test_it_is_listed_and_its_folds_are_described(shaped, cli):
    listed = json.loads(cli("list", "datasets", "--json").stdout)
    (toy,) = [d for d in listed["datasets"] if d["name"] == SHAPED]
    assert toy["classes"] == list(CLASSES) and toy["distribution"] == "zoo-shaped"
    table = cli("list", "datasets")
    assert table.returncode == 0 and SHAPED in table.stdout and "zoo-shaped" in table.stdout

    info = cli("data", "info", SHAPED)
    assert info.returncode == 0, info.stderr
    lines = info.stdout.splitlines()
    assert "each beat: 3 channels x 50 samples + 2 features (energy, slope)" in lines
    for name in CLASSES:
        (row,) = [line for line in lines if line.split()[1:2] == [name]]
        for fold in ("train", "val", "test"):
            assert f" {FOLD_COUNTS[fold][name]:,} (" in row, (name, fold, row)


def test_every_builtin_architecture_trains_on_it(shaped):
    names = [
        e.name for e in shaped.find("architectures") if e.plugin.distribution.startswith("mads-zoo")
    ]
    # the timm models take the 8 x 7 grid of a 50-sample channel as they take MIT-BIH's 16 x 12
    assert {"1dcnngru", "2dcnn", "2dtransformer", "timm-resnet", "timm-convnext"} <= set(names)
    folds = {}
    for name in names:
        layout = shaped.architecture(name).layout
        spec = resolve_run(request(name, epochs=1, max_steps=2, overrides={"batch_size": 32}))
        if layout not in folds:
            folds[layout] = prepare_folds(spec.data, layout)
        assert folds[layout].input_shape == {"1d": (3, 50), "2d": (3, 8, 7)}[layout]
        assert folds[layout].signature == SIGNATURE
        model, result = fit(spec, folds[layout])
        assert result.status is RunStatus.COMPLETED and result.steps == 2, name
        assert isinstance(model, FeatureInputs) and model.head is not None  # the engine fuses
        val = folds[layout].val
        with torch.no_grad():
            logits = call_model(
                model.eval(), torch.as_tensor(val.x[:5]), torch.as_tensor(val.feature_array[:5])
            )
        assert logits.shape == (5, 3), name


def test_train_evaluate_and_predict_from_the_command_line(shaped, cli, tmp_path):
    from mads_zoo.train.checkpoint import load_checkpoint

    out = tmp_path / "run"
    trained = cli(
        "train", "2dcnn", "--dataset", SHAPED, "--epochs", "1", "--max-steps", "2",
        "--set", "hidden=8", "--precision", "fp32", "--out", str(out),
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert "validation, best epoch 1" in trained.stdout and "spike" in trained.stdout
    checkpoint = load_checkpoint(out / "model.pt")
    assert checkpoint.meta.signature == SIGNATURE
    assert checkpoint.meta.classes == CLASSES and checkpoint.meta.layout == "2d"

    evaluated = cli("evaluate", str(out / "model.pt"))
    assert evaluated.returncode == 0, evaluated.stderr
    metrics = json.loads((out / "metrics-test.json").read_text())
    assert metrics["n"] == sum(FOLD_COUNTS["test"].values())
    assert all(name in evaluated.stdout for name in CLASSES)
    assert (out / "confusion-test.png").is_file()

    beats = tmp_path / "beats.csv"  # Kaggle-compatible beats: not what this model takes
    np.savetxt(beats, np.random.default_rng(0).random((3, 187)), delimiter=",")
    refused = cli("predict", str(out / "model.pt"), str(beats))
    one_line_error(refused, f"the model takes {SIGNATURE.describe()}", "1 channel x 187 samples")


def test_an_architecture_that_takes_the_features_gets_them(shaped, tmp_path):
    from mads_zoo.train.run import evaluate_checkpoint, train_and_save

    spec = resolve_run(request("feature-net", epochs=3))
    outcome = train_and_save(spec, tmp_path)
    model, result = outcome.model, outcome.record.result
    assert isinstance(model, FeatureInputs) and model.head is None  # it fuses them itself
    net = model.backbone
    assert net.num_features == 2 and net.seen[1:] == (2,)
    folds = prepare_folds(spec.data, "1d")
    train_mean = folds.train.feature_array.mean(axis=0)
    assert np.allclose(model.feature_mean.numpy(), train_mean, rtol=1e-4)  # standardised
    assert result.status is RunStatus.COMPLETED and result.best.macro_f1 > 0.9  # learnable
    checkpoint, test = evaluate_checkpoint(outcome.checkpoint)  # rebuilt with num_features=2
    assert checkpoint.meta.signature == SIGNATURE and test.n == 120 and test.macro_f1 > 0.9


def test_it_benches_with_the_class_weighted_strategy(shaped, tmp_path):
    from mads_zoo.bench.bootstrap import unpack_labels
    from mads_zoo.bench.budget import get_budget
    from mads_zoo.bench.harness import BenchRequest, start_bench
    from mads_zoo.bench.plan import Planner, final_sampler_seed
    from mads_zoo.bench.report import render_report
    from mads_zoo.bench.results import Outcome, Stage
    from mads_zoo.bench.trial import run_trial, trial_request

    bench = BenchRequest(
        get_budget("smoke"), archs=["2dcnn"], strategies=["class-weighted"], dataset=SHAPED
    )
    store = start_bench(bench, tmp_path / "run")
    run = store.load_run()
    assert run.class_counts.test == FOLD_COUNTS["test"] and run.data.beats == 600
    # what the harness puts in Ray's object store for this combo, trained here without Ray
    data = DataSpec(SHAPED, "intra", "none", run.seed, run.budget.val_fraction)
    folds = prepare_folds(data, "2d")

    def execute(name, specs):
        records = []
        for spec in specs:
            recipe = resolve_run(trial_request(spec, run, "cpu")).training.recipe
            assert recipe.loss == "weighted-ce"  # the strategy's loss, no resampling
            final = spec.stage is Stage.FINAL
            if final:  # each final seed resamples with its own sampler seed, as the harness does
                seeded = replace(data, sampler_seed=final_sampler_seed(run.seed, spec.index))
                record = run_trial(spec, prepare_folds(seeded, "2d").for_run(with_test=True), run)
            else:
                record = run_trial(spec, folds.for_run(with_test=False), run)
            assert record.status is RunStatus.COMPLETED, record.error
            store.save_trial(record)
            records.append(record)
        return records

    (result,) = Planner(run.combos, run.budget, run.seed, execute, lambda c, b: None).run()
    store.save_result(result, run.budget.metric)
    assert result.outcome is Outcome.SELECTED and len(result.test) == run.budget.final_seeds
    assert all(m.classes == CLASSES and m.n == 120 for m in result.test)
    for record in store.all_trials():  # each final seed's prediction of every test beat
        assert len(record.test_predicted) == (120 if record.spec.stage is Stage.FINAL else 0)
        if record.test is not None:
            predicted = unpack_labels(record.test_predicted)
            assert predicted.max() < len(CLASSES)
            held = store.load_test_fold()
            assert Metrics.of_labels(held.labels, predicted, CLASSES) == replace(
                record.test, loss=None
            )
    report = render_report(store)
    page = (tmp_path / "run" / "leaderboard.md").read_text()
    assert "2dcnn" in page and "always calm" in page and report.figures
    assert "Se, 95% over beats" in page and "bootstrap over the 120 test beats" in page
