"""The export plan: rounds, formats and the output folder checked before any work."""
import json
import os
import subprocess
import sys

import pytest

from tfprune.engine.config import Config
from tfprune.export import plan as export_plan

from conftest import ROOT
from snapshots import snapshot

EXPORT_PY = os.path.join(ROOT, "launch", "export.py")


# Bad input, without training: a run directory of config.json and metrics.json files.
@pytest.fixture
def fake_run(tmp_path):
    """A 'finished' 2-round run as export_plan reads it (no model: only plans are checked)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(Config(rounds=2, workdir=str(run)).to_dict()))
    for r, (density, accuracy) in enumerate([(1.0, 0.9), (0.8, 0.95), (0.64, 0.93)]):
        (run / f"round_{r:02d}").mkdir()
        (run / f"round_{r:02d}" / "metrics.json").write_text(json.dumps(
            {"round": r, "density": density, "test_accuracy": accuracy}))
    return run


def launch(*args):
    return subprocess.run([sys.executable, EXPORT_PY, *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


@pytest.mark.parametrize("args, message", [
    (["--round=7"], "error: --round=7 does not exist; the run has rounds 0-2"),
    (["--formats=tflite,onnx"], "error: --formats=tflite,onnx: unknown onnx; valid: keras,"),
    (["--out={run}/export"], "error: --out={run}/export is inside the run directory {run}; "),
    (["--round=1", "--best"], "error: give at most one of --round, --density, --best, --all"),
])
def test_launcher_refuses_bad_input_in_one_line_and_changes_nothing(fake_run, tmp_path, args,
                                                                     message):
    before = snapshot(fake_run)
    args = [a.format(run=fake_run) for a in args]
    out = [] if any(a.startswith("--out") for a in args) else [f"--out={tmp_path / 'out'}"]
    result = launch(f"--run={fake_run}", *out, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(message.format(run=fake_run)), result.stderr[-1000:]
    assert sum(line.startswith("error:") for line in lines) == 1
    assert snapshot(fake_run) == before
    assert not (tmp_path / "out").exists()


def test_launcher_refuses_an_unfinished_run(fake_run, tmp_path):
    os.remove(fake_run / "round_02" / "metrics.json")
    before = snapshot(fake_run)
    result = launch(f"--run={fake_run}", f"--out={tmp_path / 'out'}")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: --run={fake_run} is not finished (rounds 0-1 of 0-2 complete): finish it "
        f"with tfprune train --workdir={fake_run} first")
    assert snapshot(fake_run) == before


def test_plan_picks_rounds_and_refuses_what_it_cannot_export(fake_run, tmp_path):
    def plan(**kwargs):
        return export_plan.make_plan(str(fake_run), str(tmp_path / "out"), **kwargs)
    assert plan().rounds == (2,)  # the last, sparsest round by default
    assert plan(density=0.75).rounds == (1,)
    assert plan(best=True).rounds == (1,)
    assert plan(all=True).rounds == (0, 1, 2) and plan(all=True).figure
    assert plan(formats="tflite_int8").formats == ("tflite_int8",)
    for kwargs, message in [
            (dict(round=-1), "--round=-1 does not exist"),
            (dict(density=0), r"--density=0 must be in \(0, 1\]"),
            (dict(all=True, best=True), "at most one of"),
            (dict(formats="tflite,tflite"), "names a format twice"),
            (dict(formats=""), "no format")]:
        with pytest.raises(ValueError, match=message):
            plan(**kwargs)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        export_plan.make_plan(str(fake_run), str(tmp_path / "file"))
    with pytest.raises(ValueError, match="is not a run directory"):
        export_plan.make_plan(str(tmp_path), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
