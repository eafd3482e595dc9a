"""The comparison of two trainings (compare.py) on run directories written by hand: drift within
the bound passes, a tie may flip a mask entry, anything else fails."""
import os

import numpy as np
import pytest

from tfprune.core import files
from tfprune.core.mask import Mask
from tfprune.core.rundir import RunDir

from compare import ALL_REDUCE, assert_same_run

# Round 0: dense; round 1 keeps the 3 largest of 4 (the threshold: 0.5, the smallest kept).
KERNELS = [np.array([0.9, -0.5, 0.7, 0.1], "float32"), np.array([0.8, -0.5, 0.6, 0.0], "float32")]
MASKS = [[1, 1, 1, 1], [1, 1, 1, 0]]


def write_run(folder, kernels=KERNELS, masks=MASKS, accuracy=0.9, loss=0.3):
    run = RunDir(folder)
    for r, (kernel, mask) in enumerate(zip(kernels, masks)):
        os.makedirs(run.round_dir(r))
        Mask({"w": mask}).save(os.path.join(run.round_dir(r), "mask.npz"))
        files.save_arrays(os.path.join(run.round_dir(r), "kernels.npz"), {"w": kernel})
        files.write_json(os.path.join(run.round_dir(r), "metrics.json"), {
            "round": r, "epochs": 2, "test_accuracy": accuracy, "test_loss": loss,
            "train_loss": loss, "layer_distance": {"w": 0.25}, "seconds": 1.0 + r})
    return run


def test_the_same_training_passes_both_ways_and_wall_time_is_ignored(tmp_path):
    reference = write_run(tmp_path / "a")
    assert_same_run(write_run(tmp_path / "b"), reference)
    assert_same_run(write_run(tmp_path / "c"), reference, ALL_REDUCE)


def test_exact_refuses_one_bit_and_drift_allows_its_bound(tmp_path):
    reference = write_run(tmp_path / "a")
    drifted = [k + np.float32(ALL_REDUCE.kernel / 2) * (k != 0) for k in KERNELS]
    run = write_run(tmp_path / "b", kernels=drifted, loss=0.3 * (1 + ALL_REDUCE.loss / 2))
    assert_same_run(run, reference, ALL_REDUCE)
    with pytest.raises(AssertionError):
        assert_same_run(run, reference)
    too_far = [k + np.float32(ALL_REDUCE.kernel * 2) * (k != 0) for k in KERNELS]
    with pytest.raises(AssertionError, match="round 0 w"):
        assert_same_run(write_run(tmp_path / "c", kernels=too_far), reference, ALL_REDUCE)
    with pytest.raises(AssertionError):  # 10 examples of 1,000
        assert_same_run(write_run(tmp_path / "d", accuracy=0.91), reference, ALL_REDUCE)


def test_a_mask_entry_may_flip_only_at_a_tie_with_the_threshold(tmp_path):
    near = KERNELS[0].copy()
    near[3] = 0.5 - ALL_REDUCE.kernel  # within the drift of the threshold, |-0.5|
    swapped = [1, 0, 1, 1]  # keeps entry 3 instead of entry 1
    ours = [near, np.array([0.8, 0.0, 0.6, 0.1], "float32")]
    tie = write_run(tmp_path / "a", kernels=[near, KERNELS[1]])
    assert_same_run(write_run(tmp_path / "b", kernels=ours, masks=[MASKS[0], swapped]), tie,
                    ALL_REDUCE)
    with pytest.raises(AssertionError):
        assert_same_run(write_run(tmp_path / "c", kernels=ours, masks=[MASKS[0], swapped]), tie)
    no_tie = write_run(tmp_path / "d")  # entry 3 is 0.1: 0.4 below the threshold
    with pytest.raises(AssertionError, match="differ 0.4 from the threshold"):
        assert_same_run(write_run(tmp_path / "e", kernels=[KERNELS[0], ours[1]],
                                  masks=[MASKS[0], swapped]), no_tie, ALL_REDUCE)


def test_rounds_epochs_and_exact_zeros_must_always_match(tmp_path):
    reference = write_run(tmp_path / "a")
    with pytest.raises(AssertionError):  # a round missing
        assert_same_run(write_run(tmp_path / "b", kernels=KERNELS[:1], masks=MASKS[:1]),
                        reference, ALL_REDUCE)
    leaked = [KERNELS[0], np.array([0.8, -0.5, 0.6, 1e-9], "float32")]
    with pytest.raises(AssertionError):  # a pruned weight not exactly zero
        assert_same_run(write_run(tmp_path / "c", kernels=leaked), reference, ALL_REDUCE)
