"""Runs side by side, each in a fresh process (how scripts pack runs on a GPU without Ray)."""

from __future__ import annotations

import os

import pytest

from mads_zoo.train.fresh import importable, in_fresh_processes


def test_every_call_gets_a_process_of_its_own_and_its_index():
    done = dict(in_fresh_processes(os.getpid, [(), (), ()], at_once=2))
    assert sorted(done) == [0, 1, 2]
    assert len(set(done.values())) == 3 and os.getpid() not in done.values()


def test_a_call_that_raises_raises_here():
    with pytest.raises(ValueError, match="invalid literal"):
        list(in_fresh_processes(int, [("7",), ("seven",)], at_once=2))


def test_at_once_must_be_positive():
    with pytest.raises(ValueError, match="at_once must be >= 1"):
        list(in_fresh_processes(os.getpid, [()], at_once=0))


def test_a_script_function_is_found_by_its_module_name(tmp_path):
    script = tmp_path / "packed_script.py"
    script.write_text("def work(x):\n    return x * 2\n")

    def work(x):  # the script's function as __main__ would hold it
        raise AssertionError("the module's function is used, not this one")

    found = importable(work, str(script))
    assert found.__module__ == "packed_script" and found(4) == 8
