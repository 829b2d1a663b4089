"""Registers ``1dcnngru``. Imported by every ``mads-zoo list``, so torch stays out of it."""

from __future__ import annotations

import mads_zoo
from mads_zoo import space
from mads_zoo.hookspecs import Register
from mads_zoo.specs import SEED_RECIPE

HIDDEN_SIZES = [32, 64, 128, 256, 512]


@mads_zoo.hookimpl
def register_architectures(register: Register) -> None:
    """Register 1DCNNGRU with the seed's search space and its best configuration."""
    register(
        mads_zoo.Architecture(
            name="1dcnngru",
            layout="1d",
            build=mads_zoo.lazy("mads_zoo_1dcnngru.model:build"),
            defaults={
                "hidden": 64,
                "gru_hidden": 128,
                "num_layers": 2,
                "num_blocks": 3,
                "dropout": 0.3,
                "dilation": 1,
                "pool": "max",
                "gru_input": "flat",
                "gru_norm": True,
                "pack_padded": False,
                "batch_size": 128,
                "lr": 1e-3,
                "epochs": 6,
            },
            search_space={
                "batch_size": space.choice([64, 128, 256]),
                "lr": space.loguniform(3e-4, 1e-2),
                "gru_hidden": space.choice(HIDDEN_SIZES),
                "hidden": space.choice(HIDDEN_SIZES),
                "num_layers": space.choice([2, 3, 4]),
                "num_blocks": space.randint(1, 5),
                "dropout": space.choice([0.2, 0.3, 0.4]),
            },
            presets={
                "seed-best": {
                    "batch_size": 32,
                    "hidden": 64,
                    "dropout": 0.4,
                    "num_layers": 2,
                    "num_blocks": 5,
                    "gru_hidden": 256,
                    "gru_norm": False,
                    **SEED_RECIPE,
                },
            },
            description="Seed 1DCNNGRU: conv + ResNet blocks, MaxPool, Linear, GRU, dense head.",
        )
    )
