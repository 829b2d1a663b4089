"""``mads-zoo bench`` and ``mads-zoo report``: the benchmark harness from the command line."""

from __future__ import annotations

import time
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

from mads_zoo.bench.failures import ERRORS_LOG
from mads_zoo.bench.harness import Progress as HarnessProgress
from mads_zoo.cli.console import WIDE_TABLE, console
from mads_zoo.cli.data import NoVerifyOption, apply_no_verify
from mads_zoo.config import parse_overrides
from mads_zoo.errors import ConfigError


class RichProgress(HarnessProgress):
    """The current stage's runs done/total with ETA, the best score so far, one line per failure."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.runs = progress.add_task("starting", total=None, info="")
        self.best = float("nan")
        self.failures = 0

    def stage_started(self, name: str, runs: int) -> None:
        """Reset the bar for a new stage."""
        self.progress.reset(self.runs, total=runs, description=name)

    def trial_finished(self, record: Any, reused: bool) -> None:
        """Advance the bar; track the best score; print failures."""
        self.progress.advance(self.runs)
        if record.failed:
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

    def combo_failed(self, combo: Any, error: str) -> None:
        """Print the failure of a combo that cannot run at all."""
        self._failed(combo.key, error)

    def _failed(self, what: str, error: str) -> None:
        self.failures += 1
        self.progress.console.print(f"{what} failed: {error}", highlight=False, markup=False)


#: Two-line headers of the narrow leaderboard.
COMPACT_HEADERS = {"rank": "#", "test accuracy": "test\nacc.", "test macro F1": "test\nmacro F1"}


def _fitted_table(title: str, compact: bool, **options: Any) -> Table:
    """A left-titled table; light borders and no edge padding when ``compact``."""
    box_style = box.SIMPLE_HEAD if compact else box.HEAVY_HEAD
    return Table(title=title, title_justify="left", box=box_style, pad_edge=not compact, **options)


def leaderboard_table(rows: list[dict[str, Any]], title: str, metric: str, width: int) -> Table:
    """The bench's terminal leaderboard, fitted to ``width`` columns.

    Narrow terminals get means without their CIs, short "reached" labels, no error column
    and light borders; ``leaderboard.md``/``.html`` always have everything.
    """
    compact = width < WIDE_TABLE
    wanted = ("rank", "architecture", "sampler", "reached", metric, "test accuracy",
              "test macro F1") + (() if compact else ("error",))  # fmt: skip
    keys = [k for k in wanted if any(k in r for r in rows)]
    caption = "means over the final seeds; 95% CIs in leaderboard.md" if compact else None
    table = _fitted_table(title, compact, caption=caption, caption_justify="left")
    for key in keys:
        header = key
        if compact:
            header = COMPACT_HEADERS.get(key, key.replace("val_", "val\n").replace("_", " "))
        left = key in ("architecture", "sampler")
        table.add_column(header, justify="left" if left else "right", no_wrap=True)
    for row in rows:
        cells = [str(row.get(k, "")) for k in keys]
        if compact:
            cells = [c.split(" ± ")[0] for c in cells]
            reached = keys.index("reached")
            cells[reached] = cells[reached].split(" (")[0]  # "final (3 seeds)" -> "final"
        table.add_row(*cells)
    return table


def _show_report(store: Any) -> None:
    from mads_zoo.bench.report import render_report

    rows, plots = render_report(store)
    run = store.load_run()
    title = f"leaderboard: {run.data.dataset}/{run.data.split}, budget {run.budget.name}"
    console.print(leaderboard_table(rows, title, run.budget.metric, console.width))
    console.print(
        f"results in {store.root}: leaderboard.md, leaderboard.html, trials.parquet, "
        f"{len(plots)} plots",
        highlight=False,
    )


#: The bench options behind each part of a run's record that ``--resume`` checks.
RECORDED_BY = {
    "dataset": ("dataset",),
    "split": ("split",),
    "seed": ("seed",),
    "budget": ("budget", "budget_set"),
    "combos": ("run_all", "arch", "sampler"),
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
    from mads_zoo.bench.cluster import reap_orphans

    lines = reap_orphans() or ["nothing to clean up: no killed bench left Ray behind"]
    for line in lines:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def bench_command(
    ctx: typer.Context,
    run_all: Annotated[
        bool, typer.Option("--all", help="Every architecture x every sampler.")
    ] = False,
    arch: Annotated[
        list[str] | None,
        typer.Option("--arch", help="Architecture name or fnmatch pattern; repeatable."),
    ] = None,
    sampler: Annotated[
        list[str] | None, typer.Option("--sampler", help="Sampler name or pattern; repeatable.")
    ] = None,
    dataset: Annotated[str, typer.Option(help="A registered dataset.")] = "mitbih",
    split: Annotated[str, typer.Option(help="intra (by beat) or inter (by patient).")] = "intra",
    budget: Annotated[str, typer.Option(help="Budget preset: smoke, quick or full.")] = "quick",
    budget_set: Annotated[
        list[str] | None,
        typer.Option("--budget-set", help="key=value over the budget; repeatable."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seeds splits, samplers, trials and retraining.")] = 0,
    data_dir: Annotated[Path | None, typer.Option(help="Where the dataset's files are.")] = None,
    out: Annotated[Path | None, typer.Option(help="Run folder (default: runs/bench/...).")] = None,
    resume: Annotated[Path | None, typer.Option(help="Continue an interrupted run folder.")] = None,
    address: Annotated[
        str | None, typer.Option(help="Join an existing Ray cluster (e.g. 'auto' or host:port).")
    ] = None,
    no_verify: NoVerifyOption = False,
    cleanup: Annotated[
        bool,
        typer.Option(
            help="Stop the Ray processes and remove the /tmp/mzr-* folders that killed benches "
            "left behind (every bench also does this when it starts), then exit."
        ),
    ] = False,
) -> None:
    """Tune and test every (architecture x sampler) combo under one shared budget.

    Examples: [cyan]mads-zoo bench --all[/], [cyan]mads-zoo bench --arch '2d*' --sampler smote
    --budget smoke[/], [cyan]mads-zoo bench --resume runs/bench/mitbih-intra-quick-...[/]
    """
    from mads_zoo.bench.budget import get_budget
    from mads_zoo.bench.harness import BenchRequest, resume_bench, run_bench, start_bench

    apply_no_verify(ctx, no_verify)
    if cleanup:
        _cleanup()
        return
    request = BenchRequest(
        budget=get_budget(budget, parse_overrides(budget_set or [])),
        archs=arch or ["*"],
        samplers=sampler or ["*"],
        dataset=dataset,
        split=split,
        seed=seed,
        data_dir=data_dir,
    )
    if resume is not None:
        if out is not None and out.absolute() != resume.absolute():
            raise ConfigError(f"--resume continues {resume} in place; drop --out {out}")
        store = resume_bench(resume, data_dir, request, _resume_checks(ctx))
    else:
        if not (run_all or arch or sampler):
            raise ConfigError("say which combos: --all, or --arch/--sampler patterns")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        store = start_bench(
            request, out or Path("runs") / "bench" / f"{dataset}-{split}-{budget}-{stamp}"
        )
    run = store.load_run()
    b = run.budget
    console.print(
        f"bench: {len(run.combos)} combos on {run.data.dataset}/{run.data.split}, budget "
        f"{b.name} ({b.trials} trials of {b.rung_beats:,} beats per combo, then successive "
        f"halving; {b.finalists or 'all'} finalist(s) x {b.final_seeds} seeds of "
        f"{b.final_beats:,} beats), run folder {store.root}",
        highlight=False,
    )
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
            run_bench(store, display, address=address)
    except KeyboardInterrupt:
        console.print(f"interrupted; continue with: mads-zoo bench --resume {store.root}")
        raise typer.Exit(130) from None
    console.print(f"bench finished in {time.perf_counter() - started:.0f} s", highlight=False)
    if display.failures:
        console.print(
            f"{display.failures} failure(s), their tracebacks in {store.root / ERRORS_LOG}",
            highlight=False,
        )
    _show_report(store)


def report_command(
    run_dirs: Annotated[
        list[Path], typer.Argument(help="A bench run folder, or two to compare.", metavar="RUN...")
    ],
) -> None:
    """Re-render a bench run's leaderboard and plots, or compare two runs.

    With two folders (RUN_A RUN_B): every combo's rung, selection score and test figures in
    both, their difference, and whether it exceeds the 95% CIs over seeds.
    """
    from mads_zoo.bench.results import RunStore

    if len(run_dirs) > 2:
        raise ConfigError(f"report takes one run folder or two to compare, got {len(run_dirs)}")
    stores = [RunStore(d) for d in run_dirs]
    if len(stores) == 1:
        _show_report(stores[0])
        return
    console.print(comparison_table(*stores, console.width))


def comparison_table(a: Any, b: Any, width: int) -> Table:
    """``mads-zoo report RUN_A RUN_B``: both runs' figures, the differences, the verdicts."""
    from mads_zoo.bench.report import compare_rows

    run_a, run_b = a.load_run(), b.load_run()
    metric = run_a.budget.metric
    if run_b.budget.metric != metric:
        raise ConfigError(
            f"the runs select on different metrics ({metric} vs {run_b.budget.metric})"
        )
    rows = compare_rows(a.load_results(run_a.combos), b.load_results(run_b.combos), metric)
    compact = width < WIDE_TABLE
    table = _fitted_table(f"A: {a.root}\nB: {b.root}", compact)
    for key in ("combo", "figure", "A", "B", "B-A", "verdict"):
        table.add_column(key, no_wrap=key != "combo", justify="right" if key == "B-A" else "left")
    previous = None
    for row in rows:
        cells = [row[k] for k in ("combo", "figure", "A", "B", "B-A", "verdict")]
        if compact:
            cells[2:4] = [c.split(" ± ")[0] for c in cells[2:4]]
            cells[1] = cells[1].replace("test ", "")
        if cells[0] == previous:
            cells[0] = ""
        else:
            previous = cells[0]
        table.add_row(*cells)
    return table
