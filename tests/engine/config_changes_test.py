"""Which settings may change when a run resumes: free keys, retraining after a divergence,
runs written before a key existed, and how often epoch checkpoints are saved."""
import dataclasses
import json
import os
import shutil

import numpy as np
import pytest

from tfprune.engine import config_changes, loop
from tfprune.masking.kerases import keras as _keras
from tfprune.report import figures

keras = _keras("2")
from tfprune.core import rundir
from tfprune.core.rundir import RunDir
from tfprune.engine.config import Config
from tfprune.engine.monitors import TrainingDiverged

from compare import assert_same_run
from conftest import tiny_config
from snapshots import curve, snapshot

# Fine-tuning at an absurd rate: round 0 trains normally, round 1 diverges.
BASE = tiny_config(rounds=2, method="ft")
DIVERGING = dict(finetune_lr=1e30)


@pytest.fixture(scope="module")
def diverged(tmp_path_factory):
    """A run whose round 1 diverged, and the run that had the new settings from the start."""
    root = tmp_path_factory.mktemp("diverged")
    with pytest.raises(TrainingDiverged, match=r"round 1 of .* training diverged after epoch 1 "
                       r"\(.*\); run the same command with a lower --finetune_lr"):
        loop.run(Config(**BASE, **DIVERGING, workdir=str(root / "run")))
    loop.run(Config(**BASE, finetune_lr=0.01, workdir=str(root / "fresh")))
    return root / "run", RunDir(root / "fresh")


@pytest.mark.slow
def test_a_diverged_round_is_recorded_and_earlier_rounds_kept(diverged):
    run_dir = RunDir(diverged[0])
    assert run_dir.completed_rounds() == [0] and config_changes.diverged_round(run_dir) == 1
    record = run_dir.diverged(1)  # the loss, the weights or both: CPUs propagate NaN differently
    assert record["epoch"] == 1 and (record["loss"] in ("nan", "inf") or record["nonfinite"])
    assert np.isfinite(run_dir.metrics(0)["test_loss"])


@pytest.mark.slow
def test_only_optimization_settings_may_change_after_a_divergence(diverged):
    workdir = diverged[0]
    before = snapshot(workdir)
    with pytest.raises(ValueError, match=r"model: 'lenet300_100' -> 'convnet'\); after a "
                       r"diverged round only .*\blr, .*finetune_lr, momentum, .* may change"):
        loop.run(Config(**(BASE | {"model": "convnet"}), finetune_lr=0.01,
                              workdir=str(workdir)))
    assert snapshot(workdir) == before


@pytest.mark.slow
def test_retraining_a_diverged_round_with_other_settings_equals_a_fresh_run(diverged, tmp_path):
    workdir = tmp_path / "run"
    shutil.copytree(diverged[0], workdir)
    divergence = RunDir(workdir).diverged(1)
    round0 = {k: v for k, v in snapshot(workdir).items() if k.startswith("round_00")}
    results = loop.run(Config(**BASE, finetune_lr=0.01, workdir=str(workdir)))
    run_dir, fresh = RunDir(workdir), diverged[1]
    assert [m["round"] for m in results] == [0, 1, 2]
    assert config_changes.diverged_round(run_dir) is None
    assert {k: v for k, v in snapshot(workdir).items() if k.startswith("round_00")} == round0
    # finetune_lr does not touch round 0, so the runs must agree bit for bit
    assert_same_run(run_dir, fresh, rounds=[1, 2])
    assert run_dir.read_config()["finetune_lr"] == 0.01
    assert run_dir.config_changes() == [{
        "from_round": 1, "diverged": divergence,
        "changed": {"finetune_lr": {"old": 1e30, "new": 0.01}}}]
    figures.write([str(workdir)], str(tmp_path / "report"))
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert (f"## settings changed after a divergence\n\n- {workdir}: from round 1 (diverged at "
            "epoch 1), finetune_lr 1e+30 -> 0.01") in summary
    groups = figures.group_runs([str(workdir), str(fresh.root)])  # never averaged together
    assert sorted(groups) == ["ft", "ft (settings changed at round 1)"]
    # From now on the new settings are the run's: the old ones are refused.
    with pytest.raises(ValueError, match=r"finetune_lr: 0.01 -> 1e\+30\); use another"):
        loop.run(Config(**BASE, **DIVERGING, workdir=str(workdir)))


