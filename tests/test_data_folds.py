"""prepare_folds: the sampler sees the training fold only, results are cached, test is apart."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import files_under

import mads_zoo
from mads_zoo.data import load_beats, prepare_folds
from mads_zoo.errors import PluginError, UnknownNameError
from mads_zoo.testing import check_sampler


class Spy:
    """A sampler that records what it was given and duplicates the rarest class once."""

    calls: list = []

    def __init__(self, seed):
        self.seed = seed

    def fit_resample(self, X, y):
        Spy.calls.append((X.copy(), y.copy()))
        rare = np.argmin(np.bincount(y, minlength=5) + (np.bincount(y, minlength=5) == 0) * 10**9)
        extra = np.flatnonzero(y == rare)
        return np.concatenate([X, X[extra]]), np.concatenate([y, y[extra]])


@pytest.fixture
def spy():
    Spy.calls = []
    return mads_zoo.Sampler("spy", Spy, "records its input")


@pytest.mark.parametrize("split", ["intra", "inter"])
def test_the_sampler_sees_only_training_rows(spy, split):
    beats = load_beats("synthetic")
    folds = prepare_folds("synthetic", split, spy, seed=2)
    ((seen_x, seen_y),) = Spy.calls
    seen = {row.tobytes() for row in seen_x}
    assert len(seen) == len(seen_x) == folds.train_size_before, "one call, every training row"
    assert seen == {row.tobytes() for row in beats.x[folds.train_rows]}
    for other in (folds.val.rows, folds.final_test().rows):
        assert seen.isdisjoint(row.tobytes() for row in beats.x[other])
    assert np.array_equal(seen_y, beats.y[folds.train_rows])
    assert len(folds.train) == folds.train_size_before + int(np.bincount(seen_y).min())
    assert folds.train.rows is None, "resampled rows come from no single beat"


def test_resampling_is_cached_per_seed_and_reused(spy, tmp_cache):
    first = prepare_folds("synthetic", "intra", spy, seed=0)
    again = prepare_folds("synthetic", "intra", spy, seed=0)
    assert len(Spy.calls) == 1, "the second call must come from the cache"
    assert np.array_equal(first.train.x, again.train.x)
    assert np.array_equal(first.train.y, again.train.y)
    prepare_folds("synthetic", "intra", spy, seed=1)
    assert len(Spy.calls) == 2
    names = sorted(p.name for p in files_under(tmp_cache))
    assert len(names) == 2 and all(n.startswith("synthetic-intra-spy-seed") for n in names)


def test_a_failing_sampler_is_named_and_leaves_no_cache(tmp_cache):
    class Broken:
        def fit_resample(self, X, y):
            raise ValueError("boom")

    sampler = mads_zoo.Sampler("broken", lambda seed: Broken())
    with pytest.raises(PluginError, match=r"sampler 'broken' failed on the synthetic-intra .*boom"):
        prepare_folds("synthetic", "intra", sampler)
    wrong = mads_zoo.Sampler(
        "wrong", lambda seed: type("W", (), {"fit_resample": lambda s, X, y: (X[:, :5], y)})()
    )
    with pytest.raises(PluginError, match=r"sampler 'wrong' returned X \(\d+, 5\)"):
        prepare_folds("synthetic", "intra", wrong)
    assert files_under(tmp_cache) == []


@pytest.mark.parametrize("name", ["random-over", "random-under", "smote", "adasyn"])
def test_builtin_samplers_balance_the_training_fold_deterministically(name):
    folds = prepare_folds("synthetic", "inter", name, seed=0)
    again = prepare_folds("synthetic", "inter", name, seed=0)
    assert np.array_equal(folds.train.x, again.train.x)
    counts = folds.counts()
    assert counts["train resampled"].min() > 0
    if name == "adasyn":  # ADASYN only approximately balances
        assert counts["train resampled"].min() > 0.8 * counts["train resampled"].max()
    else:
        assert len(set(counts["train resampled"].tolist())) == 1
    assert np.array_equal(counts["val"], np.bincount(folds.val.y, minlength=5))
    assert (
        folds.train.x.dtype == np.float32 and folds.train.x.min() >= 0 and folds.train.x.max() <= 1
    )


def test_smote_and_adasyn_cope_with_a_class_rarer_than_their_neighbours():
    for name in ("smote", "adasyn"):
        counts = check_sampler(name)
        assert len(counts) == 5
    from mads_zoo.registry import get_registry

    x = np.random.default_rng(0).random((60, 187), dtype=np.float32)
    y = np.array([0] * 40 + [1] * 17 + [2] * 3, dtype=np.int64)
    resampler = get_registry().sampler("smote").build(0)
    assert "smote" in repr(resampler).lower()
    _, y_out = resampler.fit_resample(x, y)
    assert np.bincount(y_out).tolist() == [40, 40, 40]


def test_folds_shapes_layouts_and_the_held_out_test():
    folds = prepare_folds("synthetic", "intra", "none", layout="2d", seed=0)
    assert folds.input_shape == (1, 16, 12)
    assert folds.train.x.shape == (len(folds.train_rows), 1, 16, 12)
    assert folds.train.rows is folds.train_rows or np.array_equal(
        folds.train.rows, folds.train_rows
    )
    test = folds.final_test()
    assert "_test" not in repr(folds) and "test" not in [
        f for f in vars(folds) if not f.startswith("_")
    ]
    assert test.x.shape[1:] == (1, 16, 12)
    total = len(folds.train_rows) + len(folds.val) + len(test)
    assert total == len(folds.beats)
    assert folds.counts()["test"].sum() == len(test)


def test_unknown_names_are_refused_before_any_data_is_read(tmp_cache):
    with pytest.raises(UnknownNameError, match="unknown dataset 'mitbh'; did you mean 'mitbih'"):
        prepare_folds("mitbh")
    with pytest.raises(UnknownNameError, match="unknown split 'inetr'"):
        prepare_folds("mitbih", "inetr")
    with pytest.raises(UnknownNameError, match="unknown sampler 'smot'; did you mean 'smote'"):
        prepare_folds("mitbih", "intra", "smot")
    with pytest.raises(UnknownNameError, match="unknown layout '3d'"):
        prepare_folds("mitbih", "intra", "none", layout="3d")
    assert files_under(tmp_cache) == []


def test_a_plugin_dataset_returning_the_wrong_thing_is_named(monkeypatch):
    from mads_zoo.data import folds as folds_module

    bad = mads_zoo.Dataset("bad-data", lambda data_dir: {"x": 1})
    monkeypatch.setattr(folds_module, "_registry_dataset", lambda name: bad)
    with pytest.raises(PluginError, match="dataset 'bad-data': load returned a dict"):
        load_beats("bad-data")
    crashing = mads_zoo.Dataset("crash", lambda data_dir: 1 / 0)
    monkeypatch.setattr(folds_module, "_registry_dataset", lambda name: crashing)
    with pytest.raises(PluginError, match="dataset 'crash' failed to load: ZeroDivisionError"):
        load_beats("crash")


def test_the_builtin_datasets_meet_the_dataset_contract():
    from mads_zoo.testing import check_dataset

    assert check_dataset("synthetic") == {"N": 4966, "S": 152, "V": 397, "F": 44, "Q": 441}
