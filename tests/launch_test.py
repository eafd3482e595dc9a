"""Tests of the absl launcher as a process: bad flags fail fast with one clear line on stderr
and a non-zero exit, --help explains (the full bad-input matrix is bad_input_test.py)."""
import os
import subprocess
import sys

import pytest

from tfprune import cli
from tfprune.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(ROOT, "launch", "train.py")


def launch(*args, timeout=120):
    return subprocess.run([sys.executable, TRAIN, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def test_help_explains_every_config_field():
    out = " ".join(launch("--help").stdout.split())
    for name in Config.__dataclass_fields__:
        assert f"--{name}" in out or f"--[no]{name}" in out, name
    assert "How a pruned round restarts" in out


@pytest.mark.parametrize("args, message", [
    (["--method=wr"], "flag --method=wr: value should be one of <ft|imp|lrr>"),
    (["--prune_fraction=1.5"], "error: --prune_fraction must be in (0, 1)"),
    (["--rewind_epoch=20", "--epochs=10"], "error: --rewind_epoch must be in [0, --epochs)"),
    (["extra"], "unexpected arguments: extra"),
    (["--dataset=tiny_imagenet", "--data_dir=/nonexistent"],
     "error: Tiny ImageNet: /nonexistent/tiny-imagenet-200/wnids.txt not found; expected layout"),
])
def test_bad_flags_exit_non_zero_with_one_clear_line_and_write_nothing(tmp_path, args, message):
    workdir = tmp_path / "run"
    result = launch(f"--workdir={workdir}", *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert not workdir.exists()


def parse(*args):
    from absl import flags
    values = flags.FlagValues()
    cli.define_flags(flag_values=values)
    values(["train", *args])
    return cli.config_from_flags(flag_values=values)


def test_flags_round_trip_to_the_default_config():
    assert parse() == Config()


def test_late_rewind_allows_a_rewind_point_after_the_warm_up():
    config = parse("--rewind_epoch=3", "--late_rewind")
    assert config.rewind_epoch == 3 and config.warmup_epochs == 1


def test_ignore_layers_flag_is_a_list():
    config = parse("--ignore_layers=fc,block1_conv", "--width=2")
    assert config.ignore_layers == ("fc", "block1_conv") and config.width == 2.0


def test_a_tfds_dataset_that_is_not_there_fails_fast_with_what_to_do(tmp_path):
    result = launch(f"--workdir={tmp_path / 'run'}", "--dataset=cifar10", "--nodownload",
                    f"--data_dir={tmp_path / 'tfds'}")
    assert result.returncode != 0
    assert "error: TFDS dataset 'cifar10' is not prepared in" in result.stderr
    assert "--data_dir" in result.stderr.splitlines()[-1]
    assert not (tmp_path / "run").exists()


def test_a_tiny_run_through_the_launcher_and_overwrite(tmp_path):
    workdir = tmp_path / "run"
    args = (f"--workdir={workdir}", "--epochs=1", "--warmup_epochs=0", "--rewind_epoch=0",
            "--model=lenet300_100")
    result = launch(*args, "--rounds=1", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[round 1/1 density 0.8000] test_accuracy=" in result.stderr
    assert (workdir / "results.csv").read_text().count("\n") == 3
    refused = launch(*args, "--rounds=0", "--lr=0.05", timeout=300)
    assert refused.returncode != 0 and "lr: 0.1 -> 0.05" in refused.stderr
    assert (workdir / "results.csv").read_text().count("\n") == 3
    replaced = launch(*args, "--rounds=0", "--lr=0.05", "--overwrite", timeout=300)
    assert replaced.returncode == 0, replaced.stderr[-2000:]
    assert (workdir / "results.csv").read_text().count("\n") == 2
    assert not (workdir / "round_01").exists()


def test_overwrite_never_deletes_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = launch(f"--workdir={tmp_path}", "--overwrite", "--rounds=0", "--epochs=1",
                    "--warmup_epochs=0", "--rewind_epoch=0")
    assert result.returncode != 0 and "is not empty and not a run directory" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"
