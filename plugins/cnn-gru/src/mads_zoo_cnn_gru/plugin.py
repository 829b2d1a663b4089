"""Registers ``1dcnngru``. Imported by every ``mads-zoo list``, so torch stays out of it."""

from __future__ import annotations

import mads_zoo
from mads_zoo import space
from mads_zoo.hookspecs import Register

HIDDEN_SIZES = [32, 64, 128, 256, 512]


@mads_zoo.hookimpl
def register_architectures(register: Register) -> None:
    """Register 1DCNNGRU with the seed's search space and its best configuration."""
    register(
        mads_zoo.Architecture(
            name="1dcnngru",
            layout="1d",
            build=mads_zoo.lazy("mads_zoo_cnn_gru.model:build"),
            defaults={
                "hidden": 64,
                "gru_hidden": 128,
                "num_layers": 2,
                "num_blocks": 3,
                "dropout": 0.3,
                "dilation": 1,
                "pool": "max",
                "gru_input": "flat",
                "gru_norm": False,
                "pack_padded": False,
                "batch_size": 32,
                "factor": 0.2,
            },
            search_space={
                "batch_size": space.choice([16, 32, 48, 60]),
                "gru_hidden": space.choice(HIDDEN_SIZES),
                "hidden": space.choice(HIDDEN_SIZES),
                "num_layers": space.choice([2, 3, 4]),
                "num_blocks": space.randint(1, 5),
                "dropout": space.choice([0.2, 0.3, 0.4]),
                "factor": space.uniform(0.1, 0.4),
            },
            presets={
                "seed-best": {
                    "batch_size": 32,
                    "hidden": 64,
                    "dropout": 0.4,
                    "num_layers": 2,
                    "num_blocks": 5,
                    "factor": 0.2,
                    "gru_hidden": 256,
                },
            },
            description="Seed 1DCNNGRU: conv + ResNet blocks, MaxPool, Linear, GRU, dense head.",
        )
    )
