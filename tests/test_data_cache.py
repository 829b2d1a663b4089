"""The on-disk cache: where it lives, atomic writes, unreadable entries."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import files_under

from mads_zoo.data import cache
from mads_zoo.fileio import atomic_file


def test_cache_dir_comes_from_the_env_var_else_the_user_cache(tmp_cache, monkeypatch, tmp_path):
    assert cache.cache_dir() == tmp_cache
    monkeypatch.delenv("MADS_ZOO_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if cache.sys.platform.startswith("linux"):
        assert cache.cache_dir() == tmp_path / "xdg" / "mads-zoo"
    assert cache.cache_dir().name == "mads-zoo"


def test_save_and_load_round_trip(tmp_cache):
    path = cache.cache_path("beats", "demo")
    cache.save_arrays(path, {"x": np.arange(6.0).reshape(2, 3), "name": np.array("hi")})
    loaded = cache.load_arrays(path)
    assert loaded["x"].tolist() == [[0, 1, 2], [3, 4, 5]] and str(loaded["name"]) == "hi"
    assert files_under(tmp_cache) == [tmp_cache / "beats" / "demo.npz"]


class Unwritable:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("disk on fire")


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failed_write_leaves_neither_the_entry_nor_a_temporary_file(tmp_cache, error):
    path = cache.cache_path("beats", "demo")
    with pytest.raises(error), atomic_file(path) as temp:
        temp.write_bytes(b"half of it")
        raise error()
    assert files_under(tmp_cache) == []
    with pytest.raises(RuntimeError, match="disk on fire"):
        cache.save_arrays(path, {"x": np.zeros(3), "y": Unwritable()})
    assert files_under(tmp_cache) == []


def test_an_unreadable_entry_is_a_miss_and_gets_rebuilt(tmp_cache):
    path = cache.cache_path("beats", "demo")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz")
    assert cache.load_arrays(path) is None
    cache.save_arrays(path, {"x": np.ones(2)})
    assert cache.load_arrays(path)["x"].tolist() == [1, 1]


def test_digest_depends_on_parts_and_array_contents():
    a = np.arange(10, dtype=np.float32)
    assert cache.digest(["x", 1], [a]) == cache.digest(["x", 1], [a.copy()])
    assert cache.digest(["x", 1], [a]) != cache.digest(["x", 2], [a])
    assert cache.digest(["x", 1], [a]) != cache.digest(["x", 1], [a + 1])
    assert cache.digest([], [a[::2]]) == cache.digest([], [a[::2].copy()])
