"""What starts a round, as functions: BatchNorm rewind, sign setting, the rewind point's files."""
import os

import numpy as np
import pytest

from tfprune.core import files, rundir
from tfprune.masking import masked_model
from tfprune.training import starts

from tiny import compiled, data, values


def test_the_rewind_point_holds_state_kernels_and_its_epoch(tmp_path):
    model = compiled()
    kernels = starts.save_rewind_point(model, str(tmp_path / "rewind"), 2)
    assert sorted(os.listdir(tmp_path / "rewind")) == sorted(
        [rundir.KERNELS_NPZ, rundir.REWIND_JSON, rundir.TF_CHECKPOINT + ".index",
         rundir.TF_CHECKPOINT + ".data-00000-of-00001"])
    saved = files.load_arrays(tmp_path / "rewind" / rundir.KERNELS_NPZ)
    assert all(np.array_equal(saved[k], kernels[k]) for k in kernels)
    assert rundir.read_rewind_epoch(str(tmp_path / "rewind")) == 2


@pytest.mark.slow
def test_batch_norm_rewind_restores_batch_norm_only_and_keeps_the_step(tmp_path):
    model = compiled()
    starts.save_rewind_point(model, str(tmp_path), 0)
    bn_before = values(starts.bn_variables(model))
    model.fit(data(), epochs=1, verbose=0)
    kernels, step = masked_model.get_kernels(model), int(model.optimizer.iterations.numpy())
    starts.rewind_batch_norm(model, str(tmp_path))
    assert all(np.array_equal(a, b) for a, b in zip(values(starts.bn_variables(model)),
                                                    bn_before))
    assert all(np.array_equal(masked_model.get_kernels(model)[k], kernels[k]) for k in kernels)
    assert int(model.optimizer.iterations.numpy()) == step == 4


def test_set_signs_takes_signs_and_keeps_magnitudes_and_zeros():
    model = compiled()
    masked_model.prune(model, 0.5)
    kernels, mask = masked_model.get_kernels(model), masked_model.get_masks(model)
    flipped = {k: -v for k, v in kernels.items()}
    starts.set_signs(model, flipped)
    after = masked_model.get_kernels(model)
    for k in kernels:
        assert np.array_equal(after[k], np.where(mask[k] > 0, -kernels[k], 0))
