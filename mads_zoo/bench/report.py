"""Render a bench run from its stored results: leaderboard, trial tables and plots.

Leaderboard in markdown and HTML; ``mads-zoo report RUN_DIR`` calls :func:`render_report`
again at any time.

Ranking: combos are ordered by mean test macro F1 (ties: macro recall); tuning itself
optimises validation macro recall, the seed report's metric.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from mads_zoo.bench.results import Combo, RunStore, write_text

COLUMNS = ("rank", "architecture", "sampler", "accuracy", "macro recall", "macro F1")


def _pm(stat: dict[str, float], seeds: int) -> str:
    return f"{stat['mean']:.4f}" + (f" ± {stat['std']:.4f}" if seeds > 1 else "")


def leaderboard_rows(finals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One display row per finished combo, best first; failed combos last."""
    ok = [f for f in finals if "test" in f]
    ok.sort(key=lambda f: (-f["test"]["macro_f1"]["mean"], -f["test"]["macro_recall"]["mean"]))
    rows = []
    for rank, f in enumerate(ok, 1):
        seeds = len(f["runs"])
        rows.append(
            {
                "rank": str(rank),
                "architecture": f["architecture"],
                "sampler": f["sampler"],
                "accuracy": _pm(f["test"]["accuracy"], seeds),
                "macro recall": _pm(f["test"]["macro_recall"], seeds),
                "macro F1": _pm(f["test"]["macro_f1"], seeds),
                **{f"recall {c}": f"{v:.3f}" for c, v in f["recall"].items()},
                "params": f"{f['params']:,}",
                "tuning s": f"{f['tuning_seconds']:.0f}",
                "train s": f"{f['train_seconds']:.0f}",
                "trials (failed)": f"{f['trials']} ({f['failed_trials']})",
                "final config": "defaults (no trial scored)" if f.get("note") else "best trial",
            }
        )
    for f in finals:
        if "test" not in f:
            rows.append(
                {
                    "rank": "-",
                    "architecture": f["architecture"],
                    "sampler": f["sampler"],
                    "accuracy": "failed",
                    "macro recall": f.get("error", "")[:80],
                }
            )
    return rows


def _header(rows: list[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    return keys


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """A GitHub-flavoured markdown table of ``rows``."""
    keys = _header(rows)
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def html_table(rows: list[dict[str, Any]]) -> str:
    """An HTML table of ``rows``."""
    keys = _header(rows)
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r.get(k, '')))}</td>" for k in keys) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _plots(
    store: RunStore, finals: list[dict[str, Any]], trials: list[dict[str, Any]]
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from mads_zoo.plots import plot_confusion

    out = store.root / "plots"
    made = []
    ok = [f for f in finals if "test" in f]
    for f in ok:
        title = f"{f['combo']}: test, {len(f['runs'])} seed(s)"
        made.append(
            plot_confusion(f["confusion"], f["classes"], out / f"confusion-{f['combo']}.png", title)
        )
    if ok:
        classes = ok[0]["classes"]
        fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(ok) + 2), 3.6), dpi=120)
        width = 0.8 / len(classes)
        x = np.arange(len(ok))
        for i, c in enumerate(classes):
            ax.bar(x + i * width, [f["recall"][c] for f in ok], width, label=c)
        ax.set_xticks(x + 0.4 - width / 2, [f["combo"] for f in ok], rotation=70, fontsize=6)
        ax.set_ylabel("test recall")
        ax.set_ylim(0, 1)
        ax.legend(ncol=len(classes), fontsize=7, loc="lower right")
        ax.set_title("per-class test recall by combo", fontsize=9)
        fig.tight_layout()
        made.append(out / "per-class-recall.png")
        fig.savefig(made[-1])
        plt.close(fig)
    by_combo: dict[str, list[float]] = {}
    for row in trials:
        if row.get("val_macro_recall") is not None:
            by_combo.setdefault(row["combo"], []).append(row["val_macro_recall"])
    if by_combo:
        fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=120)
        for combo, values in by_combo.items():
            ax.plot(
                range(1, len(values) + 1),
                np.maximum.accumulate(values),
                marker="o",
                markersize=2,
                linewidth=1,
                label=combo,
            )
        ax.set_xlabel("trial")
        ax.set_ylabel("best validation macro recall so far")
        ax.set_title("best-so-far vs trials", fontsize=9)
        if len(by_combo) <= 12:
            ax.legend(fontsize=5)
        fig.tight_layout()
        made.append(out / "best-so-far.png")
        fig.savefig(made[-1])
        plt.close(fig)
    return made


def _write_trials(store: RunStore, trials: list[dict[str, Any]]) -> None:
    import pandas as pd

    from mads_zoo.data.cache import atomic_file

    flat = [
        {
            **{k: v for k, v in r.items() if k not in ("config", "curve")},
            **{f"config.{k}": v for k, v in r["config"].items()},
        }
        for r in trials
    ]
    frame = pd.DataFrame(flat)
    with atomic_file(store.root / "trials.parquet", suffix=".parquet") as temp:
        frame.to_parquet(temp, index=False)
    with atomic_file(store.root / "trials.csv", suffix=".csv") as temp:
        frame.to_csv(temp, index=False)


def render_report(store: RunStore) -> tuple[list[dict[str, Any]], list[Path]]:
    """Write leaderboard.md/.html, trials.parquet/.csv and plots/ from the stored results."""
    request = store.load_request()
    combos = [Combo(*c) for c in request["combos"]]
    finals = store.all_finals(combos)
    trials = store.all_trials()
    rows = leaderboard_rows(finals)
    budget = request["budget"]
    title = (
        f"mads-zoo bench: {request['dataset']} / {request['split']}, budget "
        f"{budget['name']}, seed {request['seed']}"
    )
    failures = [t for t in trials if t["status"] == "failed"]
    notes = [
        f"{len(finals)} of {len(combos)} combos finished; {len(trials)} trials, "
        f"{len(failures)} failed. Test metrics: best config per combo retrained with "
        f"{budget['final_seeds']} seed(s), evaluated once on the test fold "
        "(mean ± std over seeds).",
        "Ranked by test macro F1; tuned on validation macro recall.",
    ]
    failure_lines = [f"- {t['combo']} trial {t['trial_id']}: {t['error']}" for t in failures]
    markdown = "\n\n".join(
        [f"# {title}", *notes, markdown_table(rows) if rows else "(no finished combo yet)"]
        + (["## Failed trials", "\n".join(failure_lines)] if failures else [])
    )
    write_text(store.root / "leaderboard.md", markdown + "\n")
    page = (
        "<!doctype html><meta charset='utf-8'><title>" + html.escape(title) + "</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
        "th{background:#eee}img{max-width:48%;margin:4px}</style>"
        f"<h1>{html.escape(title)}</h1>"
        + "".join(f"<p>{html.escape(n)}</p>" for n in notes)
        + html_table(rows)
    )
    made = []
    if trials:
        _write_trials(store, trials)
    made = _plots(store, finals, trials)
    page += "".join(f"<img src='plots/{p.name}'>" for p in made)
    if failures:
        page += (
            "<h2>Failed trials</h2><ul>"
            + "".join(f"<li>{html.escape(line[2:])}</li>" for line in failure_lines)
            + "</ul>"
        )
    write_text(store.root / "leaderboard.html", page)
    return rows, made
