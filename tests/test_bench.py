"""The benchmark harness without Ray: budget, planner, records, resume checks, leaderboard.

The real-Ray runs (end to end, determinism, scale-out, security) are in test_bench_ray.py.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from bench_fakes import (
    COUNTS,
    FakeSearcher,
    accuracy_matrix,
    fake_record,
    plan,
    run_record,
    spec,
    stored_run,
)

from mads_zoo import codec, space
from mads_zoo.bench.budget import PRESETS, get_budget
from mads_zoo.bench.cluster import batch_cpus
from mads_zoo.bench.harness import BenchRequest, resume_bench, select_combos, start_bench
from mads_zoo.bench.leaderboard import (
    Versus,
    leaderboard_columns,
    leaderboard_rows,
    markdown_table,
    versus,
)
from mads_zoo.bench.plan import Planner, derive_seed, tuning_rungs
from mads_zoo.bench.results import (
    Combo,
    ComboResult,
    DataSource,
    Outcome,
    RunRecord,
    RunStore,
    Stage,
    TrialRecord,
    comparable,
    config_toml,
)
from mads_zoo.bench.search import tune_space
from mads_zoo.bench.trial import trial_request
from mads_zoo.config import RunRequest, read_config_file, resolve_run
from mads_zoo.errors import ConfigError, MadsZooError, UnknownNameError
from mads_zoo.metrics import MetricName, Metrics, summed
from mads_zoo.stats import Summary
from mads_zoo.train.result import RunStatus


def test_budget_presets_and_overrides():
    assert set(PRESETS) == {"smoke", "quick", "full"}
    full = PRESETS["full"]
    assert full.trials >= 20 and full.final_seeds == 5 and full.finalists == 0  # every combo
    assert PRESETS["quick"].final_seeds == 3 and PRESETS["quick"].metric is MetricName.MACRO_F1
    assert get_budget("quick", {"trials": 7}).trials == 7
    with pytest.raises(UnknownNameError, match="did you mean 'trials'"):
        get_budget("quick", {"trails": 7})
    with pytest.raises(ConfigError, match="reduction_factor must be an integer >= 2, got 1"):
        get_budget("smoke", {"reduction_factor": 1})
    with pytest.raises(ConfigError, match="gpus_per_trial must be 'auto' or a number"):
        get_budget("smoke", {"gpus_per_trial": "many"})
    with pytest.raises(UnknownNameError, match="did you mean 'macro_f1'"):
        get_budget("smoke", {"metric": "macro_f2"})
    assert get_budget("smoke", {"metric": "macro_recall"}).metric is MetricName.MACRO_RECALL
    with pytest.raises(UnknownNameError, match="did you mean 'quick'"):
        get_budget("quik")
    assert get_budget("smoke", {"cpus_per_trial": 2.5}).trial_threads == 2
    assert get_budget("smoke", {"gpus_per_trial": 0.25}).gpus_per_trial == 0.25


def test_every_config_trains_the_same_beats_whatever_its_batch_size():
    from mads_zoo.train.engine import run_length

    budget = get_budget("quick", {"eval_beats": 2_048})
    run = run_record([Combo("2dcnn", "smote")], budget)
    trial = spec(Combo("2dcnn", "smote"), beats=12_000)
    for batch in (16, 64, 256):
        trial = replace(trial, config={"batch_size": batch})
        run_spec = resolve_run(trial_request(trial, run, "cpu"))
        training = run_spec.training
        assert training.beats == 12_000 and training.monitor is MetricName.MACRO_F1
        assert run_length(training, 70_000).steps_per_eval * batch == 2_048
        assert training.seed == trial.seed and run_spec.data.seed == run.seed == 0
        assert run_spec.data.sampler == "smote" and run_spec.data.val_fraction == 0.05


def test_search_spaces_translate_to_ray_tune():
    from ray.tune.search.sample import Categorical, Float, Integer

    translated = tune_space(
        {
            "a": space.choice([1, 2]),
            "b": space.randint(1, 5),
            "c": space.uniform(0.1, 0.4),
            "d": space.loguniform(1e-4, 1e-2),
        }
    )
    assert isinstance(translated["a"], Categorical) and translated["a"].categories == [1, 2]
    assert isinstance(translated["b"], Integer)
    assert (translated["b"].lower, translated["b"].upper) == (1, 6)  # Tune's upper is exclusive
    assert isinstance(translated["c"], Float) and isinstance(translated["d"], Float)


def test_combos_follow_the_patterns():
    combos = select_combos(["2d*"], ["smote", "none"])
    assert Combo("2dcnn", "smote") in combos and Combo("2dtransformer", "none") in combos
    assert all(c.architecture.startswith("2d") for c in combos)
    with pytest.raises(UnknownNameError, match="did you mean 'smote'"):
        select_combos(["2dcnn"], ["smot"])


def test_best_config_toml_is_a_train_config(tmp_path):
    path = tmp_path / "best.toml"
    config = {"hidden": 64, "dropout": 0.25, "batch_size": 16}
    source = DataSource("mitbih-rhythm", "inter", None, "abc", beats=10)
    path.write_text(config_toml(Combo("2dcnn", "smote"), config, {"val": 0.9}, source))
    data = read_config_file(path)
    assert data.architecture == "2dcnn" and data.sampler == "smote"
    assert data.dataset == "mitbih-rhythm" and data.split == "inter"
    assert data.config == config
    # a loss strategy is a sampler and a loss: `train --config` reruns exactly the combo
    path.write_text(config_toml(Combo("2dcnn", "focal"), config, {"val": 0.9}, source))
    data = read_config_file(path)
    assert data.sampler == "none" and data.config == {**config, "loss": "focal"}
    spec = resolve_run(RunRequest("2dcnn", config_file=path))
    assert spec.training.recipe.loss == "focal" and spec.data.dataset == "mitbih-rhythm"


# --- the planner: successive halving, decided synchronously ------------------------------


def test_successive_halving_keeps_the_better_combos_and_selects_on_validation():
    combos = [Combo(n, "none") for n in "abcdef"]
    budget = get_budget("smoke", {"trials": 3, "reduction_factor": 2, "finalists": 2})
    batches = []
    results = {r.combo.architecture: r for r in plan(budget, combos, batches=batches)}
    assert tuning_rungs(budget, 5) == [5, 3]  # f failed once but still scored with x=1, 2
    names = [name for name, _ in batches]
    assert names == ["rung 0, wave 1/3", "rung 0, wave 2/3", "rung 0, wave 3/3", "rung 1", "final"]
    assert len(batches[0][1]) == 6  # every combo's trial of the wave runs together
    rung1 = batches[3][1]
    assert [s.combo.architecture for s in rung1] == ["b", "d", "e"]  # the better half, by rank
    assert all(s.beats == budget.rung_beats * 2 and s.config == {"x": 2} for s in rung1)
    final = batches[4][1]
    assert [(s.combo.architecture, s.index) for s in final] == [
        ("b", 0), ("b", 1), ("d", 0), ("d", 1)
    ]  # fmt: skip
    assert all(s.beats == budget.final_beats for s in final)
    # validation selects b although its (inverted) test numbers are the worse ones
    assert results["b"].outcome is Outcome.SELECTED and results["d"].outcome is Outcome.FINALIST
    b_test, d_test = (results[k].test_summary("accuracy").mean for k in "bd")
    assert b_test < d_test
    assert results["e"].outcome is Outcome.STOPPED and results["e"].rung == 1
    assert not results["e"].test
    assert results["e"].score is None and results["e"].error == "rung 1: RuntimeError: rung boom"
    assert results["a"].outcome is Outcome.STOPPED and results["a"].rung == 0
    assert results["f"].failed_trials == 1 and results["f"].score is not None
    assert len(results["b"].test) == len(results["b"].val.values) == 2  # one per final seed
    assert summed(results["b"].test).n == 2 * 2_000  # the seeds' test matrices add up


def test_the_searcher_is_asked_in_batches_and_told_results_in_trial_order():
    log = []
    budget = get_budget("smoke", {"trials": 4, "suggest_batch": 2, "finalists": 1})
    plan(budget, [Combo("f", "none"), Combo("a", "none")], log=log)
    f_calls = [entry for entry in log if entry[1].startswith("f--")]
    assert [e[:2] for e in f_calls] == [
        ("suggest", "f--none-0"), ("suggest", "f--none-1"),
        ("complete", "f--none-0"), ("complete", "f--none-1"),
        ("suggest", "f--none-2"), ("suggest", "f--none-3"),
        ("complete", "f--none-2"), ("complete", "f--none-3"),
    ]  # fmt: skip
    assert f_calls[2][2] is None  # the failed trial is reported as an error


def test_a_plan_is_a_function_of_its_inputs_and_trial_seeds_are_derived():
    combos = [Combo(n, s) for n in "abc" for s in ("none", "smote")]
    budget = get_budget("smoke", {"trials": 2})
    first = [codec.encode(r) for r in plan(budget, combos)]
    assert first == [codec.encode(r) for r in plan(budget, combos)]
    seeds = {derive_seed(0, c.key, "tune", 0, i) for c in combos for i in range(3)}
    assert len(seeds) == 18 and derive_seed(0, "2dcnn--none", "tune", 0, 1) == 64016399


def test_a_search_space_that_cannot_be_searched_fails_its_combos_only():
    def factory(combo, budget):
        if combo.architecture == "c":
            raise TypeError("no Ray Tune translation for MySpace")
        return FakeSearcher([])

    combos = [Combo(n, "none") for n in "abc"]
    budget = get_budget("smoke", {"trials": 2, "finalists": 1})
    results = Planner(combos, budget, 0, lambda n, s: [fake_record(x) for x in s], factory).run()
    by = {r.combo.architecture: r for r in results}
    assert by["c"].outcome is Outcome.FAILED and "MySpace" in by["c"].error
    assert by["b"].outcome is Outcome.SELECTED


def test_summary_is_mean_and_a_student_t_interval():
    stat = Summary.of([1.0, 2.0, 3.0])
    assert stat.mean == 2.0 and stat.ci95 == pytest.approx(4.302653 / math.sqrt(3))
    assert math.isnan(Summary.of([0.5]).ci95) and Summary.of([0.5]).describe() == "0.5000"
    assert stat.describe() == "2.0000 ± 2.4841" and stat.describe(ci=False) == "2.0000"


def test_the_leaderboard_ranks_on_validation_and_shows_test_only_for_finalists(tmp_path):
    combos = [Combo(n, "none") for n in "abcdef"]
    budget = get_budget("smoke", {"trials": 3, "reduction_factor": 2, "finalists": 2})
    rows = leaderboard_rows(plan(budget, combos))
    assert [r.architecture for r in rows] == ["b", "d", "e", "a", "c", "f"]
    assert rows[0].selected and not any(r.selected for r in rows[1:])
    assert rows[0].reached.describe() == "final (2 seeds)" and rows[0].test_accuracy.has_ci
    assert rows[2].reached.describe() == "rung 1" and rows[2].test_accuracy is None
    assert rows[1].versus is Versus.BELOW and rows[0].versus is None
    assert [r.rank for r in rows] == [1, 2, None, None, None, None]  # no rank on one run's score


def test_summaries_overlap_when_their_intervals_do():
    assert Summary(0.90, 0.02, ()).overlaps(Summary(0.93, 0.015, ()))
    assert not Summary(0.90, 0.01, ()).overlaps(Summary(0.93, 0.015, ()))
    assert Summary(0.9, float("nan"), ()).overlaps(Summary(0.9, float("nan"), ()))


def finalist(values, seeds=(0, 1, 2)) -> ComboResult:
    """A finalist with validation scores ``values`` from its final seeds ``seeds``."""
    val = Summary.of(values)
    return ComboResult(Combo("a", "none"), Outcome.FINALIST, 2, val.mean, {}, val=val,
                       final_seeds=tuple(seeds))  # fmt: skip


def test_finalists_are_compared_with_the_selected_model_seed_by_seed():
    leader = finalist([0.80, 0.85, 0.90])
    behind = finalist([0.79, 0.84, 0.89])  # 0.01 behind on every seed
    assert behind.val.overlaps(leader.val)  # the unpaired rule called this a tie
    assert versus(behind, leader) is Versus.BELOW
    assert versus(finalist([0.81, 0.83, 0.90]), leader) is Versus.TIED  # gaps of both signs
    assert versus(finalist([0.79, 0.89], seeds=(0, 2)), leader) is Versus.BELOW  # 0 and 2 pair
    assert versus(finalist([0.7]), leader) is Versus.NO_CI  # one seed: no interval
    assert versus(finalist([0.7, 0.7], seeds=(1, 5)), leader) is Versus.NO_CI  # one in common
    assert versus(behind, finalist([0.9], seeds=(0,))) is Versus.NO_CI


def test_each_final_seed_resamples_the_training_fold_with_its_own_sampler_seed():
    from mads_zoo.bench.plan import final_sampler_seed

    combo = Combo("2dcnn", "smote")
    run = run_record([combo], get_budget("smoke"))
    tuning = resolve_run(trial_request(spec(combo), run, "cpu")).data
    finals = [
        resolve_run(trial_request(spec(combo, stage=Stage.FINAL, rung=2, index=k), run, "cpu")).data
        for k in range(3)
    ]
    assert tuning.sampler_seed is None and tuning.resample_seed == run.seed
    assert [d.sampler_seed for d in finals] == [final_sampler_seed(0, k) for k in range(3)]
    assert len({d.resample_seed for d in finals}) == 3
    assert {replace(d, sampler_seed=None) for d in finals} == {tuning}  # split, val: unchanged


def test_every_finalist_trains_the_same_final_seeds():
    batches = []
    budget = get_budget("smoke", {"finalists": 2, "final_seeds": 3})
    plan(budget, [Combo(n, "none") for n in "abcd"], batches=batches)
    ((_, specs),) = [b for b in batches if b[0] == "final"]
    seeds = {}
    for s in specs:
        seeds.setdefault(s.combo, []).append(s.seed)
    first, second = seeds.values()
    assert first == second and len(set(first)) == 3


def test_one_seed_finalists_say_they_have_no_ci():
    budget = get_budget("smoke", {"finalists": 2, "final_seeds": 1})
    rows = leaderboard_rows(plan(budget, [Combo(n, "none") for n in "abcd"]))
    columns = leaderboard_columns("macro_f1", ["N", "S"])
    table = markdown_table(rows, columns)
    assert rows[1].versus is Versus.NO_CI and rows[0].one_seed and not rows[2].one_seed
    assert table.count("(no CI)") == 2 * 4  # val and three test figures of both finalists
    assert "no CI (< 2 paired seeds)" in table


# --- records, start and resume -------------------------------------------------------------


def test_trial_records_round_trip_and_compare_without_timings(tmp_path):
    store = RunStore(tmp_path)
    trial = spec(Combo("2dcnn", "none"), config={"lr": 0.001})
    val = accuracy_matrix(0.9)
    record = TrialRecord(trial, RunStatus.COMPLETED, score=0.5, val=val, seconds=3.0, node_id="n1")
    store.save_trial(record)
    assert store.load_trial(trial) == record
    assert store.load_trial(spec(Combo("2dcnn", "none"), config={"lr": 0.002})) is None
    other = replace(record, seconds=9.0, node_id="n2")
    assert comparable(codec.encode(record)) == comparable(codec.encode(other))
    assert comparable(codec.encode(record)) != comparable(codec.encode(replace(other, score=0.4)))


def test_resume_refuses_data_other_than_the_runs_own(tmp_path):
    from test_data_readers import SOURCE_Y, kaggle_dir, table

    first = kaggle_dir(tmp_path / "a")
    request = BenchRequest(
        budget=get_budget("smoke"), archs=["2dcnn"], strategies=["none"],
        dataset="kaggle-csv", data_dir=first,
    )  # fmt: skip
    root = tmp_path / "run"
    store = start_bench(request, root)
    run = store.load_run()
    assert run.data.folder == str(first.resolve()) and len(run.data.fingerprint) == 16
    assert run.budget.precision in ("bf16", "fp32")  # auto is resolved once, when it starts
    assert run.val_strategy.startswith("stratified")  # how validation was carved, in words
    held = store.load_test_fold()  # for the test-sampling intervals of the report
    assert len(held.labels) == len(held.records) == sum(run.class_counts.test.values())
    with pytest.raises(ConfigError, match="already holds a bench run"):
        start_bench(request, root)
    assert resume_bench(root).root == store.root
    (root / "test_fold.parquet").unlink()  # as a run folder of an earlier version
    store.save_run(replace(run, val_strategy=""), with_environment=False)
    resumed = resume_bench(root)  # gains what this version records
    assert resumed.load_run().val_strategy == run.val_strategy
    assert np.array_equal(resumed.load_test_fold().labels, held.labels)
    assert resume_bench(root, kaggle_dir(tmp_path / "copy")).load_run().data.folder.endswith("copy")
    changed = table(slice(0, 240))
    changed[0, 0] = 0.123
    other = kaggle_dir(tmp_path / "b", train=changed)
    with pytest.raises(MadsZooError, match=r"holds different data .* resume refuses to mix"):
        resume_bench(root, other)
    assert len(SOURCE_Y) == 300


def test_a_config_over_the_compute_cap_is_refused_before_it_trains():
    from mads_zoo.bench.trial import run_trial
    from mads_zoo.data.folds import SealedTestFold, prepare_folds
    from mads_zoo.data.spec import DataSpec

    combo = Combo("2dcnn", "none")
    tight = run_record([combo], get_budget("smoke", {"max_mflops": 10}))
    roomy = run_record([combo], get_budget("smoke", {"max_mflops": 100}))
    data = DataSpec("synthetic", "intra", "none", 0, tight.budget.val_fraction)
    folds = prepare_folds(data, "2d").for_run(with_test=False)
    with pytest.raises(SealedTestFold):
        folds.final_test()  # tuning runs never see the test fold
    refused = run_trial(spec(combo, beats=64), folds, tight)
    assert refused.status is RunStatus.OVER_BUDGET and refused.failed and refused.steps == 0
    assert "43 MFLOPs per beat, over the budget's max_mflops 10" in refused.error
    admitted = run_trial(spec(combo, beats=64), folds, roomy)
    assert admitted.status is RunStatus.COMPLETED and admitted.steps == 1
    assert admitted.score == admitted.val.macro_f1 and admitted.test is None


def test_a_short_batch_shares_the_cpus_instead_of_idling_slots():
    # 3 final seeds on 2 one-CPU slots: all three at once, 2/3 CPU each (Ray counts in 1e-4)
    assert batch_cpus(3, 2.0, 1) == 0.6666
    assert 3 * batch_cpus(3, 2.0, 1) <= 2.0
    assert batch_cpus(2, 2.0, 1) == 1  # fits in one wave
    assert batch_cpus(4, 2.0, 1) == 1  # whole waves
    assert batch_cpus(60, 2.0, 1) == 1  # many waves: the tail is a small share
    assert batch_cpus(5, 4.0, 2) == 2  # 2 slots of 2 CPUs: 5 runs is over two waves
    assert batch_cpus(3, 4.0, 2) == 1.3333
    assert batch_cpus(3, 0.5, 1) == 1  # no whole slot: Ray queues as usual


def test_the_report_renders_when_every_final_run_failed(tmp_path):
    # measured on a GPU: every final seed failed on the test fold and the report then
    # crashed writing its first plot into a plots/ folder nobody had made
    from mads_zoo.bench.report import render_report

    def record(trial):
        if trial.stage is Stage.FINAL:
            return TrialRecord(trial, RunStatus.FAILED, error="RuntimeError: test fold")
        return fake_record(trial)

    store = stored_run(tmp_path, [Combo(n, "none") for n in "ab"], get_budget("smoke"), record)
    report = render_report(store)
    assert [p.name for p in report.figures] == ["heatmap.png", "best-so-far.png"]
    assert not any(r.test_accuracy and r.test_accuracy.has_ci for r in report.rows)
    assert "RuntimeError: test fold" in (tmp_path / "leaderboard.md").read_text()


def test_the_page_says_how_validation_was_carved_and_which_final_seeds_failed(tmp_path):
    from mads_zoo.bench.report import render_report

    def record(trial):
        if trial.stage is Stage.FINAL and trial.index == 1:
            return TrialRecord(trial, RunStatus.FAILED, error="RuntimeError: seed 1")
        return fake_record(trial)

    budget = get_budget("smoke", {"final_seeds": 3})
    store = stored_run(tmp_path, [Combo(n, "none") for n in "ab"], budget, record)
    carved = replace(store.load_run(), val_strategy="record-wise: DS1 records 124, 201")
    store.save_run(carved, with_environment=False)
    render_report(store)
    page = (tmp_path / "leaderboard.md").read_text()
    assert "Validation fold: record-wise: DS1 records 124, 201." in page
    assert "b--none: 2 of 3 final seeds completed; its figures are over those" in page
    assert "AAMI report, test fold, 2 seeds" in page and "RuntimeError: seed 1" in page


def test_the_report_has_baselines_and_an_aami_table_per_finalist(tmp_path):
    from mads_zoo.bench.report import render_report

    def record(trial):  # every final seed's test confusion is [[9, 1], [2, 8]]
        found = fake_record(trial)
        if found.test is None:
            return found
        return replace(found, test=Metrics.of_matrix([[9, 1], [2, 8]], ("N", "S")))

    combos = [Combo(n, "none") for n in "abcd"]
    budget = get_budget("smoke", {"finalists": 2})
    store = stored_run(tmp_path, combos, budget, record, split="inter")
    report = render_report(store)
    made = report.figures
    baselines = {r.strategy: r for r in report.rows if r.architecture == "baseline"}
    always_n = baselines["always N"]
    assert always_n.test_accuracy.describe() == always_n.test_macro_recall.describe() == "0.5000"
    prior = baselines["prior guess"]  # guesses N 90% of the time
    assert prior.test_accuracy.describe() == prior.test_macro_recall.describe() == "0.5000"
    page = (tmp_path / "leaderboard.md").read_text()
    # every final seed's confusion is [[9, 1], [2, 8]]: Se N 0.9, +P N 9/11, FPR N 0.2
    assert "### b--none (selected): AAMI report, test fold, 2 seeds" in page
    assert "| N | 10 | 0.9000 ± 0.0000 | 0.8182 ± 0.0000 | 0.2000 ± 0.0000 |" in page
    assert "### d--none: AAMI report" in page and "### a--none" not in page
    site = (tmp_path / "leaderboard.html").read_text()  # one file: figures inlined, no server
    assert site.count("data:image/png;base64,") == len(made) == 5  # heatmap, Se/+P, curves, 2 cm
    assert "src='plots/" not in site and "<script>" in site and "<th>test accuracy</th>" in site
    assert "<h3>b--none (selected): AAMI report, test fold, 2 seeds</h3>" in site


def test_two_runs_compare_figure_by_figure_against_their_cis(tmp_path):
    import io

    from rich.console import Console

    from mads_zoo.bench.compare import Verdict, compare_rows
    from mads_zoo.cli.bench import comparison_table

    combos = [Combo(n, "none") for n in "abcd"]
    budget = get_budget("smoke", {"finalists": 2})
    a = stored_run(tmp_path / "a", combos, budget)

    def shifted(trial):  # run B: combo d's final models test 0.1 better, b's 0.0005 better
        record = fake_record(trial)
        if record.test is None or trial.combo.architecture not in "bd":
            return record
        accuracy = record.test.accuracy
        if trial.combo.architecture == "d":
            return replace(record, test=accuracy_matrix(accuracy + 0.1))
        return replace(record, test=accuracy_matrix(accuracy, extra_right=1))  # +1 of 2,000

    b = stored_run(tmp_path / "b", combos, budget, shifted)
    run = a.load_run()
    rows = compare_rows(a.load_results(run.combos), b.load_results(run.combos), "macro_f1")
    verdict = {(r.combo, r.figure): r.verdict for r in rows}
    assert verdict[("b--none", "reached")] is Verdict.SAME
    assert verdict[("c--none", "val macro_f1")] is Verdict.SAME
    assert verdict[("d--none", "test accuracy")] is Verdict.BEYOND
    assert verdict[("b--none", "test accuracy")] is Verdict.WITHIN
    console = Console(width=80, file=io.StringIO(), record=True)
    console.print(comparison_table(a, b, 80))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80 and "beyond CIs" in text


def test_the_terminal_leaderboard_fits_80_columns():
    import io

    from rich.console import Console

    from mads_zoo.bench.leaderboard import baseline_rows
    from mads_zoo.cli.bench import leaderboard_table

    combos = [Combo(f"timm-mobilenet-{n}", "random-under") for n in "abcdef"]
    budget = get_budget("smoke", {"finalists": 2})
    run = run_record(combos, budget)
    scores = {c.architecture: 0.1 * i for i, c in enumerate(combos)}

    def execute(name, specs):
        records = []
        for s in specs:
            record = fake_record(replace(s, combo=Combo("a", "none")))
            records.append(replace(record, spec=s, score=scores[s.combo.architecture] + 1e-3))
        return records

    results = Planner(combos, budget, 0, execute, lambda c, b: FakeSearcher([])).run()
    rows = leaderboard_rows(results) + baseline_rows(run)
    for width in (80, 160):
        console = Console(width=width, file=io.StringIO(), record=True)
        table = leaderboard_table(rows, "leaderboard", "macro_f1", list(COUNTS.test), width)
        console.print(table)
        text = console.export_text()
        assert max(len(line) for line in text.splitlines()) <= width
        assert "…" not in text
        assert all(f"timm-mobilenet-{n}" in text for n in "abcdef")
        assert "always N" in text and "prior guess" in text and ("±" in text) == (width == 160)


def test_a_score_of_exactly_zero_ranks_above_a_missing_one():
    from mads_zoo.bench.leaderboard import ranked
    from mads_zoo.bench.plan import _ranked

    a, b, c = (Combo(n, "none") for n in "abc")
    assert _ranked([a, b, c], {a: None, b: 0.0, c: 0.1}) == [c, b, a]
    zero = ComboResult(b, Outcome.STOPPED, 1, 0.0, {})
    missing = ComboResult(a, Outcome.STOPPED, 1, None, {}, error="rung 1: boom")
    assert ranked([missing, zero]) == [zero, missing]


def suggestions(budget, scores):
    """What ``make_searcher`` suggests for 2dcnn when told ``scores``, one trial at a time."""
    from mads_zoo.bench.plan import make_searcher

    searcher = make_searcher(Combo("2dcnn", "none"), budget)
    made = []
    for i in range(budget.trials):
        made.append(searcher.suggest(f"t{i}"))
        searcher.on_trial_complete(f"t{i}", result={"score": scores[i]})
    return made


def test_the_searcher_is_informed_by_its_own_scores_after_two_configs():
    full = get_budget("full", {"trials": 5})  # defaults, 4 seeded random draws, then TPE
    assert full.informed_trials == 0 and get_budget("full").informed_trials == 15
    tuned = get_budget("full", {"trials": 5, "n_initial_points": 2})
    assert tuned.informed_trials == 3
    low, high = [0.1, 0.9, 0.2, 0.3, 0.4], [0.9, 0.1, 0.8, 0.7, 0.6]
    first, second = suggestions(tuned, low), suggestions(tuned, high)
    assert first[:2] == second[:2]  # the defaults, then a seeded random draw
    assert first[2] != second[2] and first[3:] != second[3:]  # TPE: told other scores
    again = suggestions(tuned, low)
    assert again == first  # seeded: the same scores give the same configs


def test_the_quick_screen_does_not_tune_and_says_so(tmp_path):
    from mads_zoo.registry import get_registry

    quick = PRESETS["quick"]
    assert quick.informed_trials == 0 and quick.trials == 1
    defaults = get_registry().architecture("2dcnn").defaults
    (config,) = suggestions(quick, [0.5])  # each combo's defaults, nothing else
    assert config == {key: defaults[key] for key in config}
    # why not a second config (H2 of step 13): without random initial points, HyperOpt's
    # second suggestion is the same whatever the first one scored, a perturbation
    perturbing = get_budget("quick", {"trials": 2})
    assert suggestions(perturbing, [0.0, 0.5]) == suggestions(perturbing, [0.99, 0.5])
    from mads_zoo.bench.report import render_report

    store = stored_run(tmp_path, [Combo(n, "none") for n in "ab"], get_budget("smoke"))
    render_report(store)
    assert "This budget is a screen, not a tuning" in (tmp_path / "leaderboard.md").read_text()


def test_the_page_counts_the_decisions_each_rung_took_at_or_below_always_n(tmp_path):
    from mads_zoo.bench.report import render_report
    from mads_zoo.bench.screen import baseline_score, rung_decisions

    combos = [Combo(n, "none") for n in "abcdef"]
    budget = get_budget("smoke", {"trials": 3, "reduction_factor": 2, "finalists": 2})
    store = stored_run(tmp_path, combos, budget)
    run, trials = store.load_run(), store.all_trials()
    # always N on the fake validation fold (9 N, 1 S): macro F1 = (2 * 0.9 / 1.9 + 0) / 2
    assert baseline_score(run) == pytest.approx(0.9 / 1.9)
    first, second = rung_decisions(run, trials)
    # rung 0: b, d, e go on; a (0.5+) is cut above the baseline, c (0.3+) and f (0.1+) below it
    assert (first.combos, first.advanced, first.cut) == (6, 3, 3)
    assert (first.advanced_at_baseline, first.cut_at_baseline, first.on_noise) == (0, 2, 2)
    # rung 1: b and d reach the final; e failed there (no score counts as at the baseline)
    assert (second.rung, second.advanced, second.cut, second.cut_at_baseline) == (1, 2, 1, 1)
    render_report(store)
    page = (tmp_path / "leaderboard.md").read_text()
    assert "## Decisions per rung" in page and "| 0 | rung 1 | 6 | 3 | 3 | 0 | 2 | 2 |" in page
    assert "| 1 | final | 3 | 2 | 1 | 0 | 1 | 1 |" in page


def test_a_combo_at_or_below_always_n_is_deferred_not_cut():
    combos = [Combo(n, "none") for n in "abcdef"]
    budget = get_budget("smoke", {"trials": 3, "reduction_factor": 2, "finalists": 2})
    batches = []
    results = {r.combo.architecture: r for r in plan(budget, combos, batches=batches,
                                                     baseline=0.35)}  # fmt: skip
    rung_1 = next(specs for name, specs in batches if name == "rung 1")
    # b, d, e rank in the top half; c (0.32) and f (0.12) are at or below 0.35: deferred, while
    # a (0.52, above the baseline but not in the top half) is cut on its score
    assert [s.combo.architecture for s in rung_1] == ["b", "d", "e", "c", "f"]
    assert results["a"].rung == 0 and results["c"].rung == results["f"].rung == 1
    assert {r for r, x in results.items() if x.outcome.final} == {"b", "d"}
    no_baseline = {r.combo.architecture: r for r in plan(budget, combos)}
    assert no_baseline["c"].rung == 0  # without a baseline: cut at rung 0, as before


def test_records_of_an_earlier_version_read_with_the_fields_added_since_at_their_defaults():
    record = fake_record(spec(Combo("b", "none"), stage=Stage.FINAL, rung=2))
    old = codec.encode(record)
    del old["test_predicted"]  # written before test predictions were kept
    assert codec.decode(TrialRecord, old) == record
    run = codec.encode(run_record([Combo("b", "none")], get_budget("smoke")))
    del run["val_strategy"]
    assert codec.decode(RunRecord, run).val_strategy == ""
    del run["seed"]  # a field without a default is still required
    with pytest.raises(codec.CodecError, match="missing key 'seed'"):
        codec.decode(RunRecord, run)


def test_comparing_a_screen_with_a_bigger_run_counts_the_cuts_it_reverses():
    from mads_zoo.bench.compare import screen_agreement

    combos = [Combo(n, "none") for n in "abcdef"]
    budget = get_budget("smoke", {"trials": 3, "reduction_factor": 2, "finalists": 2})
    screen, bigger = plan(budget, combos), plan(budget, combos, baseline=0.35)
    agreement = screen_agreement(screen, bigger)
    assert agreement.selected_a == agreement.selected_b == "b--none"
    assert agreement.cuts == ("a--none", "c--none", "e--none", "f--none")
    assert agreement.reversed == ("c--none", "f--none")  # deferred there: rung 1, not rung 0
    assert agreement.describe() == (
        "A selected b--none, B b--none: the same combo; B took 2 of A's 4 cuts further "
        "(c--none, f--none)."
    )
