"""Every script in benchmarks/ runs end to end on tiny synthetic data, so that none can rot.

Each runs as ``python benchmarks/NAME.py ...`` would (``runpy`` with ``__main__``, in this
process to spare the start-up), with settings small enough for a few seconds of training.
"""

from __future__ import annotations

import importlib
import runpy
import sys
from pathlib import Path

import pytest
from bench_fakes import stored_run

from mads_zoo import codec
from mads_zoo.bench.budget import get_budget
from mads_zoo.bench.results import ClusterSummary, Combo, Timing

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
TINY = ["--dataset", "synthetic"]


def run_script(name: str, *args: str, monkeypatch, capsys) -> str:
    """Run ``benchmarks/NAME.py ARGS`` as a script; return what it printed."""
    monkeypatch.setattr(sys, "argv", [name, *args])
    runpy.run_path(str(BENCHMARKS / name), run_name="__main__")
    return capsys.readouterr().out


def test_every_benchmark_script_is_covered_here():
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    scripts = {path.stem for path in BENCHMARKS.glob("*.py")}
    assert scripts <= tested, f"no test runs {sorted(scripts - tested)}"


def test_calibrate_final_beats(tmp_path, monkeypatch, capsys):
    from mads_zoo.data.folds import Folds

    def sealed(self):
        raise AssertionError("a calibration read the test fold")

    monkeypatch.setattr(Folds, "final_test", sealed)
    results = tmp_path / "curve.jsonl"
    for index in ("0", "1"):
        run_script("calibrate_final_beats.py", "2dcnn", "--seed-index", index, "--beats", "256",
                   "512", "--results", str(results), *TINY, monkeypatch=monkeypatch,
                   capsys=capsys)  # fmt: skip
    out = run_script("calibrate_final_beats.py", "2dcnn", "--summarise", "--results",
                     str(results), monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert "rule: shortest mean >=" in out and out.count("\n") == 4
    summarise = importlib.import_module("calibrate_final_beats").summarise
    rows = [{"beats": b, "val_macro_f1": f} for b, f in
            [(1, 0.80), (1, 0.82), (2, 0.90), (2, 0.92), (4, 0.91), (4, 0.93)]]  # fmt: skip
    # the longest's mean 0.92 - sd 0.0141: 2 beats (mean 0.91) is within, 1 is not
    assert summarise(rows).endswith(": 2 beats")


def test_gpu_packing(tmp_path, monkeypatch, capsys):
    out_file = tmp_path / "packing.json"
    args = ["--archs", "2dcnn", "--packs", "1", "2", "--beats", "256", "--num-gpus", "1",
            "--out", str(out_file), "--ray-dir", str(tmp_path / "ray"), *TINY]  # fmt: skip
    out = run_script("gpu_packing.py", *args, monkeypatch=monkeypatch, capsys=capsys)
    assert "| 2dcnn | 1 |" in out and "| 2dcnn | 2 |" in out and "`full` on one such GPU" in out
    alone, packed = codec.loads(list[dict], out_file.read_text())
    assert (alone["runs"], packed["runs"]) == (1, 2) and alone["device"] == "cpu"
    assert packed["scores"][0] == alone["scores"][0]  # seed 0: the same alone and packed


def test_gpu_packing_without_ray(tmp_path, monkeypatch, capsys):
    # the lent GPU machine has no Ray: plain processes pack the runs there, with the same rule
    out_file = tmp_path / "packing.json"
    args = ["--archs", "2dcnn", "--packs", "1", "2", "--beats", "256", "--launcher", "processes",
            "--out", str(out_file), *TINY]  # fmt: skip
    out = run_script("gpu_packing.py", *args, monkeypatch=monkeypatch, capsys=capsys)
    assert "| 2dcnn | 2 |" in out
    alone, packed = codec.loads(list[dict], out_file.read_text())
    assert (alone["runs"], packed["runs"]) == (1, 2) and len(packed["scores"]) == 2
    assert packed["scores"][0] == alone["scores"][0]  # seed 0: the same alone and packed


def test_reproduce_seed(tmp_path, monkeypatch, capsys):
    seed_run = importlib.import_module("reproduce_seed").SeedRun
    args = ["--archs", "2dcnn", "--splits", "intra", "--seeds", "1", "--epochs", "1"]
    args += ["--max-steps", "2", "--out", str(tmp_path), *TINY]
    out = run_script("reproduce_seed.py", *args, monkeypatch=monkeypatch, capsys=capsys)
    assert "2dcnn intra seed seed 0: completed after 1 epochs" in out
    assert "2dcnn intra engine seed 0: completed after 1 epochs" in out
    runs = codec.loads(list[seed_run], (tmp_path / "runs.json").read_text())
    assert [r.recipe for r in runs] == ["seed", "engine"]
    assert all(r.steps == 2 and r.test.n > 0 for r in runs)
    table = (tmp_path / "table.md").read_text()
    assert "| 2dcnn | intra | seed | 1 |" in table and "| 2dcnn | intra | engine | 1 |" in table


def test_reproduce_seed_packed_runs_give_the_numbers_of_runs_alone(tmp_path, monkeypatch, capsys):
    # step 14: runs packed side by side (each in a fresh process) compute what they do alone
    seed_run = importlib.import_module("reproduce_seed").SeedRun
    args = ["--archs", "2dcnn", "--splits", "intra", "--recipes", "engine", "--seeds", "2"]
    args += ["--epochs", "1", "--max-steps", "3", "--threads", "1", *TINY]
    alone, packed = tmp_path / "alone", tmp_path / "packed"
    run_script("reproduce_seed.py", *args, "--out", str(alone), monkeypatch=monkeypatch,
               capsys=capsys)  # fmt: skip
    out = run_script("reproduce_seed.py", *args, "--parallel", "2", "--out", str(packed),
                     monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert "2 at once" in out
    first, second = (codec.loads(list[seed_run], (d / "runs.json").read_text())
                     for d in (alone, packed))  # fmt: skip
    assert [(r.seed, r.test) for r in first] == [(r.seed, r.test) for r in second]


def test_time_to_accuracy(tmp_path, monkeypatch, capsys):
    out_file, plot = tmp_path / "tta.json", tmp_path / "curves.png"
    args = ["--archs", "2dcnn", "--epochs", "1", "--today-epochs", "1", "--set", "hidden=8"]
    args += ["--out", str(out_file), *TINY]
    out = run_script("time_to_accuracy.py", *args, monkeypatch=monkeypatch, capsys=capsys)
    assert "| 2dcnn | new | 0 | 256 |" in out and "| 2dcnn | today | 0 | 32 |" in out
    report = ["--report", str(out_file), "--plot", str(plot)]
    again = run_script("time_to_accuracy.py", *report, monkeypatch=monkeypatch, capsys=capsys)
    assert "| 2dcnn | new | 0 | 256 |" in again and plot.stat().st_size > 5_000


def test_throughput(monkeypatch, capsys):
    args = ["--archs", "2dcnn", "--configs", "defaults", "--steps", "2", *TINY]
    out = run_script("throughput.py", *args, monkeypatch=monkeypatch, capsys=capsys)
    assert "2 steps each, synthetic intra training fold" in out
    assert "inference 2dcnn defaults fp32:" in out


def test_inference_speed(mitdb_dir, monkeypatch, capsys):
    args = ["--archs", "2dcnn", "--batches", "64", "128", "--beats", "256", *TINY]
    args += ["--record", str(mitdb_dir / "100")]
    out = run_script("inference_speed.py", *args, monkeypatch=monkeypatch, capsys=capsys)
    assert "2dcnn fp32: 64:" in out and "2dcnn: record 100 (30.1 min, 2,271 beats)" in out


def test_arch_speed(monkeypatch, capsys):
    args = ["2dcnn", "--steps", "1", "--repeats", "1", "--warmup", "0"]
    out = run_script("arch_speed.py", *args, monkeypatch=monkeypatch, capsys=capsys)
    assert "2dcnn" in out and "308,933" in out and "reproduce:" in out


def test_harness_overhead(tmp_path, monkeypatch, capsys):
    budget = get_budget("smoke")
    store = stored_run(tmp_path / "run", [Combo(n, "none") for n in "ab"], budget)
    store.save_timing(Timing(60.0, 3.0, 1.0, 2, ClusterSummary(2, 0, 1), runs=8, runs_reused=0))
    out = run_script("harness_overhead.py", str(store.root), monkeypatch=monkeypatch,
                     capsys=capsys)  # fmt: skip
    assert "busy share of the slots" in out and "Ray start                      3.0 s" in out


@pytest.fixture(autouse=True)
def _benchmarks_importable(monkeypatch):
    """The scripts' own folder on sys.path, as when Python runs one of them."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))


def test_inter_inputs(tmp_path, monkeypatch, capsys):
    out_file = tmp_path / "inter.json"
    args = ["--archs", "2dcnn", "--datasets", "synthetic", "--strategies", "none", "focal"]
    args += ["--max-steps", "2", "--epochs", "1", "--set", "hidden=8", "--out", str(out_file)]
    out = run_script("inter_inputs.py", *args, monkeypatch=monkeypatch, capsys=capsys)
    assert "| 2dcnn | synthetic | none | 0 | 0.1 |" in out
    assert "| 2dcnn | synthetic | focal | 0 | 0.1 |" in out
    assert "always N on DS2: accuracy" in out and out_file.stat().st_size > 1_000
