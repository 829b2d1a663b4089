"""The bench on real Ray: end to end, deterministic, scaled out, and secure.

Each test starts Ray (a few seconds) and trains tiny smoke budgets on the synthetic dataset.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli, write_distribution

from mads_zoo.bench.results import Outcome, RunStore

pytestmark = pytest.mark.slow

DIVERGES = """
import mads_zoo


def build(config, input_shape, num_classes):
    import torch
    from torch import nn

    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(input_shape[-1], num_classes)

        def forward(self, x):
            return self.linear(x.flatten(1)[:, : self.linear.in_features]) * float("inf")

    return Boom()


@mads_zoo.hookimpl
def register_architectures(register):
    register(mads_zoo.Architecture(name="boom-net", layout="1d", build=build,
                                   description="Diverges on purpose."))
"""


SMOKE = ["--arch", "2dcnn", "--arch", "boom-net", "--sampler", "none", "--sampler",
         "random-under", "--dataset", "synthetic", "--budget", "smoke"]  # fmt: skip


def test_a_smoke_bench_runs_end_to_end_and_resumes(tmp_path):
    site = tmp_path / "site"
    write_distribution(site, "zoo-boom", {"zoo_boom": DIVERGES}, {"boom": "zoo_boom"})
    env = {"PYTHONPATH": str(site)}
    run = tmp_path / "run"
    result = run_cli("bench", *SMOKE, "--out", "run", env=env, cwd=tmp_path)  # relative path
    assert result.returncode == 0, result.stdout + result.stderr
    assert "leaderboard" in result.stdout and "loss became" in result.stdout  # one line each
    assert "Traceback" not in result.stdout + result.stderr
    assert "failure(s), their tracebacks in " in result.stdout and "errors.log" in result.stdout
    log = (run / "errors.log").read_text()  # the whole story of every failure
    assert "=== tune-r0-boom-net--none-000: " in log and "loss became" in log

    trials = pd.read_parquet(run / "trials.parquet")
    tuning = trials[trials.stage == "tune"]
    assert len(tuning[tuning.rung == 0]) == 2 + 2 + 1 + 1  # boom-net searches nothing: 1 trial
    boom = trials[trials.architecture == "boom-net"]
    assert (boom.status == "failed").all() and boom.error.str.contains("loss became").all()
    final = trials[trials.stage == "final"]
    assert len(final) == 2 and final.test_accuracy.notna().all()  # 1 finalist x 2 seeds
    assert final.seed.nunique() == 2 and (final.beats == 512).all()
    assert trials.node_id.str.len().gt(0).all() and (trials.threads == 1).all()

    results = {r.combo.key: r for r in RunStore(run).load_results(RunStore(run).load_run().combos)}
    selected = [r for r in results.values() if r.outcome is Outcome.SELECTED]
    assert len(selected) == 1 and selected[0].combo.architecture == "2dcnn"
    macro_f1 = selected[0].test_summary("macro_f1")
    assert len(selected[0].test) == 2 and len(macro_f1.values) == 2 and macro_f1.ci95 >= 0
    assert results["boom-net--none"].outcome is Outcome.FAILED
    leaderboard = (run / "leaderboard.md").read_text()
    assert "2dcnn *" in leaderboard and "Failed runs" in leaderboard
    assert "mean ± seed spread" in leaderboard
    assert "| baseline | always N |" in leaderboard
    assert "AAMI report, test fold, 2 seeds" in leaderboard
    assert "Test-sampling 95% intervals (percentile bootstrap over the" in leaderboard
    for png in ("heatmap.png", "se-ppv.png", "best-so-far.png"):
        assert (run / "plots" / png).stat().st_size > 5_000
    timing = RunStore(run).load_timing()
    assert timing.wall_seconds > timing.ray_start_seconds > 0 and timing.runs == len(trials)

    best = run / "combos" / selected[0].combo.key / "best_config.toml"
    retrain = run_cli("train", "2dcnn", "--config", str(best), "--dataset", "synthetic",
                      "--max-steps", "3", "--out", str(tmp_path / "retrain"))  # fmt: skip
    assert retrain.returncode == 0, retrain.stderr

    (run / "combos" / selected[0].combo.key / "final.json").unlink()  # as if interrupted
    before = {p: p.stat().st_mtime_ns for p in run.glob("trials/*.json")}
    resumed = run_cli("bench", "--resume", "run", env=env, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert {p: p.stat().st_mtime_ns for p in run.glob("trials/*.json")} == before  # none rerun
    assert RunStore(run).load_timing().runs == 0
    assert (run / "combos" / selected[0].combo.key / "final.json").is_file()
    report = run_cli("report", str(run))
    assert report.returncode == 0 and "2dcnn" in report.stdout


@pytest.mark.skipif(shutil.which("taskset") is None, reason="needs taskset")
def test_the_same_command_gives_identical_results_with_one_or_two_trials_at_a_time(tmp_path):
    exe = Path(sys.executable).with_name("mads-zoo")
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    args = ["bench", "--arch", "2dcnn", "--arch", "1dcnngru", "--sampler", "none",
            "--dataset", "synthetic", "--budget", "smoke"]  # fmt: skip
    two = subprocess.run([str(exe), *args, "--out", str(tmp_path / "two")], env=env,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    one = subprocess.run(["taskset", "-c", "0", str(exe), *args, "--out", str(tmp_path / "one")],
                         env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert two.returncode == 0 and one.returncode == 0, two.stderr[-2000:] + one.stderr[-2000:]
    cpus = [RunStore(tmp_path / n).load_timing().cluster.cpus for n in ("one", "two")]
    assert cpus == [1, 2]
    first = RunStore(tmp_path / "one").comparable_results()
    second = RunStore(tmp_path / "two").comparable_results()
    assert len(first["trials"]) == 2 * 2 + 2  # rung 0 (2 combos x 2 trials), 1 finalist x 2
    assert first == second  # every metric digit, every config, every seed


def test_trials_spread_over_a_two_node_cluster_and_get_the_gpus_they_ask_for(tmp_path, monkeypatch):
    import ray
    from ray.cluster_utils import Cluster

    # Ray rewrites a loopback --address to this machine's other address; tests stay on loopback
    monkeypatch.setattr(ray._private.ray_constants, "ENABLE_RAY_CLUSTER", False)

    from mads_zoo.bench.budget import get_budget
    from mads_zoo.bench.harness import BenchEvents, BenchRequest, run_bench, start_bench

    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1"}
    )
    try:
        gpu_node = cluster.add_node(num_cpus=1, num_gpus=2, node_ip_address="127.0.0.1")
        cluster.wait_for_nodes()

        def bench(name, **budget):
            request = BenchRequest(
                budget=get_budget("smoke", budget), archs=["2dcnn"],
                strategies=["none", "random-under"], dataset="synthetic",
            )  # fmt: skip
            store = start_bench(request, tmp_path / name)
            run_bench(store, BenchEvents(), address=cluster.address)
            return pd.DataFrame([t.row() for t in store.all_trials()])

        cpu = bench("cpu", gpus_per_trial=0)
        assert cpu.node_id.nunique() == 2  # both nodes trained trials of one bench
        assert (cpu.gpu_ids == "").all() and (cpu.device == "cpu").all()

        gpu = bench("gpu", gpus_per_trial=1)
        assert (gpu.node_id == gpu_node.node_id).all()  # only that node has GPUs
        assert gpu.gpu_ids.isin(["0", "1"]).all() and (gpu.device == "cpu").all()
        trial = RunStore(tmp_path / "gpu").all_trials()[0]
        assert "CUDA is not available: trained on the CPU" in trial.note

        # two runs per (logical) GPU: the same numbers as one per GPU, every digit
        half = bench("half", gpus_per_trial=0.5)
        assert half.gpu_ids.isin(["0", "1"]).all()
        one_per_gpu = RunStore(tmp_path / "gpu").comparable_results()
        assert RunStore(tmp_path / "half").comparable_results() == one_per_gpu

        # auto: each architecture is measured alone on a GPU, then packed; where it cannot be
        # measured (no CUDA behind these logical GPUs) its runs keep one GPU each
        bench("auto", cpus_per_trial=0.25)
        assert RunStore(tmp_path / "auto").load_timing().runs_per_gpu == {"2dcnn": 1}
        import ray

        from mads_zoo.bench.cluster import RayRunner
        from mads_zoo.bench.packing import Footprint

        small = Footprint(peak_bytes=2**20, train_tflops=1.0, gpu_bytes=2**34, gpu_tflops=500.0)
        ray.init(address=cluster.address)
        try:
            record = RunStore(tmp_path / "auto").load_run()
            runner = RayRunner(record, lambda spec: None, probe=lambda arch, shape: small)
            assert runner.runs_per_gpu == {"2dcnn": 4}  # 1 CPU per GPU / 0.25 per run
            final = RunStore(tmp_path / "auto").all_trials()[-1].spec
            assert runner.gpus_for(final) == 0.25 and not runner.packing_notes
        finally:
            ray.shutdown()
    finally:
        cluster.shutdown()


def test_the_embedded_ray_refuses_a_client_without_the_token(tmp_path):
    """Token authentication stays on: `ray status` without the token is refused."""
    import ray

    from mads_zoo.bench.cluster import LOOPBACK, ray_session

    with ray_session(tmp_path / "r", None, num_cpus=1):
        assert os.environ.get("RAY_AUTH_MODE") == "token"  # Ray's token auth is on
        # step 15: Ray's warnings about authentication reach the user; its token is private
        auth_log = logging.getLogger("ray._private.authentication")
        assert auth_log.getEffectiveLevel() <= logging.WARNING
        token = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray/auth_token")
        assert token.stat().st_mode & 0o077 == 0
        temp = Path(ray._private.worker.global_worker.node.get_temp_dir_path())
        assert temp.stat().st_mode & 0o777 == 0o700  # no other user may enter
        port = ray._private.worker.global_worker.node.gcs_address.rsplit(":", 1)[1]
        status = [sys.executable, "-m", "ray.scripts.scripts", "status"]
        status += ["--address", f"{LOOPBACK}:{port}"]
        env = {k: v for k, v in os.environ.items() if k != "RAY_AUTH_TOKEN"}
        stranger = subprocess.run(
            status, env={**env, "HOME": str(tmp_path)}, capture_output=True, timeout=120
        )
        holder = subprocess.run(status, env=env, capture_output=True, text=True, timeout=120)
    assert stranger.returncode != 0 and b"token" in stranger.stdout + stranger.stderr
    assert holder.returncode == 0, holder.stderr[-500:]


def test_the_embedded_ray_listens_on_loopback_only(tmp_path):
    """Measured: Ray rewrote the loopback address and its GCS listened on every interface."""
    import socket

    import ray
    from ray._private.services import node_ip_address_from_perspective

    from mads_zoo.bench.cluster import LOOPBACK, ray_session

    def reachable(host, port):
        with socket.socket() as probe:
            probe.settimeout(5)
            return probe.connect_ex((host, port)) == 0

    other = node_ip_address_from_perspective()  # the machine's routable address
    with ray_session(tmp_path / "r", None, num_cpus=1):
        nodes = ray.nodes()
        gcs_port = int(ray._private.worker.global_worker.node.gcs_address.rsplit(":", 1)[1])
        ports = [gcs_port] + [n[k] for n in nodes for k in ("NodeManagerPort", "ObjectManagerPort")]
        assert {n["NodeManagerAddress"] for n in nodes} == {LOOPBACK}
        assert all(reachable(LOOPBACK, port) for port in ports)
        if other != LOOPBACK:
            assert not any(reachable(other, port) for port in ports), other


HANGS = """
import os
import time

