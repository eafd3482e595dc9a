"""The package as users install it (`pip install .`, not editable), its commands run from a
folder outside the checkout."""
import importlib.util
import os
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The package installed from a built wheel into a folder of its own (dependencies are
    the environment's); returns (environment, the folder of its console scripts)."""
    target = tmp_path_factory.mktemp("installed")
    isolation = [] if importlib.util.find_spec("setuptools") is None else [
        "--no-build-isolation"]  # offline when the environment can build it
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    *isolation, "--target", str(target), ROOT], check=True, timeout=600,
                   capture_output=True)
    env = os.environ | {"PYTHONPATH": str(target)}
    return env, target / "bin"


def run(args, env, cwd):
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_the_installed_commands_train_plan_an_export_and_report_from_any_folder(installed,
                                                                            tmp_path):
    env, scripts = installed
    where = run([sys.executable, "-c", "import tfprune; print(tfprune.__file__)"], env, tmp_path)
    assert not where.stdout.startswith(ROOT) and "installed" in where.stdout  # not the checkout
    tfprune = [str(scripts / "tfprune")]
    assert "tfprune train" in run(tfprune + ["--help"], env, tmp_path).stdout
    run(tfprune + ["train", "--model=lenet300_100", "--rounds=1", "--epochs=1",
                   "--warmup_epochs=0", "--rewind_epoch=0", "--nodownload", "--workdir=run"],
        env, tmp_path)
    assert sorted(os.listdir(tmp_path / "run" / "round_01")) == [
        "checkpoint", "kernels.npz", "mask.npz", "metrics.json"]
    plan = subprocess.run([sys.executable, "-m", "tfprune", "export", "--run=run",
                           "--out=run/export"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)  # checked before any work: no TensorFlow
    assert plan.returncode != 0 and plan.stderr.strip().splitlines()[-1].startswith(
        "error: --out=run/export is inside the run directory run")
    run(tfprune + ["report", "--runs=run", "--out=report"], env, tmp_path)
    assert os.path.exists(tmp_path / "report" / "summary.md")
    run(tfprune + ["single-neuron", "--dim=2", "--seeds=3", "--steps=200", "--out=sn.json"],
        env, tmp_path)
    helped = subprocess.run(tfprune + ["sweep", "--help"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)  # absl exits 1
    assert "tfprune sweep" in helped.stdout and "--executor" in helped.stdout, helped.stderr
    unknown = subprocess.run(tfprune + ["fly"], env=env, cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)
    assert unknown.returncode != 0 and unknown.stderr.strip() == (
        "error: unknown command 'fly'; valid: train, sweep, report, export, lmc, "
        "single-neuron, reproduce (tfprune --help)")
    refused = subprocess.run(tfprune + ["reproduce", "--scale=big"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and refused.stderr.strip().splitlines()[-1] == (
        "error: unknown scale 'big'; valid: smoke, laptop, gpu")
