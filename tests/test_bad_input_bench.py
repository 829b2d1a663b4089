"""Bad plugins inside a bench fail their own combos only: one line each, tracebacks in a log.

A plugin whose search space the harness cannot translate, a sampler whose ``fit_resample``
raises and an architecture whose ``build`` raises each fail their combos; the bench goes on,
ranks the others, prints one line per failure and keeps the tracebacks in ``errors.log``.
The bench runs in-process through ``mads_zoo.cli.main`` with Ray's part (the session and the
task runner) replaced by plain calls of the same trial function; test_bench_ray.py covers Ray.
"""

from __future__ import annotations

import contextlib

import pytest
from conftest import write_distribution

from mads_zoo.bench.results import ClusterSummary, Combo, Outcome, RunStore
from mads_zoo.errors import PluginError, one_line

BAD_PLUGINS = """
import math

import mads_zoo
from mads_zoo.space import Space


class MySpace(Space):
    \"\"\"A search-space primitive of the plugin's own: no backend can translate it.\"\"\"

    def contains(self, value):
        return True

    def draw(self, rng):
        return 1

    def describe(self):
        return "myspace()"


def build_linear(config, input_shape, num_classes):
    from torch import nn

    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_classes))


def build_raises(config, input_shape, num_classes):
    raise RuntimeError("cannot build this net")


class Exploding:
    def fit_resample(self, X, y):
        raise ValueError("resampler exploded")


@mads_zoo.hookimpl
def register_architectures(register):
    register(mads_zoo.Architecture(name="tiny-linear", layout="1d", build=build_linear))
    register(mads_zoo.Architecture(name="tiny-linear-b", layout="1d", build=build_linear))
    register(mads_zoo.Architecture(name="weird-space", layout="1d", build=build_linear,
                                   defaults={"width": 1}, search_space={"width": MySpace()}))
    register(mads_zoo.Architecture(name="bad-build", layout="1d", build=build_raises))


@mads_zoo.hookimpl
def register_samplers(register):
    register(mads_zoo.Sampler(name="bad-sampler", build=lambda seed: Exploding()))
"""

SPACE_ERROR = (
    "architecture 'weird-space' search space key 'width': unsupported space MySpace; "
    "use mads_zoo.space.choice/randint/uniform/loguniform"
)


class InProcessRunner:
    """:class:`~mads_zoo.bench.cluster.RayRunner`'s interface, each run a plain call."""

    def __init__(self, record, data_for):
        self.record, self.data_for = record, data_for
        self.runs_per_gpu, self.packing_notes = {}, []

    def run(self, specs, on_record):
        from mads_zoo.bench.trial import run_trial

        records = []
        for spec in specs:
            records.append(run_trial(spec, self.data_for(spec), self.record))
            on_record(records[-1])
        return records


@pytest.fixture
def bad_plugins(tmp_path, monkeypatch, fresh_registry):
    """The bad plugins installed; the harness without Ray; the working folder ``tmp_path``."""
    import ray

    from mads_zoo.bench import harness

    site = tmp_path / "site"
    unique = f"zoo_bad_bench_{abs(hash(str(tmp_path))) % 10**8}"
    write_distribution(site, "zoo-bad-bench", {unique: BAD_PLUGINS}, {"bad": unique})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("MADS_ZOO_PLUGINS", "zoo-bad-bench")
    monkeypatch.delenv("MADS_ZOO_STRICT_PLUGINS", raising=False)
    monkeypatch.setattr(harness, "ray_session", lambda *args: contextlib.nullcontext())
    monkeypatch.setattr(harness, "cluster_summary", lambda: ClusterSummary(1, 0, 1))
    monkeypatch.setattr(harness, "RayRunner", InProcessRunner)
    monkeypatch.setattr(ray, "put", lambda value: value)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_bad_plugins_fail_their_combos_and_the_bench_goes_on(bad_plugins, cli):
    archs = ["tiny-linear", "tiny-linear-b", "weird-space", "bad-build"]
    samplers = ["none", "bad-sampler"]
    options = [f"--arch={a}" for a in archs] + [f"--sampler={s}" for s in samplers]
    result = cli("bench", *options, "--dataset", "synthetic", "--budget", "smoke", "--out", "run")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    run = bad_plugins / "run"
    results = {r.combo.key: r for r in RunStore(run).load_results(
        [Combo(a, s) for a in archs for s in samplers])}  # fmt: skip

    # the good combos ran and are ranked
    good = ("tiny-linear--none", "tiny-linear-b--none")
    assert {results[k].outcome for k in good} == {Outcome.SELECTED, Outcome.STOPPED}
    # every other combo failed with its one-line reason
    failed = {k: r.error for k, r in results.items() if r.outcome is Outcome.FAILED}
    assert set(failed) == set(results) - set(good)
    assert failed["weird-space--none"] == failed["weird-space--bad-sampler"] == SPACE_ERROR
    for arch in ("tiny-linear", "tiny-linear-b", "bad-build"):
        error = failed[f"{arch}--bad-sampler"]
        assert error.startswith("sampler 'bad-sampler' failed on the synthetic-intra training")
        assert error.endswith("ValueError: resampler exploded")
    assert "cannot build this net" in failed["bad-build--none"]
    assert all("\n" not in error for error in failed.values())

    # the console: one line per failure, no traceback, the log named
    failure_lines = [line for line in out.splitlines() if " failed: " in line]
    assert len(failure_lines) == 6, out
    assert f"weird-space--none failed: {SPACE_ERROR}" in failure_lines
    assert any(line.startswith("tune-r0-bad-build--none-000 failed: ") for line in failure_lines)
    assert "Traceback" not in out
    assert f"6 failure(s), their tracebacks in {run / 'errors.log'}" in out

    # the run folder: the tracebacks in errors.log, the failed combos on the leaderboard
    log = (run / "errors.log").read_text()
    entries = log.split("=== ")[1:]
    assert len(entries) == 6 and all("Traceback (most recent call last)" in e for e in entries)
    assert 'raise ValueError("resampler exploded")' in log
    assert 'raise RuntimeError("cannot build this net")' in log
    assert f"=== weird-space--none: {SPACE_ERROR}" in log
    leaderboard = (run / "leaderboard.md").read_text()
    assert f"- weird-space--bad-sampler: {SPACE_ERROR}" in leaderboard
    assert "- tiny-linear--bad-sampler: sampler 'bad-sampler' failed" in leaderboard
    assert "- bad-build--none: " in leaderboard and "| tiny-linear" in leaderboard


def test_a_foreign_space_names_the_architecture_and_the_key():
    from mads_zoo.bench.search import tune_space
    from mads_zoo.space import Space

    class Odd(Space):
        pass

    with pytest.raises(PluginError) as error:
        tune_space({"a": Odd()}, "odd-net")
    assert str(error.value) == (
        "architecture 'odd-net' search space key 'a': unsupported space Odd; "
        "use mads_zoo.space.choice/randint/uniform/loguniform"
    )


def test_a_failed_run_keeps_one_line_and_its_traceback():
    assert one_line(RuntimeError("first line\nsecond line")) == "RuntimeError: first line"
    assert one_line(PluginError("sampler 'x' failed")) == "sampler 'x' failed"
    assert one_line(KeyError()) == "KeyError"
    assert len(one_line(ValueError("x" * 1000))) == 300
    ray_text = "ray::run_trial() (pid=1)\n  File ...\nMemoryError: killed"
    assert one_line(RuntimeError(ray_text), last=True) == "RuntimeError: MemoryError: killed"
