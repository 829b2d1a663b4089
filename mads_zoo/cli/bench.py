"""``mads-zoo bench`` and ``mads-zoo report``: the benchmark harness from the command line."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from mads_zoo.bench import harness
from mads_zoo.bench.budget import Budget, get_budget
from mads_zoo.bench.cluster import require_token_auth
from mads_zoo.bench.compare import ComparisonRow, compare_rows, screen_agreement
from mads_zoo.bench.failures import ERRORS_LOG
from mads_zoo.bench.harness import BenchEvents, BenchRequest
from mads_zoo.bench.leaderboard import LeaderboardRow, cell_text, leaderboard_columns, table_cells
from mads_zoo.bench.lock import RunLock
from mads_zoo.bench.results import Combo, RunStore, TrialRecord
from mads_zoo.cli.console import WIDE_TABLE, console
from mads_zoo.cli.data import NoVerifyOption, apply_no_verify
from mads_zoo.config import parse_overrides
from mads_zoo.data.spec import default_dataset
from mads_zoo.errors import ConfigError
from mads_zoo.fileio import check_writable_folder


class RichProgress(BenchEvents):
    """The current stage's runs done/total with ETA, the best score so far, one line per failure."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.runs = progress.add_task("starting", total=None, info="")
        self.best = float("nan")
        self.failures = 0

    def stage_started(self, name: str, runs: int) -> None:
        """Reset the bar for a new stage."""
        self.progress.reset(self.runs, total=runs, description=name)

    def trial_finished(self, record: TrialRecord, reused: bool) -> None:
        """Advance the bar; track the best score; print failures."""
        self.progress.advance(self.runs)
        if record.score is None:
            self._failed(record.spec.key, record.error or "no score")
            return
        if not record.score <= self.best:
            self.best = record.score
        self.progress.update(
            self.runs, info=f"best {self.best:.4f} (last: {record.spec.combo.key})"
        )

    def phase(self, text: str) -> None:
        """Show a status line."""
        self.progress.update(self.runs, info=text)

    def combo_failed(self, combo: Combo, error: str) -> None:
        """Print the failure of a combo that cannot run at all."""
        self._failed(combo.key, error)

    def _failed(self, what: str, error: str) -> None:
        self.failures += 1
        self.progress.console.print(f"{what} failed: {error}", highlight=False, markup=False)


def _fitted_table(title: str, compact: bool, **options: Any) -> Table:
    """A left-titled table; light borders and no edge padding when ``compact``."""
    box_style = box.SIMPLE_HEAD if compact else box.HEAVY_HEAD
    return Table(title=title, title_justify="left", box=box_style, pad_edge=not compact, **options)


def leaderboard_table(
    rows: Sequence[LeaderboardRow], title: str, metric: str, classes: Sequence[str], width: int
) -> Table:
    """The bench's terminal leaderboard, fitted to ``width`` columns.

    Narrow terminals get means without their CIs, short "reached" labels, no error column
    and light borders; ``leaderboard.md``/``.html`` always have everything.
    """
    compact = width < WIDE_TABLE
    columns = [
        c for c in leaderboard_columns(metric, classes)
        if c.terminal and not (compact and c.wide_only)
    ]  # fmt: skip
    shown, cells = table_cells(rows, columns, compact)
    caption = "means over the final seeds; 95% CIs in leaderboard.md" if compact else None
    table = _fitted_table(title, compact, caption=caption, caption_justify="left")
    for column in shown:
        table.add_column(column.header(compact), justify="left" if column.left else "right",
                         no_wrap=True)  # fmt: skip
    for row in cells:
        table.add_row(*row)
    return table


def _show_report(store: RunStore) -> None:
    from mads_zoo.bench.report import render_report  # pandas and matplotlib: only here

    report = render_report(store)
    run = report.run
    title = f"leaderboard: {run.data.dataset}/{run.data.split}, budget {run.budget.name}"
    classes = list(run.class_counts.test)
    table = leaderboard_table(report.rows, title, run.budget.metric.value, classes, console.width)
    console.print(table)
    console.print(
        f"results in {store.root}: leaderboard.md, leaderboard.html, trials.parquet, "
        f"{len(report.figures)} plots",
        highlight=False,
    )


#: The bench options behind each part of a run's record that ``--resume`` checks.
RECORDED_BY = {
    "dataset": ("dataset",),
    "split": ("split",),
    "seed": ("seed",),
    "budget": ("budget", "budget_set"),
    "combos": ("run_all", "arch", "strategy"),
}


