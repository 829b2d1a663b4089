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
