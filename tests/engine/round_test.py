"""The round loop: one mask assignment per round, the epochs left for the ETA."""
import pytest

from tfprune.core.rundir import RunDir
from tfprune.engine import loop
from tfprune.engine.config import Config
from tfprune.masking import masked_model

from conftest import tiny_config


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


