"""The builtin blocks (mads_zoo.blocks): what each layer is made of and what it does to shapes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch
from timm.layers import SEModule
from torch import nn

import mads_zoo.blocks
from mads_zoo.blocks import (
    ClassifierHead,
    ConvBlock1d,
    ConvBlock2d,
    GRUEncoder,
    Pool1d,
    Pool2d,
    PositionalEncoding,
    ResNetBlock1d,
    ResNetBlock2d,
    SqueezeExcite1d,
    SqueezeExcite2d,
    trailing_zero_lengths,
)
from mads_zoo.registry import load_registry

torch.manual_seed(0)

#: Each registered block, the keyword arguments to build it, and an input to run it on.
BLOCK_CASES = {
    "conv-block-1d": ({"in_channels": 1, "out_channels": 8}, (2, 1, 187)),
    "conv-block-2d": ({"in_channels": 1, "out_channels": 8}, (2, 1, 16, 12)),
    "resnet-block-1d": ({"in_channels": 8}, (2, 8, 187)),
    "resnet-block-2d": ({"in_channels": 8}, (2, 8, 16, 12)),
    "squeeze-excite-1d": ({"channels": 32}, (2, 32, 50)),
    "squeeze-excite-2d": ({"channels": 32}, (2, 32, 8, 6)),
    "pool-1d": ({"kind": "max"}, (2, 8, 187)),
    "pool-2d": ({"kind": "gap"}, (2, 8, 16, 12)),
    "gru": ({"input_size": 8, "hidden_size": 16}, (2, 30, 8)),
    "positional-encoding": ({"dim": 16}, (2, 48, 16)),
    "classifier-head": ({"in_features": 8 * 6, "hidden": 16, "num_classes": 5}, (2, 8, 6)),
}


def _registered_blocks():
    registry = load_registry()
    broken = [b.error for b in registry.broken if b.plugin.module == "mads_zoo.blocks"]
    assert not broken, f"the blocks plugin failed to load: {broken}"
    return {entry.name: entry for entry in registry.find("blocks")}


def test_every_block_is_registered_by_the_builtin_plugin_and_has_a_case_here():
    blocks = _registered_blocks()
    assert set(blocks) == set(BLOCK_CASES)
    assert {entry.plugin.distribution for entry in blocks.values()} == {"mads-zoo"}


@pytest.mark.parametrize("name", sorted(BLOCK_CASES))
def test_registered_block_builds_a_module_that_runs(name):
    kwargs, shape = BLOCK_CASES[name]
    block = _registered_blocks()[name].spec.build(**kwargs)
    assert isinstance(block, nn.Module)
    out = block(torch.rand(shape))
    assert torch.isfinite(out).all()


def test_loading_the_blocks_plugin_does_not_import_torch():
    code = textwrap.dedent(
        """
        import sys
        from mads_zoo.registry import load_registry
        registry = load_registry()
        assert registry.find("blocks"), "no blocks registered"
        import mads_zoo.blocks
        heavy = sorted(m for m in ("torch", "timm") if m in sys.modules)
        assert not heavy, f"loading the registry imported {heavy}"
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "MADS_ZOO_PLUGINS"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr


