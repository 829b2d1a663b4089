"""The training recipe: every optimizer and schedule trains, and each schedule has its shape."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from test_train_engine import CLASSES, _data, _fit, _model, training

from mads_zoo.train.engine import RunLength, Trainer, run_length, steps_per_epoch
from mads_zoo.train.recipe import (
    ONECYCLE_END_DIV,
    ONECYCLE_START_DIV,
    Schedule,
    build_optimizer,
    learning_rates,
)
from mads_zoo.train.result import RunStatus
from mads_zoo.train.spec import ENGINE_KEYS, OPTIMIZERS, SCHEDULES, Recipe, model_keys


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_and_schedule_trains_a_model(optimizer, schedule):
    lr = 0.05 if optimizer == "sgd" else 5e-3
    _, result = _fit(epochs=3, optimizer=optimizer, schedule=schedule, lr=lr, early_stopping=0)
    assert result.status is RunStatus.COMPLETED
    assert result.steps == 3 * steps_per_epoch(len(_data()), 32)
    losses = [r.train_loss for r in result.history]
    assert all(math.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0]  # it learned something
    assert result.best.accuracy > 0.5


def test_onecycle_warms_up_from_lr_over_25_then_anneals_to_almost_zero():
    rates = learning_rates("onecycle", 1000, lr=1.0, warmup=0.25)
    peak = rates.index(max(rates))
    assert rates[0] == pytest.approx(1 / ONECYCLE_START_DIV)
    assert peak == 250 and rates[peak] == pytest.approx(1.0)
    assert all(a < b for a, b in itertools.pairwise(rates[: peak + 1]))
    assert all(a >= b for a, b in itertools.pairwise(rates[peak:]))
    assert rates[-1] == pytest.approx(1 / ONECYCLE_END_DIV)
    assert rates[peak + (999 - peak) // 2] == pytest.approx(0.5, abs=0.01)  # cosine midpoint


def test_cosine_decays_to_zero_and_constant_stays_put():
    rates = learning_rates("cosine", 100, lr=2.0)
    assert rates[0] == pytest.approx(2.0) and rates[-1] == pytest.approx(0.0)
    assert all(a >= b for a, b in itertools.pairwise(rates))
    warmed = learning_rates("cosine", 100, lr=2.0, warmup=0.1)
    assert warmed[0] < warmed[5] < warmed[10] == pytest.approx(2.0)
    assert set(learning_rates("constant", 50, lr=3.0)) == {3.0}
    assert set(learning_rates("plateau", 50, lr=3.0)) == {3.0}


def test_plateau_drops_by_factor_after_patience_epochs_without_improvement():
    optimizer = build_optimizer(_model(), "adam", 1e-3, 0.0)
    schedule = Schedule(optimizer, name="plateau", lr=1e-3, total_steps=100, patience=1)
    for score in (0.5, 0.6, 0.6, 0.6):  # best at 0.6, then two epochs without improvement
        schedule.before_step()
        schedule.after_epoch(score)
    schedule.before_step()
    assert schedule.lr == pytest.approx(1e-3 * 0.2)
    onecycle = Schedule(optimizer, name="onecycle", lr=1e-3, total_steps=100)
    for _ in range(5):
        onecycle.after_epoch(0.1)  # validation never moves a step-wise schedule
    assert onecycle.lr_at(99) == pytest.approx(1e-3 / ONECYCLE_END_DIV)


def test_the_trainer_follows_the_schedule_over_the_runs_total_steps():
    _, result = _fit(epochs=4, lr=1e-2, early_stopping=0)  # defaults: adamw + onecycle
    rates = learning_rates("onecycle", result.steps, lr=1e-2)
    for record in result.history:
        assert record.lr == pytest.approx(rates[record.step - 1])
    assert result.history[-1].lr == pytest.approx(1e-2 / ONECYCLE_END_DIV)


def test_a_run_length_in_beats_sets_the_total_steps_and_the_schedule():
    settings = training(beats=1_000, batch_size=64, epochs=99)
    assert run_length(settings, n_train=1_024) == RunLength(16, 16)  # ceil(1000 / 64)
    every = training(beats=1_000, batch_size=64, eval_beats=300)
    assert run_length(every, n_train=1_024) == RunLength(5, 16)  # a validation every 5 steps
    fold = _data()
    result = Trainer(training(beats=1_000, batch_size=64, precision="fp32")).fit(
        _model(), fold, fold, CLASSES
    )
    assert result.steps == 16 and result.history[-1].beats == 1_024
    assert result.history[-1].lr == pytest.approx(3e-3 / ONECYCLE_END_DIV)


def test_label_smoothing_and_gradient_clipping_change_the_run():
    _, plain = _fit(epochs=2, grad_clip=None)
    _, smoothed = _fit(epochs=2, grad_clip=None, label_smoothing=0.2)
    _, clipped = _fit(epochs=2, grad_clip=1e-3)
    # a smoothed target keeps the loss away from zero; a tiny clip slows learning
    assert smoothed.history[-1].train_loss > plain.history[-1].train_loss
    assert clipped.history[-1].train_loss > plain.history[-1].train_loss


def test_weight_decay_spares_biases_and_norms():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4))
    optimizer = build_optimizer(model, "adamw", 1e-3, 0.05)
    decayed = [g for g in optimizer.param_groups if g["weight_decay"] > 0]
    assert [p.shape for g in decayed for p in g["params"]] == [torch.Size([4, 4])]


def test_recipe_keys_are_engine_keys_that_never_reach_build():
    config = {
        "hidden": 8,
        "optimizer": "sgd",
        "schedule": "cosine",
        "warmup": 0.1,
        "epochs": 2,
        "label_smoothing": 0.1,
        "grad_clip": 1.0,
        "momentum": 0.8,
        "lr": 0.1,
        "loss": "focal",
        "focal_gamma": 1.0,
    }
    assert model_keys(config) == {"hidden": 8}
    recipe = Recipe.from_config(config)
    assert (recipe.optimizer, recipe.schedule, recipe.epochs) == ("sgd", "cosine", 2)
    assert (recipe.loss, recipe.focal_gamma) == ("focal", 1.0)
    engine_only = {"batch_size", "weight_decay", "factor", "patience"}  # not in this config
    assert set(config) - {"hidden"} | engine_only == ENGINE_KEYS