@pytest.mark.slow
def test_a_run_written_before_a_key_existed_resumes_with_its_default(tiny_runs, tmp_path):
    workdir = tmp_path / "old"
    shutil.copytree(tiny_runs / "lrr", workdir)
    stored = json.loads((workdir / "config.json").read_text())
    for key in ("late_rewind", "checkpoint_every", "perturb_every"):  # as if they were new
        del stored[key]
    stored["warmup_epochs"] = 0  # rewind epoch 1 after the warm-up: allowed before the flag
    stored["workdir"] = str(workdir)
    (workdir / "config.json").write_text(json.dumps(stored))
    config = Config.from_dict(stored)
    assert config.late_rewind and config.perturb_every == 30
    loop.run(config)  # nothing to train; accepted
    with pytest.raises(ValueError, match=r"\(perturb_every: 30 -> 10\)"):
        loop.run(dataclasses.replace(config, perturb_every=10))


class ResumeFolderSeen(keras.callbacks.Callback):
    """Records, after each epoch, the epoch the round's resume folder goes on from (0: the
    round's start, saved before its first epoch)."""

    def __init__(self, folder):
        super().__init__()
        self.folder, self.seen = folder, []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(rundir.read_progress(self.folder)["epoch"])


@pytest.mark.parametrize("every, seen", [(1, [1, 2, 3]), (2, [0, 2, 2]), (0, [0, 0, 0])])
@pytest.mark.slow
def test_checkpoint_every_saves_every_nth_epoch(tmp_path, every, seen):
    config = Config(**tiny_config(rounds=0, epochs=3, warmup_epochs=1, rewind_epoch=1,
                                  checkpoint_every=every, workdir=str(tmp_path / "run")))
    probe = ResumeFolderSeen(RunDir(config.workdir).resume_dir(0))
    loop.run(config, callbacks=[probe])
    assert probe.seen == seen
    assert not os.path.exists(probe.folder)  # dropped once the round is complete


@pytest.mark.slow
def test_a_dense_round_that_diverged_is_retrained_from_scratch(tmp_path):
    values = tiny_config(epochs=2, warmup_epochs=1, rewind_epoch=1, method="imp")
    workdir = str(tmp_path / "run")
    with pytest.raises(TrainingDiverged, match="round 0 of .* after epoch 1"):
        loop.run(Config(**values, lr=1e30, workdir=workdir))
    loop.run(Config(**values, lr=0.1, workdir=workdir))
    loop.run(Config(**values, lr=0.1, workdir=str(tmp_path / "fresh")))
    run_dir, fresh = RunDir(workdir), RunDir(tmp_path / "fresh")
    assert_same_run(run_dir, fresh, rounds=[0, 1])  # the rewind point was saved again
    assert run_dir.config_changes()[0]["changed"] == {"lr": {"old": 1e30, "new": 0.1}}


class PoisonWeights(keras.callbacks.Callback):
    """After the first epoch of the `fit_index`-th fit (0-based), sets a kernel to NaN: the
    epoch checkpoint of that epoch is healthy, the next epoch ends with NaN weights (the loss
    may stay finite: some CPUs' ReLU turns NaN into 0), which the divergence check sees."""

    def __init__(self, fit_index):
        super().__init__()
        self.fit_index, self.fits, self.poisoned = fit_index, -1, None

    def on_train_begin(self, logs=None):
        self.fits += 1

    def on_epoch_end(self, epoch, logs=None):
        if self.fits == self.fit_index and epoch == 0:
            kernel = self.model.trainable_variables[0]
            kernel.assign(kernel * float("nan"))
            self.poisoned = kernel.name.split(":")[0]


