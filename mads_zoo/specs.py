"""The four things a plugin registers.

:class:`Architecture`, :class:`Block`, :class:`Sampler` and :class:`Dataset`.

They are frozen dataclasses that validate on construction, so a malformed registration fails
inside the plugin's hook with one message naming the object and the field; the registry then
reports that plugin as broken and keeps loading the others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mads_zoo.errors import SpecError
from mads_zoo.space import Space

#: The input layouts an architecture may declare, with what each does to an example of
#: ``C`` channels x ``L`` samples (:func:`layout_shape`).
LAYOUT_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "1d": "(C, L): the signal as it is",
        "2d": "(C, H, W): each channel zero-padded to H x W and folded row by row",
    }
)


def grid(length: int) -> tuple[int, int]:
    """The near-square ``(H, W)`` grid a channel of ``length`` samples folds into ("2d").

    ``H`` is the smallest multiple of 4 that is at least ``sqrt(length)`` and
    ``W = ceil(length / H)``: 187 -> 16 x 12 (the course's view), 88 -> 12 x 8, 50 -> 8 x 7.
    """
    if length < 1:
        raise ValueError(f"a channel needs at least one sample, got {length}")
    height = 4 * math.ceil(math.ceil(math.sqrt(length)) / 4)
    return height, math.ceil(length / height)


def layout_shape(layout: str, channels: int, length: int) -> tuple[int, ...]:
    """The input shape (no batch) of an example of ``channels`` x ``length`` in ``layout``."""
    if layout == "1d":
        return (channels, length)
    if layout == "2d":
        return (channels, *grid(length))
    raise ValueError(f"unknown layout {layout!r}; use one of {sorted(LAYOUT_NAMES)}")


#: Input shape (without the batch) of each layout for the Kaggle-compatible MIT-BIH beat
#: (one channel of 187 samples): "1d" (1, 187), "2d" (1, 16, 12).
LAYOUTS: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {name: layout_shape(name, 1, 187) for name in LAYOUT_NAMES}
)

#: The seed report's own optimizer settings (Adam at 1e-3, ReduceLROnPlateau, 30 epochs); the
#: ``seed-best`` presets carry them so that they reproduce the seed's recipe, not the engine's.
SEED_RECIPE: Mapping[str, Any] = MappingProxyType(
    {
        "optimizer": "adam",
        "schedule": "plateau",
        "lr": 1e-3,
        "weight_decay": 0.0,
        "factor": 0.2,
        "patience": 2,
        "epochs": 30,
    }
)

#: The five AAMI heartbeat classes, in label order.
AAMI_CLASSES: tuple[str, ...] = ("N", "S", "V", "F", "Q")

NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _fail(obj: Any, field_name: str, problem: str) -> SpecError:
    kind = type(obj).__name__
    return SpecError(f"{kind} {getattr(obj, 'name', '?')!r}: field {field_name!r}: {problem}")


def _check_common(obj: Any) -> None:
    if not isinstance(obj.name, str) or not NAME_PATTERN.match(obj.name):
        raise _fail(
            obj,
            "name",
            f"{obj.name!r} must be lowercase letters, digits and single '-' "
            "between them (e.g. 'my-net')",
        )
    if not isinstance(obj.description, str):
        raise _fail(obj, "description", f"must be a string, got {type(obj.description).__name__}")
    builder = "load" if isinstance(obj, Dataset) else "build"
    if not callable(getattr(obj, builder)):
        raise _fail(obj, builder, f"must be callable, got {type(getattr(obj, builder)).__name__}")


def _frozen_mapping(obj: Any, field_name: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(obj, field_name, f"must be a mapping, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str) or not key:
            raise _fail(obj, field_name, f"keys must be non-empty strings, got {key!r}")
    frozen = MappingProxyType(dict(value))
    object.__setattr__(obj, field_name, frozen)
    return frozen


@dataclass(frozen=True, eq=False)
class Architecture:
    """A model family the zoo can build, tune and benchmark.

    Attributes:
        name: Unique across all plugins; lowercase letters, digits and '-'.
        layout: ``"1d"`` (input ``(batch, C, L)``) or ``"2d"`` (input ``(batch, C, H, W)``,
            each channel folded near-square: :func:`grid`); MIT-BIH's Kaggle-compatible beats
            are ``(1, 187)`` and ``(1, 16, 12)``.
        build: ``build(config, input_shape, num_classes) -> torch.nn.Module`` returning logits
            ``(batch, num_classes)``; ``config`` is the merged config minus the engine keys
            (:data:`mads_zoo.train.spec.ENGINE_KEYS`). With ``takes_features`` it is also
            given ``num_features=k``.
        defaults: The config used when nothing else is said; engine keys allowed.
        search_space: Key -> :mod:`mads_zoo.space` object; what the harness may tune.
        presets: Named partial configs applied over ``defaults`` (e.g. ``"seed-best"``).
        description: One line for ``mads-zoo list``.
        takes_features: ``False`` (the default): the model's ``forward(x)`` sees the signal
            only and the engine fuses a dataset's per-example features with its output
            (``docs/engine.md``). ``True``: the model handles them itself, as
            ``forward(x, features)`` with ``features`` ``(batch, k)`` standardised on the
            training fold (``k`` may be 0).
    """

    name: str
    layout: str
    build: Callable[..., Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    search_space: Mapping[str, Space] = field(default_factory=dict)
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    description: str = ""
    takes_features: bool = False

    def __post_init__(self) -> None:
        _check_common(self)
        if self.layout not in LAYOUT_NAMES:
            problem = f"unknown layout {self.layout!r}; use one of {sorted(LAYOUT_NAMES)}"
            raise _fail(self, "layout", problem)
        if not isinstance(self.takes_features, bool):
            raise _fail(
                self, "takes_features", f"must be True or False, got {self.takes_features!r}"
            )
        defaults = _frozen_mapping(self, "defaults", self.defaults)
        search_space = _frozen_mapping(self, "search_space", self.search_space)
        presets = _frozen_mapping(self, "presets", self.presets)
        for key, dimension in search_space.items():
            if not isinstance(dimension, Space):
                raise _fail(
                    self,
                    "search_space",
                    f"key {key!r} is a {type(dimension).__name__}, not a "
                    "mads_zoo.space object (use space.choice/randint/uniform/loguniform)",
                )
        for key, value in defaults.items():
            if key in search_space and not search_space[key].contains(value):
                raise _fail(
                    self,
                    "defaults",
                    f"{key}={value!r} is outside its search space {search_space[key].describe()}",
                )
        frozen_presets = {}
        for preset_name, preset in presets.items():
            if not isinstance(preset, Mapping):
                raise _fail(self, "presets", f"preset {preset_name!r} must be a mapping")
            frozen_presets[preset_name] = MappingProxyType(dict(preset))
        object.__setattr__(self, "presets", MappingProxyType(frozen_presets))

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The input shape of MIT-BIH's Kaggle-compatible beat (1 x 187) in this layout.

        Other datasets give other shapes (:func:`layout_shape`); a model must accept any.
        """
        return LAYOUTS[self.layout]


@dataclass(frozen=True, eq=False)
class Block:
    """A reusable building block (``build(**kwargs) -> torch.nn.Module``)."""

    name: str
    build: Callable[..., Any]
    description: str = ""

    def __post_init__(self) -> None:
        _check_common(self)


@dataclass(frozen=True, eq=False)
class Sampler:
    """A resampling strategy for the training fold.

    ``build(seed)`` returns an object with ``fit_resample(X, y)`` (any imbalanced-learn
    sampler), or ``None`` for "no resampling".
    """

    name: str
    build: Callable[[int], Any]
    description: str = ""

    def __post_init__(self) -> None:
        _check_common(self)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A source of labelled examples (beats).

    ``load(data_dir)`` gets a :class:`pathlib.Path` (or ``None`` for the dataset's own
    default location) and returns a :class:`mads_zoo.data.Beats`: signals of any channels x
    length, optional named per-example features; see ``docs/plugins.md``.
    """

    name: str
    load: Callable[..., Any]
    description: str = ""
    classes: tuple[str, ...] = AAMI_CLASSES

    def __post_init__(self) -> None:
        _check_common(self)
        if len(self.classes) < 2 or not all(isinstance(c, str) and c for c in self.classes):
            raise _fail(self, "classes", f"needs two or more class names, got {self.classes!r}")
        object.__setattr__(self, "classes", tuple(self.classes))


#: Each kind of registered thing, by the plural name the CLI and the registry use.
KINDS: Mapping[str, type] = MappingProxyType(
    {"architectures": Architecture, "blocks": Block, "samplers": Sampler, "datasets": Dataset}
)