import mads_zoo


def build(config, input_shape, num_classes):
    open(os.environ["HANG_MARK"], "w").close()  # the run has started
    time.sleep(600)


@mads_zoo.hookimpl
def register_architectures(register):
    register(mads_zoo.Architecture(name="hangs", layout="1d", build=build))
"""


def test_sigterm_stops_a_bench_as_ctrl_c_does(tmp_path):
    """Measured: SIGTERM printed Ray's stack dump and no resume hint."""
    import signal
    import time

    site = write_distribution(tmp_path / "site", "zoo-hangs", {"zoo_hangs": HANGS},
                              {"hangs": "zoo_hangs"})  # fmt: skip
    mark = tmp_path / "started"
    env = {**os.environ, "PYTHONPATH": str(site), "MADS_ZOO_PLUGINS": "zoo-hangs",
           "HANG_MARK": str(mark), "COLUMNS": "200", "NO_COLOR": "1"}  # fmt: skip
    run = tmp_path / "run"
    exe = Path(sys.executable).with_name("mads-zoo")
    bench = subprocess.Popen(
        [str(exe), "bench", "--arch", "hangs", "--sampler", "none", "--dataset", "synthetic",
         "--budget", "smoke", "--out", str(run)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not mark.exists() and time.monotonic() < deadline:
            time.sleep(0.5)  # until a worker runs the hanging build
        assert mark.exists()
        bench.send_signal(signal.SIGTERM)
        out, _ = bench.communicate(timeout=120)
    finally:
        bench.kill()
    assert bench.returncode == 130, out
    assert f"interrupted; continue with: mads-zoo bench --resume {run}" in out
    assert "Traceback" not in out and "Stack (most recent call first)" not in out
