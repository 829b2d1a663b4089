"""The plugin registry: loads builtin and third-party plugins the same way, through pluggy.

Bookkeeping only (the timm split): which objects exist, who registered them, which plugins
failed. Building models from them lives in :mod:`mads_zoo.models`.

Loading rules
    * Builtin plugins (:data:`BUILTIN_PLUGINS`) load first, then every entry point in the group
      ``mads_zoo``, sorted by distribution and entry-point name, so the order is the same on
      every machine.
    * Each plugin loads in isolation: its hooks run against a staging area, and only if all of
      them succeed are its objects added. A plugin that fails to import or to register is
      recorded in :attr:`Registry.broken` (name, distribution, version, error) and skipped.
    * A name already taken is never overwritten: the later registration is rejected and recorded
      in :attr:`Registry.conflicts`, naming both distributions.

Environment
    ``MADS_ZOO_PLUGINS``: comma-separated entry-point or distribution names; only those external
    plugins load (empty: none). Unset: all installed plugins load. Builtins always load.
    ``MADS_ZOO_STRICT_PLUGINS=1``: a broken plugin or a duplicate name raises
    :class:`~mads_zoo.errors.PluginError` instead of being reported (for plugin authors' CI).
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import os
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from mads_zoo import hookspecs
from mads_zoo.__about__ import __version__
from mads_zoo.errors import PluginError, SpecError, UnknownNameError, one_line
from mads_zoo.specs import KINDS

#: Modules of the plugins that ship with mads-zoo; loaded exactly like third-party ones.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "mads_zoo.samplers",
    "mads_zoo.blocks",
    "mads_zoo.data.datasets",
)

ENTRY_POINT_GROUP = hookspecs.PROJECT
ENV_ALLOWED = "MADS_ZOO_PLUGINS"
ENV_STRICT = "MADS_ZOO_STRICT_PLUGINS"

_SINGULAR = {kind: kind[:-1] for kind in KINDS}


@dataclass(frozen=True)
class PluginInfo:
    """Where a plugin comes from: its entry-point (or module) name and distribution."""

    name: str
    distribution: str
    version: str
    module: str

    def __str__(self) -> str:
        return f"{self.name} ({self.distribution} {self.version})"


@dataclass(frozen=True)
class Entry:
    """One registered object and the plugin that registered it."""

    kind: str
    spec: Any
    plugin: PluginInfo

    @property
    def name(self) -> str:
        """The registered name."""
        name: str = self.spec.name
        return name


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that failed to import or register; none of its objects were added."""

    plugin: PluginInfo
    error: str
    traceback: str = ""


@dataclass(frozen=True)
class Conflict:
    """A registration rejected because its name was already taken."""

    kind: str
    name: str
    kept: PluginInfo
    rejected: PluginInfo

    def __str__(self) -> str:
        return (
            f"{_SINGULAR[self.kind]} {self.name!r} from {self.rejected} was rejected: "
            f"the name is already registered by {self.kept}"
        )


