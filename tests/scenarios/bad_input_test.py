"""Bad input, through the launcher's own main: each case exits non-zero with one line naming the
flag or file and what would be valid, and every file that existed before is unchanged."""
import os
import re
import shutil

import pytest
from absl import flags
from absl import logging as absl_logging

from tfprune.commands import train  # defines the program's flags on absl's FLAGS, once
from tfprune.engine import loop
from tfprune.engine.config import Config
from tfprune.engine.monitors import TrainingDiverged

from conftest import ROOT, launcher_flags, tiny_config
from snapshots import snapshot

TRAIN_PY = os.path.join(ROOT, "launch", "train.py")

BASE = tiny_config()
BASE_ARGS = launcher_flags(BASE)


def launch(args):
    """Runs the train program's main in this process as `app.run` would.

    Returns:
        (exit status, the one-line error that the launcher prints to stderr).
    """
    level = absl_logging.get_absl_logger().level  # parsing --verbosity changes it
    train.FLAGS.unparse_flags()
    try:
        train.main(train.FLAGS([TRAIN_PY, *args]))
    except flags.Error as e:  # app.run prints "FATAL Flags parsing error: <e>", exits 1
        return 1, str(e)
    except SystemExit as e:  # main's sys.exit("error: ...") exits 1
        return (1 if isinstance(e.code, str) else e.code), str(e.code)
    finally:
        train.FLAGS.unparse_flags()
        absl_logging.get_absl_logger().setLevel(level)
    return 0, ""


@pytest.fixture(scope="module")
def done_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("bad") / "run"
    loop.run(Config(**BASE, workdir=str(workdir)))
    return workdir


def write(path, data):
    path.write_bytes(data)


# Damage to a finished run's files: resuming it one round further reads them.
DAMAGES = {
    "corrupt metrics": lambda w: write(w / "round_01" / "metrics.json", b"{not json"),
    "corrupt config": lambda w: write(w / "config.json", b"[1,"),
    "corrupt mask": lambda w: write(w / "round_00" / "mask.npz", b"garbage"),
    "missing checkpoint": lambda w: shutil.rmtree(w / "round_00" / "checkpoint"),
    "corrupt checkpoint": lambda w: write(w / "round_00" / "checkpoint" / "ckpt.index", b"x"),
    "corrupt rewind kernels": lambda w: write(w / "rewind" / "kernels.npz", b"x"),
    "missing kernels": lambda w: os.remove(w / "round_00" / "kernels.npz"),
}


FROM_DONE_RUN = ("run", "source", "damaged:")  # kinds whose folder copies `done_run`
TRAINS = FROM_DONE_RUN + ("diverged",)  # kinds that train (slow): for `done_run` or their own


def prepare(kind, tmp_path, request, monkeypatch):
    """Makes the folder a case starts from; returns the --workdir."""
    workdir = tmp_path / "run"
    done_run = request.getfixturevalue("done_run") if kind.startswith(FROM_DONE_RUN) else None
    if kind == "notes":
        workdir.mkdir()
        (workdir / "notes.txt").write_text("mine")
    elif kind == "run":
        shutil.copytree(done_run, workdir)
    elif kind == "source":
        shutil.copytree(done_run, tmp_path / "source")
    elif kind.startswith("damaged:"):
        name = kind.split(":")[1]
        shutil.copytree(done_run, workdir)
        DAMAGES[name](workdir)
        if name not in ("corrupt metrics", "corrupt config"):
            shutil.rmtree(workdir / "round_01")  # so that round 0's files are read to rebuild it
    elif kind == "diverged":  # round 1 of a fine-tuning run at an absurd rate diverged
        with pytest.raises(TrainingDiverged):
            loop.run(Config(**(BASE | {"rounds": 2}), method="ft", finetune_lr=1e30,
                                  workdir=str(workdir)))
    elif kind == "file":
        (tmp_path / "afile").write_text("not a folder")
    elif kind == "offline":  # what `requests` raises offline: the probe fails, no download
        import requests
        import tensorflow_datasets as tfds

        def offline(*args, **kwargs):
            raise requests.exceptions.ConnectionError(
                "Failed to establish a new connection: [Errno -3] name resolution\nmore")

        def download(*args, **kwargs):
            raise AssertionError("the download started although no server answered")
        monkeypatch.setattr(requests, "head", offline)
        monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", download)
    else:
        assert kind == "new", kind
    return workdir


