"""Per-example features reach every architecture, checkpoints know their input, and the
imbalance strategies by loss (class-weighted cross-entropy, focal) beside the samplers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from mads_zoo.config import RunRequest, resolve_run
from mads_zoo.data.folds import Fold, Folds
from mads_zoo.data.spec import InputSignature
from mads_zoo.data.synthetic import make_beats
from mads_zoo.errors import DataError, UnknownNameError
from mads_zoo.fusion import EMBEDDING, FeatureInputs, call_model
from mads_zoo.models import build_model
from mads_zoo.registry import get_registry
from mads_zoo.specs import AAMI_CLASSES
from mads_zoo.strategies import LOSS_STRATEGIES, get_strategy, select_strategies
from mads_zoo.train.losses import FocalLoss, build_loss, class_weights
from mads_zoo.train.spec import Recipe

NAMES = ("rr_pre", "rr_post", "noise")


def featured_folds(spec, layout: str = "1d") -> Folds:
    """Synthetic beats plus 3 features, the first of which tells the classes apart."""
    from mads_zoo.data.layout import to_layout

    beats = make_beats(size=600, seed=3)
    rng = np.random.default_rng(0)
    features = np.column_stack(
        [beats.y + rng.normal(0, 0.1, len(beats)), rng.normal(1, 0.2, len(beats)),
         rng.normal(5, 3, len(beats))]
    ).astype(np.float32)  # fmt: skip
    rows = rng.permutation(len(beats))
    train, val, test = rows[:400], rows[400:500], rows[500:]

    def fold(r: np.ndarray) -> Fold:
        return Fold(to_layout(beats.x[r], layout), beats.y[r], r, features[r])

    signature = InputSignature(1, 187, NAMES)
    return Folds(spec, layout, signature, AAMI_CLASSES, fold(train), fold(val), train,
                 "by hand", fold(test))  # fmt: skip


def test_class_weights_come_from_the_training_fold_and_skip_absent_classes():
    weights = class_weights(np.array([0, 0, 0, 1]), 3)
    assert weights.tolist() == [4 / 6, 2.0, 0.0]  # n / (K n_c) over the K = 2 present
    assert np.dot(np.bincount([0, 0, 0, 1], minlength=3), weights) == 4  # they average to 1
    recipe = Recipe(loss="weighted-ce")
    loss = build_loss(recipe, np.array([0, 0, 0, 1]), 3, torch.device("cpu"))
    assert isinstance(loss, nn.CrossEntropyLoss) and loss.weight.tolist() == pytest.approx(
        [4 / 6, 2.0, 0.0]
    )
    assert build_loss(Recipe(), np.array([0, 1]), 2, torch.device("cpu")).weight is None


def test_focal_loss_is_weighted_cross_entropy_at_gamma_0_and_spares_easy_beats():
    logits = torch.tensor([[4.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    target = torch.tensor([0, 1, 1])
    weight = torch.tensor([0.5, 2.0])
    ce = nn.functional.cross_entropy(logits, target, weight=weight)
    assert FocalLoss(0.0, weight)(logits, target) == pytest.approx(float(ce))
    plain = nn.functional.cross_entropy(logits, target, reduction="none")
    focal = torch.stack([FocalLoss(2.0)(logits[i : i + 1], target[i : i + 1]) for i in range(3)])
    assert (focal < plain).all() and focal[0] / plain[0] < focal[2] / plain[2]  # easy beat 0


def test_strategies_are_the_samplers_plus_the_loss_weightings():
    samplers = [e.name for e in get_registry().find("samplers")]
    assert select_strategies(["*"]) == [*samplers, "class-weighted", "focal"]
    assert get_strategy("smote").sampler == "smote" and get_strategy("smote").loss == "ce"
    assert get_strategy("class-weighted") == LOSS_STRATEGIES["class-weighted"]
    assert get_strategy("focal").sampler == "none" and get_strategy("focal").loss == "focal"
    with pytest.raises(UnknownNameError, match="did you mean 'focal'"):
        get_strategy("focla")
    with pytest.raises(UnknownNameError, match="unknown strategy pattern 'x\\*'"):
        select_strategies(["x*"])
    spec = resolve_run(RunRequest("2dcnn", loss="focal", overrides={"loss": "weighted-ce"}))
    assert spec.training.recipe.loss == "focal"  # the strategy's loss wins over the config's


@pytest.mark.parametrize("name", ["1dcnngru", "2dcnn", "2dtransformer"])
def test_every_architecture_gets_the_features_through_the_engine(name):
    arch = get_registry().architecture(name)
    spec = resolve_run(
        RunRequest(name, dataset="synthetic", max_steps=3, epochs=1, precision="fp32",
                   overrides={"hidden": 16, "batch_size": 32})
    )  # fmt: skip
    from mads_zoo.train.run import fit

    folds = featured_folds(spec.data, arch.layout)
    model, result = fit(spec, folds)
    assert isinstance(model, FeatureInputs) and model.head is not None
    assert model.feature_mean.tolist() == pytest.approx(
        folds.train.feature_array.mean(axis=0).tolist(), rel=1e-5
    )
    x = torch.as_tensor(folds.val.x[:4])
    embedding = model.backbone(x)
    assert embedding.shape == (4, EMBEDDING)
    features = torch.as_tensor(folds.val.feature_array[:4])
    logits = call_model(model.eval(), x, features)
    assert logits.shape == (4, 5) and result.steps == 3
    moved = call_model(model, x, features + torch.tensor([3.0, 0.0, 0.0]))
    assert not torch.allclose(logits, moved)  # the features reach the logits


def test_an_architecture_may_take_the_features_itself():
    seen = {}

    class Own(nn.Module):
        def __init__(self, k: int) -> None:
            super().__init__()
            self.linear = nn.Linear(187 + k, 5)

        def forward(self, x, features):
            seen["features"] = features
            return self.linear(torch.cat([x.flatten(1), features], 1))

    def build(config, input_shape, num_classes, num_features):
        seen["num_features"] = num_features
        return Own(num_features)

    from mads_zoo import Architecture

    arch = Architecture("own-features", "1d", build, takes_features=True)
    model = build_model(arch, {}, num_classes=5, input_shape=(1, 187), num_features=3)
    assert isinstance(model, FeatureInputs) and model.head is None and seen["num_features"] == 3
    model.standardise_with(np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 5.0]], np.float32))
    call_model(model, torch.zeros(2, 1, 187), torch.tensor([[2.0, 2.0, 4.0], [3.0, 2.0, 5.0]]))
    assert seen["features"].tolist() == [[0.0, 0.0, 0.0], [1.0, 0.0, 1.0]]  # standardised
    plain = build_model(arch, {}, num_classes=5, input_shape=(1, 187))  # k = 0: still (x, f)
    assert isinstance(plain, FeatureInputs) and seen["num_features"] == 0


def test_checkpoints_record_the_input_signature_and_predict_refuses_another(tmp_path):
    from mads_zoo.predict import read_input_beats
    from mads_zoo.train.checkpoint import CheckpointMeta, save_checkpoint
    from mads_zoo.train.run import fit, load_model

    spec = resolve_run(
        RunRequest("2dcnn", dataset="synthetic", max_steps=2, epochs=1, precision="fp32",
                   overrides={"hidden": 8})
    )  # fmt: skip
    folds = featured_folds(spec.data, "2d")
    model, result = fit(spec, folds)
    meta = CheckpointMeta(
        "2dcnn", spec.config, spec.data, "2d", AAMI_CLASSES, result.fold_sizes, result.best,
        result.precision, result.steps, 0, signature=folds.signature,
    )  # fmt: skip
    path = save_checkpoint(tmp_path / "model.pt", model, meta)
    loaded, _, again = load_model(path)
    assert loaded.meta.signature == InputSignature(1, 187, NAMES)
    x = torch.as_tensor(folds.val.x[:5])
    f = torch.as_tensor(folds.val.feature_array[:5])
    with torch.no_grad():  # the trained model runs channels-last: equal up to rounding
        assert torch.allclose(call_model(model.eval(), x, f), call_model(again, x, f), atol=1e-6)
    csv = tmp_path / "beats.csv"
    np.savetxt(csv, make_beats(size=20).x[:, 0], delimiter=",")
    with pytest.raises(DataError) as error:
        read_input_beats(csv, loaded.meta.signature)
    message = str(error.value)
    assert message == (
        "the model takes 1 channel x 187 samples + 3 features (rr_pre, rr_post, noise); "
        "beats.csv gives 1 channel x 187 samples, no features"
    )
    assert read_input_beats(csv, InputSignature()).x.shape == (20, 1, 187)


def test_an_older_checkpoint_without_a_signature_reads_as_the_kaggle_beat(tmp_path):
    from mads_zoo import codec
    from mads_zoo.train.checkpoint import load_checkpoint

    spec = resolve_run(RunRequest("2dcnn", dataset="synthetic", overrides={"hidden": 8}))
    model = build_model(get_registry().architecture("2dcnn"), spec.config)
    from test_bad_input_model import untrained_meta

    meta = codec.encode(replace(untrained_meta(), config=spec.config))
    del meta["signature"]
    del meta["data"]["sampler_seed"]  # written before the sampler had a seed of its own
    state = {k: v for k, v in model.state_dict().items()}
    torch.save({"format": "mads-zoo-checkpoint/2", "state_dict": state, "meta": meta},
               tmp_path / "old.pt")  # fmt: skip
    old = load_checkpoint(tmp_path / "old.pt").meta
    assert old.signature == InputSignature(1, 187, ()) and old.data.sampler_seed is None
