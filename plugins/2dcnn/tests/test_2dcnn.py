"""The mads-zoo contract checks, run on this plugin's architecture (as a third party would)."""

from mads_zoo.registry import get_registry
from mads_zoo.testing import check_architecture


def test_2dcnn_is_registered_through_its_entry_point():
    entry = get_registry().entry("architectures", "2dcnn")
    assert entry.plugin.distribution == "mads-zoo-2dcnn"


def test_2dcnn_meets_the_contract():
    assert "preset 'seed-best'" in check_architecture("2dcnn", samples=1)
