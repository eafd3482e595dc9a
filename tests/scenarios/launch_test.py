"""Tests of the absl launcher as a process: --help explains, the flags parse to the config, a
tiny run and --overwrite work, and each way bad input ends the process (absl's flag parsing,
main's error exit) fails it with the line on stderr. The bad-input matrix itself, every flag
and file, runs the launcher's main in-process: bad_input_test.py."""
import os
import subprocess
import sys

import pytest

from tfprune.engine import config_flags
from tfprune.engine.config import Config

from conftest import ROOT

TRAIN = os.path.join(ROOT, "launch", "train.py")


def launch(*args, timeout=120):
    return subprocess.run([sys.executable, TRAIN, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.mark.slow
def test_help_explains_every_config_field():
    out = " ".join(launch("--help").stdout.split())
    for name in Config.__dataclass_fields__:
        assert f"--{name}" in out or f"--[no]{name}" in out, name
    assert "How a pruned round restarts" in out


@pytest.mark.parametrize("args, message", [
    (["--method=wr"],  # absl's app.run reports a flag it cannot parse
     "FATAL Flags parsing error: flag --method=wr: value should be one of <ft|gmp|imp|lrr|rigl|set>"),
    (["--prune_fraction=1.5"],  # main's sys.exit("error: ...") for a bad configuration
     "error: --prune_fraction must be in (0, 1)"),
], ids=["flag parsing", "main's error exit"])
@pytest.mark.slow
def test_bad_input_fails_the_process_with_the_line_on_stderr_and_writes_nothing(tmp_path, args,
                                                                                message):
    workdir = tmp_path / "run"
    result = launch(f"--workdir={workdir}", *args)
    assert result.returncode == 1
    assert message in result.stderr and message not in result.stdout
    assert not workdir.exists()


def parse(*args, given=False):
    """The Config of these flags (`given`: the fields they set, unresolved)."""
    from absl import flags
    values = flags.FlagValues()
    config_flags.define_flags(flag_values=values)
    values(["train", *args])
    if given:
        return config_flags.given_values(flag_values=values)
    return config_flags.config_from_flags(flag_values=values)


def test_flags_round_trip_to_the_default_config():
    assert parse() == Config()


def test_late_rewind_allows_a_rewind_point_after_the_warm_up():
    config = parse("--rewind_epoch=3", "--late_rewind")
    assert config.rewind_epoch == 3 and config.warmup_epochs == 1


def test_a_grid_base_holds_the_given_flags_unresolved():
    """gmp's --final_density resolves from --rounds: a sweep's base must leave it to each run
    (a variant with other --rounds, or --method=lrr, would inherit a wrong or foreign value)."""
    assert parse("--method=gmp", "--rounds=4", given=True) == {"method": "gmp", "rounds": 4}
    assert parse("--method=gmp", "--rounds=4").final_density == pytest.approx(0.8 ** 4)
    smoke = parse("--config=renda_cifar10_resnet20", "--smoke", "--epochs=2", given=True)
    assert smoke["model"] == "resnet20" and smoke["epochs"] == 2 and "seed" not in smoke


def test_ignore_layers_flag_is_a_list():
    config = parse("--ignore_layers=fc,block1_conv", "--width=2")
    assert config.ignore_layers == ("fc", "block1_conv") and config.width == 2.0


@pytest.mark.slow
def test_a_tiny_run_through_the_launcher_and_overwrite(tmp_path):
    workdir = tmp_path / "run"
    args = (f"--workdir={workdir}", "--epochs=1", "--warmup_epochs=0", "--rewind_epoch=0",
            "--model=lenet300_100")
    result = launch(*args, "--rounds=1", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[round 1/1 density 0.8000] test_accuracy=" in result.stderr
    assert (workdir / "results.csv").read_text().count("\n") == 3
    # another configuration is refused (bad_input_test.py), unless --overwrite replaces the run
    replaced = launch(*args, "--rounds=0", "--lr=0.05", "--overwrite", timeout=300)
    assert replaced.returncode == 0, replaced.stderr[-2000:]
    assert (workdir / "results.csv").read_text().count("\n") == 2
    assert not (workdir / "round_01").exists()
