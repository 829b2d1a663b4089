"""Bad input data never becomes a number: modified records, bad values, empty folds, bad cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import files_under, one_line_error
from test_data_readers import kaggle_dir, parquet_dir, table

from mads_zoo.data import Beats, mitbih, prepare_folds, verify
from mads_zoo.data.cache import load_arrays
from mads_zoo.data.records import MITDB_RECORDS, RECORD_EXTENSIONS
from mads_zoo.data.spec import DataSpec
from mads_zoo.errors import DataError

#: A subset that keeps the mitbih builds here well under a second each.
SUBSET = ("100", "105")


def write_copy(path: Path, data: bytes) -> None:
    """Replace ``path`` (a link to a real record file) by a modified copy."""
    path.unlink()
    path.write_bytes(data)


@pytest.fixture
def subset(monkeypatch):
    """Build only SUBSET of the (still complete) record folder."""
    monkeypatch.setattr(mitbih, "MITDB_RECORDS", SUBSET)


# --- MIT-BIH records that are not PhysioNet's ------------------------------------------------


def shorten_header(links: Path) -> None:
    text = (links / "105.hea").read_text().replace("105 2 360 650000", "105 2 360 600000", 1)
    write_copy(links / "105.hea", text.encode())


def swap_annotations(links: Path) -> None:
    write_copy(links / "105.atr", (links / "106.atr").read_bytes())


@pytest.mark.parametrize(
    ("damage", "name", "beats"),
    [(shorten_header, "105.hea", 2_271 + 2_369), (swap_annotations, "105.atr", 2_271 + 2_026)],
)
def test_a_modified_record_is_refused_unless_no_verify(
    cli, mitdb_links, tmp_cache, subset, damage, name, beats
):
    damage(mitdb_links)
    args = ("data", "prepare", "mitbih", "--data-dir", str(mitdb_links))
    one_line_error(
        cli(*args),
        f"record 105: {name} does not match its PhysioNet SHA-256 (a modified or corrupt "
        "copy?); pass --no-verify to use it anyway",
    )
    assert files_under(tmp_cache) == [], "no cache entry for refused records"

    result = cli(*args, "--no-verify")
    assert result.returncode == 0, result.stderr
    assert f"mitbih: {beats:,} beats" in result.stdout, "the modified copy is used as it is"
    assert len(files_under(tmp_cache)) == 1
    assert verify.verification_enabled(), "--no-verify ends with its command"

    # the unverified cache entry must not be picked up
    one_line_error(cli(*args), f"record 105: {name} does not match")


def test_a_verified_cache_entry_also_serves_no_verify(mitdb_links, subset):
    verified = mitbih.load(mitdb_links)
    assert verified.meta["verified"] is True and len(verified) == 2_271 + 2_571
    with verify.verifying(False):
        assert mitbih.load(mitdb_links).meta["verified"] is True, "the verified entry is reused"
    assert mitbih.cache_file(mitdb_links, SUBSET) != mitbih.cache_file(
        mitdb_links, SUBSET, verified=False
    )


def test_the_shipped_tables_cover_every_record():
    sums = verify.published_sums()
    assert sorted(sums) == sorted(f"{r}{ext}" for r in MITDB_RECORDS for ext in RECORD_EXTENSIONS)
    assert all(len(sha) == 64 for sha in sums.values())
    assert sorted(verify.BEATS_PER_RECORD) == list(MITDB_RECORDS)
    assert sum(verify.BEATS_PER_RECORD.values()) == 109_441


def test_a_record_with_an_unexpected_beat_count_is_refused(mitdb_dir, monkeypatch):
    monkeypatch.setattr(verify, "BEATS_PER_RECORD", {**verify.BEATS_PER_RECORD, "100": 2_270})
    with pytest.raises(DataError) as error:
        mitbih.build_beats(mitdb_dir, ("100",))
    assert str(error.value) == (
        "record 100: 2,271 beats cut where PhysioNet's copy gives 2,270; "
        "pass --no-verify to use it anyway"
    )
    assert len(mitbih.build_beats(mitdb_dir, ("100",), verify=False)) == 2_271


def test_a_garbage_dat_of_the_right_size_is_named_correctly(cli, mitdb_links, tmp_cache, subset):
    size = (mitdb_links / "105.dat").stat().st_size
    write_copy(mitdb_links / "105.dat", np.random.default_rng(0).bytes(size))
    args = ("data", "prepare", "mitbih", "--data-dir", str(mitdb_links))
    one_line_error(cli(*args), "record 105: 105.dat does not match its PhysioNet SHA-256")
    line = one_line_error(
        cli(*args, "--no-verify"), "record 105: 105.dat holds 149 invalid samples in lead MLII"
    )
    assert "the header says" not in line and "(the first at sample " in line
    assert files_under(tmp_cache) == []


# --- beat values at every reader --------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "make", "where"),
    [
        ("kaggle-csv", kaggle_dir, "mitbih_train.csv: {what} (first outside in line 3)"),
        ("parquet", parquet_dir, "heart_big_train.parq: {what} (first outside in row 2)"),
    ],
)
def test_beat_values_outside_0_1_name_the_file_and_row(
    cli, tmp_path, tmp_cache, dataset, make, where
):
    bad = table(slice(0, 240))
    bad[2, 10] = -0.5
    folder = make(tmp_path / "files", train=bad)
    result = cli("data", "prepare", dataset, "--data-dir", str(folder))
    what = "beat values must be scaled to [0, 1], found values from -0.5 to 1"
    one_line_error(result, where.format(what=what))
    assert files_under(tmp_cache) == []


def test_a_record_with_bad_beats_is_named(mitdb_dir, monkeypatch):
    def cut(*args):
        x, keep, beat = cut_beats(*args)
        x[7, 3] = np.nan
        return x, keep, beat

    cut_beats = mitbih.beats_from_signal
    monkeypatch.setattr(mitbih, "beats_from_signal", cut)
    with pytest.raises(
        DataError, match=r"^record 100 has 1 NaN or infinite values \(first in beat 7"
    ):
        mitbih.read_record(mitdb_dir, "100")


# --- folds too small to be folds --------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "make"), [("kaggle-csv", kaggle_dir), ("parquet", parquet_dir)]
)
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "the validation fold is empty: the training part has too few beats (1)"),
        (["--val-fraction", "0.5"], "the training fold is empty: validation took all 1 beats"),
    ],
)
def test_one_beat_per_file_is_one_error_line(
    cli, tmp_path, tmp_cache, dataset, make, options, message
):
    folder = make(tmp_path / "files", train=table(slice(0, 1)), test=table(slice(1, 2)))
    result = cli("data", "info", dataset, "--data-dir", str(folder), *options)
    one_line_error(result, f"dataset {dataset!r}: {message}")
    assert files_under(tmp_cache) == []


def test_training_on_an_empty_validation_fold_is_refused(cli, tmp_path, tmp_cache):
    folder = kaggle_dir(tmp_path / "files", train=table(slice(0, 1)), test=table(slice(1, 2)))
    out = tmp_path / "run"
    result = cli(
        "train", "1dcnngru", "--dataset", "kaggle-csv", "--data-dir", str(folder), "--out", str(out)
    )
    one_line_error(result, "dataset 'kaggle-csv': the validation fold is empty")
    assert not out.exists() and files_under(tmp_cache) == []


def test_a_tiny_synthetic_test_part_is_refused():
    from mads_zoo.data.splits import split_rows
    from mads_zoo.data.synthetic import make_beats

    one = make_beats(size=6)
    beats = Beats(x=one.x[:1], y=one.y[:1])
    with pytest.raises(DataError, match="the test fold is empty: 1 beats are too few"):
        split_rows(beats, "intra")


# --- invalid cache entries are rebuilt, never used -------------------------------------------


def corrupt(path: Path, change) -> None:
    arrays = load_arrays(path)
    change(arrays)
    with open(path, "wb") as out:
        np.savez(out, **arrays)


def nan_beat(a):
    a["x"].reshape(len(a["x"]), -1)[3, 5] = np.nan


def label_9(a):
    a["y"][0] = 9


def narrow(a):
    a["x"] = np.ascontiguousarray(a["x"][:, :100])


def short_y(a):
    a["y"] = a["y"][:-1]


def float64(a):
    a["x"] = a["x"].astype(np.float64)


def no_y(a):
    del a["y"]


#: (A value outside [0, 1] is no corruption: signals are any finite values, their scale the
#: dataset's choice.)
CORRUPTIONS = [nan_beat, label_9, narrow, short_y, float64, no_y]


@pytest.mark.parametrize("change", CORRUPTIONS, ids=lambda f: f.__name__)
def test_a_bad_resampled_entry_is_rebuilt(tmp_cache, caplog, change):
    spec = DataSpec("synthetic", "intra", "random-over")
    good = prepare_folds(spec)
    (entry,) = (tmp_cache / "resampled").iterdir()
    corrupt(entry, change)
    again = prepare_folds(spec)
    assert np.array_equal(again.train.x, good.train.x)
    assert np.array_equal(again.train.y, good.train.y)
    (note,) = [r.getMessage() for r in caplog.records]
    assert f"the cache entry {entry} is invalid" in note and note.endswith("; rebuilding it")
    rebuilt = load_arrays(entry)
    assert np.array_equal(rebuilt["x"], good.train.x[:, 0])


@pytest.mark.parametrize("change", [nan_beat, label_9, no_y], ids=lambda f: f.__name__)
def test_a_bad_beats_entry_is_rebuilt(mitdb_links, tmp_cache, subset, caplog, change):
    good = mitbih.load(mitdb_links)
    (entry,) = (tmp_cache / "beats").iterdir()
    corrupt(entry, change)
    again = mitbih.load(mitdb_links)
    assert np.array_equal(again.x, good.x) and np.array_equal(again.y, good.y)
    (note,) = [r.getMessage() for r in caplog.records]
    assert f"the cache entry {entry} is invalid" in note
    assert np.array_equal(load_arrays(entry)["y"], good.y)


def test_train_and_evaluate_on_a_modified_copy_need_no_verify(cli, mitdb_links, subset, tmp_path):
    """Every command that prepares records takes --no-verify; without it, each refuses."""
    swap_annotations(mitdb_links)
    out = tmp_path / "run"
    train = (
        "train",
        "2dcnn",
        "--data-dir",
        str(mitdb_links),
        "--max-steps",
        "1",
        "--out",
        str(out),
    )
    one_line_error(cli(*train), "record 105: 105.atr does not match")
    assert not out.exists()
    assert cli(*train, "--no-verify").returncode == 0
    evaluate = ("evaluate", str(out / "model.pt"), "--data-dir", str(mitdb_links))
    one_line_error(cli(*evaluate), "record 105: 105.atr does not match")
    assert not (out / "metrics-test.json").exists()
    assert cli(*evaluate, "--no-verify").returncode == 0
    assert (out / "metrics-test.json").is_file()
