"""Checking MIT-BIH records against PhysioNet's copy, once per build of the beats cache.

Two checks, both skipped with ``--no-verify`` (:func:`verifying`) for a deliberately modified
copy of the records:

- every file's SHA-256 against the sums PhysioNet publishes for ``mitdb`` 1.0.0
  (``SHA256SUMS.txt``, shipped in this package as :data:`SUMS_FILE`); hashing the 144 files
  takes about 0.2 s, and happens only when the beats are built, never on a cache hit;
- the beats each record gives under the recipe, against :data:`BEATS_PER_RECORD` (109,441
  in all), which catches a recipe change that would alter the data without a version bump.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from mads_zoo.data.records import RECORD_EXTENSIONS
from mads_zoo.errors import DataError

#: PhysioNet's ``SHA256SUMS.txt`` of mitdb 1.0.0, shipped as package data next to this module.
SUMS_FILE = "mitdb_SHA256SUMS.txt"
#: How every verification error ends.
HINT = "pass --no-verify to use it anyway"

# fmt: off
#: Beats each record gives under the recipe (``mitbih.RECIPE_VERSION``), measured once from
#: PhysioNet's copy; they add up to 109,441 (``docs/data.md``).
BEATS_PER_RECORD: Mapping[str, int] = MappingProxyType({
    "100": 2271, "101": 1864, "102": 2186, "103": 2083, "104": 2228, "105": 2571,
    "106": 2026, "107": 2136, "108": 1762, "109": 2531, "111": 2123, "112": 2538,
    "113": 1793, "114": 1878, "115": 1952, "116": 2410, "117": 1533, "118": 2277,
    "119": 1986, "121": 1862, "122": 2475, "123": 1517, "124": 1618, "200": 2600,
    "201": 1962, "202": 2135, "203": 2979, "205": 2655, "207": 1859, "208": 2954,
    "209": 3004, "210": 2648, "212": 2747, "213": 3249, "214": 2261, "215": 3362,
    "217": 2207, "219": 2153, "220": 2047, "221": 2426, "222": 2482, "223": 2604,
    "228": 2052, "230": 2255, "231": 1570, "232": 1780, "233": 3078, "234": 2752,
})
# fmt: on

_enabled: ContextVar[bool] = ContextVar("mads_zoo_verify", default=True)


def verification_enabled() -> bool:
    """Whether data prepared now is checked against PhysioNet's copy (the default)."""
    return _enabled.get()


@contextlib.contextmanager
def verifying(enabled: bool = True) -> Iterator[None]:
    """Check (``True``) or skip checking (``False``, ``--no-verify``) the data prepared inside."""
    token = _enabled.set(enabled)
    try:
        yield
    finally:
        _enabled.reset(token)


@functools.cache
def published_sums() -> Mapping[str, str]:
    """File name -> SHA-256 (hex) of every file of PhysioNet's mitdb 1.0.0."""
    text = resources.files(__package__).joinpath(SUMS_FILE).read_text(encoding="ascii")
    pairs = (line.split(maxsplit=1) for line in text.splitlines() if line.strip())
    return MappingProxyType({name.lstrip("*"): sha for sha, name in pairs})


def _sha256(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def check_sums(directory: Path, records: Sequence[str]) -> None:
    """Raise a :class:`DataError` naming the first file of ``records`` unlike PhysioNet's."""
    sums = published_sums()
    for record in records:
        for name in (f"{record}{ext}" for ext in RECORD_EXTENSIONS):
            if _sha256(directory / name) != sums.get(name):
                raise DataError(
                    f"record {record}: {name} does not match its PhysioNet SHA-256 "
                    f"(a modified or corrupt copy?); {HINT}"
                )


def check_beat_count(record: str, count: int) -> None:
    """Raise a :class:`DataError` unless ``record`` gave the beats PhysioNet's copy gives."""
    expected = BEATS_PER_RECORD[record]
    if count != expected:
        raise DataError(
            f"record {record}: {count:,} beats cut where PhysioNet's copy gives {expected:,}; "
            f"{HINT}"
        )
