"""prepare_folds: the sampler sees the training fold only, results are cached, test is apart."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import files_under, write_distribution

from mads_zoo.data import load_beats, prepare_folds
from mads_zoo.data.spec import DataSpec
from mads_zoo.errors import ConfigError, PluginError, UnknownNameError
from mads_zoo.testing import check_sampler

#: A plugin with samplers and datasets that record, break or misbehave, installed per test.
SAMPLER_PLUGIN = """
import numpy as np

import mads_zoo


class Spy:
    \"\"\"Records what it was given and duplicates the rarest class once.\"\"\"

    calls = []

    def __init__(self, seed):
        self.seed = seed

    def fit_resample(self, X, y):
        Spy.calls.append((X.copy(), y.copy()))
        counts = np.bincount(y, minlength=5)
        rare = np.argmin(counts + (counts == 0) * 10**9)
        extra = np.flatnonzero(y == rare)
        return np.concatenate([X, X[extra]]), np.concatenate([y, y[extra]])


class Broken:
    def fit_resample(self, X, y):
        raise ValueError("boom")


class Narrow:
    def fit_resample(self, X, y):
        return X[:, :5], y


@mads_zoo.hookimpl
def register_samplers(register):
    register(mads_zoo.Sampler("spy", Spy, "records its input"))
    register(mads_zoo.Sampler("broken", lambda seed: Broken()))
    register(mads_zoo.Sampler("wrong", lambda seed: Narrow()))


@mads_zoo.hookimpl
def register_datasets(register):
    register(mads_zoo.Dataset("bad-data", lambda data_dir: {"x": 1}))
    register(mads_zoo.Dataset("crash", lambda data_dir: 1 / 0))
