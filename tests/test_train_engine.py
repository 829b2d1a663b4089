"""The trainer and its metrics on small synthetic data (fast, no Ray, no real records)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mads_zoo.errors import ConfigError
from mads_zoo.testing import imbalanced_beats
from mads_zoo.train.engine import (
    Trainer,
    TrainSettings,
    evaluate,
    predict_logits,
    steps_per_epoch,
)
from mads_zoo.train.metrics import classification_metrics
from mads_zoo.train.runtime import inference_precision, resolve_precision, seed_everything

CLASSES = ("N", "S", "V", "F", "Q")


def test_metrics_by_hand():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2, 3, 4])
    y_pred = np.array([0, 0, 0, 1, 1, 0, 2, 2, 3, 0])
    m = classification_metrics(y_true, y_pred, CLASSES)
    assert m["accuracy"] == pytest.approx(7 / 10)
    assert m["recall"] == pytest.approx({"N": 0.75, "S": 0.5, "V": 1.0, "F": 1.0, "Q": 0.0})
    assert m["precision"]["N"] == pytest.approx(3 / 5)
    assert m["macro_recall"] == pytest.approx((0.75 + 0.5 + 1 + 1 + 0) / 5)
    assert m["confusion"][4] == [1, 0, 0, 0, 0]
    assert m["support"]["N"] == 4


def test_metrics_leave_absent_classes_out_of_macro_averages():
    m = classification_metrics(np.array([0, 0, 1]), np.array([0, 0, 1]), CLASSES)
    assert m["macro_recall"] == 1.0 and m["recall"]["Q"] == 0.0


def _data(seed=0, counts=None):
    x, y = imbalanced_beats(seed, counts)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


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
    x, y = _data(seed)
    xv, yv = _data(seed + 100)
    model = _model()
    options = {"epochs": 3, "batch_size": 32, "lr": 3e-3, "precision": "fp32", **settings}
    s = TrainSettings(seed=seed, **options)
    return model, Trainer(s).fit(model, x, y, xv, yv, class_names=CLASSES)


def test_the_same_seed_gives_the_same_numbers():
    _, first = _fit(seed=1)
    _, second = _fit(seed=1)
    untimed = [
        [{k: v for k, v in r.items() if k != "train_seconds"} for r in fit.history]
        for fit in (first, second)
    ]
    assert untimed[0] == untimed[1]
    assert first.best_metrics == second.best_metrics
    assert first.best_metrics["accuracy"] > 0.5


def test_the_budget_is_counted_on_the_unresampled_fold():
    x, y = _data()
    repeated_x, repeated_y = x.repeat(4, 1, 1), y.repeat(4)  # "oversampled" 4x
    settings = TrainSettings(epochs=2, batch_size=50, precision="fp32", early_stopping=0)
    result = Trainer(settings).fit(
        _model(), repeated_x, repeated_y, x, y, class_names=CLASSES, n_train_original=len(x)
    )
    assert result.steps == 2 * steps_per_epoch(len(x), 50) == 2 * 12
    capped = Trainer(TrainSettings(epochs=5, batch_size=50, max_steps=7, precision="fp32"))
    assert capped.fit(_model(), x, y, x, y, class_names=CLASSES).steps == 7


def test_a_diverging_run_ends_with_a_status_not_a_traceback():
    class Explodes(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = _model()

        def forward(self, x):
            return self.inner(x) * float("inf")

    x, y = _data()
    result = Trainer(TrainSettings(epochs=2, precision="fp32")).fit(
        Explodes(), x, y, x, y, class_names=CLASSES
    )
    assert result.status == "diverged" and "loss became nan" in result.message


def test_early_stopping_and_best_weights_are_restored():
    model, result = _fit(epochs=30, early_stopping=1, lr=3e-2, schedule="constant")
    assert result.status == "early-stopped" and result.epochs < 30
    assert result.history[-1]["val_macro_f1"] <= result.best_metrics["macro_f1"]
    x_val, y_val = _data(100)
    restored = evaluate(model, x_val, y_val, CLASSES)
    assert restored["macro_f1"] == result.best_metrics["macro_f1"]
    assert result.best_epoch == max(result.history, key=lambda r: r["val_macro_f1"])["epoch"]


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"lr": -1}, r"lr must be a number in \(0, 10\), got -1"),
        ({"factor": 1.5}, r"factor must be a number in \(0, 1\)"),
        ({"optimizer": "lion"}, "optimizer must be one of adamw, adam, sgd"),
        ({"schedule": "step"}, "schedule must be one of onecycle, cosine, plateau, constant"),
        ({"warmup": 1.0}, r"warmup must be a number in \[0, 1\)"),
        ({"label_smoothing": "a"}, "label_smoothing must be a number"),
        ({"beats": 0}, "beats must be a positive integer"),
        ({"weight_decay": float("nan")}, "weight_decay must be a number"),
        ({"precision": "fp8"}, "precision must be one of"),
    ],
)
def test_bad_settings_give_one_clear_error(settings, fragment):
    with pytest.raises(ConfigError, match=fragment):
        Trainer(TrainSettings(**settings))


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