CASES = [  # (id, starting folder, flags after BASE_ARGS, expected text of the error line)
    # absl parses the flags: enums list their values, types are checked.
    ("method", "new", ["--method=wr"], "flag --method=wr: value should be one of <ft|gmp|imp|lrr|rigl|set>"),
    ("model", "new", ["--model=resnet99"],
     "flag --model=resnet99: value should be one of <convnet|lenet300_100|resnet18|"),
    ("dataset", "new", ["--dataset=imagenet"],
     "value should be one of <mnist1d|mnist|cifar10|cifar100|tiny_imagenet>"),
    ("pruning", "new", ["--pruning=smallest"], "value should be one of <global_magnitude|"),
    ("schedule", "new", ["--schedule=linear"], "value should be one of <step|cosine>"),
    ("structure", "new", ["--structure=nm:5:4"],
     "error: --structure=nm:5:4: expected one of unstructured, block:RxC, nm:N:M, channel"),
    ("structure fits nothing", "new", ["--structure=block:7x7"],
     "error: --structure=block:7x7 fits none of the kernels of 'lenet300_100' (fc1/kernel: 40 "
     "inputs x 300 outputs do not divide into 7x7 blocks); use another --structure, or "
     "--unfit_layers=unstructured"),
    ("unfit_layers", "new", ["--unfit_layers=sparse"],
     "value should be one of <dense|unstructured>"),
    ("strategy", "new", ["--strategy=tpu"], "value should be one of <default|mirrored|multiworker>"),
    ("signs", "new", ["--signs=flip"], "value should be one of <keep|trained|rewind|source>"),
    ("config", "new", ["--config=paper"], "flag --config=paper: value should be one of <"),
    ("integer", "new", ["--batch_size=abc"], "flag --batch_size=abc: invalid literal"),
    ("unknown flag", "new", ["--learning_rate=0.1"], "Unknown command line flag 'learning_rate'"),
    ("positional", "new", ["extra"],
     "error: unexpected arguments: extra (flags are --name=value)"),
    # The configuration validates ranges and combinations before any work.
    ("prune_fraction", "new", ["--prune_fraction=1.0"], "error: --prune_fraction must be in (0, 1)"),
    ("epochs", "new", ["--epochs=0"], "error: --epochs must be positive, got 0"),
    ("lr", "new", ["--lr=0"], "error: --lr must be positive, got 0.0"),
    ("batch_size", "new", ["--batch_size=0"], "error: --batch_size must be positive, got 0"),
    ("rounds", "new", ["--rounds=-1"], "error: --rounds must be >= 0"),
    ("rewind_epoch", "new", ["--method=imp", "--rewind_epoch=5", "--epochs=5"],
     "error: --rewind_epoch must be in [0, --epochs)"),
    ("rewind_epoch lrr", "new", ["--rewind_epoch=6", "--epochs=5"],
     "error: --rewind_epoch must be in [0, --epochs]"),
    ("late rewind", "new", ["--method=imp", "--rewind_epoch=2", "--warmup_epochs=1", "--epochs=5"],
     "error: --rewind_epoch=2 is after the warm-up (--warmup_epochs=1); rewind within it, or "
     "pass --late_rewind to rewind later"),
    ("warmup_epochs", "new", ["--warmup_epochs=6", "--epochs=5"],
     "error: --warmup_epochs must be in [0, --epochs]"),
    ("lr_drop order", "new", ["--lr_drop_epochs=3,2", "--epochs=5"],
     "error: --lr_drop_epochs must increase within (0, --epochs), got (3, 2)"),
    ("lr_drop type", "new", ["--lr_drop_epochs=a"], "error: --lr_drop_epochs must be integers"),
    ("momentum", "new", ["--momentum=1"], "error: --momentum must be in [0, 1)"),
    ("weight_decay", "new", ["--weight_decay=-1"], "error: --weight_decay must be >= 0"),
    ("eval_every", "new", ["--eval_every=-1"], "error: --eval_every must be >= 0"),
    ("width", "new", ["--width=0"], "error: --width must be positive"),
    ("finetune_lr", "new", ["--finetune_lr=0"], "error: --finetune_lr must be positive"),
    ("perturb_every", "new", ["--perturb_every=0"], "error: --perturb_every must be >= 1"),
    ("backend for tf_keras", "new", ["--backend=jax"],
     "error: --backend=jax is for --keras=3 (tf_keras runs on TensorFlow only)"),
    ("unknown backend", "new", ["--keras=3", "--backend=mxnet"],
     "error: --backend=mxnet is not a Keras 3 backend tfprune runs on; valid: tensorflow, jax, "
     "torch"),
    ("jax + multiworker", "new", ["--keras=3", "--backend=jax", "--strategy=multiworker"],
     "error: --strategy=multiworker runs with --keras=2 only: Keras 3's trainer fails under "
     "MultiWorkerMirroredStrategy (Keras 3.15), and tfprune has no keras.distribution "
     "multiworker launcher for JAX"),
    ("perturb_signs", "new", ["--perturb_signs=1.5"], "error: --perturb_signs must be in [0, 1]"),
    ("budget", "new", ["--budget=ERK"],
     "error: --budget=ERK is not a budget; valid: global, uniform, erk"),
    ("budget + balanced", "new", ["--pruning=random_balanced", "--budget=erk"],
     "error: --budget is for magnitude and random pruning, not --pruning=random_balanced; give "
     "--pruning=random_balanced alone"),
    ("reinit + ft", "new", ["--method=ft", "--reinit"],
     "error: --reinit trains a round from new random weights, which --method=ft's small fixed "
     "rate cannot: use --method=imp or lrr"),
    # The methods that change masks as they train, and pruning at initialization.
    ("gmp end before start", "new",
     ["--method=gmp", "--update_start_epoch=5", "--update_end_epoch=3"],
     "error: --update_end_epoch=3 comes before --update_start_epoch=5"),
    ("gmp end beyond the run", "new", ["--method=gmp", "--update_end_epoch=500"],
     "error: --update_end_epoch=500 is beyond the run's"),
    ("update_start_epoch", "new", ["--method=set", "--update_start_epoch=-1"],
     "error: --update_start_epoch must be >= 0"),
    ("update_every", "new", ["--method=gmp", "--update_every=0"],
     "error: --update_every must be >= 1"),
    ("drop_fraction", "new", ["--method=rigl", "--drop_fraction=1.5"],
     "error: --drop_fraction must be in (0, 1), got 1.5"),
    ("final_density", "new", ["--method=set", "--final_density=0"],
     "error: --final_density must be in (0, 1], got 0.0"),
    ("initial_density", "new", ["--method=gmp", "--initial_density=2"],
     "error: --initial_density must be in [--final_density, 1], got 2.0"),
    ("another method's flag", "new", ["--drop_fraction=0.2"],
     "error: --drop_fraction is for --method=rigl or set, not --method=lrr"),
    ("gmp + reinit", "new", ["--method=gmp", "--reinit"],
     "error: --method=gmp changes its mask as it trains: it takes no --reinit (round restarts, "
     "transferred masks and structures are for lrr, imp, ft)"),
    ("set without an update", "new", ["--method=set"],
     "error: --update_every=100 leaves --method=set no mask update between "
     "--update_start_epoch=0 and --update_end_epoch=1 (32 steps at 32 an epoch)"),
    ("rigl + mirrored", "new", ["--method=rigl", "--strategy=mirrored"],
     "error: --method=rigl takes its gradients on one device: use --strategy=default"),
    ("set from a magnitude mask", "new", ["--method=set", "--pruning=erk_magnitude"],
     "error: --method=set starts from a random mask: --pruning must be random_erk (default), "
     "random_uniform, random_global or random_balanced, got erk_magnitude"),
    ("snip + structure", "new", ["--pruning=snip", "--structure=nm:2:4"],
     "error: --pruning=snip prunes weight by weight: it takes --structure=unstructured only"),
    ("rigl on torch", "new", ["--keras=3", "--backend=torch", "--method=rigl"],
     "error: --method=rigl needs gradients, computed on --backend=tensorflow or jax, not torch"),
    ("checkpoint_every", "new", ["--checkpoint_every=-1"],
     "error: --checkpoint_every must be >= 0"),
    ("cpu_devices", "new", ["--cpu_devices=-1"], "error: --cpu_devices must be >= 0"),
    ("jit + mirrored", "new", ["--jit_compile", "--strategy=mirrored"],
     "error: --jit_compile works only with --strategy=default"),
    ("signs without source", "new", ["--signs=source"],
     "error: --signs=source and --signs_from go together"),
    ("shuffle without signs", "new", ["--shuffle_magnitudes"],
     "error: --shuffle_magnitudes needs --signs=trained, rewind or source"),
    ("rewind_bn + imp", "new", ["--rewind_bn", "--method=imp"], "error: --rewind_bn is for lrr and ft"),
    ("smoke alone", "new", ["--smoke"], "error: --smoke needs --config"),
    ("model for images on 1-D data", "new", ["--model=resnet20"],
     "error: --model=resnet20 does not take --dataset=mnist1d's examples of shape (40, 1) (it "
     "takes rank 3); models that do: convnet, lenet300_100"),
    # The work directory.
    ("workdir is a file", "file", ["--workdir={tmp}/afile"],
     "error: --workdir={tmp}/afile is a file, not a folder; use another --workdir"),
    ("another config", "run", ["--lr=0.05", "--method=imp"],
     "holds a run with another configuration (lr: 0.1 -> 0.05, method: 'lrr' -> 'imp'); use "
     "another --workdir (or --overwrite to replace it)"),
    ("not a run", "notes", [], "is not empty and not a run directory; use another --workdir"),
    ("overwrite not a run", "notes", ["--overwrite"], "is not empty and not a run directory"),
    ("diverged, other model", "diverged", ["--method=ft", "--finetune_lr=0.01", "--model=convnet"],
     "model: 'lenet300_100' -> 'convnet'); after a diverged round only warmup_epochs, schedule, "
     "lr, lr_drop_epochs, finetune_lr, momentum, weight_decay may change"),
    # Runs that the experiments read.
    ("mask_from not a run", "new", ["--mask_from={tmp}"],
     "error: --mask_from={tmp} is not a run directory (no config.json)"),
    ("mask_from too short", "source", ["--mask_from={tmp}/source", "--rounds=2"],
     "error: --mask_from={tmp}/source has 1 completed pruned rounds"),
    ("signs_from other model", "source",
     ["--signs=source", "--signs_from={tmp}/source", "--model=convnet"],
     "error: --signs_from={tmp}/source was run with --model='lenet300_100', this run has "
     "--model='convnet'"),
    # Damaged files of the run.
    ("corrupt metrics", "damaged:corrupt metrics", [],
     "error: corrupt JSON file {tmp}/run/round_01/metrics.json"),
    ("corrupt config", "damaged:corrupt config", [], "error: corrupt JSON file {tmp}/run/config.json"),
    ("corrupt mask", "damaged:corrupt mask", [],
     "error: cannot read array file {tmp}/run/round_00/mask.npz: ValueError: not an .npz "
     "archive (damaged or truncated?)"),
    ("missing checkpoint", "damaged:missing checkpoint", [],
     "error: missing checkpoint {tmp}/run/round_00/checkpoint/ckpt.index"),
    ("corrupt checkpoint", "damaged:corrupt checkpoint", [],
     "error: cannot restore checkpoint {tmp}/run/round_00/checkpoint/ckpt"),
    ("corrupt rewind kernels", "damaged:corrupt rewind kernels", [],
     "error: cannot read array file {tmp}/run/rewind/kernels.npz"),
    ("missing kernels", "damaged:missing kernels", [],
     "error: missing file {tmp}/run/round_00/kernels.npz"),
    # Data that is not there.
    ("tiny imagenet folder", "new", ["--dataset=tiny_imagenet", "--data_dir={tmp}/data"],
     "error: Tiny ImageNet: {tmp}/data/tiny-imagenet-200/wnids.txt not found; expected layout"),
    ("tfds not prepared", "new", ["--dataset=cifar10", "--data_dir={tmp}/tfds"],
     "error: TFDS dataset 'cifar10' is not prepared in {tmp}/tfds/cifar10/"),
    ("tfds data_dir under a file", "file",
     ["--dataset=cifar10", "--data_dir={tmp}/afile/tfds", "--download"],
     "error: [Errno 20] Not a directory: '{tmp}/afile/tfds"),
    ("tfds unreachable", "offline", ["--dataset=cifar10", "--data_dir={tmp}/tfds", "--download"],
     "error: could not download TFDS dataset 'cifar10' into {tmp}/tfds (ConnectionError: Failed "
     "to establish a new connection: [Errno -3] name resolution); connect to the internet, or "
     "prepare it elsewhere with `tfds build cifar10`, copy it and pass --data_dir=<that folder> "
     "--nodownload"),
]


