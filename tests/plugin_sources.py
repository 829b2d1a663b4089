"""Sources of small plugin modules that the registry and CLI tests install for real."""

GOOD = """
import mads_zoo
from mads_zoo import space


def build(config, input_shape, num_classes):
    from torch import nn

    size = 1
    for dim in input_shape:
        size *= dim
    return nn.Sequential(
        nn.Flatten(), nn.Linear(size, config["hidden"]), nn.ReLU(),
        nn.Dropout(config["dropout"]), nn.Linear(config["hidden"], num_classes),
    )


@mads_zoo.hookimpl
def register_architectures(register):
    register(mads_zoo.Architecture(
        name="{name}", layout="1d", build=build,
        defaults={{"hidden": 16, "dropout": 0.1, "batch_size": 32}},
        search_space={{"hidden": space.choice([8, 16, 32]), "dropout": space.uniform(0.0, 0.5)}},
        presets={{"tiny": {{"hidden": 8}}}},
        description="A good test plugin.",
    ))


@mads_zoo.hookimpl
def register_samplers(register):
    register(mads_zoo.Sampler(name="{name}-sampler", build=lambda seed: None,
                              description="Identity."))
"""

RAISES_ON_IMPORT = """
raise RuntimeError("this plugin is broken on purpose")
"""

EXITS_ON_IMPORT = """
import sys
sys.exit(3)
"""

HALF_REGISTERS_THEN_FAILS = """
import mads_zoo

@mads_zoo.hookimpl
def register_samplers(register):
    register(mads_zoo.Sampler(name="half-registered", build=lambda seed: None))
    register(mads_zoo.Sampler(name="Bad Name", build=lambda seed: None))
"""

DEFAULT_OUTSIDE_SPACE = """
import mads_zoo
from mads_zoo import space

@mads_zoo.hookimpl
def register_architectures(register):
    register(mads_zoo.Architecture(
        name="out-of-space", layout="1d", build=lambda c, s, n: None,
        defaults={"dropout": 0.9}, search_space={"dropout": space.uniform(0.1, 0.4)},
    ))
"""

TYPO_HOOK = """
import mads_zoo

@mads_zoo.hookimpl
def register_architecture(register):
    pass
"""

WRONG_OBJECT = """
import mads_zoo

@mads_zoo.hookimpl
def register_architectures(register):
    register(mads_zoo.Sampler(name="not-an-arch", build=lambda seed: None))
"""


def good(name: str) -> str:
    """A plugin registering architecture ``name`` and sampler ``name-sampler``."""
    return GOOD.format(name=name)


#: A third-party dataset of another shape than MIT-BIH's beats: 3 channels x 50 samples, 3
#: imbalanced classes, 2 named per-example features, values well outside [0, 1]; SYNTHETIC
#: and seeded. Also a tiny architecture that takes the features itself (``takes_features``).
SHAPED_DATASET = """
import mads_zoo
from mads_zoo import space

CLASSES = ("calm", "spike", "wave")
COUNTS = (420, 120, 60)  # imbalanced: 70 / 20 / 10 %
CHANNELS, LENGTH = 3, 50


def load(data_dir):
    import numpy as np

    from mads_zoo.data import Beats

    rng = np.random.default_rng(7)
    y = np.repeat(np.arange(3, dtype=np.int64), COUNTS)
    n = len(y)
    t = np.linspace(0.0, 1.0, LENGTH)
    x = rng.normal(0.0, 0.3, (n, CHANNELS, LENGTH))
    x += 2.0 * np.sin(2 * np.pi * (t + rng.uniform(0, 1, (n, 1, 1))))  # calm: a slow swell only
    spike, wave = y == 1, y == 2
    centre = rng.uniform(0.2, 0.8, (int(spike.sum()), 1, 1))
    x[spike] += 12.0 * np.exp(-(((t - centre) / 0.03) ** 2)) * np.array([1, -1, 0.5])[:, None]
    phase = np.arange(CHANNELS)[:, None] / CHANNELS
    x[wave] += 5.0 * np.sin(2 * np.pi * 6 * (t + phase)) + 8.0 * t  # fast and rising
    energy = (x**2).mean(axis=(1, 2))
    slope = np.polyfit(t, x[:, 2].T, 1)[0]
    return Beats(
        x=x.astype(np.float32),
        y=y,
        classes=CLASSES,
        features=np.column_stack([energy, slope]).astype(np.float32),
        feature_names=("energy", "slope"),
    )


def build_feature_net(config, input_shape, num_classes, num_features):
    import torch
    from torch import nn

    class FeatureNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.num_features = num_features
            self.seen = None
            size = 1
            for dim in input_shape:
                size *= dim
            self.signal = nn.Sequential(nn.Flatten(), nn.Linear(size, config["hidden"]), nn.ReLU())
            self.out = nn.Linear(config["hidden"] + num_features, num_classes)

        def forward(self, x, features):
            self.seen = tuple(features.shape)
            return self.out(torch.cat([self.signal(x), features], dim=1))

    return FeatureNet()


@mads_zoo.hookimpl
def register_datasets(register):
    register(mads_zoo.Dataset(
        name="shaped-toy", load=load, classes=CLASSES,
        description="SYNTHETIC 3-channel toy signals with two features (a test plugin).",
    ))


@mads_zoo.hookimpl
def register_architectures(register):
    register(mads_zoo.Architecture(
        name="feature-net", layout="1d", build=build_feature_net, takes_features=True,
        defaults={"hidden": 8, "batch_size": 32, "lr": 0.01},
        search_space={"hidden": space.choice([8, 16])},
        description="Takes the features itself (a test plugin).",
    ))
"""
