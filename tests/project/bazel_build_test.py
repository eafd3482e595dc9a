"""Keeps the Bazel BUILD file in sync with the imports (tests/build_file.py writes it)."""
import os
import shutil
import subprocess

import pytest

import build_file
from conftest import ROOT


def test_build_is_generated_from_the_imports():
    with open(os.path.join(ROOT, "BUILD")) as f:
        assert f.read() == build_file.text(), "BUILD is out of date: run python tests/build_file.py"


@pytest.mark.skipif(shutil.which("bazel") is None, reason="bazel not installed")
@pytest.mark.slow
def test_bazel_query_parses_the_build_file():
    result = subprocess.run(["bazel", "--batch", "query", "//:all"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
