"""Lazy references: name a callable by ``"module:attribute"`` and import it on first call.

Plugin modules are imported by every ``mads-zoo list``; if they import torch at the top,
listing takes seconds. Point ``build`` at a lazy reference instead::

    register(mads_zoo.Architecture(name="my-net", layout="1d",
                                   build=mads_zoo.lazy("my_package.model:build"), ...))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from mads_zoo.errors import SpecError


class LazyCallable:
    """A callable standing for ``module:attribute``, imported when first called."""

    def __init__(self, target: str) -> None:
        module, sep, attribute = target.partition(":")
        if not sep or not module or not attribute:
            raise SpecError(f"lazy target {target!r} must look like 'package.module:attribute'")
        self.target = target
        self._resolved: Any = None

    def resolve(self) -> Any:
        """Import and return the target callable."""
        if self._resolved is None:
            module, _, attribute = self.target.partition(":")
            obj: Any = importlib.import_module(module)
            for part in attribute.split("."):
                obj = getattr(obj, part)
            self._resolved = obj
        return self._resolved

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Import the target if needed and call it."""
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"lazy({self.target!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (LazyCallable, (self.target,))


def lazy(target: str) -> LazyCallable:
    """Refer to ``"package.module:attribute"`` without importing it yet."""
    return LazyCallable(target)


def lazy_exports(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose public names live in submodules.

    ``homes`` maps each public name to the submodule defining it; a name is imported on first
    use and then cached in ``namespace`` (the package's ``globals()``), so importing the
    package itself stays cheap (PEP 562)::

        __getattr__, __dir__ = lazy_exports(__name__, {"Beats": "beats"}, globals())
    """

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{homes[name]}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return __getattr__, __dir__