def natural_key(name: str) -> list[Any]:
    """Sort key that orders 'net2' before 'net10'."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


#: The words that name a kind in full: its plural, its singular, and "arch"/"archs".
KIND_WORDS = {
    **{kind: kind for kind in KINDS},
    **{singular: kind for kind, singular in _SINGULAR.items()},
    "arch": "architectures",
    "archs": "architectures",
}


def resolve_kind(text: str) -> str | None:
    """Map 'architectures', 'architecture', 'arch' ... to a kind; None when it is not one.

    Only the words of :data:`KIND_WORDS` count, in full: "archit" or "dat" is no kind.
    """
    return KIND_WORDS.get(text.lower())


@dataclass
class Registry:
    """Everything the loaded plugins registered, plus what went wrong while loading them."""

    entries: dict[str, dict[str, Entry]] = field(default_factory=lambda: {k: {} for k in KINDS})
    plugins: list[PluginInfo] = field(default_factory=list)
    broken: list[BrokenPlugin] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

    def find(self, kind: str, pattern: str = "*") -> list[Entry]:
        """Entries of ``kind`` whose name matches the fnmatch ``pattern``, in natural order."""
        table = self.entries[kind]
        names = fnmatch.filter(table, pattern.lower())
        return [table[name] for name in sorted(names, key=natural_key)]

    def entry(self, kind: str, name: str) -> Entry:
        """The entry of ``kind`` called exactly ``name``; a "did you mean" error otherwise."""
        try:
            return self.entries[kind][name]
        except KeyError:
            raise UnknownNameError(_SINGULAR[kind], name, self.entries[kind]) from None

    def get(self, kind: str, name: str) -> Any:
        """The registered object (an Architecture, Block, Sampler or Dataset)."""
        return self.entry(kind, name).spec

    def architecture(self, name: str) -> Any:
        """The :class:`~mads_zoo.Architecture` called ``name``."""
        return self.get("architectures", name)

    def sampler(self, name: str) -> Any:
        """The :class:`~mads_zoo.Sampler` called ``name``."""
        return self.get("samplers", name)

    def dataset(self, name: str) -> Any:
        """The :class:`~mads_zoo.Dataset` called ``name``."""
        return self.get("datasets", name)

    def lookup(self, name: str) -> list[Entry]:
        """Every entry called ``name``, whatever its kind; a "did you mean" error if none."""
        found = [table[name] for table in self.entries.values() if name in table]
        if not found:
            every = {n for table in self.entries.values() for n in table}
            raise UnknownNameError("name", name, every)
        return found

    def __iter__(self) -> Iterator[Entry]:
        for kind in KINDS:
            yield from self.find(kind)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _allowed_external() -> set[str] | None:
    raw = os.environ.get(ENV_ALLOWED)
    if raw is None:
        return None
    return {part.strip().lower() for part in raw.split(",") if part.strip()}


def _external_plugins() -> list[tuple[PluginInfo, Callable[[], Any]]]:
    allowed = _allowed_external()
    found = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        dist_name = dist.metadata["Name"] if dist is not None else "?"
        version = dist.version if dist is not None else "?"
        if allowed is not None and not allowed & {ep.name.lower(), str(dist_name).lower()}:
            continue
        found.append((PluginInfo(ep.name, str(dist_name), str(version), ep.value), ep.load))
    found.sort(key=lambda item: (item[0].distribution.lower(), item[0].name))
    return found


def _builtin_plugins() -> list[tuple[PluginInfo, Callable[[], Any]]]:
    return [
        (
            PluginInfo(module.rsplit(".", 1)[-1], "mads-zoo", __version__, module),
            functools.partial(importlib.import_module, module),
        )
        for module in BUILTIN_PLUGINS
    ]


def _check_hook_names(pm: pluggy.PluginManager, plugin: ModuleType | Any) -> None:
    known = [spec for spec in dir(hookspecs) if spec.startswith("register_")]
    for attr in dir(plugin):
        if pm.parse_hookimpl_opts(plugin, attr) is not None and attr not in known:
            raise UnknownNameError("hook", attr, known)


def _stage(pm: pluggy.PluginManager, plugin: Any) -> list[tuple[str, Any]]:
    """Run this plugin's hooks against a staging list; nothing is added if one raises."""
    staged: list[tuple[str, Any]] = []
    for kind, cls in KINDS.items():

        def register(obj: Any, _kind: str = kind, _cls: type = cls) -> None:
            if not isinstance(obj, _cls):
                raise SpecError(
                    f"register_{_kind} got a {type(obj).__name__}; "
                    f"pass a mads_zoo.{_cls.__name__}(...)"
                )
            staged.append((_kind, obj))

        hook = getattr(pm.hook, f"register_{kind}")
        for impl in hook.get_hookimpls():
            if impl.plugin is plugin:
                impl.function(**{arg: register for arg in impl.argnames})
    return staged


def _describe(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"it called sys.exit({error.code!r}) while loading"
    if isinstance(error, SpecError | UnknownNameError):
        return str(error) or type(error).__name__
    return one_line(error)


def load_registry(*, strict: bool | None = None) -> Registry:
    """Load every builtin and allowed external plugin into a fresh :class:`Registry`.

    ``strict`` defaults to the ``MADS_ZOO_STRICT_PLUGINS`` environment variable.
    """
    if strict is None:
        strict = _truthy(os.environ.get(ENV_STRICT))
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    registry = Registry()
    for info, load in _builtin_plugins() + _external_plugins():
        plugin = None
        try:
            plugin = load()
            _check_hook_names(pm, plugin)
            pm.register(plugin, name=f"{info.distribution}:{info.name}")
            staged = _stage(pm, plugin)
        except KeyboardInterrupt:  # Ctrl-C still stops
            raise
        except BaseException as error:  # any failure of a plugin is reported, not fatal:
            # SystemExit too (a plugin calling sys.exit at import took the whole CLI down)
            if plugin is not None and pm.is_registered(plugin):
                pm.unregister(plugin)
            registry.broken.append(BrokenPlugin(info, _describe(error), traceback.format_exc()))
            continue
        registry.plugins.append(info)
        for kind, spec in staged:
            table = registry.entries[kind]
            if spec.name in table:
                registry.conflicts.append(Conflict(kind, spec.name, table[spec.name].plugin, info))
            else:
                table[spec.name] = Entry(kind, spec, info)
    if strict and (registry.broken or registry.conflicts):
        problems = [f"plugin {b.plugin} is broken: {b.error}" for b in registry.broken]
        problems += [str(c) for c in registry.conflicts]
        raise PluginError(f"strict plugin loading ({ENV_STRICT}=1): " + "; ".join(problems))
    return registry


@functools.cache
def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    return load_registry()


def reset_registry() -> None:
    """Forget the loaded registry so the next :func:`get_registry` loads plugins again."""
    get_registry.cache_clear()
