"""Fingerprints of a folder, to check that nothing in it changed."""
import hashlib
import os


def snapshot(folder):
    """{relative path: sha256} of every file under `folder`."""
    out = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out
