"""Two trainings of one run compared: what must be equal, and what may drift, by how much.

Two trainings of the same configuration are bit-identical only when they sum floats in the
same order: one process, or processes on the same machine with the same number of threads and
TensorFlow's op determinism on (`deterministic=True`, whose contract is "same inputs, same
hardware, same outputs"). Then `EXACT` applies: a resumed run, a Ray worker or a shard must
equal the serial run in every bit of its masks and kernels.

Otherwise (gradients all-reduced by two processes or two devices, another thread count) the
sums run in another order; the rounding differences, about 1e-7, grow with every step at a
speed that depends on the CPU. Then the trainings must still agree on the rounds completed,
the epochs trained, the density of every round and every mask entry, except entries whose
magnitude ties the pruning threshold within the drift. Kernels, losses and the test accuracy
may drift, within `ALL_REDUCE`'s bounds. After a tie flipped a mask entry, the two trainings
differ by a whole weight, not by rounding: from that round on only the rounds, epochs and
densities are compared.

`ALL_REDUCE` comes from `python bench/drift.py` (bench/RESULTS.md, "Drift between two
trainings of one run"): the largest differences seen between one process and 2 workers, 2
mirrored devices or one thread, over repeated runs of IMP and LRR, times a margin. The bounds
stay far below what a wrong result gives: twice the learning rate (2 workers summing their
gradients instead of averaging them) moves kernels by 0.3 and the accuracy by 90 examples.
"""
import dataclasses

import numpy as np
import pytest


@dataclasses.dataclass(frozen=True)
class Drift:
    """How far two trainings may differ.

    kernel: the largest |difference| of a kernel entry that both masks keep.
    loss: the largest relative difference of a train or test loss.
    examples: test examples (of `test_examples`) whose prediction may differ.
    """
    kernel: float
    loss: float
    examples: int


EXACT = Drift(kernel=0.0, loss=0.0, examples=0)
# The analyses (distances, cosines) are float64 sums numpy computes from the kernels; its BLAS
# sums in another order on another thread count (a Ray worker has one): equal kernels give
# them within 1e-15 relative (seen: 4e-15). Every other metric is float32-exact at this bound.
ANALYSIS = 1e-12
# Largest seen (bench/drift.py, 2-core AMD EPYC): kernel 1.93e-5 (LRR round 2, 2 workers or 2
# devices; another thread count: 2.1e-7), loss 3.4e-7 (relative), no test example. Margins:
# 50x the kernel drift, 300x the loss drift; masks may differ within 2x the kernel bound.
ALL_REDUCE = Drift(kernel=1e-3, loss=1e-4, examples=3)
TEST_EXAMPLES = 1000  # MNIST-1D's test split, which the tests' runs evaluate on


def assert_same_run(run, reference, drift=EXACT, rounds=None, test_examples=TEST_EXAMPLES):
    """Asserts that two RunDirs hold the same training, within `drift`: every round (the
    same ones complete), or only `rounds`."""
    if rounds is None:
        rounds = reference.completed_rounds()
        assert run.completed_rounds() == rounds != [], (run.root, rounds)
    tied = None  # the first round where a tie flipped a mask entry
    for r in rounds:
        ours, theirs = run.metrics(r), reference.metrics(r)
        mine, expected = run.mask(r), reference.mask(r)
        kernels = run.kernels(r)
        assert ours["epochs"] == theirs["epochs"] and mine.num_kept == expected.num_kept, r
        for key, m in mine.items():  # what a mask prunes is exactly zero
            assert not np.any(kernels[key][~m]), (r, key)
        if drift == EXACT:
            assert mine == expected, r
            ours, theirs = flat(ours), flat(theirs)
            assert ours.keys() == theirs.keys(), r
            for key, value in theirs.items():  # float64 analyses: to numpy's last bits
                if isinstance(value, float) or (isinstance(value, list) and value
                                                 and isinstance(value[0], float)):
                    value = pytest.approx(value, rel=ANALYSIS, abs=0)
                assert ours[key] == value, (r, key)
            for key, kernel in reference.kernels(r).items():
                np.testing.assert_array_equal(kernels[key], kernel, err_msg=f"round {r} {key}")
            continue
        if tied is None and mine != expected:
            assert_only_ties_differ(reference, r, mine, expected, drift)
            tied = r
        if tied is not None:
            continue
        examples = abs(ours["test_accuracy"] - theirs["test_accuracy"]) * test_examples
        assert examples <= drift.examples + 0.5, (r, ours["test_accuracy"],
                                                  theirs["test_accuracy"])
        for key in ("train_loss", "test_loss"):
            np.testing.assert_allclose(ours[key], theirs[key], rtol=drift.loss, atol=0,
                                       err_msg=f"round {r} {key}")
        for key, kernel in reference.kernels(r).items():
            np.testing.assert_allclose(kernels[key][mine[key]], kernel[mine[key]], rtol=0,
                                       atol=drift.kernel, err_msg=f"round {r} {key}")


def assert_only_ties_differ(reference, r, mask, expected, drift):
    """Every entry where `mask` differs from `expected`, the reference's round-`r` mask, had a
    magnitude (in the reference's round r-1, whose kernels global magnitude pruning scores)
    within two kernel drifts of the threshold: the smallest magnitude the reference kept."""
    assert r > 0, "round 0's mask is all ones"
    before = reference.kernels(r - 1)
    threshold = min(np.abs(before[k][expected[k]]).min() for k in expected if expected[k].any())
    for key in expected:
        gaps = np.abs(np.abs(before[key][mask[key] != expected[key]]) - threshold)
        assert np.all(gaps <= 2 * drift.kernel), (
            f"round {r} {key}: mask entries differ {gaps.max():.3g} from the threshold, "
            f"more than the drift allows ({2 * drift.kernel:.3g})")


def flat(metrics, prefix=""):
    """A round's metrics as {"key" or "key/layer": value}, without the wall time (the one entry
    two trainings never share)."""
    out = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}/"))
        elif key != "seconds":
            out[prefix + key] = value
    return out
