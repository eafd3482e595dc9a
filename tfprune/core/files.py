"""Atomic writes and checked reads of the run directory's files.

Every artifact is written to a temporary name in its folder and moved into
place with `os.replace`, so a reader (or a resumed run) never sees half a file.
"""
import contextlib
import json
import os
import shutil
import uuid
import zipfile

import numpy as np


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path next to `path`; moves it onto `path` on success.

    Works for files and for folders (a folder replaces the old one whole).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        yield tmp
        if os.path.isdir(path) and os.path.isdir(tmp):
            old = tmp + ".old"
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
        elif os.path.exists(tmp):
            os.unlink(tmp)


def remove_tree(path):
    """Deletes a folder so that a kill leaves it whole or gone, never half (renamed first)."""
    path = os.fspath(path)
    trash = os.path.join(os.path.dirname(os.path.abspath(path)),
                         f".{os.path.basename(path)}.deleting")
    shutil.rmtree(trash, ignore_errors=True)  # what an earlier kill left
    if os.path.exists(path):
        os.replace(path, trash)
        shutil.rmtree(trash, ignore_errors=True)


def write_text(path, text):
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def write_json(path, value):
    write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def read_json(path):
    """Reads a JSON file; a missing or corrupt file is a one-line error naming it."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"missing file {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"corrupt JSON file {path}: {e}") from None


def save_arrays(path, arrays, compress=True):
    """Writes {name: array} to an .npz atomically (names may contain '/'); `compress=False`
    stores the arrays as they are (trained floats shrink by 7% and take 15x longer)."""
    with atomic_path(path) as tmp:
        with open(tmp, "xb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED if compress
                                 else zipfile.ZIP_STORED) as zf:
                for key in sorted(arrays):  # like np.savez, without keyword clashes
                    with zf.open(key + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, np.asarray(arrays[key]),
                                                  allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())


def load_arrays(path):
    """Reads an .npz into {name: array}; a missing or corrupt file is a one-line error naming it."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"missing file {path}")
    try:
        if not zipfile.is_zipfile(path):  # else numpy calls garbage "pickled data"
            with open(path, "rb") as f:
                is_npy = f.read(6) == b"\x93NUMPY"
            raise ValueError("a single .npy array, not an .npz archive" if is_npy
                             else "not an .npz archive (damaged or truncated?)")
        data = np.load(path, allow_pickle=False)
        with data:
            return {key: data[key] for key in data.files}
    except (PermissionError, IsADirectoryError):
        raise
    except Exception as e:  # zipfile.BadZipFile, EOFError, zlib.error, ...
        text = " ".join(str(e).split())
        raise ValueError(f"cannot read array file {path}: {type(e).__name__}: {text}") from e
