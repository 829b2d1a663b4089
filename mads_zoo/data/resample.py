"""Applying a registered :class:`~mads_zoo.Sampler` to a training fold, with a disk cache.

The engine calls :func:`resample` with the training rows only; validation and test rows never
reach a sampler. A sampler sees one flat row per example: every channel's samples, then the
per-example features, so an over-sampler interpolates signals and features together. Results
are cached per (dataset, split, sampler, seed) and the exact content of the training fold, so
a changed recipe or dataset never reuses a stale entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

import numpy as np

from mads_zoo.data.beats import check_finite
from mads_zoo.data.cache import cache_path, digest, load_valid, save_arrays
from mads_zoo.data.progress import report
from mads_zoo.errors import DataError, MadsZooError, PluginError, one_line
from mads_zoo.specs import Sampler

#: Part of the cache key: bump when the way samplers are applied changes.
RESAMPLE_VERSION = "2"


@dataclass(frozen=True, eq=False)
class Examples:
    """A training fold as a sampler sees it: signals ``(n, C, L)``, features ``(n, k)``, labels."""

    x: np.ndarray
    features: np.ndarray
    y: np.ndarray

    def flat(self) -> np.ndarray:
        """One row per example: the channels' samples, then the features (float32)."""
        return np.concatenate([self.x.reshape(len(self.x), -1), self.features], axis=1)

    def like(self, flat: np.ndarray, y: np.ndarray) -> Examples:
        """Examples of this fold's shape from flat rows (the inverse of :meth:`flat`)."""
        channels, length = self.x.shape[1:]
        signal = flat[:, : channels * length].reshape(len(flat), channels, length)
        return Examples(signal, flat[:, channels * length :], y)


def _library_version() -> str:
    try:
        return metadata.version("imbalanced-learn")
    except metadata.PackageNotFoundError:
        return "none"


def _builder_name(sampler: Sampler) -> str:
    build = sampler.build
    return getattr(build, "target", None) or f"{build.__module__}.{build.__qualname__}"


def _counts(y: np.ndarray) -> str:
    labels, counts = np.unique(y, return_counts=True)
    return ", ".join(f"{label}: {count}" for label, count in zip(labels, counts, strict=True))


def _problem(x: np.ndarray, y: np.ndarray, x_out: np.ndarray, y_out: np.ndarray) -> str | None:
    """What is wrong with ``(x_out, y_out)`` as a resampling of ``(x, y)``, or ``None``."""
    if x_out.ndim != 2 or x_out.shape[1] != x.shape[1] or y_out.shape != (len(x_out),):
        return f"X {x_out.shape} and y {y_out.shape}; expected (n, {x.shape[1]}) and (n,)"
    if not np.isfinite(x_out).all():
        return "NaN or infinite values"
    if not set(np.unique(y_out)) <= set(np.unique(y)):
        return "labels the training fold does not have"
    return None


def _checked(
    sampler: Sampler, x: np.ndarray, y: np.ndarray, out: tuple[object, object]
) -> tuple[np.ndarray, np.ndarray]:
    x_out = np.asarray(out[0], dtype=np.float32)
    y_out = np.asarray(out[1]).astype(np.int64, copy=False)
    problem = _problem(x, y, x_out, y_out)
    if problem is not None:
        raise PluginError(f"sampler {sampler.name!r} returned {problem}")
    return x_out, y_out


def _stored(
    arrays: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A cached resampling of ``(x, y)``, checked like a fresh one."""
    x_out, y_out = arrays["x"], arrays["y"]
    if x_out.dtype != np.float32 or y_out.dtype != np.int64:
        raise DataError(f"x is {x_out.dtype} and y {y_out.dtype}, expected float32 and int64")
    problem = _problem(x, y, x_out, y_out)
    if problem is not None:
        raise DataError(f"it holds {problem}")
    check_finite(x_out, "x")
    return x_out, y_out


def resample(examples: Examples, sampler: Sampler, seed: int, *, tag: str) -> Examples:
    """``sampler`` applied to the training fold ``examples``, from the cache when possible.

    Args:
        examples: The training fold only, never val or test.
        sampler: The registered sampler; ``build(seed)`` returning ``None`` means no
            resampling (``examples`` itself is returned).
        seed: Passed to ``build``.
        tag: Names the cache entry, e.g. ``"mitbih-intra"``.
    """
    resampler = sampler.build(seed)
    if resampler is None:
        return examples
    x, y = examples.flat(), examples.y
    if not hasattr(resampler, "fit_resample"):
        raise PluginError(
            f"sampler {sampler.name!r}: build(seed) returned a {type(resampler).__name__}, "
            "which has no fit_resample(X, y)"
        )
    parts = [RESAMPLE_VERSION, tag, sampler.name, _builder_name(sampler), seed, _library_version()]
    path = cache_path("resampled", f"{tag}-{sampler.name}-seed{seed}-{digest(parts, [x, y])}")
    stored = load_valid(path, lambda arrays: _stored(arrays, x, y))
    if stored is not None:
        return examples.like(*stored)
    task = f"resampling the training fold with {sampler.name}"
    report(task, 0, 1)
    try:
        out = resampler.fit_resample(x, y)
    except MadsZooError:
        raise
    except Exception as error:
        raise PluginError(
            f"sampler {sampler.name!r} failed on the {tag} training fold (beats per label "
            f"{_counts(y)}): {one_line(error)}"
        ) from error
    x_out, y_out = _checked(sampler, x, y, out)
    save_arrays(path, {"x": x_out, "y": y_out})
    report(task, 1, 1)
    return examples.like(x_out, y_out)
