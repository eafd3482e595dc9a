"""The run directory: its paths and file names, and what a multiworker worker reads and writes."""
import os

import pytest

from tfprune.core import files
from tfprune.core.mask import Mask
from tfprune.core.rundir import RunDir, WorkerRunDir
from tfprune.engine import config_changes


def test_a_worker_reads_what_it_wrote_else_the_chiefs_copy_and_writes_only_its_own(tmp_path):
    shared, scratch = RunDir(tmp_path / "shared"), tmp_path / "scratch"
    files.write_json(shared.config_path, {"rounds": 2})
    Mask({"w": [1, 0]}).save(os.path.join(shared.round_dir(0), "mask.npz"))
    files.write_json(os.path.join(shared.round_dir(0), "metrics.json"), {"round": 0})
    files.write_json(os.path.join(shared.resume_dir(1), "progress.json"), {"epoch": 2})
    worker = WorkerRunDir(shared.root, scratch)
    assert worker.root == str(scratch) and worker.is_run() and worker.completed_rounds() == [0]
    assert worker.mask(0) == Mask({"w": [1, 0]}) and worker.progress(1) == {"epoch": 2}
    assert worker.source(worker.resume_dir(1)) == shared.resume_dir(1)
    assert worker.source("/elsewhere/x") == "/elsewhere/x"  # not in the run directory
    config_changes.write(worker, {"rounds": 3})  # the chief's to write: nothing happens
    assert shared.read_config() == {"rounds": 2} and not scratch.exists()
    config_changes.check(worker, {"rounds": 3})  # the shared directory's own checks
    with pytest.raises(ValueError, match="another configuration"):
        config_changes.check(worker, {"rounds": 2, "seed": 1})
    files.write_json(os.path.join(worker.resume_dir(1), "progress.json"), {"epoch": 3})
    assert worker.progress(1) == {"epoch": 3} and shared.progress(1) == {"epoch": 2}
    assert worker.source(worker.resume_dir(1)) == worker.resume_dir(1)