def _resume_checks(ctx: typer.Context) -> set[str]:
    """The parts of the run's record that options given on the command line speak for."""
    defaults = ("DEFAULT", "DEFAULT_MAP")  # by name: typer may bring its own click
    given = {
        n
        for n in ctx.params
        if getattr(ctx.get_parameter_source(n), "name", "DEFAULT") not in defaults
    }
    return {part for part, names in RECORDED_BY.items() if given.intersection(names)}


def _cleanup() -> None:
    """``mads-zoo bench --cleanup``: reap what killed benches left, say what was done."""
    from mads_zoo.bench.cluster import reap_orphans  # Ray: only for a bench

    lines = reap_orphans() or ["nothing to clean up: no killed bench left Ray behind"]
    for line in lines:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def _trials(budget: Budget) -> str:
    """How many configs each combo trains in rung 0, in words."""
    if budget.trials == 1:
        return "its defaults (a screen)"
    informed = budget.informed_trials
    return f"{budget.trials} configs ({informed} informed by its scores)"


def _announce(store: RunStore) -> None:
    run = store.load_run()
    b: Budget = run.budget
    console.print(
        f"bench: {len(run.combos)} combos on {run.data.dataset}/{run.data.split}, budget "
        f"{b.name} ({_trials(b)} of {b.rung_beats:,} beats per combo, then successive "
        f"halving by {b.reduction_factor}; {b.finalists or 'all'} finalist(s) x "
        f"{b.final_seeds} seeds of {b.final_beats:,} beats; seed {run.seed}), run folder "
        f"{store.root}",
        highlight=False,
    )


