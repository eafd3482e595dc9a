"""Bad input: a clear one-line error naming the flag or file, and no file written or changed."""
import os
import shutil

import numpy as np
import pytest

from tfprune import experiment
from tfprune.callbacks import TrainingDiverged
from tfprune.config import Config
from tfprune.rundir import RunDir
from snapshots import snapshot

BASE = dict(model="lenet300_100", rounds=1, epochs=1, warmup_epochs=0, rewind_epoch=0,
            download=False)


@pytest.fixture(scope="module")
def done_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("bad") / "run"
    experiment.run(Config(**BASE, workdir=str(workdir)))
    return workdir


def damaged(done_run, tmp_path, damage):
    workdir = tmp_path / "run"
    shutil.copytree(done_run, workdir)
    damage(workdir)
    return workdir


def write(path, data):
    path.write_bytes(data)


DAMAGES = {
    "corrupt metrics": (lambda w: write(w / "round_01" / "metrics.json", b"{not json"),
                        "corrupt JSON file", "round_01/metrics.json"),
    "corrupt config": (lambda w: write(w / "config.json", b"[1,"), "corrupt JSON file",
                       "config.json"),
    "corrupt mask": (lambda w: write(w / "round_00" / "mask.npz", b"garbage"),
                     "cannot read array file", "round_00/mask.npz"),
    "missing checkpoint": (lambda w: shutil.rmtree(w / "round_00" / "checkpoint"),
                           "missing checkpoint", "round_00/checkpoint/ckpt.index"),
    "corrupt checkpoint": (lambda w: write(w / "round_00" / "checkpoint" / "ckpt.index", b"x"),
                           "cannot restore checkpoint", "round_00/checkpoint/ckpt"),
    "corrupt rewind kernels": (lambda w: write(w / "rewind" / "kernels.npz", b"x"),
                               "cannot read array file", "rewind/kernels.npz"),
    "missing kernels": (lambda w: os.remove(w / "round_00" / "kernels.npz"), "missing file",
                        "round_00/kernels.npz"),
}


@pytest.mark.parametrize("name", DAMAGES)
def test_damaged_run_files_are_named_and_nothing_else_changes(done_run, tmp_path, name):
    damage, message, file = DAMAGES[name]
    # Resume the damaged run one round further: it reads the last round's files.
    if name == "corrupt metrics":
        rounds, wipe = 1, None
    else:  # make round 1 incomplete so that round 0's files are read to rebuild it
        rounds, wipe = 1, "round_01"
    workdir = damaged(done_run, tmp_path, damage)
    if wipe and name != "corrupt config":
        shutil.rmtree(workdir / wipe)
    before = snapshot(workdir)
    with pytest.raises((ValueError, FileNotFoundError)) as error:
        experiment.run(Config(**(BASE | {"rounds": rounds}), workdir=str(workdir)))
    text = str(error.value)
    assert message in text and file in text and "\n" not in text
    assert snapshot(workdir) == before


CONFIGS = [
    (dict(method="wr"), "--method='wr' is not valid; valid: ft, imp, lrr"),
    (dict(model="resnet99"), "--model='resnet99' is not valid"),
    (dict(dataset="imagenet"), "--dataset='imagenet' is not valid"),
    (dict(pruning="smallest"), "--pruning='smallest' is not valid"),
    (dict(schedule="linear"), "--schedule='linear' is not valid"),
    (dict(strategy="tpu"), "--strategy='tpu' is not valid"),
    (dict(prune_fraction=1.0), "--prune_fraction must be in (0, 1)"),
    (dict(epochs=0), "--epochs must be positive"),
    (dict(rounds=-1), "--rounds must be >= 0"),
    (dict(rewind_epoch=5, epochs=5), "--rewind_epoch must be in [0, --epochs)"),
    (dict(warmup_epochs=6, epochs=5), "--warmup_epochs must be in [0, --epochs]"),
    (dict(lr_drop_epochs=(3, 2), epochs=5), "--lr_drop_epochs must increase"),
    (dict(jit_compile=True, strategy="mirrored"), "--jit_compile works only with"),
    (dict(cpu_devices=-1), "--cpu_devices must be >= 0"),
    (dict(rewind_epoch=2, warmup_epochs=1, epochs=5),
     "--rewind_epoch=2 is after the warm-up (--warmup_epochs=1); rewind within it, or pass "
     "--late_rewind"),
    (dict(checkpoint_every=-1), "--checkpoint_every must be >= 0"),
    (dict(signs="source"), "--signs=source and --signs_from go together"),
    (dict(perturb_signs=1.5), "--perturb_signs must be in [0, 1]"),
]


@pytest.mark.parametrize("overrides, message", CONFIGS)
def test_bad_values_are_refused_before_anything_is_written(tmp_path, overrides, message):
    with pytest.raises(ValueError) as error:
        experiment.run(Config(**(BASE | {"workdir": str(tmp_path / "run")} | overrides)))
    assert message in str(error.value)
    assert not (tmp_path / "run").exists()


def test_another_configuration_in_the_workdir_is_refused_naming_the_keys(done_run):
    before = snapshot(done_run)
    with pytest.raises(ValueError, match=r"lr: 0.1 -> 0.05, method: 'lrr' -> 'imp'"):
        experiment.run(Config(**BASE, workdir=str(done_run), lr=0.05, method="imp"))
    assert snapshot(done_run) == before


def test_missing_data_folder_names_the_expected_layout(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected layout"):
        experiment.run(Config(**(BASE | {"dataset": "tiny_imagenet"}), data_dir=str(tmp_path),
                              workdir=str(tmp_path / "run")))
    assert not (tmp_path / "run").exists()


def test_an_unreachable_tfds_download_says_what_to_do(tmp_path, monkeypatch):
    import requests
    import tensorflow_datasets as tfds

    def offline(self, *args, **kwargs):  # what TFDS's requests raise after retries, offline
        raise requests.exceptions.ConnectionError(
            "Failed to establish a new connection: [Errno -3] name resolution\nmore")
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", offline)
    with pytest.raises(ConnectionError) as error:
        experiment.run(Config(**(BASE | {"dataset": "cifar10", "download": True}),
                              data_dir=str(tmp_path / "tfds"),
                              workdir=str(tmp_path / "run")))
    text = str(error.value)
    assert text.startswith(f"could not download TFDS dataset 'cifar10' into {tmp_path / 'tfds'} "
                           "(ConnectionError: Failed to establish a new connection")
    assert "--data_dir=<that folder> --nodownload" in text and "\n" not in text
    assert not (tmp_path / "run").exists()


def test_a_diverging_round_stops_with_a_clear_error_and_keeps_earlier_rounds(tmp_path):
    workdir = tmp_path / "run"  # fine-tuning at an absurd rate: round 0 trains, round 1 diverges
    with pytest.raises(TrainingDiverged, match="round 1 of .* the training loss is nan"):
        experiment.run(Config(**(BASE | {"rounds": 2, "method": "ft", "finetune_lr": 1e30}),
                              workdir=str(workdir)))
    run_dir = RunDir(workdir)
    assert run_dir.completed_rounds() == [0]
    assert np.isfinite(run_dir.metrics(0)["test_loss"])
