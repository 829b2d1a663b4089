"""The trainer on small synthetic data (fast, no Ray, no real records)."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
import torch
from torch import nn

from mads_zoo.data.folds import Fold
from mads_zoo.errors import ConfigError, DivergedError, UnknownNameError
from mads_zoo.testing import imbalanced_beats
from mads_zoo.train.device_fold import DeviceFold
from mads_zoo.train.engine import Trainer, evaluate, predict_logits, steps_per_epoch
from mads_zoo.train.result import RunStatus
from mads_zoo.train.runtime import inference_precision, resolve_precision, seed_everything
from mads_zoo.train.spec import Recipe, Training

CLASSES = ("N", "S", "V", "F", "Q")
RECIPE_KEYS = {f.name for f in fields(Recipe)}


def training(**settings) -> Training:
    """A Training from recipe keys and run settings mixed, as a config would give them."""
    recipe = Recipe(**{k: v for k, v in settings.items() if k in RECIPE_KEYS})
    return Training(recipe=recipe, **{k: v for k, v in settings.items() if k not in RECIPE_KEYS})


def _data(seed=0, counts=None):
    x, y = imbalanced_beats(seed, counts)
    return Fold(x[:, None, :], y)


def _model():
    return nn.Sequential(
        nn.Conv1d(1, 8, 5, padding=2),
        nn.ReLU(),
        nn.AdaptiveAvgPool1d(8),
        nn.Flatten(),
        nn.Linear(64, 5),
    )


def _fit(seed=0, **settings):
    seed_everything(seed)
    model = _model()
    options = {"epochs": 3, "batch_size": 32, "lr": 3e-3, "precision": "fp32", **settings}
    trainer = Trainer(training(seed=seed, **options))
    return model, trainer.fit(model, _data(seed), _data(seed + 100), CLASSES)


def test_the_same_seed_gives_the_same_numbers():
    _, first = _fit(seed=1)
    _, second = _fit(seed=1)
    untimed = [
        [(r.epoch, r.step, r.train_loss, r.lr, r.val) for r in fit.history]
        for fit in (first, second)
    ]
    assert untimed[0] == untimed[1]
    assert first.best == second.best
    assert first.best.accuracy > 0.5


def test_cuda_runs_ask_for_deterministic_kernels_and_cpu_runs_change_nothing(monkeypatch):
    from mads_zoo.train import runtime

    calls = []
    monkeypatch.setattr(torch, "use_deterministic_algorithms",
                        lambda on, warn_only=False: calls.append((on, warn_only)))  # fmt: skip
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", False)
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    runtime.deterministic_kernels(torch.device("cpu"))
    assert calls == [] and torch.backends.cudnn.benchmark
    assert "CUBLAS_WORKSPACE_CONFIG" not in runtime.os.environ
    runtime.deterministic_kernels(torch.device("cuda", 0))
    assert calls == [(True, True)]
    assert not torch.backends.cudnn.benchmark and torch.backends.cudnn.deterministic
    assert runtime.os.environ["CUBLAS_WORKSPACE_CONFIG"] == runtime.CUBLAS_WORKSPACE
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")  # the user's choice is kept
    runtime.deterministic_kernels(torch.device("cuda"))
    assert runtime.os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"


def test_the_budget_is_counted_on_the_unresampled_fold():
    fold = _data()
    repeated = Fold(np.concatenate([fold.x] * 4), np.concatenate([fold.y] * 4))  # "oversampled"
    settings = training(epochs=2, batch_size=50, precision="fp32", early_stopping=0)
    result = Trainer(settings).fit(_model(), repeated, fold, CLASSES, n_train_original=len(fold))
    assert result.steps == 2 * steps_per_epoch(len(fold), 50) == 2 * 12
    capped = Trainer(training(epochs=5, batch_size=50, max_steps=7, precision="fp32"))
    assert capped.fit(_model(), fold, fold, CLASSES).steps == 7


def test_a_diverging_run_raises_one_line_not_a_score():
    class Explodes(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = _model()

        def forward(self, x):
            return self.inner(x) * float("inf")

    fold = _data()
    with pytest.raises(DivergedError, match="loss became nan at step 1 of epoch 1"):
        Trainer(training(epochs=2, precision="fp32")).fit(Explodes(), fold, fold, CLASSES)


def test_early_stopping_and_best_weights_are_restored():
    model, result = _fit(epochs=30, early_stopping=1, lr=3e-2, schedule="constant")
    assert result.status is RunStatus.EARLY_STOPPED and result.epochs < 30
    assert result.history[-1].val.macro_f1 <= result.best.macro_f1
    restored = evaluate(model, _data(100), CLASSES)
    assert restored == result.best  # the same matrix and loss
    assert result.best_epoch == max(result.history, key=lambda r: r.val.macro_f1).epoch


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"lr": -1}, r"lr must be a number in \(0, 10\), got -1"),
        ({"factor": 1.5}, r"factor must be a number in \(0, 1\)"),
        ({"optimizer": "lion"}, "unknown optimizer 'lion'; known: adam, adamw, sgd"),
        ({"schedule": "step"}, "unknown schedule 'step'; known: constant, cosine"),
        ({"warmup": 1.0}, r"warmup must be a number in \[0, 1\)"),
        ({"label_smoothing": "a"}, "label_smoothing must be a number"),
        ({"beats": 0}, "beats must be a positive integer"),
        ({"weight_decay": float("nan")}, "weight_decay must be a number"),
        ({"precision": "fp8"}, "unknown precision 'fp8'"),
        ({"monitor": "macro_f2"}, "did you mean 'macro_f1'"),
    ],
)
def test_bad_settings_give_one_clear_error(settings, fragment):
    with pytest.raises((ConfigError, UnknownNameError), match=fragment):
        Trainer(training(**settings))


def test_auto_precision_is_bf16_on_cuda():
    assert resolve_precision("auto", torch.device("cuda")) == "bf16"
    assert resolve_precision("fp32", torch.device("cuda")) == "fp32"


def test_inference_runs_in_bf16_only_for_a_model_trained_in_bf16():
    cuda = torch.device("cuda")
    assert inference_precision("bf16", cuda) == "bf16"
    assert inference_precision("fp32", cuda) == "fp32"
    assert inference_precision(None, cuda) == "fp32"  # a checkpoint that does not say


def test_inference_runs_on_the_device_the_model_is_on():
    # measured on a GPU: the bench's final test evaluation sent CPU batches (under the CPU's
    # autocast) to a model on cuda; the "meta" device stands in for a GPU on any machine
    seen = []
    model = nn.Linear(3, 2).to("meta")
    model.register_forward_pre_hook(lambda module, args: seen.append(args[0].device))
    with pytest.raises((NotImplementedError, RuntimeError)):
        predict_logits(model, torch.zeros(4, 3))  # a meta tensor has no values to bring back
    assert seen == [torch.device("meta")]


def test_a_run_copies_each_fold_to_the_device_once(monkeypatch):
    # step 14: the validation fold went to the device batch by batch at every validation;
    # now the training and validation folds are copied once per run, whatever the epochs
    from mads_zoo.train import engine

    copied = []
    original = engine.DeviceFold.of

    def counting(fold, model, device):
        copied.append(len(fold))
        return original(fold, model, device)

    monkeypatch.setattr(engine.DeviceFold, "of", staticmethod(counting))
    _, result = _fit(seed=2, epochs=3)
    assert len(result.history) == 3
    assert copied == [len(_data(2)), len(_data(102))]


def test_a_device_fold_predicts_and_scores_as_the_host_fold_does():
    seed_everything(0)
    model, fold = _model(), _data(3)
    resident = DeviceFold.of(fold, model, torch.device("cpu"))
    assert resident.targets.dtype == torch.long and len(resident) == len(fold)
    assert torch.equal(predict_logits(model, resident.x), predict_logits(model, fold.x))
    assert evaluate(model, resident, CLASSES) == evaluate(model, fold, CLASSES)
