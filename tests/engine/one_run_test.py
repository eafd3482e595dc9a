"""GMP, SET and RigL through the engine (one training run measured where LRR's rounds end):
real tiny runs on LeNet-300-100."""
import numpy as np
import pytest

from tfprune.core import faults
from tfprune.core.rundir import RunDir
from tfprune.engine import loop, one_run
from tfprune.engine import methods as methods_lib
from tfprune.engine.config import Config
from tfprune.training import optimizers

from compare import assert_same_run
from conftest import tiny_config

STEPS = 32  # LeNet on MNIST-1D: batches per epoch


def config(workdir, **overrides):
    one_run = methods_lib.get(overrides["method"]).one_run
    return Config(**(tiny_config(rounds=2, epochs=2, warmup_epochs=1, rewind_epoch=1,
                                 workdir=str(workdir)) | (dict(update_every=8) if one_run else {})
                     | overrides))


class EndOfRound:
    """Records the optimizer's step and learning rate when each round's fit ends."""

    def __init__(self):
        from tfprune.training.callbacks import Callback

        outer = self

        class Probe(Callback):
            def on_train_end(self, logs=None):
                outer.seen.append((int(np.asarray(self.model.optimizer.iterations.numpy())),
                                   optimizers.current_lr(self.model.optimizer)))
        self.seen = []
        self.callback = Probe()


@pytest.mark.slow
def test_gmp_is_one_run_that_reaches_its_schedule_measured_at_the_rounds(tmp_path):
    c = config(tmp_path, method="gmp")
    probe = EndOfRound()
    results = loop.run(c, callbacks=[probe.callback])
    run = RunDir(tmp_path)
    schedule = one_run.gradual_schedule(c, STEPS)
    assert (c.update_start_epoch, c.update_end_epoch) == (2, 4)
    assert c.final_density == pytest.approx(0.64)
    n = run.mask(0).num_weights
    # round r ends at step 64 (r + 1); updates every 8 steps from 64 to 128: the density of
    # the last update before each end
    assert [m["density"] for m in results] == [1.0, schedule.kept(120, n) / n,
                                                schedule.kept(128, n) / n]
    assert results[2]["density"] == pytest.approx(0.64, abs=1e-6)
    assert all(run.mask(r).is_subset_of(run.mask(r - 1)) for r in (1, 2))
    assert all(not run.kernels(r)[k][~m].any() for r in (1, 2) for k, m in run.mask(r).items())
    # one schedule over the run's 6 epochs: the step never restarts, the rate decays once
    assert [s for s, _ in probe.seen] == [64, 128, 192]
    lrs = [lr for _, lr in probe.seen]
    assert lrs[0] == pytest.approx(0.1) and lrs[2] == pytest.approx(0.001)
    assert [m["epochs_total"] for m in results] == [2, 4, 6]


@pytest.mark.slow
@pytest.mark.parametrize("method, keras", [("set", "2"), ("rigl", "3")])
def test_set_and_rigl_hold_the_density_move_connections_and_resume_exactly(method, keras,
                                                                         tmp_path, monkeypatch):
    reference = loop.run(config(tmp_path / "reference", method=method, rounds=1, keras=keras))
    run = RunDir(tmp_path / "reference")
    first, last = run.mask(0), run.mask(1)
    assert first.density == last.density == pytest.approx(0.8, abs=1e-3)
    assert first.layer_densities() == last.layer_densities()  # ERK counts per layer held
    assert first != last and 0 < reference[1]["mask_hamming_prev_round"] < 0.2
    assert all(not run.kernels(1)[k][~m].any() for k, m in last.items())
    if method == "set":
        return
    # RigL killed in the middle of its last round resumes bit for bit (its batches, and the
    # masks it moved: a Keras 3 state holds no masks, the resume folder's mask.npz does)
    monkeypatch.setenv("TFPRUNE_RAISE_AT", "epoch_checkpoint:round_01:1")
    with pytest.raises(faults.InjectedFault):
        loop.run(config(tmp_path / "run", method=method, rounds=1, keras=keras))
    monkeypatch.delenv("TFPRUNE_RAISE_AT")
    loop.run(config(tmp_path / "run", method=method, rounds=1, keras=keras))
    assert_same_run(RunDir(tmp_path / "run"), run)


def test_a_dynamic_run_without_a_mask_update_is_refused():
    from types import SimpleNamespace
    data = SimpleNamespace(train=SimpleNamespace(cardinality=lambda: STEPS))
    method = methods_lib.get("set")
    c = Config(method="set", rounds=1, epochs=2, update_every=100)  # updates until step 96
    with pytest.raises(ValueError, match=r"--update_every=100 leaves --method=set no mask update "
                                         r"between --update_start_epoch=0 and "
                                         r"--update_end_epoch=3 \(96 steps at 32 an epoch\)"):
        one_run.check_updates(c, method, data)
    one_run.check_updates(Config(method="set", rounds=1, epochs=2, update_every=95), method,
                          data)  # one update, at step 95


def test_one_run_settings_are_checked_in_one_line():
    assert [m for m in methods_lib.names() if methods_lib.get(m).one_run] == ["gmp", "rigl",
                                                                               "set"]
    assert Config(method="rigl").pruning == "random_erk"
    assert Config(method="set", budget="uniform").pruning == "random_uniform"
