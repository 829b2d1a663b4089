"""The version of mads-zoo, read by the package and by hatch."""

__version__ = "0.1.0"
