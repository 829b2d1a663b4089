"""The ``parquet`` dataset: the course's ``heart_big_train.parq`` and ``heart_big_test.parq``.

Each file holds one beat per row: 187 numeric value columns (in file order) and the label
column ``target`` (0..4, N S V F Q). Like ``kaggle-csv``, the files fix their own train/test
split and carry no record ids.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mads_zoo.data.beats import Beats
from mads_zoo.data.locate import find_files
from mads_zoo.data.tables import TablePart, beats_from_tables
from mads_zoo.errors import DataError

FILES = {"train": "heart_big_train.parq", "test": "heart_big_test.parq"}
LABEL_COLUMN = "target"


def read_parquet(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The value columns ``(n, k)`` and the ``target`` labels ``(n,)`` of one parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise DataError(f"{path.name} is not a readable parquet file ({error})") from error
    if LABEL_COLUMN not in table.column_names:
        shown = ", ".join(table.column_names[:5])
        raise DataError(f"{path.name} has no {LABEL_COLUMN!r} label column (columns: {shown}...)")
    try:
        columns = [
            table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
            for name in table.column_names
        ]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise DataError(f"{path.name} has a column that is not numeric ({error})") from error
    label = table.column_names.index(LABEL_COLUMN)
    values = [c for i, c in enumerate(columns) if i != label]
    matrix = np.column_stack(values) if values else np.zeros((table.num_rows, 0))
    return matrix, columns[label]


def load(data_dir: Path | None = None) -> Beats:
    """The ``parquet`` dataset's ``load``: both files, each row tagged with its file's fold.

    ``data_dir`` (else ``MADS_ZOO_DATA_DIR``, else ``<cache>/parquet``) holds the two files.
    """
    directory = find_files("parquet", list(FILES.values()), data_dir)
    parts = []
    for fold, name in FILES.items():
        values, labels = read_parquet(directory / name)
        parts.append(TablePart(directory / name, fold, values, labels))
    return beats_from_tables(parts)
