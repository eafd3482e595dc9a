"""Tests for tfprune.core.mask.Mask."""
import os
import zipfile

import numpy as np
import pytest

from tfprune.core.mask import Mask


def _mask():
    return Mask({"s1_conv/kernel": np.array([[1, 0], [1, 1]]),  # 3 of 4
                 "s2_b1_conv1/kernel": np.array([1, 0, 0, 0, 0, 1], dtype=np.float32)})  # 2 of 6


def test_values_stored_as_readonly_bool_copies():
    src = np.array([1.0, 0.0, 1.0])
    m = Mask({"a": src})
    src[1] = 1.0
    assert m["a"].dtype == bool
    np.testing.assert_array_equal(m["a"], [True, False, True])
    with pytest.raises(ValueError):
        m["a"][0] = False
    with pytest.raises(TypeError):
        m["b"] = np.ones(2)  # type: ignore[index]


@pytest.mark.parametrize("bad", [[0, 2], [0.5, 1.0], [np.nan, 1.0], [-1, 0], ["1", "0"]])
def test_non_binary_rejected_naming_key(bad):
    with pytest.raises(ValueError, match="dense_3/kernel"):
        Mask({"ok": [1, 0], "dense_3/kernel": bad})


@pytest.mark.parametrize("arrays", [{}, {"": [1]}, {3: [1]}, {"a": np.zeros((0, 3))}])
def test_bad_mappings_rejected(arrays):
    with pytest.raises(ValueError):
        Mask(arrays)


def test_mapping_protocol_and_counts():
    m = _mask()
    assert sorted(m.keys()) == ["s1_conv/kernel", "s2_b1_conv1/kernel"]
    assert len(m) == 2 and set(iter(m)) == set(m.keys())
    assert dict(m.items()).keys() == m.keys()
    assert m.num_weights == 10
    assert m.num_kept == 5
    assert m.density == 0.5
    assert m.layer_densities() == {"s1_conv/kernel": 0.75, "s2_b1_conv1/kernel": 1 / 3}
    assert "density=0.5000" in repr(m)


def test_ones_like_and_equality():
    w = {"a": np.zeros((3, 2)), "b/bias": np.zeros(4)}
    m = Mask.ones_like(w)
    assert m.density == 1.0 and m["a"].shape == (3, 2) and m["b/bias"].shape == (4,)
    assert m == Mask({"a": np.ones((3, 2)), "b/bias": [1, 1, 1, 1]})
    assert m != Mask({"a": np.ones((3, 2)), "b/bias": [1, 1, 1, 0]})
    assert m != Mask({"a": np.ones(6), "b/bias": [1, 1, 1, 1]})


def test_is_subset_of():
    big = Mask({"a": [1, 1, 0], "b": [1, 0]})
    assert Mask({"a": [1, 0, 0], "b": [0, 0]}).is_subset_of(big)
    assert big.is_subset_of(big)
    assert not Mask({"a": [0, 0, 1], "b": [0, 0]}).is_subset_of(big)
    assert not big.is_subset_of(Mask({"a": [1, 1, 0]}))  # keys differ
    assert not Mask({"a": [[1, 1, 0]], "b": [1, 0]}).is_subset_of(big)  # shapes differ


def test_check_compatible_names_problems():
    m = Mask({"a": [1, 0], "b": [[1]]})
    m.check_compatible({"a": np.zeros(2), "b": np.zeros((1, 1))})
    with pytest.raises(ValueError, match="missing.*'b'"):
        m.check_compatible({"a": np.zeros(2)})
    with pytest.raises(ValueError, match="not in mask.*'c'"):
        m.check_compatible({"a": np.zeros(2), "b": np.zeros((1, 1)), "c": np.zeros(1)})
    with pytest.raises(ValueError, match=r"'a' mask \(2,\) vs weights \(3,\)"):
        m.check_compatible({"a": np.zeros(3), "b": np.zeros((1, 1))})


def test_apply():
    m = Mask({"a": [1, 0, 1], "b": [[0, 1]]})
    out = m.apply({"a": np.array([1.5, 2.5, -3.5], dtype=np.float32), "b": np.array([[4.0, -5.0]])})
    np.testing.assert_array_equal(out["a"], [1.5, 0.0, -3.5])
    np.testing.assert_array_equal(out["b"], [[0.0, -5.0]])
    assert out["a"].dtype == np.float32
    with pytest.raises(ValueError):
        m.apply({"a": np.zeros(3)})


def test_save_load_round_trip_with_slash_keys(tmp_path):
    m = Mask({"s2_b1_conv1/kernel": np.random.default_rng(0).integers(0, 2, (3, 3, 4, 8)),
              "dense/kernel": np.eye(5), "deep/nested/name/bias": [1, 0, 1]})
    path = tmp_path / "mask.npz"
    m.save(path)
    loaded = Mask.load(path)
    assert loaded == m
    assert set(loaded) == set(m)
    with np.load(path) as data:  # plain numpy reads it back too
        assert sorted(data.files) == sorted(m)
    assert os.listdir(tmp_path) == ["mask.npz"]  # no temporary files left
    m2 = Mask({"x": [0, 1]})
    m2.save(str(path))  # overwrite in place
    assert Mask.load(str(path)) == m2 and os.listdir(tmp_path) == ["mask.npz"]


def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "mask.npz"
    old = Mask({"a": [1, 0]})
    old.save(path)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        Mask({"a": [1, 1]}).save(path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["mask.npz"]
    assert Mask.load(path) == old


def test_load_missing_file_names_it(tmp_path):
    path = tmp_path / "nowhere_mask.npz"
    with pytest.raises(FileNotFoundError, match="nowhere_mask.npz"):
        Mask.load(path)


def _corrupt_files(tmp_path):
    good = tmp_path / "good.npz"
    Mask({"a": np.ones(1000)}).save(good)
    yield "garbage", b"this is not a zip file at all"
    yield "empty", b""
    yield "truncated", good.read_bytes()[:60]
    nonbinary = tmp_path / "nonbinary.npz"
    np.savez(nonbinary, a=np.array([0, 2]))
    yield "nonbinary", nonbinary.read_bytes()
    npy = tmp_path / "single.npy"
    np.save(npy, np.ones(3))
    yield "single_npy", npy.read_bytes()
    emptyzip = tmp_path / "emptyzip.npz"
    zipfile.ZipFile(emptyzip, "w").close()
    yield "emptyzip", emptyzip.read_bytes()


def test_load_corrupt_file_names_it(tmp_path):
    for name, content in _corrupt_files(tmp_path):
        path = tmp_path / f"corrupt_{name}.npz"
        path.write_bytes(content)
        with pytest.raises(ValueError, match=f"corrupt_{name}.npz") as info:
            Mask.load(path)
        assert "\n" not in str(info.value), name
        reason = {"garbage": "not an .npz archive (damaged or truncated?)",
                  "single_npy": "a single .npy array, not an .npz archive"}.get(name, "")
        assert reason in str(info.value), (name, str(info.value))
