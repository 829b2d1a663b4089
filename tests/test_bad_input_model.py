"""Bad input at the model boundary is one clear error, never a number (issue 13).

Beats to predict with NaN or out-of-range values, checkpoints that are diverged, incomplete
or for another model, training that diverges, and plugin models with the wrong number of
outputs: each is one line naming the thing, and nothing is written or lost.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import files_under, one_line_error, write_distribution

from mads_zoo.errors import CheckpointError, DivergedError, PluginError
from mads_zoo.specs import AAMI_CLASSES

#: One plugin distribution with three small linear nets: ``exp-net`` exponentiates its logits
#: (it trains at a sane lr and diverges at a huge one); ``three-net`` and ``ten-net`` return
#: 3 and 10 logits whatever ``num_classes`` they are asked for; ``frozen-net`` has no trainable
#: parameter; ``squeeze-net`` fails on a batch of one beat.
BAD_MODELS = """
import mads_zoo
from torch import nn


class Net(nn.Module):
    def __init__(self, outputs, exp=False):
        super().__init__()
        self.linear, self.exp = nn.Linear(187, outputs), exp

    def forward(self, x):
        z = self.linear(x.flatten(1))
        return z.exp() if self.exp else z


class Frozen(Net):
    def __init__(self, outputs):
        super().__init__(outputs)
        self.linear.requires_grad_(False)


class Squeezes(Net):
    def forward(self, x):  # squeezes the batch away when it holds one beat
        return self.linear(x.squeeze().flatten(1))


@mads_zoo.hookimpl
def register_architectures(register):
    for name, build in (
        ("exp-net", lambda config, shape, n: Net(n, exp=True)),
        ("three-net", lambda config, shape, n: Net(3)),
        ("ten-net", lambda config, shape, n: Net(10)),
        ("frozen-net", lambda config, shape, n: Frozen(n)),
        ("squeeze-net", lambda config, shape, n: Squeezes(n)),
    ):
        register(mads_zoo.Architecture(
            name=name, layout="1d", build=build, defaults={"batch_size": 32}
        ))
