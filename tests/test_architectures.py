"""The architecture plugins under plugins/: installed through their entry points, they meet the
mads-zoo contract, and the seed's presets build the layer structure the seed's tables describe.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
import torch
from torch import nn

from mads_zoo.blocks import ConvBlock1d, ConvBlock2d, ResNetBlock1d, ResNetBlock2d
from mads_zoo.cli.info import parameter_counts
from mads_zoo.config import resolve_config
from mads_zoo.errors import PluginError
from mads_zoo.models import build_model, count_parameters
from mads_zoo.registry import ENV_ALLOWED, load_registry
from mads_zoo.space import LogUniform
from mads_zoo.specs import SEED_RECIPE
from mads_zoo.testing import check_architecture
from mads_zoo.train.device_fold import channels_last

REPO_ROOT = Path(__file__).resolve().parents[1]

#: Distribution -> (entry point, architectures it registers), all installed from plugins/.
PLUGINS = {
    "mads-zoo-1dcnngru": ("1dcnngru", {"1dcnngru"}),
    "mads-zoo-2dcnn": ("2dcnn", {"2dcnn"}),
    "mads-zoo-2dtransformer": ("2dtransformer", {"2dtransformer"}),
    "mads-zoo-timm": ("timm", {"timm-resnet", "timm-mobilenet", "timm-convnext"}),
}


def _load_project_registry():
    """The builtins plus exactly the project's own architecture plugins."""
    saved = os.environ.get(ENV_ALLOWED)
    os.environ[ENV_ALLOWED] = ",".join(PLUGINS)
    try:
        return load_registry(strict=False)
    finally:
        if saved is None:
            del os.environ[ENV_ALLOWED]
        else:
            os.environ[ENV_ALLOWED] = saved


REGISTRY = _load_project_registry()
ARCHITECTURES = {entry.name: entry.spec for entry in REGISTRY.find("architectures")}


def _build(name, preset=None, num_classes=5, input_shape=None, **overrides):
    arch = ARCHITECTURES[name]
    config = resolve_config(arch, preset=preset, overrides=overrides)
    return build_model(arch, config, num_classes=num_classes, input_shape=input_shape)


def _count(model, module_type):
    return sum(isinstance(m, module_type) for m in model.modules())


def _all(model, module_type):
    return [m for m in model.modules() if isinstance(m, module_type)]


# --- installed like a third party's plugins -------------------------------------------------


@pytest.mark.parametrize("dist", sorted(PLUGINS))
def test_plugin_is_installed_from_plugins_dir_through_its_entry_point(dist):
    entry_point, names = PLUGINS[dist]
    broken = [b.error for b in REGISTRY.broken if b.plugin.distribution == dist]
    assert not broken, f"{dist} failed to load: {broken}"
    (ep,) = [ep for ep in metadata.distribution(dist).entry_points if ep.group == "mads_zoo"]
    assert ep.name == entry_point
    module_file = Path(ep.load().__file__).resolve()
    assert module_file.is_relative_to(REPO_ROOT / "plugins"), module_file
    for name in names:
        assert REGISTRY.entry("architectures", name).plugin.distribution == dist


def test_loading_every_plugin_imports_neither_torch_nor_timm():
    code = textwrap.dedent(
        """
        import sys
        from mads_zoo.registry import load_registry
        registry = load_registry()
        names = {e.name for e in registry.find("architectures")}
        assert {"1dcnngru", "2dcnn", "2dtransformer", "timm-resnet"} <= names, names
        heavy = sorted(m for m in ("torch", "timm") if m in sys.modules)
        assert not heavy, f"loading the plugins imported {heavy}"
        """
    )
    env = {k: v for k, v in os.environ.items() if k != ENV_ALLOWED}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr


# --- the contract, for every registered architecture ----------------------------------------


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_architecture_meets_the_contract(name):
    checked = check_architecture(ARCHITECTURES[name], samples=2)
    assert checked[0] == "defaults"
    assert len(checked) == 1 + len(ARCHITECTURES[name].presets) + 2


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_info_shows_parameter_counts_at_defaults_and_every_preset(name):
    counts = parameter_counts(ARCHITECTURES[name])
    labels = ["defaults", *(f"preset {p!r}" for p in ARCHITECTURES[name].presets)]
    assert list(counts) == labels
    assert all(count.replace(",", "").isdigit() for count in counts.values()), counts


