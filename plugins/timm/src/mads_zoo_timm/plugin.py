"""Registers timm models as "2d" architectures; imports neither torch nor timm.

This module is imported by every ``mads-zoo list``, so it stays light.
The 16x12 view is tiny for ImageNet models, whose stride of 32 would leave a 1x1 map (or
none at all); each entry below carries the timm keywords that keep a map of at least 2x1
at the end. ConvNeXt's stride-2 downsamplers have no padding, so its view is zero-padded to
16x16 (``pad_to``): an odd edge there makes oneDNN's bf16 convolution read past the map.
"""

from __future__ import annotations

from typing import Any

import mads_zoo
from mads_zoo import space
from mads_zoo.hookspecs import Register

#: (registered name, timm keywords that fit the model to 16x12, description)
MODELS: tuple[tuple[str, dict[str, Any], str], ...] = (
    (
        "timm-resnet",
        {"model": "resnet10t", "output_stride": 8},
        "timm resnet10t (dilated to output stride 8) on the 16x12 view.",
    ),
    (
        "timm-mobilenet",
        {"model": "mobilenetv2_050", "output_stride": 8},
        "timm mobilenetv2_050 (dilated to output stride 8) on the 16x12 view.",
    ),
    (
        "timm-convnext",
        {"model": "convnext_atto", "patch_size": 1, "pad_to": 8},
        "timm convnext_atto (1x1 patch stem) on the 16x12 view zero-padded to 16x16.",
    ),
)

SEARCH_SPACE = {
    "batch_size": space.choice([64, 128, 256]),
    "lr": space.loguniform(3e-4, 1e-2),
    "drop_rate": space.uniform(0.0, 0.4),
    "drop_path_rate": space.uniform(0.0, 0.2),
}


@mads_zoo.hookimpl
def register_architectures(register: Register) -> None:
    """Register one "2d" architecture per entry of :data:`MODELS`."""
    for name, fit, description in MODELS:
        register(
            mads_zoo.Architecture(
                name=name,
                layout="2d",
                build=mads_zoo.lazy("mads_zoo_timm.model:build"),
                defaults={
                    **fit,
                    "drop_rate": 0.2,
                    "drop_path_rate": 0.05,
                    "batch_size": 128,
                    "lr": 2e-3,
                    "epochs": 4,
                },
                search_space=SEARCH_SPACE,
                description=description,
            )
        )
