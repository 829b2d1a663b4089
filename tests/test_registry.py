"""The plugin registry, exercised with real distributions on sys.path (nothing mocked)."""

from __future__ import annotations

import pytest
from conftest import write_distribution
from plugin_sources import (
    DEFAULT_OUTSIDE_SPACE,
    HALF_REGISTERS_THEN_FAILS,
    RAISES_ON_IMPORT,
    TYPO_HOOK,
    WRONG_OBJECT,
    good,
)

from mads_zoo.errors import PluginError, UnknownNameError


@pytest.fixture
def site(tmp_path, monkeypatch, fresh_registry):
    """A fresh site directory on sys.path; only the plugins a test installs there load."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv("MADS_ZOO_STRICT_PLUGINS", raising=False)
    allowed: list[str] = []

    def install(dist: str, module: str, source: str, entry_point: str | None = None) -> None:
        # unique module names per test: the import system caches modules by name
        unique = f"{module}_{abs(hash(str(tmp_path))) % 10**8}"
        write_distribution(root, dist, {unique: source}, {entry_point or module: unique})
        allowed.append(dist)
        monkeypatch.setenv("MADS_ZOO_PLUGINS", ",".join(allowed))

    monkeypatch.setenv("MADS_ZOO_PLUGINS", "")
    return install


def test_builtin_plugins_load_through_the_same_path(site, fresh_registry):
    registry = fresh_registry.load_registry()
    smote = registry.entry("samplers", "smote")
    assert smote.plugin.distribution == "mads-zoo"
    assert registry.broken == [] and registry.conflicts == []


def test_a_good_entry_point_plugin_is_listed_with_its_distribution(site, fresh_registry):
    site("zoo-good", "zoo_good", good("good-net"))
    registry = fresh_registry.load_registry()
    entry = registry.entry("architectures", "good-net")
    assert (entry.plugin.distribution, entry.plugin.version) == ("zoo-good", "1.0.0")
    assert registry.entry("samplers", "good-net-sampler").plugin.name == "zoo_good"


def test_a_plugin_that_raises_on_import_is_reported_and_the_rest_loads(site, fresh_registry):
    site("zoo-broken", "zoo_broken", RAISES_ON_IMPORT)
    site("zoo-good", "zoo_good", good("good-net"))
    registry = fresh_registry.load_registry()
    assert [b.plugin.distribution for b in registry.broken] == ["zoo-broken"]
    assert "broken on purpose" in registry.broken[0].error
    assert registry.broken[0].plugin.version == "1.0.0"
    assert "good-net" in registry.entries["architectures"]
    assert "smote" in registry.entries["samplers"]


def test_a_plugin_failing_mid_registration_adds_nothing(site, fresh_registry):
    site("zoo-half", "zoo_half", HALF_REGISTERS_THEN_FAILS)
    registry = fresh_registry.load_registry()
    assert "half-registered" not in registry.entries["samplers"]
    (broken,) = registry.broken
    assert "Sampler 'Bad Name'" in broken.error and "'name'" in broken.error


def test_a_default_outside_its_search_space_names_plugin_and_field(site, fresh_registry):
    site("zoo-space", "zoo_space", DEFAULT_OUTSIDE_SPACE)
    (broken,) = fresh_registry.load_registry().broken
    assert broken.plugin.distribution == "zoo-space"
    assert "'out-of-space'" in broken.error and "'defaults'" in broken.error
    assert "dropout=0.9" in broken.error and "uniform(0.1, 0.4)" in broken.error


def test_a_misspelled_hook_is_reported_with_a_suggestion(site, fresh_registry):
    site("zoo-typo", "zoo_typo", TYPO_HOOK)
    (broken,) = fresh_registry.load_registry().broken
    assert "did you mean 'register_architectures'" in broken.error


def test_registering_the_wrong_kind_is_reported(site, fresh_registry):
    site("zoo-wrong", "zoo_wrong", WRONG_OBJECT)
    (broken,) = fresh_registry.load_registry().broken
    assert "register_architectures got a Sampler" in broken.error


def test_a_duplicate_name_is_rejected_naming_both_distributions(site, fresh_registry):
    site("zoo-a", "zoo_a", good("same-net"))
    site("zoo-b", "zoo_b", good("same-net"))
    registry = fresh_registry.load_registry()
    assert registry.entry("architectures", "same-net").plugin.distribution == "zoo-a"
    conflicts = {c.kind: c for c in registry.conflicts}
    message = str(conflicts["architectures"])
    assert "zoo-a" in message and "zoo-b" in message and "same-net" in message


def test_a_plugin_cannot_take_a_builtin_name(site, fresh_registry):
    site("zoo-thief", "zoo_thief", good("thief-net").replace("thief-net-sampler", "smote"))
    registry = fresh_registry.load_registry()
    assert registry.entry("samplers", "smote").plugin.distribution == "mads-zoo"
    (conflict,) = registry.conflicts
    assert (conflict.name, conflict.rejected.distribution) == ("smote", "zoo-thief")


def test_strict_mode_turns_broken_and_duplicates_into_an_error(site, fresh_registry):
    site("zoo-broken", "zoo_broken", RAISES_ON_IMPORT)
    with pytest.raises(PluginError, match="zoo-broken"):
        fresh_registry.load_registry(strict=True)


def test_strict_mode_reports_duplicates(site, fresh_registry, monkeypatch):
    site("zoo-a", "zoo_a", good("same-net"))
    site("zoo-b", "zoo_b", good("same-net"))
    monkeypatch.setenv("MADS_ZOO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="already registered by zoo_a"):
        fresh_registry.load_registry()


def test_the_allow_list_restricts_external_plugins(site, fresh_registry, monkeypatch):
    site("zoo-a", "zoo_a", good("net-a"))
    site("zoo-b", "zoo_b", good("net-b"))
    monkeypatch.setenv("MADS_ZOO_PLUGINS", "zoo-b")
    names = set(fresh_registry.load_registry().entries["architectures"])
    assert "net-b" in names and "net-a" not in names
    monkeypatch.setenv("MADS_ZOO_PLUGINS", "")
    assert not fresh_registry.load_registry().entries["architectures"]


def test_order_is_deterministic_and_natural(site, fresh_registry):
    for i in (10, 2, 1):
        site(f"zoo-{i}", f"zoo_{i}", good(f"net{i}"))
    first = [e.name for e in fresh_registry.load_registry().find("architectures")]
    second = [e.name for e in fresh_registry.load_registry().find("architectures")]
    assert first == second == ["net1", "net2", "net10"]


def test_lookup_by_pattern_and_did_you_mean(site, fresh_registry):
    registry = fresh_registry.load_registry()
    assert [e.name for e in registry.find("samplers", "random-*")] == [
        "random-over",
        "random-under",
    ]
    with pytest.raises(UnknownNameError, match="did you mean 'smote'"):
        registry.sampler("smot")
    with pytest.raises(UnknownNameError, match="unknown architecture 'nope'"):
        registry.architecture("nope")
