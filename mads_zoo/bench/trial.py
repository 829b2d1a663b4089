"""What runs inside one Ray Tune trial, and the final retraining of a combo's best config.

Trials get their data through ``tune.with_parameters``: the arrays are put in Ray's object
store once per combo and every trial maps them zero-copy, instead of reloading or
re-resampling them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mads_zoo.config import resolve_config, split_engine_keys
from mads_zoo.errors import MadsZooError

#: The metric every combo is tuned on (the seed report's "recallmacro").
METRIC = "val_macro_recall"


class TrialDiverged(MadsZooError):
    """A trial's loss became NaN or inf; Ray records the trial as failed with this message."""


@dataclass(frozen=True)
class TrialData:
    """The folds a trial may see: the resampled training fold and the validation fold."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    n_train_original: int
    classes: tuple[str, ...]

    @classmethod
    def from_folds(cls, folds: Any) -> TrialData:
        """Take the training and validation folds (never the test fold) of ``folds``."""
        return cls(
            folds.train.x,
            folds.train.y,
            folds.val.x,
            folds.val.y,
            folds.train_size_before,
            tuple(folds.classes),
        )


def engine_settings(
    engine_keys: dict[str, Any], budget: dict[str, Any], *, seed: int, final: bool
) -> Any:
    """The trainer settings a trial (or a final retraining) runs with under ``budget``.

    An "epoch" of the budget is ``epoch_beats`` training beats, so every config sees the same
    beats per report whatever its batch size.
    """
    from mads_zoo.train.engine import TrainSettings

    settings = TrainSettings.from_config(
        engine_keys,
        epochs=budget["final_epochs"] if final else budget["max_epochs"],
        early_stopping=budget["early_stopping"],
        seed=seed,
        precision=budget["precision"],
    )
    if budget["epoch_beats"]:
        steps = max(1, math.ceil(budget["epoch_beats"] / settings.batch_size))
        settings = replace(settings, epoch_steps=steps)
    return settings


def train_config(
    arch_name: str,
    sample: dict[str, Any],
    data: TrialData,
    budget: dict[str, Any],
    *,
    seed: int,
    final: bool,
    on_epoch: Any = None,
) -> tuple[Any, Any, dict[str, Any]]:
    """Build ``arch_name`` with a search ``sample`` over its defaults and train it on ``data``.

    ``on_epoch`` gets each epoch's record with the model's parameter count added.
    Returns ``(model, fit result, resolved config)``.
    """
    from mads_zoo.models import build_model, count_parameters
    from mads_zoo.registry import get_registry
    from mads_zoo.train.engine import Trainer
    from mads_zoo.train.runtime import seed_everything

    arch = get_registry().architecture(arch_name)
    config = resolve_config(arch, sample=sample)
    _, engine_keys = split_engine_keys(config)
    settings = engine_settings(engine_keys, budget, seed=seed, final=final)
    seed_everything(seed)
    shape = tuple(data.x_train.shape[1:])
    model = build_model(arch, config, num_classes=len(data.classes), input_shape=shape)
    params = count_parameters(model)

    def with_params(record: dict[str, Any]) -> None:
        if on_epoch is not None:
            on_epoch({**record, "params": params})

    fit = Trainer(settings).fit(
        model,
        data.x_train,
        data.y_train,
        data.x_val,
        data.y_val,
        class_names=data.classes,
        n_train_original=data.n_train_original,
        on_epoch=with_params,
    )
    return model, fit, config


def tune_trainable(
    sample: dict[str, Any], *, data: TrialData, arch_name: str, budget: dict[str, Any], seed: int
) -> None:
    """The Ray Tune function trainable: train one sampled config, report every epoch."""
    from ray import tune

    from mads_zoo.train.runtime import configure_threads

    configure_threads(budget["cpus_per_trial"])
    _, fit, _ = train_config(
        arch_name, sample, data, budget, seed=seed, final=False, on_epoch=tune.report
    )
    if fit.status == "diverged":
        raise TrialDiverged(fit.message)
