"""``mads-zoo bench`` and ``mads-zoo report``: the benchmark harness from the command line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from mads_zoo.bench.harness import Progress as HarnessProgress
from mads_zoo.cli.console import console
from mads_zoo.config import parse_overrides
from mads_zoo.errors import ConfigError


class RichProgress(HarnessProgress):
    """Combos done/total with ETA, the current combo's trials and its best so far."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.combos = progress.add_task("combos", total=total, info="")
        self.trials = progress.add_task("trials", total=None, info="", visible=False)
        self.best = float("nan")

    def combo_started(self, combo: Any, index: int, total: int, trials: int) -> None:
        """Reset the trials bar for a new combo."""
        self.best = float("nan")
        self.progress.reset(self.trials, total=trials, visible=True, info=combo.key)
        self.progress.update(self.combos, info=f"now {combo.key}")

    def trial_result(self, combo: Any, value: float) -> None:
        """Track the best validation metric so far."""
        if not value <= self.best:
            self.best = value
            self.progress.update(self.trials, info=f"{combo.key} best val macro recall {value:.4f}")

    def trial_finished(self, combo: Any, failed: bool) -> None:
        """Advance the trials bar."""
        self.progress.advance(self.trials)

    def combo_finished(self, combo: Any, summary: dict[str, Any]) -> None:
        """Advance the combos bar and print the combo's test numbers."""
        self.progress.advance(self.combos)
        if "test" in summary:
            t = summary["test"]
            line = (
                f"{combo.key}: test accuracy {t['accuracy']['mean']:.4f}  macro recall "
                f"{t['macro_recall']['mean']:.4f}  macro F1 {t['macro_f1']['mean']:.4f}  "
                f"({summary['trials']} trials, {summary['failed_trials']} failed)"
            )
        else:
            line = f"{combo.key}: [red]failed[/] {summary.get('error', '')}"
        self.progress.console.print(line, highlight=False)

    def phase(self, text: str) -> None:
        """Show a status line."""
        self.progress.update(self.combos, info=text)


def _leaderboard_table(rows: list[dict[str, Any]], title: str) -> Table:
    keys = [
        k
        for k in (
            "rank",
            "architecture",
            "sampler",
            "accuracy",
            "macro recall",
            "macro F1",
            "params",
            "train s",
        )
        if any(k in r for r in rows)
    ]
    table = Table(title=title, title_justify="left")
    for key in keys:
        table.add_column(key, justify="left" if key in ("architecture", "sampler") else "right")
    for row in rows:
        table.add_row(*(str(row.get(k, "")) for k in keys))
    return table


def _show_report(store: Any) -> None:
    from mads_zoo.bench.report import render_report

    rows, plots = render_report(store)
    request = store.load_request()
    title = (
        f"leaderboard: {request['dataset']}/{request['split']}, budget {request['budget']['name']}"
    )
    console.print(_leaderboard_table(rows, title))
    console.print(
        f"results in {store.root}: leaderboard.md, leaderboard.html, trials.parquet, "
        f"{len(plots)} plots",
        highlight=False,
    )


def bench_command(
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
) -> None:
    """Tune and test every (architecture x sampler) combo under one shared budget.

    Examples: [cyan]mads-zoo bench --all[/], [cyan]mads-zoo bench --arch '2d*' --sampler smote
    --budget smoke[/], [cyan]mads-zoo bench --resume runs/bench/mitbih-intra-quick-...[/]
    """
    from mads_zoo.bench.budget import get_budget
    from mads_zoo.bench.harness import BenchRequest, run_bench, select_combos
    from mads_zoo.bench.results import Combo, RunStore

    if resume is not None:
        store = RunStore(resume)
        stored = store.load_request()
        request = BenchRequest(
            dataset=stored["dataset"],
            split=stored["split"],
            seed=stored["seed"],
            budget=get_budget(stored["budget"]["name"]).with_overrides(
                {k: v for k, v in stored["budget"].items() if k != "name"}
            ),
            data_dir=data_dir,
            address=address,
            combos=[Combo(*c) for c in stored["combos"]],
        )
    else:
        if not (run_all or arch or sampler):
            raise ConfigError("say which combos: --all, or --arch/--sampler patterns")
        chosen = get_budget(budget, parse_overrides(budget_set or []))
        request = BenchRequest(
            archs=arch or ["*"],
            samplers=sampler or ["*"],
            dataset=dataset,
            split=split,
            budget=chosen,
            seed=seed,
            data_dir=data_dir,
            address=address,
        )
        request.combos = select_combos(request.archs, request.samplers)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        store = RunStore(out or Path("runs") / "bench" / f"{dataset}-{split}-{budget}-{stamp}")
        store.save_request(
            {
                "dataset": dataset,
                "split": split,
                "seed": seed,
                "budget": chosen.to_dict(),
                "combos": [[c.architecture, c.sampler] for c in request.combos],
            }
        )
    assert request.budget is not None
    console.print(
        f"bench: {len(request.combos)} combos on {request.dataset}/{request.split}, budget "
        f"{request.budget.name} ({request.budget.trials} trials per combo), "
        f"run folder {store.root}",
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
    try:
        with progress:
            run_bench(request, store, RichProgress(progress, len(request.combos)))
    except KeyboardInterrupt:
        console.print(f"interrupted; continue with: mads-zoo bench --resume {store.root}")
        raise typer.Exit(130) from None
    console.print(f"bench finished in {time.perf_counter() - started:.0f} s", highlight=False)
    _show_report(store)


def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A bench run folder.")],
) -> None:
    """Re-render a bench run's leaderboard, trial tables and plots from its stored results."""
    from mads_zoo.bench.results import RunStore

    _show_report(RunStore(run_dir))
