"""``mads-zoo plugin new``: writes a ready-to-install third-party plugin package.

The files under ``template/`` are copied with these placeholders replaced:
``__NAME__`` (architecture and entry-point name), ``__DIST__`` (distribution name),
``__PACKAGE__`` (import package) and ``__CLASS__`` (model class name). They follow one naming
rule, from the registered name (:func:`placeholders`), which the plugins in ``plugins/`` follow
too: folder ``plugins/NAME``, distribution ``mads-zoo-NAME``, package ``mads_zoo_NAME``.
"""

from __future__ import annotations

import re
from pathlib import Path

from mads_zoo.errors import ConfigError
from mads_zoo.specs import NAME_PATTERN

TEMPLATE = Path(__file__).parent / "template"


def class_name(name: str) -> str:
    """The model class of the architecture ``name``.

    Its parts capitalised and joined; a leading dimension (``1d``, ``2d``) moves to the end,
    since a class name cannot start with a digit: ``my-net`` -> ``MyNet``, ``2dcnn`` ->
    ``Cnn2d``, ``1dcnngru`` -> ``Cnngru1d``. Any other leading digit gets ``Net`` before it.
    """
    dimension = re.match(r"\d+d(?=[a-z])", name)
    rest = name[dimension.end() :] if dimension else name
    camel = "".join(part.capitalize() for part in rest.split("-") if part)
    camel += dimension.group(0) if dimension else ""
    return camel if camel[:1].isalpha() else "Net" + camel


def placeholders(name: str) -> dict[str, str]:
    """The placeholder values for an architecture called ``name``."""
    return {
        "__NAME__": name,
        "__DIST__": f"mads-zoo-{name}",
        "__PACKAGE__": "mads_zoo_" + name.replace("-", "_"),
        "__CLASS__": class_name(name),
    }


def _render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def new_plugin(name: str, directory: Path) -> Path:
    """Create ``directory/mads-zoo-NAME`` and return its path; never overwrites anything."""
    if not NAME_PATTERN.match(name):
        raise ConfigError(
            f"plugin name {name!r} must be lowercase letters, digits and single '-' (e.g. 'my-net')"
        )
    values = placeholders(name)
    target = Path(directory) / values["__DIST__"]
    if target.exists():
        raise ConfigError(f"{target} already exists; pick another name or --dir")
    files = sorted(p for p in TEMPLATE.rglob("*.tmpl") if p.is_file())
    rendered = {
        target / _render(str(p.relative_to(TEMPLATE)), values)[: -len(".tmpl")]: _render(
            p.read_text(), values
        )
        for p in files
    }
    for path, text in rendered.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return target
