"""Step 15: a shared machine, a hanging plugin, a full disk; each case through the CLI or API."""

from __future__ import annotations

import errno
import fractions
import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import one_line_error, write_distribution

from mads_zoo.bench import cluster
from mads_zoo.bench.lock import RunLock
from mads_zoo.errors import ConfigError


def test_a_second_bench_on_a_run_folder_in_use_refuses_naming_the_holder(tmp_path, cli):
    # two benches with the same --out both ran every trial and both reported success
    run_dir = tmp_path / "run"
    with RunLock(run_dir):
        result = cli("bench", "--arch", "2dcnn", "--strategy", "none", "--budget", "smoke",
                     "--out", str(run_dir))  # fmt: skip
        line = one_line_error(result, str(run_dir), "in use by another bench", f"pid {os.getpid()}")
        assert "--out" in line
        assert not (run_dir / "run.json").exists()
        resumed = cli("bench", "--resume", str(run_dir))
        assert resumed.returncode == 1  # not a run folder yet; and never while it is held


def test_the_lock_is_held_for_the_bench_and_released_after(tmp_path):
    with RunLock(tmp_path) as held:
        assert "pid" in held.path.read_text()
        with pytest.raises(ConfigError, match="in use by another bench"), RunLock(tmp_path):
            pass
        assert oct(held.path.stat().st_mode & 0o777) == "0o600"
    with RunLock(tmp_path):  # released: the next bench takes it
        pass


def test_the_lock_never_follows_a_link(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("not yours")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "bench.lock").symlink_to(target)
    with RunLock(run_dir) as held:  # the planted link is replaced, its target untouched
        assert not held.path.is_symlink() and "pid" in held.path.read_text()
    assert target.read_text() == "not yours" and not (run_dir / "bench.lock").exists()
    linked_run = tmp_path / "linked-run"
    linked_run.symlink_to(run_dir)
    with pytest.raises(ConfigError, match="cannot lock the run folder"), RunLock(linked_run):
        pass


# --- planted /tmp/mzr-* folders: the reaper trusts nothing in a shared folder ---------------


def plant(parent: Path, name: str, logs_to: Path | None, mode: int = 0o700) -> Path:
    """A Ray temp folder as a killed bench would leave it: a dead driver's mark, some logs."""
    folder = parent / f"mzr-{name}"
    (folder / "session_1" / "logs").mkdir(parents=True)
    (folder / "session_1" / "logs" / "raylet.out").write_text(name)
    mark = {"pid": os.getpid(), "start": "0", "logs_to": None if logs_to is None else str(logs_to)}
    (folder / cluster.OWNER_FILE).write_text(json.dumps(mark))  # start "0": not this process
    folder.chmod(mode)
    return folder


@pytest.fixture
def shared_tmp(tmp_path, monkeypatch):
    parent = tmp_path / "tmp"
    parent.mkdir()
    monkeypatch.setattr(cluster, "TEMP_PARENT", parent)
    secret = tmp_path / "auth_token"
    secret.write_text("SECRET")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").write_text("{}")
    return parent, secret, run_dir


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reaping reads /proc (Linux)")
def test_the_reaper_ignores_planted_folders_and_never_follows_links(shared_tmp, tmp_path):
    parent, secret, run_dir = shared_tmp
    attacker = tmp_path / "attacker"
    attacker.mkdir()
    open_to_all = plant(parent, "open", attacker / "ray", mode=0o777)  # others may write it
    linked_mark = plant(parent, "linked-mark", attacker / "ray")
    (linked_mark / cluster.OWNER_FILE).rename(tmp_path / "mark.json")
    (linked_mark / cluster.OWNER_FILE).symlink_to(tmp_path / "mark.json")
    linked_folder = parent / "mzr-linked-folder"
    linked_folder.symlink_to(plant(tmp_path, "target", attacker / "ray"))
    elsewhere = plant(parent, "elsewhere", attacker / "ray")  # logs_to: not a run folder
    (elsewhere / "session_1" / "logs" / "token").symlink_to(secret)
    mine = plant(parent, "mine", run_dir / "ray")
    (mine / "session_1" / "logs" / "token").symlink_to(secret)

    lines = cluster.reap_orphans()
    reaped = {line.split("Ray folder ")[1].split(")")[0] for line in lines}
    assert reaped == {str(elsewhere), str(mine)}
    assert open_to_all.is_dir() and linked_mark.is_dir() and linked_folder.is_symlink()
    assert list(attacker.iterdir()) == []  # nothing copied where a mark said
    assert not elsewhere.exists() and not mine.exists()
    copied = run_dir / "ray" / "logs"
    assert (copied / "raylet.out").read_text() == "mine"
    assert not (copied / "token").exists()  # the link was left behind, not followed
    assert secret.read_text() == "SECRET"


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to plant another user's folder")
def test_the_reaper_leaves_another_users_folder_alone(shared_tmp):
    parent, _, run_dir = shared_tmp
    theirs = plant(parent, "theirs", run_dir / "ray")
    for path in (theirs, theirs / cluster.OWNER_FILE):
        os.chown(path, 4242, 4242)
    assert cluster.reap_orphans() == [] and theirs.is_dir()


