"""The rhythm-aware MIT-BIH beats: RR features from the past (and one beat ahead), windows
centred on R with the P wave, the patient's own scale and template, one or two leads."""

from __future__ import annotations

import numpy as np
import pytest

from mads_zoo.data import rhythm
from mads_zoo.data.folds import load_beats, prepare_folds
from mads_zoo.data.mitbih import read_signals
from mads_zoo.data.records import DS1
from mads_zoo.data.spec import DataSpec, InputSignature

RATE = 360.0


def test_rr_features_by_hand():
    qrs = np.array([0, 360, 720, 900, 1440, 1800])  # RR 1.0 1.0 0.5 1.5 1.0 s
    features, keep = rhythm.rr_features(qrs, qrs, RATE)
    assert keep.tolist() == [False, True, True, True, True, False]  # no previous / next beat
    pre, post, local, long, pre_n, post_n, local_n, long_n, pre_local, post_pre = features.T
    assert pre.tolist() == [1.0, 1.0, 0.5, 1.5] and post.tolist() == [1.0, 0.5, 1.5, 1.0]
    assert np.allclose(local, [1.0, 1.0, 2.5 / 3, 4.0 / 4])  # the last 10 beats, this one included
    assert np.allclose(long, local)  # 5 minutes hold every beat here
    average = np.array([1.0, 1.0, 2.5 / 3, 1.0])  # mean RR from the record's start to the beat
    assert np.allclose(pre_n, pre / average) and np.allclose(post_n, post / average)
    assert np.allclose(local_n, local / average) and np.allclose(long_n, long / average)
    assert np.allclose(pre_local, pre / local) and np.allclose(post_pre, post / pre)


def test_rr_features_use_the_past_and_only_one_beat_ahead():
    rng = np.random.default_rng(0)
    qrs = np.cumsum(rng.integers(200, 500, 400))
    changed = qrs.copy()
    changed[201:] += 150  # the beats after beat 200 come later
    before, _ = rhythm.rr_features(qrs, qrs[1:-1], RATE)
    after, _ = rhythm.rr_features(changed, changed[1:-1], RATE)
    ahead = [rhythm.FEATURES.index(name) for name in rhythm.LOOK_AHEAD]
    past = [i for i in range(len(rhythm.FEATURES)) if i not in ahead]
    row = 199  # beat 200 (row 199 of qrs[1:-1]) looks one beat ahead, at the changed interval
    assert np.array_equal(before[: row + 1, past], after[: row + 1, past])
    assert np.array_equal(before[:row, ahead], after[:row, ahead])
    assert not np.allclose(before[row, ahead], after[row, ahead])


def test_the_long_average_spans_five_minutes():
    qrs = np.arange(0, 360 * 700, 360)  # one beat a second for 700 s
    qrs[:100] = np.arange(0, 100 * 720, 720)[:100]  # the first 100 beats two seconds apart
    qrs[100:] = qrs[99] + 360 * np.arange(1, len(qrs) - 99)
    features, _ = rhythm.rr_features(qrs, qrs[600:601], RATE)
    column = dict(zip(rhythm.FEATURES, features[0], strict=True))
    assert column["rr_long"] == pytest.approx(1.0)  # 5 minutes back: only 1 s beats
    assert column["rr_local"] == pytest.approx(1.0)
    assert column["rr_pre_norm"] < 0.9  # the record's own average so far includes the 2 s beats


def test_the_template_is_made_of_earlier_beats_only():
    windows = np.random.default_rng(1).normal(size=(30, 2, 88))
    template = rhythm.past_template(windows)
    assert np.array_equal(template[0], windows[0])
    changed = windows.copy()
    changed[10] += 5.0
    again = rhythm.past_template(changed)
    assert np.array_equal(template[:11], again[:11]) and not np.allclose(template[11], again[11])


@pytest.mark.parametrize(("leads", "second"), [(1, None), (2, {"100": "V5", "114": "V5"})])
def test_records_give_centred_windows_rr_features_and_their_leads(mitdb_dir, leads, second):
    beats = rhythm.build_rhythm_beats(mitdb_dir, leads, ("100", "114"), verify=False)
    assert beats.x.shape == (len(beats), 2 * leads, rhythm.BEFORE_R + rhythm.AFTER_R)
    assert beats.feature_names == rhythm.FEATURES and np.isfinite(beats.features).all()
    recorded = beats.meta["leads"]
    assert [lead[0] for lead in recorded.values()] == ["MLII", "MLII"]  # 114's MLII is 2nd
    if second:
        assert {r: lead[1] for r, lead in recorded.items()} == second
    # the R peak sits at sample BEFORE_R: the largest deflection of a normal beat in lead MLII
    normal = beats.y == 0
    peak = np.abs(beats.x[normal, 0]).argmax(axis=1)
    assert np.median(peak) == rhythm.BEFORE_R
    signals = read_signals(mitdb_dir, "100")
    annotated = sum(s in rhythm.AAMI_LABEL for s in signals.symbols)
    dropped = sum(beats.meta["dropped_beats"].values())
    assert len(beats) + dropped == annotated + sum(
        s in rhythm.AAMI_LABEL for s in read_signals(mitdb_dir, "114").symbols
    )


@pytest.mark.slow
def test_inter_runs_see_the_rhythm_that_tells_s_from_n(mitdb_dir, cli, tmp_path, monkeypatch):
    """The defect of step 12: on unseen patients the input held no rhythm. Now the inter
    split's default data carries prematurity, and it separates S from N on DS1."""
    from mads_zoo.config import RunRequest, resolve_run

    spec = resolve_run(RunRequest("2dcnn", split="inter"))
    assert spec.data.dataset == "mitbih-rhythm"
    beats = load_beats(spec.data.dataset, mitdb_dir)
    ds1 = np.isin(beats.records, DS1)
    pre = beats.features[:, rhythm.FEATURES.index("rr_pre_norm")]
    s_early = np.mean(pre[ds1 & (beats.y == 1)] < 0.85)
    n_early = np.mean(pre[ds1 & (beats.y == 0)] < 0.85)
    assert s_early > 0.6 and n_early < 0.1, (s_early, n_early)
    folds = prepare_folds(spec.data, "2d", mitdb_dir)
    assert folds.input_shape == (2, 12, 8) and folds.train.feature_array.shape[1] == 10
    assert "Q" not in {folds.classes[c] for c in np.unique(folds.train.y)}
    assert DataSpec("mitbih", "inter").dataset == "mitbih"  # the Kaggle beats keep their name
    monkeypatch.setenv("MADS_ZOO_DATA_DIR", str(mitdb_dir))
    args = ["train", "2dcnn", "--split", "inter", "--max-steps", "1", "--set", "hidden=8"]
    result = cli(*args, "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    assert (
        "on mitbih-rhythm/inter with strategy class-weighted (sampler none, loss weighted-ce)"
        in (" ".join(result.stdout.split()))
    )
    from mads_zoo.train.checkpoint import load_checkpoint

    meta = load_checkpoint(tmp_path / "run" / "model.pt").meta
    assert meta.signature == InputSignature(2, 88, rhythm.FEATURES)
    predictions = tmp_path / "100.csv"
    out = cli("predict", str(tmp_path / "run" / "model.pt"), str(mitdb_dir / "100"),
              "--out", str(predictions))  # fmt: skip
    assert out.returncode == 0, out.stderr  # a record's beats are cut with the model's recipe
    assert len(predictions.read_text().splitlines()) == 2273 - 2 + 1  # first, last beat out
