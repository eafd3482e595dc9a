"""The report builds its figures and summary from real tiny runs, and refuses other folders."""
import os
import subprocess
import sys

import pytest

from tfprune import report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PNG = b"\x89PNG\r\n\x1a\n"


def test_report_draws_every_figure_and_the_summary(tiny_runs, tmp_path):
    written = report.write([str(tiny_runs / "lrr"), str(tiny_runs / "imp")], str(tmp_path))
    names = sorted(os.path.basename(p) for p in written)
    assert names == ["accuracy_vs_density.png", "layer_density.png", "mask_overlap.png",
                     "sign_flips.png", "summary.md"]
    for path in written[:-1]:
        assert open(path, "rb").read(8) == PNG
    summary = (tmp_path / "summary.md").read_text()
    assert "## sign_flips" in summary and "| lrr | 2 |" in summary
    assert "| lrr | imp | 0 | 1.0000 |" in summary  # round 0: both dense


def test_groups_runs_by_configuration_except_seed(tiny_runs):
    groups = report.group_runs([str(tiny_runs / "lrr"), str(tiny_runs / "imp")])
    assert sorted(groups) == ["imp", "lrr"]


def test_the_launcher_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "launch", "report.py"),
                             f"--runs={tmp_path}", f"--out={tmp_path / 'out'}"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert f"error: {tmp_path} is not a run directory" in result.stderr
    assert not (tmp_path / "out").exists()


def test_load_run_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="is not a run directory"):
        report.load_run(str(tmp_path / "nope"))
