"""One codec for every record: typed dataclasses to JSON-ready values and back.

Records (run, trial, combo, summary, epoch, checkpoint metadata, metrics) are frozen or plain
dataclasses; :func:`encode` turns one into dicts, lists, strings, numbers, booleans and
``None``, and :func:`decode` turns that back into the typed record, checking every value
against the field's type hint. Nothing else in the code reads a record by string key.

- Enums are stored by value, tuples as lists, paths as strings, mappings with string keys.
- A dataclass may list read-only properties in a ``DERIVED`` class attribute: they are
  written beside its fields for people reading the file, and skipped when it is read back.
- Decoding refuses a missing field, an unknown key and a value of the wrong type with a
  :class:`CodecError` naming where in the record it was (``spec.combo.sampler``): what mads-zoo
  wrote has every field. A record people write by hand (a config file) sets ``PARTIAL = True``
  so that its fields with defaults may be left out.
  An ``int`` is accepted where a ``float`` is expected (and kept an ``int``).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping, Sequence
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")

#: What :func:`encode` returns: plain JSON values.
Plain = dict[str, Any] | list[Any] | str | int | float | bool | None


class CodecError(ValueError):
    """A stored record does not match its type: what is wrong, and where in the record."""


def encode(value: Any) -> Plain:
    """``value`` (a record, or any nesting of records and plain values) as plain values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in getattr(type(value), "DERIVED", ()):
            out[name] = encode(getattr(value, name))
        return out
    if isinstance(value, Enum):
        return encode(value.value)
    if isinstance(value, str | bool | int | float) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(encode(key)): encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # a numpy scalar
        return encode(value.item())
    raise TypeError(f"cannot encode a {type(value).__name__}")


def decode(kind: type[T], data: Any) -> T:
    """The record of type ``kind`` that :func:`encode` wrote as ``data``."""
    value: T = _decode(kind, data, "")
    return value


def dumps(value: Any) -> str:
    """``value`` encoded as indented JSON text."""
    return json.dumps(encode(value), indent=2)


def loads(kind: type[T], text: str) -> T:
    """The record of type ``kind`` in the JSON ``text``."""
    return decode(kind, json.loads(text))


def _where(path: str) -> str:
    return f" at {path}" if path else ""


def _fail(path: str, expected: str, data: Any) -> CodecError:
    shown = repr(data) if len(repr(data)) <= 60 else f"a {type(data).__name__}"
    return CodecError(f"expected {expected}{_where(path)}, found {shown}")


@cache
def _hints(kind: type) -> dict[str, Any]:
    return get_type_hints(kind)


def _decode_dataclass(kind: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        raise _fail(path, f"a {kind.__name__} (a mapping)", data)
    hints = _hints(kind)
    fields = {f.name: f for f in dataclasses.fields(kind) if f.init}
    unknown = set(data) - set(fields) - set(getattr(kind, "DERIVED", ()))
    if unknown:
        raise CodecError(f"unknown key {sorted(unknown)[0]!r}{_where(path)}")
    values = {}
    for name, field in fields.items():
        if name in data:
            values[name] = _decode(hints[name], data[name], f"{path}.{name}".lstrip("."))
        elif not _may_omit(kind, field):
            raise CodecError(f"missing key {name!r}{_where(path)}")
    try:
        return kind(**values)
    except (ValueError, TypeError) as error:  # the record's own checks
        raise CodecError(f"{error}{_where(path)}") from error


def _may_omit(kind: type, field: dataclasses.Field[Any]) -> bool:
    has_default = not (
        field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    )
    return has_default and bool(getattr(kind, "PARTIAL", False))


def _decode_union(options: tuple[Any, ...], data: Any, path: str) -> Any:
    if data is None and type(None) in options:
        return None
    problems = []
    for option in options:
        if option is type(None):
            continue
        try:
            return _decode(option, data, path)
        except CodecError as error:
            problems.append(str(error))
    raise CodecError(problems[0] if len(problems) == 1 else f"{' or '.join(problems)}")


def _decode_scalar(kind: type, data: Any, path: str) -> Any:
    if kind is float:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return data
        raise _fail(path, "a number", data)
    if kind is int:
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        raise _fail(path, "an integer", data)
    if kind is Path:
        if isinstance(data, str):
            return Path(data)
        raise _fail(path, "a path (a string)", data)
    if not isinstance(data, kind):
        raise _fail(path, f"a {kind.__name__}", data)
    return data


def _decode(kind: Any, data: Any, path: str) -> Any:
    origin, args = get_origin(kind), get_args(kind)
    if kind is Any or kind is object:
        return data
    if origin is Union or origin is types.UnionType:
        return _decode_union(args, data, path)
    if origin is typing.Literal:
        if data in args:
            return data
        raise _fail(path, f"one of {list(args)}", data)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _decode_dataclass(kind, data, path)
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(data)
        except ValueError:
            raise _fail(path, f"one of {[m.value for m in kind]}", data) from None
    if origin in (list, tuple, Sequence):
        if not isinstance(data, list):
            raise _fail(path, "a list", data)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(data) != len(args):
                raise _fail(path, f"a list of {len(args)}", data)
            pairs = enumerate(zip(args, data, strict=True))
            return tuple(_decode(a, v, f"{path}[{i}]") for i, (a, v) in pairs)
        item = args[0] if args else Any
        items = [_decode(item, v, f"{path}[{i}]") for i, v in enumerate(data)]
        return items if origin is list else tuple(items)
    if origin in (dict, Mapping):
        if not isinstance(data, dict):
            raise _fail(path, "a mapping", data)
        key_kind, value_kind = args if args else (Any, Any)
        return {
            _decode(key_kind, key, path): _decode(value_kind, value, f"{path}.{key}".lstrip("."))
            for key, value in data.items()
        }
    if isinstance(kind, type):
        return _decode_scalar(kind, data, path)
    raise TypeError(f"cannot decode the type {kind!r}")
