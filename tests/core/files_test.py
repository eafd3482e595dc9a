"""Crash-safe files: atomic writes of files and folders, whole-or-gone deletion, one-line errors."""
import os

import numpy as np
import pytest

from tfprune.core import files


def test_an_atomic_path_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "a" / "state"
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as tmp:
            os.makedirs(tmp)
            (open(os.path.join(tmp, "half"), "w")).close()
            raise RuntimeError("killed mid-write")
    assert os.listdir(tmp_path / "a") == []  # neither the target nor the temporary folder
    with files.atomic_path(target) as tmp:
        os.makedirs(tmp)
        open(os.path.join(tmp, "new"), "w").close()
    with files.atomic_path(target) as tmp:  # a folder replaces the old one whole
        os.makedirs(tmp)
        open(os.path.join(tmp, "newer"), "w").close()
    assert os.listdir(target) == ["newer"] and os.listdir(tmp_path / "a") == ["state"]


def test_remove_tree_finishes_what_a_killed_deletion_left(tmp_path):
    folder, trash = tmp_path / "resume", tmp_path / ".resume.deleting"
    folder.mkdir()
    trash.mkdir()  # an earlier kill between the rename and the deletion
    files.remove_tree(folder)
    assert os.listdir(tmp_path) == []
    files.remove_tree(folder)  # nothing there: nothing to do


def test_json_and_arrays_round_trip_with_slashes_in_names(tmp_path):
    files.write_json(tmp_path / "x.json", {"epoch": 3, "logs": {"loss": 0.5}})
    assert files.read_json(tmp_path / "x.json") == {"epoch": 3, "logs": {"loss": 0.5}}
    arrays = {"backbone/conv/kernel": np.arange(6.0).reshape(2, 3), "fc/kernel": np.ones(2)}
    files.save_arrays(tmp_path / "k.npz", arrays)
    loaded = files.load_arrays(tmp_path / "k.npz")
    assert list(loaded) == list(arrays)  # the order too: state files rely on it
    assert all(np.array_equal(loaded[k], arrays[k]) for k in arrays)


def test_a_missing_or_corrupt_file_is_one_line_naming_it(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    for path, read in ((tmp_path / "bad.json", files.read_json),
                       (tmp_path / "gone.json", files.read_json),
                       (tmp_path / "bad.npz", files.load_arrays)):
        with pytest.raises((ValueError, FileNotFoundError)) as error:
            read(path)
        assert str(path) in str(error.value) and "\n" not in str(error.value)
