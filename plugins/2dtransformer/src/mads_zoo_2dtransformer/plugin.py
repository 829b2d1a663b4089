"""Registers ``2dtransformer``. Imported by every ``mads-zoo list``, so torch stays out of it."""

from __future__ import annotations

import mads_zoo
from mads_zoo import space
from mads_zoo.hookspecs import Register


@mads_zoo.hookimpl
def register_architectures(register: Register) -> None:
    """Register the 2D Transformer; the seed tuned no configuration of it, so no seed preset."""
    register(
        mads_zoo.Architecture(
            name="2dtransformer",
            layout="2d",
            build=mads_zoo.lazy("mads_zoo_2dtransformer.model:build"),
            defaults={
                "hidden": 64,
                "num_heads": 4,
                "num_blocks": 2,
                "dropout": 0.2,
                "batch_size": 128,
                "lr": 3e-3,
                "epochs": 6,
            },
            search_space={
                "batch_size": space.choice([64, 128, 256]),
                "lr": space.loguniform(3e-4, 1e-2),
                "hidden": space.choice([32, 64, 128, 256]),
                "num_heads": space.choice([2, 4, 8]),
                "num_blocks": space.randint(1, 4),
                "dropout": space.uniform(0.1, 0.4),
            },
            presets={"small": {"hidden": 32, "num_heads": 2, "num_blocks": 1}},
            description="Seed 2D Transformer: conv stem + ResNet + SE, tokens, encoder blocks.",
        )
    )
