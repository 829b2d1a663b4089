"""Contract checks for plugin authors: the same checks mads-zoo runs on its own plugins.

Use them from pytest, one call per registered thing::

    from mads_zoo.testing import check_architecture

    def test_my_net_meets_the_contract():
        check_architecture("my-net")

Each check raises :class:`AssertionError` with a message naming the object, the config and
what was wrong; it returns a short report (what was checked) when everything holds.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import numpy as np

from mads_zoo import space
from mads_zoo.config import resolve_config
from mads_zoo.data.beats import Beats
from mads_zoo.data.splits import split_rows
from mads_zoo.models import build_model
from mads_zoo.registry import get_registry
from mads_zoo.specs import Architecture, Sampler

__all__ = ["check_architecture", "check_dataset", "check_sampler", "imbalanced_beats"]

BATCH_SIZES = (1, 7)


def _registered(kind: str, obj: Any) -> Any:
    """``obj`` itself, or the registered object of ``kind`` it names."""
    return get_registry().get(kind, obj) if isinstance(obj, str) else obj


def _configs(arch: Architecture, samples: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    configs = [("defaults", resolve_config(arch))]
    configs += [(f"preset {p!r}", resolve_config(arch, preset=p)) for p in arch.presets]
    rng = random.Random(seed)
    for i in range(samples if arch.search_space else 0):
        sample = space.sample(arch.search_space, rng)
        configs.append((f"search sample {i}", resolve_config(arch, sample=sample)))
    return configs


def _check_forward(arch: Architecture, label: str, model: Any, num_classes: int) -> None:
    import torch

    from mads_zoo.fusion import call_with_zero_features

    generator = torch.Generator().manual_seed(0)
    for mode in ("train", "eval"):
        model.train(mode == "train")
        for batch in BATCH_SIZES:
            where = f"{arch.name} ({label}, {mode} mode, batch {batch})"
            x = torch.rand((batch, *arch.input_shape), generator=generator)
            with torch.set_grad_enabled(mode == "train"):
                try:
                    out = call_with_zero_features(model, x)
                except Exception as error:
                    raise AssertionError(f"{where}: forward raised {error!r}") from error
            assert isinstance(out, torch.Tensor), f"{where}: returned {type(out).__name__}"
            assert tuple(out.shape) == (batch, num_classes), (
                f"{where}: output shape {tuple(out.shape)}, expected {(batch, num_classes)}"
            )
            assert torch.isfinite(out).all(), f"{where}: output has NaN or inf"
            if mode == "train":
                model.zero_grad(set_to_none=True)
                torch.autograd.backward(out.float().logsumexp(dim=1).sum())
                grads = [p.grad for p in model.parameters() if p.requires_grad]
                assert grads, f"{where}: the model has no trainable parameters"
                assert any(g is not None for g in grads), f"{where}: backward reached no parameter"
                assert all(torch.isfinite(g).all() for g in grads if g is not None), (
                    f"{where}: gradients have NaN or inf"
                )


def check_architecture(
    arch: Architecture | str, *, num_classes: int = 5, samples: int = 3, seed: int = 0
) -> list[str]:
    """Check that ``arch`` builds and runs from its defaults, presets and search samples.

    For each config: build, forward on batch 1 and 7 in train and eval mode, output shape
    ``(batch, num_classes)``, finite outputs, and a backward pass that reaches the weights.
    Returns the labels of the configs checked.
    """
    import torch

    spec: Architecture = _registered("architectures", arch)
    checked = []
    torch.manual_seed(seed)
    for label, config in _configs(spec, samples, seed):
        # _check_forward is stricter than build_model's own check and fails as an assertion
        model = build_model(spec, config, num_classes=num_classes, check=False)
        _check_forward(spec, label, model, num_classes)
        checked.append(label)
    return checked


def imbalanced_beats(
    seed: int = 0, counts: Mapping[int, int] | None = None, length: int = 187
) -> tuple[np.ndarray, np.ndarray]:
    """A small, seeded, MIT-BIH-like imbalanced set of fake beats ``(X float32, y int64)``."""
    counts = counts or {0: 400, 1: 40, 2: 60, 3: 12, 4: 50}
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length, dtype=np.float32)
    xs, ys = [], []
    for label, n in counts.items():
        # a bump per beat whose position depends on the class, with enough jitter that
        # classes overlap (neighbour-based samplers such as ADASYN need that)
        centres = 0.3 + 0.05 * label + 0.05 * rng.standard_normal((n, 1))
        xs.append(np.exp(-((t - centres) ** 2) / 0.002) + 0.1 * rng.standard_normal((n, length)))
        ys.append(np.full(n, label, dtype=np.int64))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def check_sampler(sampler: Sampler | str, *, seed: int = 0) -> dict[int, int]:
    """Check that ``sampler`` resamples like the engine needs.

    On a small imbalanced set: rows stay float32 beats of the same width, labels stay integer,
    X and y keep the same length, no class disappears, and the same seed gives the same
    result. Returns the resampled class counts.
    """
    spec: Sampler = _registered("samplers", sampler)
    X, y = imbalanced_beats(seed)
    outputs = []
    for _ in range(2):
        resampler = spec.build(seed)
        if resampler is None:
            outputs.append((X, y))
            continue
        assert hasattr(resampler, "fit_resample"), (
            f"sampler {spec.name!r}: build(seed) returned {type(resampler).__name__}, "
            "which has no fit_resample(X, y)"
        )
        outputs.append(resampler.fit_resample(X, y))
    (X1, y1), (X2, y2) = outputs
    where = f"sampler {spec.name!r}"
    X1, y1 = np.asarray(X1), np.asarray(y1)
    assert X1.ndim == 2 and X1.shape[1] == X.shape[1], f"{where}: X shape {X1.shape}"
    assert X1.dtype == np.float32, f"{where}: X dtype {X1.dtype}, expected float32"
    assert np.issubdtype(y1.dtype, np.integer), f"{where}: y dtype {y1.dtype}, expected integer"
    assert len(X1) == len(y1), f"{where}: {len(X1)} rows but {len(y1)} labels"
    missing = set(np.unique(y).tolist()) - set(np.unique(y1).tolist())
    assert not missing, f"{where}: dropped class(es) {sorted(missing)}"
    assert np.isfinite(X1).all(), f"{where}: produced NaN or inf"
    assert np.array_equal(X1, np.asarray(X2)) and np.array_equal(y1, np.asarray(y2)), (
        f"{where}: the same seed gave different results"
    )
    labels, counts = np.unique(y1, return_counts=True)
    return {int(label): int(count) for label, count in zip(labels, counts, strict=True)}


def check_dataset(dataset: Any, data_dir: Any = None) -> dict[str, int]:
    """Check that ``dataset`` loads like the engine needs.

    ``load(data_dir)`` returns a :class:`mads_zoo.data.Beats` (whose construction checks
    shapes, dtypes, NaN, labels and features) with the classes the dataset declares,
    the same beats on a second call, and beats the ``intra`` split can divide (and ``inter``
    too when every beat has a record id). Returns the beats per class name.
    """
    dataset = _registered("datasets", dataset)
    where = f"dataset {dataset.name!r}"
    first, second = dataset.load(data_dir), dataset.load(data_dir)
    assert isinstance(first, Beats), f"{where}: load returned {type(first).__name__}, not Beats"
    assert first.classes == dataset.classes, (
        f"{where}: beats have classes {first.classes}, the dataset declares {dataset.classes}"
    )
    assert np.array_equal(first.x, second.x) and np.array_equal(first.y, second.y), (
        f"{where}: two loads gave different beats"
    )
    split_rows(first, "intra")
    if first.has_records:
        split_rows(first, "inter")
    return dict(zip(first.classes, first.counts().tolist(), strict=True))
