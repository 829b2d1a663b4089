"""The public API objects: search spaces, specs that validate, config resolution."""

from __future__ import annotations

import random

import pytest

import mads_zoo
from mads_zoo import space
from mads_zoo.config import parse_overrides, resolve_config
from mads_zoo.errors import ConfigError, SpecError, UnknownNameError
from mads_zoo.train.spec import model_keys


def _arch(**changes):
    fields = dict(
        name="toy-net",
        layout="1d",
        build=lambda config, shape, n: None,
        defaults={"hidden": 16, "dropout": 0.2, "batch_size": 32},
        search_space={"hidden": space.choice([8, 16]), "dropout": space.uniform(0.1, 0.4)},
        presets={"big": {"hidden": 64, "batch_size": 16}},
    )
    fields.update(changes)
    return mads_zoo.Architecture(**fields)


def test_public_api_names():
    for name in ("hookimpl", "Architecture", "Block", "Sampler", "Dataset", "space", "lazy"):
        assert hasattr(mads_zoo, name)
    for fn in ("choice", "randint", "uniform", "loguniform"):
        assert callable(getattr(space, fn))


@pytest.mark.parametrize(
    ("dimension", "inside", "outside"),
    [
        (space.choice([16, 32, "gap"]), [16, "gap"], [17, True, "max"]),
        (space.choice([True, False]), [True], [1]),
        (space.randint(1, 5), [1, 5, 3], [0, 6, 2.5]),
        (space.uniform(0.1, 0.4), [0.1, 0.4, 0.25], [0.05, 0.5, "x"]),
        (space.loguniform(1e-4, 1e-2), [1e-3], [1e-5, 0.1]),
    ],
)
def test_space_membership(dimension, inside, outside):
    assert all(dimension.contains(v) for v in inside)
    assert not any(dimension.contains(v) for v in outside)


@pytest.mark.parametrize(
    "make",
    [
        lambda: space.choice([]),
        lambda: space.choice([1, 1]),
        lambda: space.randint(5, 1),
        lambda: space.randint(1.5, 3),
        lambda: space.uniform(0.4, 0.1),
        lambda: space.uniform(0, float("inf")),
        lambda: space.loguniform(0, 1),
    ],
)
def test_bad_spaces_are_rejected(make):
    with pytest.raises(ValueError, match="space\\."):
        make()


def test_sampling_is_seeded_and_stays_inside():
    dims = {"a": space.randint(1, 7), "b": space.loguniform(1e-4, 1e-1), "c": space.choice("xyz")}
    draws = [space.sample(dims, random.Random(3)) for _ in range(2)]
    assert draws[0] == draws[1]
    assert all(dims[k].contains(v) for k, v in draws[0].items())
    assert space.randint(1, 5).describe() == "randint(1, 5)"


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"name": "My Net"}, "name", "lowercase"),
        ({"name": "-net"}, "name", "lowercase"),
        ({"layout": "3d"}, "layout", "unknown layout '3d'"),
        ({"search_space": {"hidden": [8, 16]}}, "search_space", "not a mads_zoo.space object"),
        ({"defaults": {"dropout": 0.9}}, "defaults", "outside its search space"),
        ({"build": "not callable"}, "build", "must be callable"),
        ({"presets": {"big": 3}}, "presets", "must be a mapping"),
    ],
)
def test_a_malformed_architecture_names_itself_and_the_field(changes, field, fragment):
    with pytest.raises(SpecError) as error:
        _arch(**changes)
    message = str(error.value)
    assert f"field {field!r}" in message and fragment in message
    assert message.startswith("Architecture '")


def test_specs_are_frozen_including_their_mappings():
    arch = _arch()
    with pytest.raises(AttributeError):
        arch.name = "other"
    with pytest.raises(TypeError):
        arch.defaults["hidden"] = 1
    with pytest.raises(TypeError):
        arch.presets["big"]["hidden"] = 1
    assert arch.input_shape == (1, 187)
    assert _arch(layout="2d").input_shape == (1, 16, 12)


def test_other_specs_validate():
    with pytest.raises(SpecError, match="Sampler 'x_y'"):
        mads_zoo.Sampler(name="x_y", build=lambda seed: None)
    with pytest.raises(SpecError, match="'classes'"):
        mads_zoo.Dataset(name="d", load=lambda d: None, classes=("only",))
    assert mads_zoo.Block(name="b", build=dict).name == "b"


def test_config_merge_order_and_engine_split():
    arch = _arch()
    config = resolve_config(
        arch, preset="big", sample={"dropout": 0.3}, overrides={"dropout": 0.35, "lr": 1e-3}
    )
    assert config == {"hidden": 64, "dropout": 0.35, "batch_size": 16, "lr": 1e-3}
    assert model_keys(config) == {"hidden": 64, "dropout": 0.35}
    # a config file's keys go between the preset and a search sample
    filed = resolve_config(arch, preset="big", file_config={"hidden": 8, "dropout": 0.1},
                           sample={"dropout": 0.3})  # fmt: skip
    assert filed == {"hidden": 8, "dropout": 0.3, "batch_size": 16}


def test_config_errors_suggest_the_close_name():
    arch = _arch()
    with pytest.raises(UnknownNameError, match="did you mean 'big'"):
        resolve_config(arch, preset="bigg")
    with pytest.raises(ConfigError, match="did you mean 'hidden'"):
        resolve_config(arch, overrides={"hiden": 3})


def test_parse_overrides():
    assert parse_overrides(["hidden=64", "pool=gap", "rate=0.3", "norm=true", 'x="1"']) == {
        "hidden": 64,
        "pool": "gap",
        "rate": 0.3,
        "norm": True,
        "x": "1",
    }
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["hidden"])


def test_lazy_references_import_on_call():
    ref = mads_zoo.lazy("math:sqrt")
    assert ref(9.0) == 3.0
    assert repr(ref) == "lazy('math:sqrt')"
    with pytest.raises(SpecError):
        mads_zoo.lazy("no_colon")
