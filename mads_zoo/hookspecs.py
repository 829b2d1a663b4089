"""The hooks a mads-zoo plugin can implement.

A plugin is a module named by an entry point in the group ``mads_zoo``. It implements any of
the hooks below with :data:`mads_zoo.hookimpl`; each hook receives a ``register`` callback and
calls it once per object it contributes. Hooks are called once per process, when the registry
first loads; keep the module's top level light (import torch inside ``build``, not at import),
so that ``mads-zoo list`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

#: The pluggy project name; also the entry-point group plugins are found under.
PROJECT = "mads_zoo"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[[Any], None]


@hookspec
def register_architectures(register: Register) -> None:
    """Register model families: call ``register(mads_zoo.Architecture(...))`` once per model.

    ``build(config, input_shape, num_classes)`` must return a ``torch.nn.Module`` mapping
    ``(batch, *input_shape)`` to logits ``(batch, num_classes)``. ``config`` is the merged
    config (defaults, preset, search sample, the user's ``--set``) minus the engine keys
    ``batch_size``, ``lr``, ``weight_decay``, ``factor`` and ``patience``.
    """


@hookspec
def register_blocks(register: Register) -> None:
    """Register reusable layers: call ``register(mads_zoo.Block(name, build, description))``.

    ``build(**kwargs)`` returns a ``torch.nn.Module``. Blocks are listed by ``mads-zoo list
    blocks`` so that other plugin authors can find and reuse them.
    """


@hookspec
def register_samplers(register: Register) -> None:
    """Register training-fold resamplers: call ``register(mads_zoo.Sampler(name, build, ...))``.

    ``build(seed)`` returns an object with ``fit_resample(X, y) -> (X_res, y_res)`` (any
    imbalanced-learn sampler) seeded with ``seed``, or ``None`` for no resampling. It is only
    ever applied to the training fold, after validation and test rows are set aside.
    """


@hookspec
def register_datasets(register: Register) -> None:
    """Register beat sources: call ``register(mads_zoo.Dataset(name, load, description))``.

    ``load(data_dir)`` gets a ``pathlib.Path`` or ``None`` (use the dataset's default place)
    and returns a ``mads_zoo.data.Beats``: signals ``x`` of shape ``(n, C, L)`` float32
    (finite; any channels and length), labels ``y`` (n,) int64 in ``0..len(classes)-1``,
    optional named per-example ``features`` ``(n, k)``, and per-beat provenance.
    """
