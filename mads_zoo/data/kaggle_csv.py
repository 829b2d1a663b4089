"""The ``kaggle-csv`` dataset: the Kaggle "ECG Heartbeat Categorization" MIT-BIH files.

``mitbih_train.csv`` and ``mitbih_test.csv``: no header, one beat per line, 187 values in
[0, 1] then the label 0..4 (N S V F Q). The files fix their own train/test split (Kachuee et
al. 2018), which the ``intra`` split keeps; they carry no record ids, so ``inter`` is not
available.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mads_zoo.data.beats import Beats
from mads_zoo.data.locate import find_files
from mads_zoo.data.tables import TablePart, beats_from_tables
from mads_zoo.errors import DataError

FILES = {"train": "mitbih_train.csv", "test": "mitbih_test.csv"}


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The beat values ``(n, columns - 1)`` and labels ``(n,)`` of one headerless CSV file."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    options = pcsv.ReadOptions(autogenerate_column_names=True)
    try:
        table = pcsv.read_csv(path, read_options=options)
        columns = [
            column.cast(pa.float64()).to_numpy(zero_copy_only=False) for column in table.columns
        ]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        detail = str(error).splitlines()[0][:160]
        raise DataError(
            f"{path.name} is not a CSV of numbers with the same width on every line ({detail})"
        ) from error
    matrix = np.column_stack(columns) if columns else np.zeros((0, 0))
    return matrix[:, :-1], (matrix[:, -1] if matrix.shape[1] else np.zeros(0))


def load(data_dir: Path | None = None) -> Beats:
    """The ``kaggle-csv`` dataset's ``load``: both files, each row tagged with its file's fold.

    ``data_dir`` (else ``MADS_ZOO_DATA_DIR``, else ``<cache>/kaggle-csv``) holds the two files.
    """
    directory = find_files("kaggle-csv", list(FILES.values()), data_dir)
    parts = []
    for fold, name in FILES.items():
        values, labels = read_csv(directory / name)
        parts.append(TablePart(directory / name, fold, values, labels, first_row=1, unit="line"))
    return beats_from_tables(parts)