# --- authentication cannot be switched off by accident ----------------------------------------


@pytest.mark.parametrize("mode", ["disabled", "DISABLED", "", "off"])
def test_a_bench_refuses_to_start_ray_without_token_auth(mode, tmp_path, monkeypatch, cli):
    # measured before step 15: an auth mode of "disabled" in the environment let the embedded
    # Ray start without authentication; every mode but token is now refused before Ray starts
    monkeypatch.setenv("RAY_AUTH_MODE", mode)
    with pytest.raises(ConfigError, match=f"RAY_AUTH_MODE={mode} is set"):
        cluster.require_token_auth()
    result = cli("bench", "--arch", "2dcnn", "--strategy", "none", "--budget", "smoke",
                 "--dataset", "synthetic", "--out", str(tmp_path / "run"))  # fmt: skip
    one_line_error(result, "RAY_AUTH_MODE", "always requires its token")
    assert not (tmp_path / "run").exists()  # refused before any work


def test_token_auth_is_set_when_the_environment_says_nothing(monkeypatch):
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    cluster.require_token_auth()
    assert os.environ["RAY_AUTH_MODE"] == "token"


def test_the_token_file_is_made_private_and_a_link_is_left_alone(tmp_path, monkeypatch):
    token = tmp_path / "auth_token"
    token.write_text("t")
    token.chmod(0o644)
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(token))
    cluster._private_token()
    assert token.stat().st_mode & 0o777 == 0o600
    shared = tmp_path / "shared"
    shared.write_text("s")
    shared.chmod(0o644)
    link = tmp_path / "link"
    link.symlink_to(shared)
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(link))
    cluster._private_token()
    assert shared.stat().st_mode & 0o777 == 0o644


# --- output is checked before work; I/O errors are one line -------------------------------------


@pytest.fixture
def checkpoint(tmp_path):
    """A valid (untrained) ``2dcnn`` checkpoint of the synthetic dataset."""
    from test_bad_input_model import built, untrained_meta

    from mads_zoo.train.checkpoint import save_checkpoint

    return save_checkpoint(tmp_path / "run" / "model.pt", built("2dcnn"), untrained_meta())


def test_train_refuses_an_out_folder_it_cannot_write_before_training(tmp_path, cli, monkeypatch):
    # measured: a traceback after training finished, and the trained model was lost
    from mads_zoo.train import run

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking --out")

    monkeypatch.setattr(run, "fit", no_training)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = cli("train", "2dcnn", "--dataset", "synthetic", "--out", str(blocker / "out"))
    one_line_error(result, "cannot write the model in", str(blocker / "out"))