"""

PLUGIN = "architecture {name!r} (plugin bad_model from zoo-bad-model)"


@pytest.fixture
def bad_models(tmp_path, monkeypatch, fresh_registry):
    """The registry of this process with only the ``zoo-bad-model`` plugin installed."""
    root = write_distribution(
        tmp_path / "site",
        "zoo-bad-model",
        {"zoo_bad_model": BAD_MODELS},
        {"bad_model": "zoo_bad_model"},
    )
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("MADS_ZOO_PLUGINS", "zoo-bad-model")
    monkeypatch.delenv("MADS_ZOO_STRICT_PLUGINS", raising=False)
    return fresh_registry.get_registry()


# --- checkpoints -----------------------------------------------------------------------------


def built(name: str, num_classes: int = 5):
    """The registered architecture ``name`` at its defaults (seeded)."""
    from mads_zoo.config import resolve_config
    from mads_zoo.models import build_model
    from mads_zoo.registry import get_registry

    torch.manual_seed(0)
    arch = get_registry().architecture(name)
    return build_model(arch, resolve_config(arch), num_classes=num_classes)


def untrained_meta():
    """The metadata of an untrained ``2dcnn`` of the synthetic dataset."""
    from mads_zoo.config import resolve_config
    from mads_zoo.data.spec import DataSpec
    from mads_zoo.metrics import Metrics
    from mads_zoo.registry import get_registry
    from mads_zoo.train.checkpoint import CheckpointMeta
    from mads_zoo.train.result import FoldSizes

    return CheckpointMeta(
        architecture="2dcnn",
        config=resolve_config(get_registry().architecture("2dcnn")),
        data=DataSpec("synthetic"),
        layout="2d",
        classes=AAMI_CLASSES,
        fold_sizes=FoldSizes(10, 10, 10),
        validation=Metrics.of_matrix(np.eye(5, dtype=int), AAMI_CLASSES),
        precision="fp32",
        steps=0,
        seed=0,
    )


@pytest.fixture
def checkpoint(tmp_path):
    """A valid (untrained) ``2dcnn`` checkpoint of the synthetic dataset."""
    from mads_zoo.train.checkpoint import save_checkpoint

    return save_checkpoint(tmp_path / "run" / "model.pt", built("2dcnn"), untrained_meta())


def rewrite(path, change) -> None:
    """Load the checkpoint payload at ``path``, apply ``change`` to it, save it back."""
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)


def first_weight(payload) -> str:
    return next(iter(payload["state_dict"]))


def test_evaluate_refuses_a_checkpoint_with_nan_weights(checkpoint, cli):
    rewrite(checkpoint, lambda p: p["state_dict"]["head.out.weight"].fill_(float("nan")))
    before = files_under(checkpoint.parent)
    result = cli("evaluate", str(checkpoint))
    one_line_error(
        result, str(checkpoint), "holds non-finite weights in 'head.out.weight' (a diverged run?)"
    )
    assert files_under(checkpoint.parent) == before  # no metrics-test.json, no figure


def test_evaluate_refuses_weights_of_another_shape(checkpoint, cli):
    rewrite(checkpoint, lambda p: p["state_dict"].update({"head.out.weight": torch.zeros(5, 3)}))
    result = cli("evaluate", str(checkpoint))
    one_line_error(result, str(checkpoint), "'head.out.weight' of shape (5, 3)", "'2dcnn'")
    assert not (checkpoint.parent / "metrics-test.json").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.pop("state_dict"), "lacks its weights ('state_dict')"),
        (lambda p: p["meta"].pop("classes"), "metadata: missing key 'classes'"),
        (lambda p: p["meta"].update(config="hidden=3"), "expected a mapping at config"),
        (lambda p: p["meta"].update(classes=[0, 1]), "expected a str at classes[0], found 0"),
        (lambda p: p["meta"].update(classes=["N"]), "expected two or more class names"),
        (lambda p: p["meta"]["data"].pop("seed"), "metadata: missing key 'seed' at data"),
        (lambda p: p.pop("meta"), "metadata: expected a CheckpointMeta (a mapping), found None"),
        (lambda p: p["state_dict"].update(extra=3), "non-tensor 'extra' in its state_dict"),
        (
            lambda p: p["state_dict"].update(extra=torch.zeros(1)),
            "has 1 weights the model lacks (first 'extra')",
        ),
        (
            lambda p: p["state_dict"].pop(first_weight(p)),
            "lacks 1 of the model's weights (first 'features.0.conv.weight')",
        ),
        (
            lambda p: p["state_dict"]["features.0.norm.running_var"].fill_(float("inf")),
            "non-finite weights in 'features.0.norm.running_var'",
        ),
    ],
)
def test_a_broken_checkpoint_is_one_checkpoint_error(checkpoint, change, message):
    from mads_zoo.train.checkpoint import load_checkpoint, model_from_checkpoint

    rewrite(checkpoint, change)
    with pytest.raises(CheckpointError, match=str(checkpoint)) as caught:
        model_from_checkpoint(load_checkpoint(checkpoint))
    assert message in str(caught.value)


def test_non_finite_weights_are_never_saved_nor_clobber_a_checkpoint(checkpoint):
    from mads_zoo.train.checkpoint import save_checkpoint

    before = checkpoint.read_bytes()
    model = built("2dcnn")
    with torch.no_grad():
        model.head.out.bias.fill_(float("nan"))
    with pytest.raises(DivergedError, match=r"non-finite weights in 'head\.out\.bias'"):
        save_checkpoint(checkpoint, model, untrained_meta())
    assert checkpoint.read_bytes() == before
    assert files_under(checkpoint.parent) == [checkpoint]


# --- predict: beats with NaN or values outside [0, 1] ----------------------------------------


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (float("nan"), "1 rows with missing or NaN values (first: line 3)"),
        (1.5, "scaled to [0, 1]"),
        (-0.25, "scaled to [0, 1]"),
    ],
)
def test_predict_refuses_beats_with_nan_or_out_of_range_values(
    checkpoint, cli, tmp_path, value, fragment
):
    beats = np.random.default_rng(0).random((4, 187))
    beats[2, 100] = value  # line 3 of the file
    source = tmp_path / "beats.csv"
    np.savetxt(source, beats, delimiter=",")
    out = tmp_path / "predicted.csv"
    result = cli("predict", str(checkpoint), str(source), "--out", str(out))
    line = one_line_error(result, "beats.csv", fragment)
    assert "line 3" in line
    assert not out.exists() and files_under(tmp_path / "run") == [checkpoint]


# --- training that diverges ------------------------------------------------------------------


def test_a_diverging_train_run_is_one_line_and_keeps_the_old_checkpoint(bad_models, cli, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.pt").write_bytes(b"an earlier, good checkpoint")
    args = ["train", "exp-net", "--dataset", "synthetic", "--beats", "64", "--out", str(run)]
    args += ["--set", "schedule=constant"]
    result = cli(*args, "--set", "lr=9")
    one_line_error(
        result, "training diverged: loss became nan at step 2 of epoch 1 (lr 9; lower lr)"
    )
    assert (run / "model.pt").read_bytes() == b"an earlier, good checkpoint"
    assert files_under(run) == [run / "model.pt"]  # no metrics.json either
    sane = cli(*args)  # the same net trains at its default lr
    assert sane.returncode == 0, sane.stderr
    assert "completed" in sane.stdout and (run / "metrics.json").is_file()


def test_a_diverged_bench_trial_is_a_failure_not_a_score(bad_models):
    from bench_fakes import run_record, spec

    from mads_zoo.bench.budget import get_budget
    from mads_zoo.bench.results import Combo
    from mads_zoo.bench.trial import run_trial
    from mads_zoo.data.folds import prepare_folds
    from mads_zoo.data.spec import DataSpec

    combo = Combo("exp-net", "none")
    run = run_record([combo], get_budget("smoke"))
    folds = prepare_folds(DataSpec("synthetic", val_fraction=run.budget.val_fraction), "1d")
    trial = spec(combo, beats=64, config={"lr": 9.0, "schedule": "constant"})
    record = run_trial(trial, folds.for_run(with_test=False), run)
    assert record.failed and record.score is None and record.val is None
    assert "training diverged: loss became nan at step 2 of epoch 1" in record.error


def test_weights_broken_by_an_epochs_last_step_are_caught_on_validation():
    from torch import nn

    from mads_zoo.data.folds import Fold
    from mads_zoo.testing import imbalanced_beats
    from mads_zoo.train.engine import Trainer
    from mads_zoo.train.spec import Recipe, Training

    class NanWhenEvaluated(nn.Module):  # finite training losses, NaN logits on validation
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(187, 5)

        def forward(self, x):
            logits = self.linear(x.flatten(1))
            return logits if self.training else logits * float("nan")

    fold = Fold(*imbalanced_beats())
    settings = Training(Recipe(epochs=1, batch_size=64), max_steps=3, precision="fp32")
    with pytest.raises(DivergedError) as caught:
        Trainer(settings).fit(NanWhenEvaluated(), fold, fold, AAMI_CLASSES)
    assert str(caught.value) == (
        "training diverged: validation loss became nan after step 3 of epoch 1 (lr 0.003; lower lr)"
    )


# --- plugin models with the wrong number of outputs ------------------------------------------


@pytest.mark.parametrize(("name", "outputs"), [("three-net", 3), ("ten-net", 10)])
def test_a_model_with_the_wrong_number_of_outputs_is_refused_when_built(bad_models, name, outputs):
    expected = f"{PLUGIN.format(name=name)} returned logits of shape (2, {outputs}); "
    with pytest.raises(PluginError) as caught:
        built(name)
    assert str(caught.value) == expected + "expected (2, 5)"
    assert built(name, num_classes=outputs)  # the same net is fine for that many classes


def test_train_refuses_a_model_with_the_wrong_number_of_outputs(bad_models, cli, tmp_path):
    out = tmp_path / "run"
    result = cli("train", "ten-net", "--dataset", "synthetic", "--out", str(out))
    one_line_error(result, PLUGIN.format(name="ten-net"), "shape (2, 10); expected (2, 5)")
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("frozen-net", "built a model with no trainable parameters"),
        ("squeeze-net", "failed a forward pass on a batch of shape (1, 1, 187)"),
    ],
)
def test_train_refuses_a_model_it_cannot_train_before_training(
    bad_models, cli, tmp_path, name, fragment
):
    # step 15: both were tracebacks in train and predict (the bench isolated them)
    out = tmp_path / "run"
    result = cli("train", name, "--dataset", "synthetic", "--out", str(out))
    one_line_error(result, PLUGIN.format(name=name), fragment)
    assert not out.exists()


def test_the_output_check_leaves_the_model_as_it_was():
    from torch import nn

    from mads_zoo.models import check_output
    from mads_zoo.registry import get_registry

    arch = get_registry().architecture("2dcnn")
    model = nn.Sequential(nn.Flatten(), nn.BatchNorm1d(192), nn.Dropout(0.5), nn.Linear(192, 5))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    check_output(arch, model, (1, 16, 12), 5)
    assert model.training and all(model[i].training for i in range(4))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert torch.equal(rng, torch.get_rng_state())
    model.eval()
    check_output(arch, model, (1, 16, 12), 5)
    assert not model.training
