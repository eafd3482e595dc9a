"""Tests of the figures drawn from run directories."""
import pytest

from tfprune import experiment, report
from tfprune.config import Config


def test_accuracy_vs_density_from_two_real_runs(tmp_path):
    runs = {}
    for method in ("lrr", "imp"):
        config = Config(method=method, model="lenet300_100", rounds=1, epochs=1, warmup_epochs=0,
                        rewind_epoch=0, workdir=str(tmp_path / method), download=False)
        experiment.run(config)
        runs[method] = report.load_run(config.workdir)[1]
    path = tmp_path / "out" / "accuracy_vs_density.png"
    report.accuracy_vs_density(runs, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_folder_that_is_not_a_run_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is not a run directory"):
        report.load_run(str(tmp_path))