"""


@pytest.fixture
def spy(tmp_path, monkeypatch, fresh_registry):
    """The plugin above installed (only it); its ``Spy`` class, with no calls recorded yet."""
    module = f"zoo_spy_{abs(hash(str(tmp_path))) % 10**8}"
    site = write_distribution(tmp_path / "site", "zoo-spy", {module: SAMPLER_PLUGIN},
                              {"spy": module})  # fmt: skip
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("MADS_ZOO_PLUGINS", "zoo-spy")
    assert not fresh_registry.get_registry().broken
    spy_class = sys.modules[module].Spy
    spy_class.calls = []
    return spy_class


@pytest.mark.parametrize("split", ["intra", "inter"])
def test_the_sampler_sees_only_training_rows(spy, split):
    beats = load_beats("synthetic")
    folds = prepare_folds(DataSpec("synthetic", split, "spy", 2))
    ((seen_x, seen_y),) = spy.calls
    seen = {row.tobytes() for row in seen_x}
    assert len(seen) == len(seen_x) == folds.train_size_before, "one call, every training row"
    assert seen == {row.tobytes() for row in beats.x[folds.train_rows]}
    for other in (folds.val.rows, folds.final_test().rows):
        assert seen.isdisjoint(row.tobytes() for row in beats.x[other])
    assert np.array_equal(seen_y, beats.y[folds.train_rows])
    assert len(folds.train) == folds.train_size_before + int(np.bincount(seen_y).min())
    assert folds.train.rows is None, "resampled rows come from no single beat"


def test_resampling_is_cached_per_seed_and_reused(spy, tmp_cache):
    first = prepare_folds(DataSpec("synthetic", "intra", "spy", 0))
    again = prepare_folds(DataSpec("synthetic", "intra", "spy", 0))
    assert len(spy.calls) == 1, "the second call must come from the cache"
    assert np.array_equal(first.train.x, again.train.x)
    assert np.array_equal(first.train.y, again.train.y)
    prepare_folds(DataSpec("synthetic", "intra", "spy", 1))
    assert len(spy.calls) == 2
    names = sorted(p.name for p in files_under(tmp_cache))
    assert len(names) == 2 and all(n.startswith("synthetic-intra-spy-seed") for n in names)


def test_a_sampler_seed_reseeds_the_sampler_alone():
    spec = DataSpec("synthetic", "intra", "random-over", 0)
    same = prepare_folds(DataSpec("synthetic", "intra", "random-over", 0, sampler_seed=0))
    other = prepare_folds(DataSpec("synthetic", "intra", "random-over", 0, sampler_seed=7))
    base = prepare_folds(spec)
    assert spec.resample_seed == 0 and other.spec.resample_seed == 7
    assert np.array_equal(base.train.x, same.train.x)
    assert not np.array_equal(base.train.x, other.train.x)  # another resample of ...
    assert np.array_equal(base.train_rows, other.train_rows)  # ... the same training rows
    assert np.array_equal(base.val.rows, other.val.rows)
    assert np.array_equal(base.final_test().rows, other.final_test().rows)
    with pytest.raises(ConfigError, match="sampler_seed"):
        DataSpec(sampler_seed=-1)


def test_a_failing_sampler_is_named_and_leaves_no_cache(spy, tmp_cache):
    with pytest.raises(PluginError, match=r"sampler 'broken' failed on the synthetic-intra .*boom"):
        prepare_folds(DataSpec("synthetic", "intra", "broken"))
    with pytest.raises(PluginError, match=r"sampler 'wrong' returned X \(\d+, 5\)"):
        prepare_folds(DataSpec("synthetic", "intra", "wrong"))
    assert files_under(tmp_cache) == []


@pytest.mark.parametrize("name", ["random-over", "random-under", "smote", "adasyn"])
def test_builtin_samplers_balance_the_training_fold_deterministically(name):
    folds = prepare_folds(DataSpec("synthetic", "inter", name))
    again = prepare_folds(DataSpec("synthetic", "inter", name))
    assert np.array_equal(folds.train.x, again.train.x)
    resampled = list(folds.resampled_counts().values())[:4]
    assert folds.resampled_counts()["Q"] == 0  # inter leaves Q out of training and resampling
    assert min(resampled) > 0
    if name == "adasyn":  # ADASYN only approximately balances
        assert min(resampled) > 0.8 * max(resampled)
    else:
        assert len(set(resampled)) == 1
    assert list(folds.counts().val.values()) == np.bincount(folds.val.y, minlength=5).tolist()
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
    folds = prepare_folds(DataSpec("synthetic"), layout="2d")
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
    assert sum(folds.counts().test.values()) == len(test)
    tuning = folds.for_run(with_test=False)
    assert tuning.beats is None and tuning.train is folds.train
    with pytest.raises(RuntimeError, match="no test fold"):
        tuning.final_test()
    assert folds.for_run(with_test=True).final_test() is test


def test_unknown_names_are_refused_before_any_data_is_read(tmp_cache):
    with pytest.raises(UnknownNameError, match="unknown dataset 'mitbh'; did you mean 'mitbih'"):
        prepare_folds(DataSpec("mitbh"))
    with pytest.raises(UnknownNameError, match="unknown split 'inetr'"):
        prepare_folds(DataSpec("mitbih", "inetr"))
    with pytest.raises(UnknownNameError, match="unknown sampler 'smot'; did you mean 'smote'"):
        prepare_folds(DataSpec("mitbih", "intra", "smot"))
    with pytest.raises(UnknownNameError, match="unknown layout '3d'"):
        prepare_folds(DataSpec("mitbih"), layout="3d")
    assert files_under(tmp_cache) == []


def test_a_plugin_dataset_returning_the_wrong_thing_is_named(spy):
    with pytest.raises(PluginError, match="dataset 'bad-data': load returned a dict"):
        load_beats("bad-data")
    with pytest.raises(PluginError, match="dataset 'crash' failed to load: ZeroDivisionError"):
        load_beats("crash")


def test_the_builtin_datasets_meet_the_dataset_contract():
    from mads_zoo.testing import check_dataset

    assert check_dataset("synthetic") == {"N": 4966, "S": 152, "V": 397, "F": 44, "Q": 441}