def test_the_recipe_is_tuned_where_it_matters_and_seed_presets_keep_the_seed_recipe():
    for arch in ARCHITECTURES.values():
        assert {"batch_size", "lr", "epochs"} <= set(arch.defaults)
        assert {"batch_size", "lr"} <= set(arch.search_space)
        assert isinstance(arch.search_space["lr"], LogUniform)
        # the default schedule is one-cycle: the plateau factor cannot change anything there
        assert "factor" not in arch.search_space and "patience" not in arch.search_space
    for name in ("1dcnngru", "2dcnn"):
        preset = ARCHITECTURES[name].presets["seed-best"]
        assert {k: preset[k] for k in SEED_RECIPE} == dict(SEED_RECIPE)


# --- shapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
@pytest.mark.parametrize("num_classes", [5, 3])
def test_output_is_logits_for_the_layout_input(name, num_classes):
    arch = ARCHITECTURES[name]
    expected_input = {"1d": (1, 187), "2d": (1, 16, 12)}[arch.layout]
    assert arch.input_shape == expected_input
    model = _build(name, num_classes=num_classes).eval()
    with torch.no_grad():
        assert model(torch.rand(4, *expected_input)).shape == (4, num_classes)


@pytest.mark.parametrize(
    ("name", "input_shape"),
    [
        ("1dcnngru", (1, 192)),
        ("1dcnngru", (2, 64)),
        ("2dcnn", (1, 24, 8)),
        ("2dtransformer", (1, 9, 7)),
    ],
)
def test_seed_models_follow_the_input_shape_they_are_built_for(name, input_shape):
    model = _build(name, input_shape=input_shape).eval()
    with torch.no_grad():
        assert model(torch.rand(3, *input_shape)).shape == (3, 5)


# --- 1dcnngru options, each toggled on and off ------------------------------------------------


def _convs_after_stem(model):
    return _all(model.features[1:], nn.Conv1d)


@pytest.mark.parametrize("dilation", [1, 2, 4])
def test_1dcnngru_dilation_widens_every_conv_after_the_stem_and_keeps_lengths(dilation):
    model = _build("1dcnngru", dilation=dilation)
    assert model.features[0].conv.dilation == (1,)
    convs = _convs_after_stem(model)
    assert len(convs) == 3 * 3  # num_blocks=3 pairs of (conv block, ResNet block of two)
    assert all(c.dilation == (dilation,) and c.padding == (dilation,) for c in convs)
    with torch.no_grad():
        assert model.eval().features(torch.rand(2, 1, 187)).shape == (2, 64, 187)


def test_1dcnngru_pool_max_halves_and_gap_averages_before_the_projection():
    max_model, gap_model = _build("1dcnngru", pool="max"), _build("1dcnngru", pool="gap")
    assert _count(max_model, nn.MaxPool1d) == 1 and _count(max_model, nn.AdaptiveAvgPool1d) == 0
    assert _count(gap_model, nn.AdaptiveAvgPool1d) == 1 and _count(gap_model, nn.MaxPool1d) == 0
    assert max_model.project.in_features == 64 * 93
    assert gap_model.project.in_features == 64


def test_1dcnngru_gru_norm_adds_a_layer_norm_on_the_gru_state():
    assert _count(_build("1dcnngru", gru_norm=False), nn.LayerNorm) == 0
    normed = _build("1dcnngru", gru_norm=True)
    (norm,) = _all(normed, nn.LayerNorm)
    assert norm.normalized_shape == (128,) and normed.gru.norm is norm


def _gru_sequence_length(model, x):
    seen = []
    handle = model.gru.gru.register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0]))
    with torch.no_grad():
        model.eval()(x)
    handle.remove()
    (sequence,) = seen
    return sequence


def test_1dcnngru_gru_input_flat_is_one_step_and_steps_runs_over_the_beat():
    x = torch.rand(2, 1, 187)
    flat, steps = _build("1dcnngru", gru_input="flat"), _build("1dcnngru", gru_input="steps")
    assert _gru_sequence_length(flat, x).shape == (2, 1, 64)
    assert _gru_sequence_length(steps, x).shape == (2, 93, 64)
    assert steps.project.in_features == 64


