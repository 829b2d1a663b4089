"""Registers ``2dcnn``. Imported by every ``mads-zoo list``, so torch stays out of it."""

from __future__ import annotations

import mads_zoo
from mads_zoo import space
from mads_zoo.hookspecs import Register
from mads_zoo.specs import SEED_RECIPE


@mads_zoo.hookimpl
def register_architectures(register: Register) -> None:
    """Register 2DCNN with the seed's search space and its best configuration."""
    register(
        mads_zoo.Architecture(
            name="2dcnn",
            layout="2d",
            build=mads_zoo.lazy("mads_zoo_2dcnn.model:build"),
            defaults={
                "hidden": 64,
                "num_layers": 2,
                "num_blocks": 1,
                "dropout": 0.2,
                "batch_size": 256,
                "lr": 3e-3,
                "epochs": 3,
            },
            search_space={
                "batch_size": space.choice([64, 128, 256, 512]),
                "lr": space.loguniform(3e-4, 1e-2),
                "hidden": space.randint(62, 256),
                "num_layers": space.choice([2, 3, 4]),
                "num_blocks": space.randint(1, 7),
                "dropout": space.uniform(0.1, 0.4),
            },
            presets={
                "seed-best": {
                    "batch_size": 16,
                    "hidden": 128,
                    "dropout": 0.3,
                    "num_layers": 3,
                    "num_blocks": 1,
                    **SEED_RECIPE,
                },
            },
            description="Seed 2DCNN on 16x12: conv blocks, ResNet blocks, MaxPool2d, dense head.",
        )
    )
