"""mitbih: the beat recipe on the real records, bad records, where the records come from."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import files_under

from mads_zoo.data import load_beats, prepare_folds
from mads_zoo.data.locate import find_mitdb
from mads_zoo.data.mitbih import beats_from_signal, build_beats, cache_file, read_record
from mads_zoo.data.records import AAMI_LABEL, DS1, DS2, MITDB_RECORDS, PACED
from mads_zoo.data.spec import DataSpec
from mads_zoo.errors import DataError, DataNotFoundError
from mads_zoo.testing import check_dataset

#: Beat annotations per AAMI class in the 48 records (PhysioNet; checked below with wfdb).
ANNOTATED = {"N": 90_631, "S": 2_781, "V": 7_236, "F": 803, "Q": 8_043}
#: Beats whose window [R, R + 1.2 T) runs past the end of their record (docs/data.md).
DROPPED = {"N": 48, "S": 1, "V": 0, "F": 0, "Q": 4}


# --- the recipe ------------------------------------------------------------------------------


def test_windows_are_1_2_local_rr_long_and_flutter_waves_count_as_rr_only():
    rate, period = 360, 288  # 0.8 s between beats
    samples = np.arange(100, 100 + 100 * period, period)
    symbols = np.full(len(samples), "N")
    # flutter waves between beats 40..60 halve the RR there; rhythm and noise marks do not count
    flutter = samples[40:60] + period // 2
    extra = np.array([samples[70] + 10, samples[71] + 10])
    all_samples = np.concatenate([samples, flutter, extra])
    all_symbols = np.concatenate([symbols, np.full(len(flutter), "!"), np.array(["+", "~"])])
    order = np.argsort(all_samples, kind="stable")
    signal = np.random.default_rng(0).random(samples[-1] + 200) + 1.0
    x, keep, beat = beats_from_signal(signal, rate, all_samples[order], all_symbols[order])
    assert len(beat) == len(samples), "only the 100 N annotations are beats"
    window = round(1.2 * period * 125 / rate)  # 120 samples at 125 Hz
    assert window == 120
    assert (x[:10, window:] == 0).all() and (x[:10, :window] > 0).sum(axis=1).min() >= window - 1
    assert (x[50, 60:] == 0).all(), "inside the flutter episode the local RR is halved"
    assert x.min() == 0.0 and x.max() == 1.0 and x.dtype == np.float32
    assert not keep[-1] and keep[:-2].all(), "the last beat's window runs past the record's end"


def test_record_100_beats_keep_their_provenance(mitdb_dir):
    import wfdb

    part = read_record(mitdb_dir, "100")
    annotation = wfdb.rdann(str(mitdb_dir / "100"), "atr")
    beats = [
        (s, sym)
        for s, sym in zip(annotation.sample, annotation.symbol, strict=True)
        if sym in AAMI_LABEL
    ]
    assert part.lead == "MLII"
    assert len(part.y) + part.dropped.sum() == len(beats) == 2273
    assert part.dropped.tolist() == [2, 0, 0, 0, 0]
    assert part.sample.tolist() == [s for s, _ in beats[: len(part.y)]]
    assert part.symbol.tolist() == [sym for _, sym in beats[: len(part.y)]]
    assert part.y.tolist() == [AAMI_LABEL[sym] for sym in part.symbol]
    assert part.x.shape == (2271, 187) and part.x.min() == 0 and part.x.max() == 1  # one lead


def test_the_lead_is_mlii_wherever_a_record_has_it(mitdb_dir):
    assert read_record(mitdb_dir, "114").lead == "MLII"  # MLII is 114's second channel
    assert read_record(mitdb_dir, "102").lead == "V5"  # 102 has no MLII


# --- bad records -----------------------------------------------------------------------------


def truncate(path: Path, size: int) -> None:
    data = path.read_bytes()[:size]
    path.unlink()
    path.write_bytes(data)


def replace(path: Path, text: str) -> None:
    path.unlink()
    path.write_text(text)


def test_missing_record_files_are_named(mitdb_links, tmp_cache):
    (mitdb_links / "100.dat").unlink()
    (mitdb_links / "203.atr").unlink()
    with pytest.raises(DataNotFoundError) as error:
        load_beats("mitbih", mitdb_links)
    message = str(error.value)
    assert "2 MIT-BIH record files are missing from" in message
    assert "100.dat, 203.atr" in message and "(from --data-dir)" in message
    assert files_under(tmp_cache) == []


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda d: truncate(d / "105.dat", 1_000_000),
            "record 105: 105.dat is truncated (1,000,000 bytes, expected 1,950,000)",
        ),
        (
            lambda d: replace(d / "101.hea", "garbage\n"),
            "record 101: the header 101.hea is corrupt",
        ),
        (lambda d: replace(d / "101.hea", "101 0 360 650000\n"), "101.hea declares no signals"),
        (lambda d: truncate(d / "232.atr", 100), "record 232: 232.atr is truncated"),
    ],
)
def test_broken_records_give_one_clear_error_and_no_cache(mitdb_links, tmp_cache, damage, message):
    damage(mitdb_links)
    started = time.perf_counter()
    with pytest.raises(DataError) as error:
        prepare_folds(DataSpec("mitbih", "intra", "smote"), data_dir=mitdb_links)
    assert message in str(error.value)
    assert "download the record again" in str(error.value) and "\n" not in str(error.value)
    assert time.perf_counter() - started < 5, "files are checked before any signal is read"
    assert files_under(tmp_cache) == []


def test_a_changed_record_file_gets_a_new_cache_entry(mitdb_links):
    before = cache_file(mitdb_links)
    truncate(mitdb_links / "100.atr", 10**9)  # a real copy, same bytes, a new mtime
    os.utime(mitdb_links / "100.atr", ns=(1, 1))
    assert cache_file(mitdb_links) != before


def test_build_beats_reads_a_subset(mitdb_dir):
    beats = build_beats(mitdb_dir, ("100", "207"))
    assert set(beats.record) == {"100", "207"}
    assert "!" not in set(beats.symbol), "flutter waves are not beats"
    assert beats.meta["leads"] == {"100": "MLII", "207": "MLII"}


# --- where the records come from -------------------------------------------------------------


def test_data_dir_may_be_the_records_folder_or_its_parent(mitdb_dir, monkeypatch):
    monkeypatch.setenv("MADS_ZOO_DATA_DIR", str(mitdb_dir))
    assert find_mitdb() == mitdb_dir
    if mitdb_dir.name == "mitdb":
        monkeypatch.setenv("MADS_ZOO_DATA_DIR", str(mitdb_dir.parent))
        assert find_mitdb() == mitdb_dir
    assert find_mitdb(mitdb_dir) == mitdb_dir
    with pytest.raises(DataNotFoundError, match=r"nowhere \(from --data-dir\) does not exist"):
        find_mitdb(mitdb_dir / "nowhere")


def test_records_in_the_cache_are_used_without_a_download(mitdb_dir, tmp_cache, monkeypatch):
    monkeypatch.delenv("MADS_ZOO_DATA_DIR", raising=False)
    cached = tmp_cache / "mitdb"
    cached.mkdir()
    for name in os.listdir(mitdb_dir):
        (cached / name).symlink_to(mitdb_dir / name)
    assert find_mitdb() == cached


def test_offline_without_records_names_the_three_ways(tmp_cache, monkeypatch):
    from wfdb.io import download

    monkeypatch.delenv("MADS_ZOO_DATA_DIR", raising=False)
    monkeypatch.setattr(download.config, "db_index_url", "http://127.0.0.1:9/")
    with pytest.raises(DataNotFoundError) as error:
        load_beats("mitbih")
    message = str(error.value)
    assert "downloading them from http://127.0.0.1:9/mitdb/1.0.0/ failed" in message
    assert "--data-dir" in message and "MADS_ZOO_DATA_DIR" in message
    assert str(tmp_cache / "mitdb") in message
    assert list(tmp_cache.iterdir()) == [], "nothing half-downloaded is left"


# --- all 48 records (slow: built once per session) -------------------------------------------


@pytest.mark.slow
def test_the_annotation_counts_are_the_published_ones(mitdb_dir):
    import wfdb

    counts = dict.fromkeys(ANNOTATED, 0)
    names = "NSVFQ"
    for record in MITDB_RECORDS:
        for symbol in wfdb.rdann(str(mitdb_dir / record), "atr").symbol:
            if symbol in AAMI_LABEL:
                counts[names[AAMI_LABEL[symbol]]] += 1
    assert counts == ANNOTATED and sum(counts.values()) == 109_494


@pytest.mark.slow
def test_all_48_records_give_every_annotated_beat_minus_the_edge_beats(
    mitbih_cache, prepared_mitbih, mitdb_dir
):
    _, cold_seconds = prepared_mitbih
    started = time.perf_counter()
    beats = load_beats("mitbih", mitdb_dir)
    cached_seconds = time.perf_counter() - started
    print(f"\ncold prepare {cold_seconds:.1f} s, cached load {cached_seconds:.2f} s")
    expected = {name: ANNOTATED[name] - DROPPED[name] for name in ANNOTATED}
    assert dict(zip("NSVFQ", beats.counts().tolist(), strict=True)) == expected
    assert expected == {"N": 90_583, "S": 2_780, "V": 7_236, "F": 803, "Q": 8_039}
    assert len(beats) == 109_441 == 109_494 - 53
    assert dict(beats.meta["dropped_edge_beats"]) == DROPPED
    assert sorted(set(beats.record)) == list(MITDB_RECORDS)
    leads = beats.meta["leads"]
    assert {r for r, lead in leads.items() if lead != "MLII"} == {"102", "104"}
    assert beats.x.shape == (109_441, 1, 187) and beats.x.min() == 0 and beats.x.max() == 1
    assert beats.signature.describe() == "1 channel x 187 samples, no features"
    assert cold_seconds < 60 and cached_seconds < 2
    assert check_dataset("mitbih", mitdb_dir) == expected


@pytest.mark.slow
def test_intra_keeps_class_shares_within_half_a_point(mitbih_cache, mitdb_dir):
    folds = prepare_folds(DataSpec("mitbih", "intra"), data_dir=mitdb_dir)
    counts = folds.counts()
    overall = folds.beats.counts() / len(folds.beats)
    for fold in (counts.train, counts.val, counts.test):
        shares = np.array(list(fold.values())) / sum(fold.values())
        assert np.abs(shares - overall).max() < 0.005, fold
    assert sum(counts.test.values()) == 21_889
    assert sum(counts.train.values()) + sum(counts.val.values()) == 87_552


@pytest.mark.slow
def test_inter_separates_patients(mitbih_cache, mitdb_dir):
    folds = prepare_folds(DataSpec("mitbih", "inter"), data_dir=mitdb_dir)
    record = folds.beats.record
    train, val = set(record[folds.train_rows]), set(record[folds.val.rows])
    test = set(record[folds.final_test().rows])
    assert not set(DS1) & set(DS2)
    assert train | val == set(DS1) and test == set(DS2)
    assert not (train | val) & test and not train & val
    assert not (train | val | test) & set(PACED)
    assert folds.val_strategy == "record-wise: DS1 records 124, 201, 205, 223"
    assert set(folds.beats.y[folds.train_rows]) == {0, 1, 2, 3}  # Q (8 DS1 beats) left out
    val_counts = np.bincount(folds.val.y, minlength=5).tolist()
    assert val_counts == [7_783, 235, 789, 32, 0]  # S, V and F from 3 patients or more
    val_rows = folds.val.rows
    for label in (1, 2, 3):
        holding = np.unique(record[val_rows][folds.beats.y[val_rows] == label], return_counts=True)
        assert (holding[1] >= 5).sum() >= 3, (label, holding)


@pytest.mark.slow
def test_smote_on_the_full_intra_training_fold(mitbih_cache, mitdb_dir):
    from mads_zoo.registry import get_registry

    plain = prepare_folds(DataSpec("mitbih", "intra"), data_dir=mitdb_dir)
    x, y = plain.train.x[:, 0], plain.train.y
    started = time.perf_counter()
    _, y_out = get_registry().sampler("smote").build(0).fit_resample(x, y)
    seconds = time.perf_counter() - started
    print(f"\nSMOTE on {len(y):,} training beats: {seconds:.1f} s")
    assert np.bincount(y_out).tolist() == [65_219] * 5 and seconds < 30
    folds = prepare_folds(DataSpec("mitbih", "intra", "smote"), data_dir=mitdb_dir)
    assert list(folds.resampled_counts().values()) == [65_219] * 5
    assert np.array_equal(folds.train_rows, plain.train_rows)
    assert list((mitbih_cache / "resampled").glob("mitbih-intra-smote-seed0-*.npz"))


@pytest.mark.slow
def test_missing_records_are_downloaded_into_the_cache(mitdb_dir, tmp_path, tmp_cache, monkeypatch):
    import functools
    import http.server
    import threading

    from wfdb.io import download

    from mads_zoo.data.progress import reporting

    site = tmp_path / "physionet"
    (site / "mitdb").mkdir(parents=True)
    (site / "mitdb" / "1.0.0").symlink_to(mitdb_dir)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.delenv("MADS_ZOO_DATA_DIR", raising=False)
    monkeypatch.setattr(download.config, "db_index_url", f"http://127.0.0.1:{server.server_port}/")
    reports = []
    try:
        with reporting(lambda task, done, total: reports.append((task, done, total))):
            assert find_mitdb() == tmp_cache / "mitdb"
    finally:
        server.shutdown()
    assert sorted(p.name for p in (tmp_cache / "mitdb").iterdir())[:3] == [
        "100.atr",
        "100.dat",
        "100.hea",
    ]
    assert (tmp_cache / "mitdb" / "234.dat").read_bytes() == (mitdb_dir / "234.dat").read_bytes()
    assert [p.name for p in tmp_cache.iterdir()] == ["mitdb"], "no temporary folder is left"
    assert reports[-1] == ("downloading MIT-BIH from PhysioNet", 144, 144)