@pytest.mark.parametrize("kind, args, message", [
    pytest.param(*c[1:], id=c[0], marks=pytest.mark.slow if c[1].startswith(TRAINS) else ())
    for c in CASES])
def test_bad_input_exits_non_zero_with_one_line_and_changes_no_file(
        kind, args, message, tmp_path, request, monkeypatch):
    workdir = prepare(kind, tmp_path, request, monkeypatch)
    existed = workdir.exists()
    before = snapshot(tmp_path)
    status, line = launch([*BASE_ARGS, f"--workdir={workdir}",
                           *(a.format(tmp=tmp_path) for a in args)])
    assert status != 0
    assert message.format(tmp=tmp_path) in line and "\n" not in line, line
    assert snapshot(tmp_path) == before
    assert workdir.exists() == existed


@pytest.mark.slow
def test_every_check_of_the_config_has_a_case_and_the_launcher_still_runs(tmp_path):
    body = open(os.path.join(ROOT, "tfprune", "engine", "config.py")).read()
    body = body[body.index("def __post_init__"):body.index("def to_dict")]
    checked = set(re.findall(r"--(\w+)", body)) | {"epochs", "batch_size", "lr"}
    expected = " ".join(message for _, _, _, message in CASES)
    assert not {f for f in checked if f"--{f}" not in expected}, "checks without a case"
    status, line = launch([*BASE_ARGS, "--rounds=0", f"--workdir={tmp_path / 'run'}"])
    assert (status, line) == (0, "")
    assert (tmp_path / "run" / "round_00" / "metrics.json").exists()