def _run(store: RunStore, address: str | None) -> None:
    """Run the bench in ``store`` with a live display; a Ctrl-C says how to resume."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
        transient=False,
    )
    started = time.perf_counter()
    display = RichProgress(progress)
    try:
        with progress:
            harness.run_bench(store, display, address=address)
    except KeyboardInterrupt:
        console.print(f"interrupted; continue with: mads-zoo bench --resume {store.root}")
        raise typer.Exit(130) from None
    console.print(f"bench finished in {time.perf_counter() - started:.0f} s", highlight=False)
    if display.failures:
        console.print(
            f"{display.failures} failure(s), their tracebacks in {store.root / ERRORS_LOG}",
            highlight=False,
        )


AllOption = Annotated[
    bool, typer.Option("--all", help="Every architecture x every imbalance strategy.")
]
ArchOption = Annotated[
    list[str] | None,
    typer.Option("--arch", help="Architecture name or fnmatch pattern; repeatable."),
]
StrategyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--strategy",
        "--sampler",
        help="Imbalance strategy (a sampler, class-weighted or focal) or pattern; repeatable.",
    ),
]
DatasetOption = Annotated[
    str | None,
    typer.Option(help="A registered dataset (default: mitbih; on --split inter, mitbih-rhythm)."),
]
SplitOption = Annotated[str, typer.Option(help="intra (by beat) or inter (by patient).")]
BudgetOption = Annotated[str, typer.Option(help="Budget preset: smoke, quick or full.")]
BudgetSetOption = Annotated[
    list[str] | None, typer.Option("--budget-set", help="key=value over the budget; repeatable.")
]
BenchSeedOption = Annotated[
    int,
    typer.Option(
        "--seed",
        help="Seeds the split, samplers, trials and final runs (default: a split whose test "
        "fold no calibration read; defaults are calibrated on seed 0's validation fold).",
    ),
]
DataDirOption = Annotated[Path | None, typer.Option(help="Where the dataset's files are.")]
OutOption = Annotated[Path | None, typer.Option(help="Run folder (default: runs/bench/...).")]
ResumeOption = Annotated[Path | None, typer.Option(help="Continue an interrupted run folder.")]
AddressOption = Annotated[
    str | None, typer.Option(help="Join an existing Ray cluster (e.g. 'auto' or host:port).")
]
CleanupOption = Annotated[
    bool,
    typer.Option(
        help="Stop the Ray processes and remove the /tmp/mzr-* folders that killed benches "
        "left behind (every bench also does this when it starts), then exit."
    ),
]


def bench_command(
    ctx: typer.Context,
    run_all: AllOption = False,
    arch: ArchOption = None,
    strategy: StrategyOption = None,
    dataset: DatasetOption = None,
    split: SplitOption = "intra",
    budget: BudgetOption = "quick",
    budget_set: BudgetSetOption = None,
    seed: BenchSeedOption = harness.BENCH_SEED,
    data_dir: DataDirOption = None,
    out: OutOption = None,
    resume: ResumeOption = None,
    address: AddressOption = None,
    no_verify: NoVerifyOption = False,
    cleanup: CleanupOption = False,
) -> None:
    """Tune and test every (architecture x imbalance strategy) combo under one shared budget.

    Examples: [cyan]mads-zoo bench --all[/], [cyan]mads-zoo bench --arch '2d*' --strategy smote
    --budget smoke[/], [cyan]mads-zoo bench --resume runs/bench/mitbih-intra-quick-...[/]
    """
    apply_no_verify(ctx, no_verify)
    if cleanup:
        _cleanup()
        return
    dataset = dataset or default_dataset(split)
    request = BenchRequest(
        budget=get_budget(budget, parse_overrides(budget_set or [])),
        archs=arch or ["*"],
        strategies=strategy or ["*"],
        dataset=dataset,
        split=split,
        seed=seed,
        data_dir=data_dir,
    )
    if address is None:  # before any work: the embedded Ray will require its token
        require_token_auth()
    if resume is not None:
        if out is not None and out.absolute() != resume.absolute():
            raise ConfigError(f"--resume continues {resume} in place; drop --out {out}")
        if not (resume / "run.json").is_file():  # before the lock creates the folder
            RunStore(resume).load_run()
        root = resume
    else:
        if not (run_all or arch or strategy):
            raise ConfigError("say which combos: --all, or --arch/--strategy patterns")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        root = out or Path("runs") / "bench" / f"{dataset}-{split}-{budget}-{stamp}"
    with RunLock(root):  # one bench per run folder, from its first check to its report
        if resume is not None:
            store = harness.resume_bench(resume, data_dir, request, _resume_checks(ctx))
        else:
            store = harness.start_bench(request, root)
        _announce(store)
        _run(store, address)
        _show_report(store)


def report_command(
    run_dirs: Annotated[
        list[Path], typer.Argument(help="A bench run folder, or two to compare.", metavar="RUN...")
    ],
) -> None:
    """Re-render a bench run's leaderboard and plots, or compare two runs.

    With two folders (RUN_A RUN_B): every combo's rung, selection score and test figures in
    both, their difference, and whether it exceeds the 95% CIs over seeds; then whether both
    selected the same combo and how many of A's cuts B took further (e.g. A a ``quick``
    screen, B the same command with 4x the beats).
    """
    if len(run_dirs) > 2:
        raise ConfigError(f"report takes one run folder or two to compare, got {len(run_dirs)}")
    stores = [RunStore(d) for d in run_dirs]
    if len(stores) == 1:
        stores[0].load_run()  # a run folder, before checking it can be written
        check_writable_folder(stores[0].root, "the report")
        _show_report(stores[0])
        return
    console.print(comparison_table(stores[0], stores[1], console.width))
    runs = [store.load_results(store.load_run().combos) for store in stores]
    console.print(screen_agreement(runs[0], runs[1]).describe(), highlight=False)


def _comparison_cells(row: ComparisonRow, compact: bool) -> list[str]:
    figure = row.figure.replace("test ", "") if compact else row.figure
    a, b = (cell_text(value, compact) if value is not None else "-" for value in (row.a, row.b))
    delta = "" if row.delta is None else ("0" if row.delta == 0 else f"{row.delta:+.4f}")
    return [row.combo, figure, a, b, delta, row.verdict.value if row.verdict else ""]


def comparison_table(a: RunStore, b: RunStore, width: int) -> Table:
    """``mads-zoo report RUN_A RUN_B``: both runs' figures, the differences, the verdicts."""
    run_a, run_b = a.load_run(), b.load_run()
    metric = run_a.budget.metric
    if run_b.budget.metric != metric:
        raise ConfigError(
            f"the runs select on different metrics ({metric.value} vs {run_b.budget.metric.value})"
        )
    rows = compare_rows(a.load_results(run_a.combos), b.load_results(run_b.combos), metric.value)
    compact = width < WIDE_TABLE
    table = _fitted_table(f"A: {a.root}\nB: {b.root}", compact)
    for key in ("combo", "figure", "A", "B", "B-A", "verdict"):
        table.add_column(key, no_wrap=key != "combo", justify="right" if key == "B-A" else "left")
    previous = None
    for row in rows:
        cells = _comparison_cells(row, compact)
        if cells[0] == previous:
            cells[0] = ""
        else:
            previous = cells[0]
        table.add_row(*cells)
    return table
