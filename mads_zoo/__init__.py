"""mads-zoo: a plugin-based model zoo and benchmark harness for imbalanced time series.

MIT-BIH heartbeats first.

The public plugin API::

    import mads_zoo
    from mads_zoo import space

    @mads_zoo.hookimpl
    def register_architectures(register):
        register(mads_zoo.Architecture(name="my-net", layout="1d", build=build_my_net, ...))

This module imports neither torch nor any plugin: ``import mads_zoo`` stays cheap.
"""

from mads_zoo import space
from mads_zoo.__about__ import __version__
from mads_zoo.hookspecs import hookimpl
from mads_zoo.lazy import lazy
from mads_zoo.specs import Architecture, Block, Dataset, Sampler

__all__ = [
    "Architecture",
    "Block",
    "Dataset",
    "Sampler",
    "__version__",
    "hookimpl",
    "lazy",
    "space",
]
