"""Config resolution: the one place where configs are merged and a run is specified.

Order (later wins)::

    defaults -> presets[preset] -> config file [config] -> search sample -> overrides (--set)

:func:`resolve_config` is that merge; :func:`resolve_run` turns a :class:`RunRequest` (what a
caller asks for, by name) into the frozen :class:`~mads_zoo.train.spec.RunSpec` that
:func:`mads_zoo.train.run.fit` trains. ``mads-zoo train``, every bench trial and the
``benchmarks/`` scripts go through it.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from mads_zoo import codec
from mads_zoo.data.spec import DataSpec, default_dataset
from mads_zoo.errors import ConfigError, UnknownNameError
from mads_zoo.metrics import MetricName
from mads_zoo.registry import get_registry
from mads_zoo.space import Choice, LogUniform, RandInt, Uniform
from mads_zoo.specs import Architecture
from mads_zoo.train.spec import ENGINE_KEYS, Recipe, RunSpec, Training


def parse_value(text: str) -> Any:
    """Read ``text`` as a TOML value (``64``, ``0.3``, ``true``, ``"max"``), else as a string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """Turn ``["hidden=64", "pool=gap"]`` into ``{"hidden": 64, "pool": "gap"}``."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        overrides[key.strip()] = parse_value(value.strip())
    return overrides


@dataclass(frozen=True)
class ConfigFile:
    """A run config file (``train --config``; a bench's ``best_config.toml``).

    The optional names say which run it is a config of; ``config`` holds architecture and
    engine keys; ``metrics`` is what the bench measured with it (informative only).
    """

    architecture: str | None = None
    sampler: str | None = None
    preset: str | None = None
    split: str | None = None
    dataset: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)

    #: Written by people: any key may be left out.
    PARTIAL: ClassVar[bool] = True


def read_config_file(path: Path) -> ConfigFile:
    """Read a run config TOML; a missing file, bad TOML, unknown key or type is one line."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} cannot be read ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    try:
        return codec.decode(ConfigFile, data)
    except codec.CodecError as error:
        raise ConfigError(f"config file {path}: {error}") from None


def known_keys(arch: Architecture) -> set[str]:
    """Every config key ``arch`` understands: its defaults, search space, presets, engine keys."""
    keys = set(arch.defaults) | set(arch.search_space) | set(ENGINE_KEYS)
    for preset in arch.presets.values():
        keys |= set(preset)
    return keys


def _value_kind(value: Any) -> type | None:
    """The kind of config value ``value`` is an example of: bool, int, float or str."""
    for kind in (bool, int, float, str):  # bool first: a bool is an int to Python
        if isinstance(value, kind):
            return kind
    return None


def _expected_kind(arch: Architecture, key: str) -> type | None:
    """The kind of value ``arch``'s config key ``key`` takes (``None``: not known).

    Its search space says first (``uniform``/``loguniform``: a number, ``randint``: an integer,
    ``choice``: its values' kind), then its default, then a preset's value.
    """
    space = arch.search_space.get(key)
    if isinstance(space, Uniform | LogUniform):
        return float
    if isinstance(space, RandInt):
        return int
    if isinstance(space, Choice):
        kinds = {_value_kind(v) for v in space.values}
        return float if kinds == {int, float} else (kinds.pop() if len(kinds) == 1 else None)
    example = arch.defaults.get(key)
    if example is None:
        example = next((p[key] for p in arch.presets.values() if key in p), None)
    return _value_kind(example)


def _check_kinds(arch: Architecture, given: Mapping[str, Any]) -> None:
    """Refuse a value of another kind than the key's, even one Python would coerce.

    ``true`` is no number and ``64.0`` no integer; an integer passes for a float. Engine keys
    are checked by the recipe (:class:`~mads_zoo.train.spec.Recipe`).
    """
    for key, value in given.items():
        if key in ENGINE_KEYS:
            continue
        expected, found = _expected_kind(arch, key), _value_kind(value)
        if expected is None or found is expected or (expected is float and found is int):
            continue
        raise ConfigError(
            f"{arch.name!r} config {key} must be {_KIND_WORDS[expected]}, got {value!r}"
        )


_KIND_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _check_known(arch: Architecture, keys: Iterable[str]) -> None:
    known = known_keys(arch)
    for key in keys:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {sorted(known)}"
            raise ConfigError(f"{arch.name!r} has no config key {key!r}{hint}")


def resolve_config(
    arch: Architecture,
    *,
    preset: str | None = None,
    file_config: Mapping[str, Any] | None = None,
    sample: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge ``arch``'s defaults, a preset, a config file's keys, a search sample, overrides.

    A key of the config file or of the overrides that ``arch`` does not know is refused with
    a suggestion.
    """
    config = dict(arch.defaults)
    if preset is not None:
        if preset not in arch.presets:
            raise UnknownNameError(f"{arch.name} preset", preset, arch.presets)
        config.update(arch.presets[preset])
    _check_known(arch, [*(file_config or {}), *(overrides or {})])
    _check_kinds(arch, {**(file_config or {}), **(overrides or {})})
    config.update(file_config or {})
    config.update(sample or {})
    config.update(overrides or {})
    return config


@dataclass(frozen=True)
class RunRequest:
    """What a caller asks of one training run, by name; :func:`resolve_run` resolves it.

    ``None`` means "the config file's, else the default". ``seed`` seeds the model
    (initialisation, batch order); ``data_seed`` the split, validation and sampler (default:
    ``seed``, as ``mads-zoo train --seed`` does; a bench keeps its own for every trial);
    ``sampler_seed``, when given, the sampler alone (a bench's final seeds).
    ``epochs`` wins over the config's; ``beats`` replaces epochs as the run's length; ``loss``
    (a strategy's, :mod:`mads_zoo.strategies`) wins over the config's. With
    no dataset named, the split chooses it (:func:`~mads_zoo.data.spec.default_dataset`:
    ``inter`` reads the rhythm-aware beats).
    """

    architecture: str
    preset: str | None = None
    config_file: Path | None = None
    sample: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    dataset: str | None = None
    split: str | None = None
    sampler: str | None = None
    seed: int = 0
    data_seed: int | None = None
    sampler_seed: int | None = None
    val_fraction: float = 0.1
    epochs: int | None = None
    beats: int | None = None
    max_steps: int | None = None
    eval_beats: int | None = None
    early_stopping: int | None = None
    monitor: MetricName | None = None
    precision: str = "auto"
    device: str = "auto"
    loss: str | None = None


def _data_spec(request: RunRequest, file: ConfigFile) -> DataSpec:
    split = request.split or file.split or "intra"
    return DataSpec(
        dataset=request.dataset or file.dataset or default_dataset(split),
        split=split,
        sampler=request.sampler or file.sampler or "none",
        seed=request.seed if request.data_seed is None else request.data_seed,
        val_fraction=request.val_fraction,
        sampler_seed=request.sampler_seed,
    )


def _training(request: RunRequest, config: Mapping[str, Any]) -> Training:
    recipe = Recipe.from_config(config)
    if request.epochs is not None:
        recipe = replace(recipe, epochs=request.epochs)
    training = Training(
        recipe=recipe,
        beats=request.beats,
        max_steps=request.max_steps,
        eval_beats=request.eval_beats,
        precision=request.precision,
        device=request.device,
        seed=request.seed,
    )
    if request.early_stopping is not None:
        training = replace(training, early_stopping=request.early_stopping)
    if request.monitor is not None:
        training = replace(training, monitor=request.monitor)
    return training


def resolve_run(request: RunRequest) -> RunSpec:
    """The frozen run spec of ``request``: every name checked, every value validated.

    The architecture must be registered (with a "did you mean"); a config file for another
    architecture is refused.
    """
    arch = get_registry().architecture(request.architecture)
    file = ConfigFile()
    if request.config_file is not None:
        file = read_config_file(request.config_file)
        if file.architecture not in (None, arch.name):
            raise ConfigError(
                f"{request.config_file} is a config for {file.architecture!r}, not {arch.name!r}"
            )
    overrides = dict(request.overrides)
    if request.loss is not None:  # a strategy's loss: part of the config a checkpoint records
        overrides["loss"] = request.loss
    config = resolve_config(
        arch,
        preset=request.preset or file.preset,
        file_config=file.config,
        sample=request.sample,
        overrides=overrides,
    )
    return RunSpec(arch.name, config, _training(request, config), _data_spec(request, file))
