"""The round loop: one mask assignment per round, the resume rule, the epochs left for the ETA."""
import pytest

from conftest import tiny_config
from tfprune.core.rundir import RunDir
from tfprune.engine import loop, methods
from tfprune.engine.config import Config
from tfprune.masking import masked_model
from tfprune.training import callbacks as cb


@pytest.mark.slow
def test_each_round_sets_its_mask_once_and_the_mask_is_the_saved_one(tmp_path, monkeypatch):
    assigned = []
    original = masked_model.set_masks

    def set_masks(model, mask):
        assigned.append(mask)
        original(model, mask)
    monkeypatch.setattr(masked_model, "set_masks", set_masks)
    config = Config(**tiny_config(rounds=2, workdir=str(tmp_path / "run")))
    loop.run(config)
    run_dir = RunDir(config.workdir)
    assert len(assigned) == 3
    for r, mask in enumerate(assigned):
        saved = run_dir.mask(r)
        assert all((mask[k] == saved[k]).all() for k in saved)
    assert [round(m.density, 2) for m in assigned] == [1.0, 0.8, 0.64]


def test_resumed_rounds_do_not_restart_again_but_still_save_a_later_rewind_point(tmp_path):
    rewind_later = cb.SaveRewindPoint(str(tmp_path), epoch=3)
    rewind_done = cb.SaveRewindPoint(str(tmp_path), epoch=1)
    restart = [cb.RestartSchedule(), rewind_done, rewind_later, cb.RewindWeights(str(tmp_path))]
    assert loop.still_due_on_resume(restart, epoch=2) == [rewind_later]
    assert loop.still_due_on_resume(restart, epoch=3) == []


def test_the_epochs_to_train_count_what_each_method_trains(tmp_path):
    run_dir = RunDir(tmp_path)
    imp = Config(method="imp", rounds=3, epochs=10, warmup_epochs=2, rewind_epoch=2)
    lrr = Config(method="lrr", rounds=3, epochs=10)
    assert loop.epochs_to_train(imp, methods.get("imp"), run_dir, 0) == 10 + 3 * 8
    assert loop.epochs_to_train(imp, methods.get("imp"), run_dir, 2) == 2 * 8
    assert loop.epochs_to_train(lrr, methods.get("lrr"), run_dir, 0) == 40
