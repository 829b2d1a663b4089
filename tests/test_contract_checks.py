"""mads_zoo.testing: the contract checks catch real defects, and every registered sampler
passes them (architectures are checked in test_architectures.py)."""

from __future__ import annotations

import pytest

import mads_zoo
from mads_zoo import space
from mads_zoo.registry import get_registry
from mads_zoo.testing import check_architecture, check_sampler


def _mlp(config, input_shape, num_classes):
    from torch import nn

    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(
            input_shape[-1] * input_shape[-2] if len(input_shape) == 3 else input_shape[-1],
            config["hidden"],
        ),
        nn.ReLU(),
        nn.Linear(config["hidden"], num_classes),
    )


def _arch(build, layout="1d"):
    return mads_zoo.Architecture(
        name="probe",
        layout=layout,
        build=build,
        defaults={"hidden": 8},
        search_space={"hidden": space.choice([4, 8])},
        presets={"wide": {"hidden": 32}},
    )


@pytest.mark.parametrize("layout", ["1d", "2d"])
def test_a_good_architecture_passes(layout):
    checked = check_architecture(_arch(_mlp, layout), samples=2)
    assert checked == ["defaults", "preset 'wide'", "search sample 0", "search sample 1"]


def test_a_wrong_output_shape_fails():
    def build(config, shape, n):
        return _mlp(config, shape, n + 1)

    with pytest.raises(AssertionError, match=r"output shape \(1, 6\), expected \(1, 5\)"):
        check_architecture(_arch(build))


def test_non_finite_outputs_fail():
    import torch

    class Nan(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x) * float("nan")

    with pytest.raises(AssertionError, match="NaN or inf"):
        check_architecture(_arch(lambda c, s, n: Nan(_mlp(c, s, n))))


def test_batch_one_in_train_mode_is_checked():
    from torch import nn

    def build(config, shape, n):  # BatchNorm1d on flat features cannot train on one beat
        return nn.Sequential(nn.Flatten(), nn.Linear(shape[-1], n), nn.BatchNorm1d(n))

    with pytest.raises(AssertionError, match="train mode, batch 1"):
        check_architecture(_arch(build))


def test_a_build_that_returns_no_module_fails_clearly():
    from mads_zoo.errors import PluginError

    with pytest.raises(PluginError, match=r"expected a torch\.nn\.Module"):
        check_architecture(_arch(lambda c, s, n: "model"))


@pytest.mark.parametrize("name", [e.name for e in get_registry().find("samplers")])
def test_every_registered_sampler_meets_the_contract(name):
    counts = check_sampler(name)
    assert set(counts) == {0, 1, 2, 3, 4}


def test_a_sampler_that_drops_a_class_fails():
    import numpy as np

    class DropRarest:
        def fit_resample(self, X, y):
            keep = y != 3
            return X[keep], y[keep]

    class ToFloat64:
        def fit_resample(self, X, y):
            return X.astype(np.float64), y

    with pytest.raises(AssertionError, match=r"dropped class\(es\) \[3\]"):
        check_sampler(mads_zoo.Sampler(name="dropper", build=lambda seed: DropRarest()))
    with pytest.raises(AssertionError, match="float64, expected float32"):
        check_sampler(mads_zoo.Sampler(name="widener", build=lambda seed: ToFloat64()))