def _beats(length, total):
    x = torch.zeros(2, 1, total)
    x[:, :, :length] = torch.rand(2, 1, length) + 0.1
    return x


def test_1dcnngru_pack_padded_packs_by_the_trailing_zero_padding():
    packed = _build("1dcnngru", gru_input="steps", pack_padded=True)
    sequence = _gru_sequence_length(packed, _beats(101, 187))
    assert isinstance(sequence, nn.utils.rnn.PackedSequence)
    assert sequence.batch_sizes.numel() == 51  # ceil(101 / 2) valid steps after MaxPool1d(2)
    plain = _build("1dcnngru", gru_input="steps", pack_padded=False)
    assert isinstance(_gru_sequence_length(plain, _beats(101, 187)), torch.Tensor)


def test_1dcnngru_pack_padded_stops_the_gru_at_the_end_of_each_beat():
    torch.manual_seed(0)
    model = _build("1dcnngru", gru_input="steps", pack_padded=True).eval()
    short, long = _beats(101, 187), torch.zeros(2, 1, 251)
    long[..., :187] = short
    with torch.no_grad():
        packed = model(short)
        torch.testing.assert_close(model(long), packed)  # more padding changes nothing
        model.pack_padded = False  # same weights, the GRU now runs over the padding too
        assert not torch.allclose(model(short), packed, atol=1e-4)


def test_1dcnngru_pack_padded_needs_gru_input_steps():
    with pytest.raises(PluginError, match="pack_padded=True needs gru_input='steps'"):
        _build("1dcnngru", pack_padded=True)
    with pytest.raises(PluginError, match="gru_input must be one of flat, steps"):
        _build("1dcnngru", gru_input="sequence")


# --- the seed presets, layer by layer ---------------------------------------------------------


def _conv_params(c_in, c_out, k):
    """Conv weights + bias + BatchNorm scale and shift."""
    return c_in * c_out * k + c_out + 2 * c_out


def _gru_params(c_in, hidden, layers):
    first = 3 * (c_in * hidden + hidden * hidden + 2 * hidden)
    return first + (layers - 1) * 3 * (2 * hidden * hidden + 2 * hidden)


def test_1dcnngru_seed_best_is_the_seed_table():
    # batch 32, hidden 64, dropout 0.4, num_layers 2, num_blocks 5, gru_hidden 256
    model = _build("1dcnngru", preset="seed-best")
    stem, *stages = model.features
    assert isinstance(stem, ConvBlock1d) and stem.conv.in_channels == 1
    assert [type(m) for m in stages] == [ConvBlock1d, ResNetBlock1d] * 5
    assert _count(model, ConvBlock1d) == 1 + 5 + 2 * 5 and _count(model, ResNetBlock1d) == 5
    convs = _all(model, nn.Conv1d)
    assert len(convs) == 16 and _count(model, nn.BatchNorm1d) == 16
    assert all(c.out_channels == 64 and c.kernel_size == (3,) for c in convs)
    assert all(c.stride == (1,) and c.padding == (1,) and c.dilation == (1,) for c in convs)
    (pool,) = _all(model, nn.MaxPool1d)
    assert (pool.kernel_size, pool.stride) == (2, 2)
    (gru,) = _all(model, nn.GRU)
    assert (gru.input_size, gru.hidden_size, gru.num_layers) == (64, 256, 2)
    assert gru.batch_first and gru.dropout == 0.4
    linears = [(m.in_features, m.out_features) for m in _all(model, nn.Linear)]
    assert linears == [(64 * 93, 64), (256, 64), (64, 5)]  # flatten projection, 2 dense
    assert _count(model, nn.LayerNorm) == 0 and _count(model, nn.Dropout) == 0
    expected = (
        _conv_params(1, 64, 3)
        + 15 * _conv_params(64, 64, 3)
        + (64 * 93 * 64 + 64)
        + _gru_params(64, 256, 2)
        + (256 * 64 + 64)
        + (64 * 5 + 5)
    )
    assert count_parameters(model) == expected == 1_227_397


