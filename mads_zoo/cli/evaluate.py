"""``mads-zoo evaluate`` and ``mads-zoo predict``: use a saved checkpoint."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from mads_zoo import codec
from mads_zoo.cli.console import console
from mads_zoo.cli.data import NoVerifyOption, apply_no_verify
from mads_zoo.cli.render import confusion_table, per_class_table
from mads_zoo.errors import ConfigError
from mads_zoo.fileio import atomic_file, check_writable_file, check_writable_folder, write_text
from mads_zoo.plots import plot_confusion
from mads_zoo.predict import predict_beats, read_input_beats
from mads_zoo.train.spec import FoldName


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
    from mads_zoo.train.run import evaluate_checkpoint  # torch: not for every command

    apply_no_verify(ctx, no_verify)
    if split not in [f.value for f in FoldName]:
        raise ConfigError(f"--split must be one of test, val, got {split!r}")
    check_writable_folder(Path(checkpoint).parent, "the metrics")
    loaded, metrics = evaluate_checkpoint(checkpoint, FoldName(split), data_dir)
    data = loaded.meta.data
    loss = loaded.meta.config.get("loss", "ce")
    strategy = f"{data.sampler}, loss {loss}"
    title = f"{loaded.meta.architecture} ({strategy}) on {data.dataset}/{data.split} {split}"
    console.print(per_class_table(metrics, title))
    console.print(confusion_table(metrics))
    out = Path(checkpoint).parent
    write_text(out / f"metrics-{split}.json", codec.dumps(metrics))
    png = plot_confusion(metrics, out / f"confusion-{split}.png", title)
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

    A record's beats are cut with the recipe of the model's data (Kaggle-compatible or
    rhythm-aware); input of another shape than the model's is refused. Beat positions come
    from the record's annotations when present, otherwise from wfdb's QRS detector. The CSV
    has one row per beat: index, provenance, class, probabilities.
    """
    from mads_zoo.train.run import load_model  # torch: not for every command

    out = out or Path(f"{source.with_suffix('').name}-predictions.csv")
    check_writable_file(out, "the predictions")
    loaded, arch, model = load_model(checkpoint)
    classes = loaded.meta.classes
    beats = read_input_beats(source, loaded.meta.signature)
    started = time.perf_counter()
    precision = loaded.inference_precision()
    table = predict_beats(model, arch.layout, beats.x, classes, precision, beats.features)
    seconds = time.perf_counter() - started
    for position, (name, column) in enumerate(beats.columns.items()):
        table.insert(position, name, column)
    with atomic_file(out, suffix=".csv") as temp:  # a failed write leaves no half a CSV
        table.to_csv(temp, index_label="index")
    counts = table["class"].value_counts().reindex(list(classes), fill_value=0)
    summary = "  ".join(f"{name} {count:,}" for name, count in counts.items())
    console.print(
        f"{len(table):,} beats ({beats.source}) classified in {seconds * 1000:.0f} ms: {summary}",
        highlight=False,
    )
    console.print(f"saved {out}", highlight=False)
