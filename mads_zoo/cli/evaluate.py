"""``mads-zoo evaluate`` and ``mads-zoo predict``: use a saved checkpoint."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from mads_zoo.cli.console import console
from mads_zoo.cli.data import NoVerifyOption, apply_no_verify
from mads_zoo.cli.render import confusion_table, per_class_table
from mads_zoo.errors import ConfigError

FOLDS = ("test", "val")


def evaluate_command(
    ctx: typer.Context,
    checkpoint: Annotated[Path, typer.Argument(help="A model.pt written by `mads-zoo train`.")],
    split: Annotated[
        str, typer.Option("--split", help="Which fold: test (the final evaluation) or val.")
    ] = "test",
    data_dir: Annotated[Path | None, typer.Option(help="Where the dataset's files are.")] = None,
    no_verify: NoVerifyOption = False,
) -> None:
    """Metrics and confusion matrix of a checkpoint on its dataset's test (or val) fold.

    Writes metrics-SPLIT.json and confusion-SPLIT.png next to the checkpoint.
    """
    apply_no_verify(ctx, no_verify)
    from mads_zoo.data import prepare_folds
    from mads_zoo.plots import plot_confusion
    from mads_zoo.train.checkpoint import load_checkpoint, model_from_checkpoint
    from mads_zoo.train.engine import evaluate

    if split not in FOLDS:
        raise ConfigError(f"--split must be one of {', '.join(FOLDS)}, got {split!r}")
    ckpt = load_checkpoint(checkpoint)
    arch, model = model_from_checkpoint(ckpt)
    data = ckpt.data
    folds = prepare_folds(
        data["dataset"],
        data["split"],
        "none",
        seed=data["seed"],
        layout=arch.layout,
        data_dir=data_dir,
    )
    fold = folds.final_test() if split == "test" else folds.val
    metrics = evaluate(model, fold.x, fold.y, ckpt.classes, precision=ckpt.inference_precision())
    title = f"{ckpt.architecture} ({data['sampler']}) on {data['dataset']}/{data['split']} {split}"
    console.print(per_class_table(metrics, title))
    console.print(confusion_table(metrics["confusion"], ckpt.classes))
    out = Path(checkpoint).parent
    (out / f"metrics-{split}.json").write_text(json.dumps(metrics, indent=2))
    png = plot_confusion(metrics["confusion"], ckpt.classes, out / f"confusion-{split}.png", title)
    console.print(f"saved {out / f'metrics-{split}.json'} and {png}", highlight=False)


def predict_command(
    checkpoint: Annotated[Path, typer.Argument(help="A model.pt written by `mads-zoo train`.")],
    source: Annotated[
        Path,
        typer.Argument(metavar="INPUT", help="A WFDB record (e.g. data/100) or a CSV of beats."),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Output CSV (default: INPUT-predictions.csv).")
    ] = None,
) -> None:
    """Classify beats from a WFDB record or a CSV of 187-value beats; write a CSV.

    Beat positions come from the record's annotations when present, otherwise from wfdb's
    QRS detector. The CSV has one row per beat: index, provenance, class, probabilities.
    """
    from mads_zoo.data.cache import atomic_file
    from mads_zoo.predict import predict_beats, read_input_beats
    from mads_zoo.train.checkpoint import load_checkpoint, model_from_checkpoint

    ckpt = load_checkpoint(checkpoint)
    arch, model = model_from_checkpoint(ckpt)
    beats = read_input_beats(source)
    started = time.perf_counter()
    precision = ckpt.inference_precision()
    table = predict_beats(model, arch.layout, beats.x, ckpt.classes, precision)
    seconds = time.perf_counter() - started
    for position, (name, column) in enumerate(beats.columns.items()):
        table.insert(position, name, column)
    out = out or Path(f"{source.with_suffix('').name}-predictions.csv")
    with atomic_file(out, suffix=".csv") as temp:  # a failed write leaves no half a CSV
        table.to_csv(temp, index_label="index")
    counts = table["class"].value_counts().reindex(list(ckpt.classes), fill_value=0)
    summary = "  ".join(f"{name} {count:,}" for name, count in counts.items())
    console.print(
        f"{len(table):,} beats ({beats.source}) classified in {seconds * 1000:.0f} ms: {summary}",
        highlight=False,
    )
    console.print(f"saved {out}", highlight=False)