def test_2dcnn_seed_best_is_the_seed_table():
    # batch 16, hidden 128, dropout 0.3, num_layers 3, num_blocks 1, factor 0.2
    model = _build("2dcnn", preset="seed-best")
    top = [type(m) for m in model.features]
    assert top == [ConvBlock2d] * 3 + [ResNetBlock2d, type(model.features[-1])]
    (resnet,) = _all(model, ResNetBlock2d)
    assert isinstance(resnet.skip, nn.Identity)  # the seed's "Identity layer"
    convs = _all(model, nn.Conv2d)
    assert len(convs) == 3 + 2 and _count(model, nn.BatchNorm2d) == 5
    assert [c.in_channels for c in convs] == [1, 128, 128, 128, 128]
    assert all(c.out_channels == 128 and c.kernel_size == (3, 3) for c in convs)
    assert all(c.stride == (1, 1) and c.padding == (1, 1) for c in convs)
    (pool,) = _all(model, nn.MaxPool2d)
    assert (pool.kernel_size, pool.stride) == (2, 2)
    assert _count(model, nn.Flatten) == 1
    linears = [(m.in_features, m.out_features) for m in _all(model, nn.Linear)]
    assert linears == [(128 * 8 * 6, 128), (128, 5)]
    (dropout,) = _all(model, nn.Dropout)
    assert dropout.p == 0.3
    expected = (
        _conv_params(1, 128, 9)
        + 4 * _conv_params(128, 128, 9)
        + (128 * 48 * 128 + 128)
        + (128 * 5 + 5)
    )
    assert count_parameters(model) == expected == 1_380_101


def test_2dtransformer_is_stem_resnet_se_then_encoder_blocks():
    model = _build("2dtransformer", hidden=64, num_heads=4, num_blocks=3)
    stem_conv = model.stem[0].conv
    assert (stem_conv.in_channels, stem_conv.out_channels, stem_conv.stride) == (1, 64, (2, 2))
    assert _count(model, ResNetBlock2d) == 1
    assert _count(model, nn.TransformerEncoderLayer) == 3
    attention = _all(model, nn.MultiheadAttention)
    assert len(attention) == 3 and all(a.num_heads == 4 and a.embed_dim == 64 for a in attention)
    linears = [(m.in_features, m.out_features) for m in _all(model.head, nn.Linear)]
    assert linears == [(64, 32), (32, 5)]
    with pytest.raises(PluginError, match="num_heads=3 must divide hidden=64"):
        _build("2dtransformer", hidden=64, num_heads=3)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_bf16_forward_on_the_cpu_is_finite_and_repeatable(name):
    # the engine trains in bf16 on CPUs that have it: timm-convnext's unpadded 2x2 stride-2
    # downsamplers on the 16x12 view read past the map there (NaN in most calls), which made
    # bench trials fail or not depending on what the process had allocated before
    arch = ARCHITECTURES[name]
    model = _build(name).eval()
    generator = torch.Generator().manual_seed(0)
    x = channels_last(model, torch.randn(64, *arch.input_shape, generator=generator))
    outputs = []
    for _ in range(5):
        scratch = torch.full((64, 4096), float("nan"))  # leaves NaN in the allocator's pool
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            outputs.append(model(x).float())
        del scratch
    assert all(torch.isfinite(out).all() for out in outputs)
    assert all(torch.equal(outputs[0], out) for out in outputs[1:])


@pytest.mark.parametrize("name", ["timm-resnet", "timm-mobilenet", "timm-convnext"])
def test_timm_models_are_timm_models_with_one_input_channel(name):
    model = _build(name)
    if name == "timm-convnext":  # its view is zero-padded to 16x16 first
        pad, model = model
        assert pad(torch.zeros(1, 1, 16, 12)).shape == (1, 1, 16, 16)
    assert type(model).__module__.startswith("timm.models.")
    assert model.num_classes == 5
    first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.in_channels == 1
    with torch.no_grad():
        features = model.eval().forward_features(torch.rand(2, 1, 16, 12))
    assert features.shape[-2] * features.shape[-1] >= 2  # BatchNorm can train on batch 1
