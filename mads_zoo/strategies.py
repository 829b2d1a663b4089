"""Imbalance strategies: what a bench combo pairs with an architecture.

A strategy is either a registered sampler (resampling the training fold, plain
cross-entropy) or a loss weighting on the un-resampled training fold (:data:`LOSS_STRATEGIES`,
builtin): class-weighted cross-entropy and class-weighted focal loss, the imbalance handling
of the inter-patient literature (``docs/engine.md``). A combo is architecture x strategy.
The loss strategies' names are reserved: a sampler registered under one is not a strategy.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from mads_zoo.errors import UnknownNameError
from mads_zoo.registry import get_registry


@dataclass(frozen=True)
class Strategy:
    """How a run meets class imbalance: a sampler on the training fold and a loss."""

    name: str
    sampler: str
    loss: str
    description: str


#: The builtin loss strategies (no resampling), by name.
LOSS_STRATEGIES: Mapping[str, Strategy] = MappingProxyType(
    {
        "class-weighted": Strategy(
            "class-weighted",
            "none",
            "weighted-ce",
            "Cross-entropy weighted by inverse class frequency in the training fold.",
        ),
        "focal": Strategy(
            "focal",
            "none",
            "focal",
            "Class-weighted focal loss (gamma 2) on the training fold.",
        ),
    }
)


#: The strategy a run uses when it names none, by split: the inter-patient literature weights
#: its losses rather than resampling (``docs/data.md``); intra keeps plain cross-entropy.
DEFAULT_STRATEGIES: Mapping[str, str] = MappingProxyType(
    {"intra": "none", "inter": "class-weighted"}
)


def default_strategy(split: str) -> str:
    """The strategy of a run on ``split`` that names none."""
    return DEFAULT_STRATEGIES.get(split, "none")


def strategy_names() -> list[str]:
    """Every strategy: the registered samplers, then the loss strategies."""
    samplers = [e.name for e in get_registry().find("samplers", "*")]
    return [*(s for s in samplers if s not in LOSS_STRATEGIES), *LOSS_STRATEGIES]


def get_strategy(name: str) -> Strategy:
    """The strategy ``name``: a loss strategy, else a registered sampler (or "did you mean")."""
    if name in LOSS_STRATEGIES:
        return LOSS_STRATEGIES[name]
    if name not in strategy_names():
        raise UnknownNameError("strategy", name, strategy_names())
    sampler = get_registry().sampler(name)
    return Strategy(name, name, "ce", sampler.description)


def select_strategies(patterns: Sequence[str]) -> list[str]:
    """The strategies matched by the fnmatch ``patterns``, in a stable order, each once."""
    names = strategy_names()
    chosen: list[str] = []
    for pattern in patterns:
        matched = fnmatch.filter(names, pattern.lower())
        if not matched:
            wildcard = any(c in pattern for c in "*?[")
            raise UnknownNameError("strategy pattern" if wildcard else "strategy", pattern, names)
        chosen += [n for n in matched if n not in chosen]
    return chosen
