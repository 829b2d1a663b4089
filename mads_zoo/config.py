"""Config resolution: the one place where configs are merged and engine keys split off.

Defaults, presets, search samples and user overrides are merged here and nowhere else.

Order (later wins): ``defaults`` -> ``presets[preset]`` -> search-space sample -> overrides
(``--set key=value`` or a config file).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from mads_zoo.errors import ConfigError, UnknownNameError
from mads_zoo.specs import ENGINE_KEYS, Architecture


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


def known_keys(arch: Architecture) -> set[str]:
    """Every config key ``arch`` understands: its defaults, search space, presets, engine keys."""
    keys = set(arch.defaults) | set(arch.search_space) | set(ENGINE_KEYS)
    for preset in arch.presets.values():
        keys |= set(preset)
    return keys


def resolve_config(
    arch: Architecture,
    *,
    preset: str | None = None,
    sample: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge ``arch``'s defaults, a named preset, a search sample and user overrides."""
    config = dict(arch.defaults)
    if preset is not None:
        if preset not in arch.presets:
            raise UnknownNameError(f"{arch.name} preset", preset, arch.presets)
        config.update(arch.presets[preset])
    config.update(sample or {})
    known = known_keys(arch)
    for key in overrides or {}:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {sorted(known)}"
            raise ConfigError(f"{arch.name!r} has no config key {key!r}{hint}")
    config.update(overrides or {})
    return config


def split_engine_keys(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``config`` into (model keys for ``build``, engine keys for the trainer)."""
    model = {k: v for k, v in config.items() if k not in ENGINE_KEYS}
    engine = {k: v for k, v in config.items() if k in ENGINE_KEYS}
    return model, engine
