"""`tfprune reproduce` as a process: the smoke scale on a few claims writes the report, a second
command reuses every run, and bad input (an unknown scale or claim, a folder of other settings)
gets one line and changes nothing."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from snapshots import snapshot

REPRODUCE_PY = os.path.join(ROOT, "launch", "reproduce.py")
CLAIMS = "lrr_beats_imp,imp_keeps_its_rewind_signs,single_neuron_theory"
# config flags change every run of the scale; 2 seeds, the fewest that give an interval
SHORTER = ["--rounds=1", "--epochs=1", "--seeds=0,1"]


def runs_of(out):
    """The fingerprint of the runs in `out` (not of the report drawn from them)."""
    return {k: v for k, v in snapshot(out).items() if not k.startswith(("figures", "report."))}


def reproduce(*args):
    return subprocess.run([sys.executable, REPRODUCE_PY, *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)


@pytest.mark.parametrize("args,line", [
    (["--scale=huge"], "error: unknown scale 'huge'; valid: smoke, laptop, gpu"),
    (["--scale=smoke", "--claims=lrr_beats_imp,nope"],
     "error: unknown claim 'nope'; valid: lrr_beats_imp, lrr_finds_better_masks, "),
    (["--scale=smoke", "--seeds=0"], "error: --seeds needs at least 2 distinct seeds"),
    (["--scale=smoke", "--seed=3"], "error: --seed is set per run by reproduce"),
])
def test_bad_input_is_one_line(args, line, tmp_path):
    result = reproduce(*args, f"--out={tmp_path / 'out'}")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(line), result.stderr[-2000:]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_smoke_scale_report_reuse_and_refusals(tmp_path):
    out = tmp_path / "claims"
    first = reproduce("--scale=smoke", f"--claims={CLAIMS}", f"--out={out}", *SHORTER)
    assert first.returncode == 0, first.stderr[-3000:]
    md = (out / "report.md").read_text()
    for name in CLAIMS.split(","):
        assert f"## {name}" in md and (out / "figures" / f"{name}.png").is_file()
        assert any(line.startswith(name) for line in first.stdout.splitlines())
    assert (out / "report.html").is_file()
    for variant in ("lrr", "imp"):
        for seed in (0, 1):
            metrics = out / variant / f"seed_{seed}" / "round_01" / "metrics.json"
            assert json.loads(metrics.read_text())["density"] == pytest.approx(0.8, abs=1e-3)
    assert json.loads((out / "reproduce.json").read_text())["scale"] == "smoke"

    before = runs_of(out)
    again = reproduce("--scale=smoke", f"--claims={CLAIMS}", f"--out={out}", *SHORTER)
    assert again.returncode == 0 and "4 of 4 runs already complete" in again.stderr
    assert runs_of(out) == before
    assert (out / "report.md").read_text() == md  # same runs, same report

    written = snapshot(out)
    for args, line in ((["--scale=laptop"], "holds the smoke scale's runs, not laptop's"),
                       (["--scale=smoke", "--rounds=1"], "holds runs of other settings "
                                                         "(epochs: 1 -> 2)")):
        refused = reproduce(*args, f"--claims={CLAIMS}", f"--out={out}")
        assert refused.returncode != 0 and line in refused.stderr.strip().splitlines()[-1]
        assert snapshot(out) == written