LATE = tiny_config(epochs=3, method="ft", finetune_lr=0.05)


@pytest.fixture(scope="module")
def late_divergence(tmp_path_factory):
    """Round 1 diverges in its second epoch, after a healthy epoch checkpoint; and the run
    with the new settings from the start."""
    root = tmp_path_factory.mktemp("late")
    poison = PoisonWeights(1)
    with pytest.raises(TrainingDiverged, match=r"round 1 .* after epoch 2 \(.*non-finite weights "
                       r"in .*\); run the same command with a lower --finetune_lr"):
        loop.run(Config(**LATE, workdir=str(root / "run")), callbacks=[poison])
    run_dir = RunDir(root / "run")
    assert run_dir.progress(1)["epoch"] == 1
    record = run_dir.diverged(1)
    assert record["epoch"] == 2 and poison.poisoned in record["nonfinite"]
    loop.run(Config(**(LATE | {"finetune_lr": 0.01}), workdir=str(root / "fresh")))
    return root / "run", RunDir(root / "fresh")


class Killed(Exception):
    """Stands for a SIGKILL at a fault stage (the files are left as they are)."""


@pytest.mark.parametrize("kill_at", [None, "retrain_noted", "retrain_config_written"])
@pytest.mark.slow
def test_the_switch_to_new_settings_drops_the_epochs_and_survives_a_kill(
        late_divergence, tmp_path, monkeypatch, kill_at):
    workdir = tmp_path / "run"
    shutil.copytree(late_divergence[0], workdir)
    divergence = RunDir(workdir).diverged(1)
    new = Config(**(LATE | {"finetune_lr": 0.01}), workdir=str(workdir))
    run_dir = RunDir(workdir)
    if kill_at:
        def stage(name):
            if name == kill_at:
                raise Killed(name)
        monkeypatch.setattr("tfprune.core.faults.stage", stage)
        with pytest.raises(Killed):
            loop.run(new)
        monkeypatch.undo()
        assert not os.path.exists(run_dir.resume_dir(1))  # the old settings' epochs are gone
        assert not os.path.exists(run_dir.changes_path)
        if kill_at == "retrain_noted":  # still the old configuration, still diverged
            assert run_dir.read_config()["finetune_lr"] == 0.05
            assert config_changes.diverged_round(run_dir) == 1
        else:  # the new configuration is the run's: no second change slips in as "diverged"
            assert config_changes.diverged_round(run_dir) is None
            with pytest.raises(ValueError, match=r"finetune_lr: 0.01 -> 0.02\); use another"):
                loop.run(dataclasses.replace(new, finetune_lr=0.02))
    loop.run(new)
    assert_same_run(run_dir, late_divergence[1], rounds=[1])  # restarted, not resumed at epoch 1
    # TensorBoard shows the retrained epochs only, not the diverged attempt's.
    assert curve(workdir, "epoch/loss") == curve(late_divergence[1].root, "epoch/loss")
    assert run_dir.config_changes() == [{
        "from_round": 1, "diverged": divergence,
        "changed": {"finetune_lr": {"old": 0.05, "new": 0.01}}}]
    assert not os.path.exists(run_dir.diverged_path(1))


def test_a_one_run_method_cannot_change_its_rounds():
    """--rounds spreads GMP's (SET's, RigL's) one schedule: not free for them, free for LRR."""
    for method, frozen in (("gmp", True), ("rigl", True), ("lrr", False)):
        old = Config(method=method, rounds=4, final_density=0.5 if frozen else None).to_dict()
        new = Config(method=method, rounds=6, final_density=0.5 if frozen else None).to_dict()
        assert ("rounds" in config_changes.differences(old, new)) == frozen, method
