"""The builtin datasets, registered through the same hook a third-party plugin uses.

Only names and lazy references live here: the readers (numpy, wfdb, scipy, pyarrow) are
imported when a dataset is first loaded, never by ``mads-zoo list``.
"""

from __future__ import annotations

from mads_zoo.hookspecs import Register, hookimpl
from mads_zoo.lazy import lazy
from mads_zoo.specs import Dataset


@hookimpl
def register_datasets(register: Register) -> None:
    """Register the builtin datasets: MIT-BIH (two recipes), the course files, synthetic."""
    register(
        Dataset(
            "mitbih",
            lazy("mads_zoo.data.mitbih:load"),
            "MIT-BIH Arrhythmia Database: beats cut from the 48 WFDB records (Kachuee 2018 "
            "recipe), cached; downloaded from PhysioNet if absent.",
        )
    )
    register(
        Dataset(
            "mitbih-rhythm",
            lazy("mads_zoo.data.rhythm:load"),
            "MIT-BIH, rhythm-aware: an R-centred window of lead MLII (P wave included) and its "
            "difference from the patient's past beats, plus 10 RR features normalised by the "
            "patient's past rhythm; the inter split's default.",
        )
    )
    register(
        Dataset(
            "mitbih-rhythm-2lead",
            lazy("mads_zoo.data.rhythm:load_two_leads"),
            "MIT-BIH, rhythm-aware, both leads (MLII and the record's second lead), each with its "
            "difference from the patient's past beats, plus the 10 RR features.",
        )
    )
    register(
        Dataset(
            "kaggle-csv",
            lazy("mads_zoo.data.kaggle_csv:load"),
            "Kaggle 'ECG Heartbeat Categorization' files mitbih_train.csv / mitbih_test.csv "
            "(their own train/test split).",
        )
    )
    register(
        Dataset(
            "parquet",
            lazy("mads_zoo.data.parquet:load"),
            "The course's heart_big_train.parq / heart_big_test.parq (label column 'target').",
        )
    )
    register(
        Dataset(
            "synthetic",
            lazy("mads_zoo.data.synthetic:load"),
            "SYNTHETIC fake beats, seeded, MIT-BIH-like imbalance: for tests and smoke runs only.",
        )
    )