def test_public_names_import_and_unknown_names_fail():
    for name in mads_zoo.blocks.__all__:
        assert getattr(mads_zoo.blocks, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'ConvBlock3d'"):
        _ = mads_zoo.blocks.ConvBlock3d


@pytest.mark.parametrize(
    ("block_type", "conv_type", "norm_type", "shape"),
    [
        (ConvBlock1d, nn.Conv1d, nn.BatchNorm1d, (2, 3, 187)),
        (ConvBlock2d, nn.Conv2d, nn.BatchNorm2d, (2, 3, 16, 12)),
    ],
)
@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_conv_block_is_conv_relu_batchnorm_and_keeps_size(
    block_type, conv_type, norm_type, shape, dilation
):
    block = block_type(3, 8, dilation=dilation)
    assert [type(m) for m in block] == [conv_type, nn.ReLU, norm_type]
    conv = block.conv
    dims = len(shape) - 2
    assert conv.kernel_size == (3,) * dims and conv.stride == (1,) * dims
    assert conv.dilation == (dilation,) * dims and conv.padding == (dilation,) * dims
    assert block(torch.rand(shape)).shape == (shape[0], 8, *shape[2:])


def test_conv_block_stride_two_halves_the_size_and_bad_dilation_is_refused():
    assert ConvBlock2d(1, 4, stride=2)(torch.rand(2, 1, 16, 12)).shape == (2, 4, 8, 6)
    with pytest.raises(ValueError, match="dilation must be 1 or more"):
        ConvBlock1d(1, 4, dilation=0)


@pytest.mark.parametrize(
    ("block_type", "conv_block", "shape"),
    [(ResNetBlock1d, ConvBlock1d, (2, 8, 187)), (ResNetBlock2d, ConvBlock2d, (2, 8, 16, 12))],
)
def test_resnet_block_adds_two_conv_blocks_to_an_identity_skip(block_type, conv_block, shape):
    block = block_type(8, dilation=2).eval()
    assert [type(m) for m in block.body] == [conv_block, conv_block]
    assert all(m.conv.dilation[0] == 2 for m in block.body)
    assert isinstance(block.skip, nn.Identity)
    x = torch.rand(shape)
    with torch.no_grad():
        torch.testing.assert_close(block(x), x + block.body(x))


def test_resnet_block_projects_the_skip_when_the_width_changes():
    block = ResNetBlock1d(4, 8)
    assert isinstance(block.skip, nn.Conv1d) and block.skip.kernel_size == (1,)
    assert block(torch.rand(2, 4, 50)).shape == (2, 8, 50)


def test_squeeze_excite_is_timms_and_rescales_whole_channels():
    se2d, se1d = SqueezeExcite2d(32), SqueezeExcite1d(32)
    assert isinstance(se2d, SEModule) and isinstance(se1d, SEModule)
    assert se2d.fc1.out_channels == 32 // 16  # the seed's channels // reduction
    x = torch.rand(2, 32, 8, 6) + 0.1
    gate = se2d(x) / x  # one factor per (example, channel), in (0, 1)
    torch.testing.assert_close(gate, gate[..., :1, :1].expand_as(gate))
    assert ((gate > 0) & (gate < 1)).all()
    assert se1d(torch.rand(2, 32, 50)).shape == (2, 32, 50)


def test_pooling_max_halves_and_gap_averages_everything():
    x = torch.rand(2, 4, 187)
    max_pool, gap = Pool1d("max"), Pool1d("gap")
    assert isinstance(max_pool.pool, nn.MaxPool1d) and isinstance(gap.pool, nn.AdaptiveAvgPool1d)
    assert max_pool(x).shape[-1] == max_pool.output_size((187,))[0] == 93
    torch.testing.assert_close(gap(x), x.mean(dim=-1, keepdim=True))
    assert Pool2d("max")(torch.rand(2, 4, 16, 12)).shape == (2, 4, 8, 6)
    assert Pool2d("gap").output_size((16, 12)) == (1, 1)
    with pytest.raises(ValueError, match="pool must be one of max, gap"):
        Pool2d("avg")


def test_pooled_lengths_count_windows_that_touch_the_beat():
    lengths = torch.tensor([1, 2, 3, 100, 187])
    assert Pool1d("max").output_lengths(lengths, 93).tolist() == [1, 1, 2, 50, 93]
    assert Pool1d("gap").output_lengths(lengths, 1).tolist() == [1, 1, 1, 1, 1]


def test_trailing_zero_lengths_finds_where_the_padding_starts():
    x = torch.zeros(4, 2, 10)
    x[0, 0, :10] = 1.0
    x[1, 1, :4] = 1.0
    x[2, 0, 2] = 1.0  # a zero inside the beat does not end it
    lengths = trailing_zero_lengths(x)
    assert lengths.dtype == torch.int64
    assert lengths.tolist() == [10, 4, 3, 1]  # an all-zero row keeps one step


def test_gru_encoder_returns_the_last_state_with_optional_layer_norm():
    plain = GRUEncoder(8, 16, num_layers=2, dropout=0.2)
    assert plain.gru.batch_first and plain.gru.num_layers == 2 and plain.gru.dropout == 0.2
    assert isinstance(plain.norm, nn.Identity)
    x = torch.rand(3, 30, 8)
    plain.eval()  # no dropout between the layers, so both calls agree
    outputs, _ = plain.gru(x)
    torch.testing.assert_close(plain(x), outputs[:, -1])
    normed = GRUEncoder(8, 16, layer_norm=True)
    assert isinstance(normed.norm, nn.LayerNorm)
    out = normed(x)
    torch.testing.assert_close(out.mean(dim=1), torch.zeros(3), atol=1e-5, rtol=0)
    assert GRUEncoder(8, 16, num_layers=1, dropout=0.3).gru.dropout == 0.0


def test_gru_encoder_with_lengths_stops_at_each_sequence_end():
    encoder = GRUEncoder(4, 8).eval()
    beat = torch.rand(1, 12, 4)
    padded = torch.cat([beat, torch.zeros(1, 20, 4)], dim=1)
    batch = torch.cat([padded, torch.rand(1, 32, 4)])
    with torch.no_grad():
        packed = encoder(batch, torch.tensor([12, 32]))
        torch.testing.assert_close(packed[0], encoder(beat)[0])
        torch.testing.assert_close(packed[1], encoder(batch[1:])[0])
        assert not torch.allclose(encoder(padded)[0], packed[0])


def test_positional_encoding_adds_distinct_fixed_codes():
    encoding = PositionalEncoding(16, dropout=0.1, max_tokens=48).eval()
    x = torch.zeros(2, 48, 16)
    codes = encoding(x)
    torch.testing.assert_close(codes[0], codes[1])
    assert len({tuple(row.tolist()) for row in codes[0]}) == 48
    assert not list(encoding.parameters())
    assert PositionalEncoding(15)(torch.zeros(1, 5, 15)).shape == (1, 5, 15)


def test_classifier_head_is_flatten_linear_relu_dropout_linear():
    head = ClassifierHead(8 * 6, 16, 5, dropout=0.3)
    assert [type(m) for m in head] == [nn.Flatten, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
    assert (head.hidden.in_features, head.hidden.out_features, head.out.out_features) == (48, 16, 5)
    assert head(torch.rand(2, 8, 6)).shape == (2, 5)
    assert nn.Dropout not in {type(m) for m in ClassifierHead(4, 8, 5)}
