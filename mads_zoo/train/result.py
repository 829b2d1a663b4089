"""What a training run did: :class:`RunResult`, its :class:`EpochRecord` history and status.

Plain typed records (no torch): the train CLI prints and saves them, a bench trial copies
what it needs into its :class:`~mads_zoo.bench.results.TrialRecord`, and
:mod:`mads_zoo.codec` writes and reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mads_zoo.metrics import MetricName, Metrics


class RunStatus(StrEnum):
    """How a training run (or a bench run of one) ended; a diverged run is a failure."""

    COMPLETED = "completed"
    EARLY_STOPPED = "early-stopped"
    FAILED = "failed"
    OVER_BUDGET = "over budget"

    @property
    def trained(self) -> bool:
        """Whether the run ended with a model worth scoring."""
        return self in (RunStatus.COMPLETED, RunStatus.EARLY_STOPPED)


@dataclass(frozen=True)
class EpochRecord:
    """One validation point of a run: where it was, the training loss, the validation metrics.

    ``epoch`` counts validations; ``beats`` is ``step * batch_size`` (training beats seen).
    """

    epoch: int
    step: int
    beats: int
    train_seconds: float
    train_loss: float
    lr: float
    val: Metrics


@dataclass(frozen=True)
class FoldSizes:
    """Beats in the training fold before and after resampling, and in the validation fold."""

    train: int
    train_resampled: int
    val: int


@dataclass(frozen=True)
class RunResult:
    """What one training run did, and the best validation metrics it kept.

    Attributes:
        status: How it ended (a diverged run raises instead of returning a result).
        epochs: Validations run (an "epoch" is the span between two validations).
        steps: Optimizer steps taken.
        best_epoch: The validation whose weights the model holds at the end.
        best: The validation metrics of that epoch.
        history: Every validation, in order.
        parameters: Trainable parameters of the model.
        precision: The precision it trained in (``bf16`` or ``fp32``).
        fold_sizes: Beats it trained and validated on.
        seconds: Wall time of the whole fit; ``train_seconds`` without validation.
        beats_per_second: Training beats per second of ``train_seconds``.
        message: Why it stopped, when it did not complete.
    """

    status: RunStatus
    epochs: int
    steps: int
    best_epoch: int
    best: Metrics
    history: tuple[EpochRecord, ...]
    parameters: int
    precision: str
    fold_sizes: FoldSizes
    seconds: float = 0.0
    train_seconds: float = 0.0
    beats_per_second: float = 0.0
    message: str = ""

    def curve(self, metric: str) -> list[float]:
        """``metric`` (a :class:`~mads_zoo.metrics.MetricName`) at every validation."""
        name = MetricName(metric)
        return [record.val.value(name) for record in self.history]
