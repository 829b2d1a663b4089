"""Where input data comes from: ``--data-dir`` > ``MADS_ZOO_DATA_DIR`` > the user cache.

For MIT-BIH, a cache without the records triggers a download from PhysioNet (with a progress
report); when that fails, one error names the three ways to provide the data.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mads_zoo.data.cache import cache_dir
from mads_zoo.data.progress import report
from mads_zoo.data.records import MITDB_RECORDS, RECORD_EXTENSIONS
from mads_zoo.errors import DataNotFoundError
from mads_zoo.fileio import TEMP_PREFIX

ENV_DATA_DIR = "MADS_ZOO_DATA_DIR"
MITDB_VERSION = "1.0.0"


def _ways(folder: str, cache: Path) -> str:
    return (
        f"pass --data-dir DIR (data_dir= in Python), set {ENV_DATA_DIR}=DIR, "
        f"or put {folder} in {cache}"
    )


def _explicit(data_dir: Path | None) -> tuple[Path, str] | None:
    if data_dir is not None:
        return Path(data_dir).expanduser(), "--data-dir"
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser(), ENV_DATA_DIR
    return None


def missing_mitdb_files(directory: Path, records: Sequence[str] = MITDB_RECORDS) -> list[str]:
    """Names of the record files (``NNN.hea/.dat/.atr``) absent from ``directory``."""
    return [
        f"{record}{ext}"
        for record in records
        for ext in RECORD_EXTENSIONS
        if not (directory / f"{record}{ext}").is_file()
    ]


def _name_some(names: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def find_mitdb(data_dir: Path | None = None) -> Path:
    """The folder holding the 48 MIT-BIH records, downloading them into the cache if needed.

    A given folder (argument or ``MADS_ZOO_DATA_DIR``) may be the records' folder itself or a
    parent with a ``mitdb/`` subfolder; it must hold every record, and missing files are named.
    """
    given = _explicit(data_dir)
    cached = cache_dir() / "mitdb"
    if given is None:
        if not missing_mitdb_files(cached):
            return cached
        download_mitdb(cached)
        return cached
    directory, source = given
    if directory.exists() and not directory.is_dir():
        raise DataNotFoundError(
            f"the data folder {directory} (from {source}) is a file, not a folder; "
            + _ways("the MIT-BIH records", cached)
        )
    if not directory.is_dir():
        raise DataNotFoundError(
            f"the data folder {directory} (from {source}) does not exist; "
            + _ways("the MIT-BIH records", cached)
        )
    if not (directory / "100.hea").exists() and (directory / "mitdb").is_dir():
        directory = directory / "mitdb"
    missing = missing_mitdb_files(directory)
    if missing:
        raise DataNotFoundError(
            f"{len(missing)} MIT-BIH record files are missing from {directory} (from {source}): "
            f"{_name_some(missing)}; copy the complete records there or "
            + _ways("the records", cached)
        )
    return directory


def download_mitdb(target: Path) -> None:
    """Download the 48 MIT-BIH records from PhysioNet into ``target``.

    Files go to a temporary sibling folder, which becomes ``target`` only once every file has
    arrived; on any failure it is removed, so nothing half-downloaded is left behind.
    """
    from wfdb.io import download

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=target.parent))
    names = [f"{r}{ext}" for r in MITDB_RECORDS for ext in RECORD_EXTENSIONS]
    base = download.config.db_index_url.rstrip("/") + f"/mitdb/{MITDB_VERSION}/"
    task = "downloading MIT-BIH from PhysioNet"
    try:
        for done, name in enumerate(names):
            report(task, done, len(names))
            download.dl_full_file(base + name, str(partial / name))
        report(task, len(names), len(names))
        if target.exists():
            shutil.rmtree(target)
        os.replace(partial, target)
    except Exception as error:
        raise DataNotFoundError(
            f"the MIT-BIH records are not on this machine and downloading them from {base} "
            f"failed ({type(error).__name__}); "
            + _ways("the 48 records (NNN.hea/.dat/.atr)", target)
        ) from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def find_files(dataset: str, names: Sequence[str], data_dir: Path | None = None) -> Path:
    """The folder holding every file in ``names`` for ``dataset`` (no download)."""
    given = _explicit(data_dir)
    directory, source = given or (cache_dir() / dataset, "the cache")
    missing = [name for name in names if not (directory / name).is_file()]
    if missing:
        raise DataNotFoundError(
            f"dataset {dataset!r} needs {' and '.join(names)} in one folder; "
            f"{_name_some(missing)} not found in {directory} (from {source}); "
            + _ways("them", cache_dir() / dataset)
        )
    return directory