def test_predict_refuses_a_folder_or_an_unwritable_out_before_predicting(checkpoint, cli, tmp_path):
    source = tmp_path / "beats.csv"
    np.savetxt(source, np.random.default_rng(0).random((4, 187)), delimiter=",")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = cli("predict", str(checkpoint), str(source), "--out", str(folder))
    one_line_error(result, "cannot write the predictions to", "it is a folder")
    under_a_file = source / "out.csv"
    result = cli("predict", str(checkpoint), str(source), "--out", str(under_a_file))
    one_line_error(result, "cannot write the predictions in", str(source))


def test_a_full_disk_is_one_line(checkpoint, cli, tmp_path, monkeypatch):
    import pandas as pd

    def full(self, path, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    source = tmp_path / "beats.csv"
    np.savetxt(source, np.random.default_rng(0).random((4, 187)), delimiter=",")
    out = tmp_path / "predicted.csv"
    result = cli("predict", str(checkpoint), str(source), "--out", str(out))
    one_line_error(result, "no space left on the device")
    assert not out.exists()


def test_a_cache_that_cannot_be_written_is_a_warning(tmp_path, monkeypatch, caplog):
    from mads_zoo.data.cache import save_arrays

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with caplog.at_level("WARNING"):
        save_arrays(blocker / "cache" / "entry.npz", {"x": np.zeros(3)})
    assert "could not write the cache entry" in caplog.text and "going on without it" in caplog.text


# --- error wording ------------------------------------------------------------------------------


class _Payload:
    """A pickle that would run ``os.getenv`` when loaded without ``weights_only``.

    Not ``print``: Ray, once imported, replaces ``builtins.print`` with its own function, so the
    name the pickle records would depend on which tests ran before this one."""

    def __reduce__(self):
        return (os.getenv, ("ran code from a checkpoint",))


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (b"", ("is empty (0 bytes): not a checkpoint",)),
        (b"PK\x03\x04garbage" * 8, ("not a PyTorch file, or a truncated or corrupted one",)),
        ("pickle", ("holds Python objects (os.getenv) beyond weights", "refused, not run")),
        ("object", ("holds Python objects (fractions.Fraction) beyond weights", "refused")),
    ],
)
def test_a_bad_checkpoint_is_one_plain_line(tmp_path, cli, capsys, content, fragments):
    import torch

    path = tmp_path / "model.pt"
    if content == "pickle":  # a global from a module PyTorch blocks outright
        torch.save({"state_dict": _Payload()}, path)
    elif content == "object":  # a global PyTorch merely does not allow
        torch.save({"state_dict": fractions.Fraction(1, 3)}, path)
    else:
        path.write_bytes(content)
    result = cli("evaluate", str(path))
    line = one_line_error(result, *fragments)
    assert "weights_only" not in line and "()" not in line
    assert "ran code" not in result.stdout + result.stderr


def test_a_data_dir_that_is_a_file_is_called_a_file(tmp_path):
    from mads_zoo.data.locate import find_mitdb
    from mads_zoo.errors import DataNotFoundError

    a_file = tmp_path / "records.zip"
    a_file.write_text("")
    with pytest.raises(DataNotFoundError, match=r"records.zip \(from --data-dir\) is a file, not"):
        find_mitdb(a_file)


def test_a_garbage_annotation_file_next_to_a_record_is_one_line(checkpoint, cli, tmp_path,
                                                                 mitdb_dir):  # fmt: skip
    import shutil

    record = tmp_path / "rec"
    record.mkdir()
    for suffix in (".hea", ".dat"):
        shutil.copy(mitdb_dir / f"100{suffix}", record / f"100{suffix}")
    (record / "100.atr").write_bytes(np.random.default_rng(0).bytes(500))
    out = tmp_path / "predicted.csv"
    result = cli("predict", str(checkpoint), str(record / "100"), "--out", str(out))
    one_line_error(result, "100.atr is not a", "remove it to let the QRS detector find the beats")
    assert not out.exists()


# --- a run cannot hang the bench -----------------------------------------------------------------

