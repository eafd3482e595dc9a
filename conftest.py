"""pytest's setup for the doctests of tfprune/ (the tests' helpers are in tests/conftest.py):
each doctest runs in a temporary folder of its own, so an example that writes a file
(`mask.save("mask.npz")`) leaves nothing behind and meets no other run's file."""
import pytest

# Not doctest modules: the commands define absl flags when imported (one per process), and
# tests/data holds files written by older versions.
collect_ignore_glob = ["tfprune/commands/*.py", "tests/data/*"]


@pytest.fixture(autouse=True)
def _doctests_run_in_a_temporary_folder(request):
    if isinstance(request.node, pytest.DoctestItem):
        request.getfixturevalue("monkeypatch").chdir(request.getfixturevalue("tmp_path"))