HANGING_PLUGIN = """
import math
import time

import mads_zoo


def build_linear(config, input_shape, num_classes):
    from torch import nn

    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_classes))


def build_hangs(config, input_shape, num_classes):
    time.sleep(600)


@mads_zoo.hookimpl
def register_architectures(register):
    register(mads_zoo.Architecture(name="tiny-linear", layout="1d", build=build_linear))
    register(mads_zoo.Architecture(name="hangs", layout="1d", build=build_hangs))
"""


def test_a_hanging_plugin_fails_its_runs_at_the_time_limit_and_the_bench_goes_on(
    tmp_path, monkeypatch, fresh_registry, cli
):
    # measured: a build sleeping 10 minutes kept the bench at "wave 1/2" until it was killed
    import contextlib
    import time

    import ray
    from test_bad_input_bench import InProcessRunner

    from mads_zoo.bench import harness
    from mads_zoo.bench.results import ClusterSummary, Combo, Outcome, RunStore

    unique = f"zoo_hangs_{abs(hash(str(tmp_path))) % 10**8}"
    site = tmp_path / "site"
    write_distribution(site, "zoo-hangs", {unique: HANGING_PLUGIN}, {"hangs": unique})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("MADS_ZOO_PLUGINS", "zoo-hangs")
    monkeypatch.setattr(harness, "ray_session", lambda *args: contextlib.nullcontext())
    monkeypatch.setattr(harness, "cluster_summary", lambda: ClusterSummary(1, 0, 1))
    monkeypatch.setattr(harness, "RayRunner", InProcessRunner)
    monkeypatch.setattr(ray, "put", lambda value: value)
    started = time.monotonic()
    result = cli("bench", "--arch", "tiny-linear", "--arch", "hangs", "--sampler", "none",
                 "--dataset", "synthetic", "--budget", "smoke", "--budget-set",
                 "run_time_limit=2", "--out", str(tmp_path / "run"))  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert time.monotonic() - started < 60
    store = RunStore(tmp_path / "run")
    results = {r.combo.key: r for r in store.load_results(
        [Combo("tiny-linear", "none"), Combo("hangs", "none")])}  # fmt: skip
    assert results["hangs--none"].outcome is Outcome.FAILED
    assert "run_time_limit of 2 s" in (results["hangs--none"].error or "")
    assert results["tiny-linear--none"].outcome is Outcome.SELECTED


def test_the_time_limit_is_off_the_result_path_when_not_reached():
    from mads_zoo.bench.time_limit import RunTimeLimit, time_limit

    with time_limit(30):
        assert sum(range(10)) == 45  # a block that ends in time is untouched
    with pytest.raises(RunTimeLimit, match=r"run_time_limit of 0\.2 s"), time_limit(0.2):
        import time

        time.sleep(5)


# --- every name and value is checked in full -----------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("hidden=64.0", "'2dcnn' config hidden must be an integer, got 64.0"),
        ("dropout=true", "'2dcnn' config dropout must be a number, got True"),
        ("hidden=wide", "'2dcnn' config hidden must be an integer, got 'wide'"),
        ("batch_size=true", "batch_size must be a positive integer, got True"),
    ],
)
def test_a_config_value_of_the_wrong_kind_is_refused_before_work(cli, tmp_path, setting,
                                                                 fragment):  # fmt: skip
    # measured: dropout=true trained (True is 1.0 to Python); hidden=64.0 failed inside torch
    out = tmp_path / "run"
    result = cli("train", "2dcnn", "--dataset", "synthetic", "--set", setting, "--out", str(out))
    one_line_error(result, fragment)
    assert not out.exists()


def test_an_integer_passes_for_a_number():
    from mads_zoo.config import RunRequest, resolve_run

    spec = resolve_run(RunRequest("2dcnn", overrides={"dropout": 0, "lr": 1}))
    assert spec.config["dropout"] == 0 and spec.training.recipe.lr == 1


@pytest.mark.parametrize("word", ["archit", "dat", "sampl", "ARCH"])
def test_a_kind_is_named_in_full(word):
    from mads_zoo.registry import resolve_kind

    expected = {"ARCH": "architectures"}.get(word)
    assert resolve_kind(word) == expected  # "arch" is a documented word; prefixes are not
