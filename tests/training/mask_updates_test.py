"""The mask-update callbacks on a tiny model's fit: GMP reaches its schedule's density at
every update with nested masks; SET and RigL hold each layer's count, move exactly the
drop fraction, grow from zero with zero momentum, RigL by the gradient, and a resumed round
reads the batches an unbroken one would."""
import numpy as np
import pytest

from tfprune.masking import masked_model
from tfprune.pruning import common, dynamic, random_erk
from tfprune.pruning import registry as pruning
from tfprune.pruning.gradual import Gradual
from tfprune.training import callbacks as cb
from tfprune.training import gradients, mask_updates

from tiny import compiled, data, keras


class AtEachStep(keras.callbacks.Callback):
    """Records (step, mask, kernels, momentum) before every step, after the updates."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_begin(self, batch, logs=None):
        model = self.model
        optimizer = model.optimizer
        slots = getattr(optimizer, "momentums", None)  # none before the first step
        momentum = {k: np.asarray(slots[optimizer._index_dict[optimizer._var_key(w)]].numpy())
                    if slots else np.zeros(w.shape)
                    for k, (w, _) in masked_model.pruning_vars(model).items()}
        self.seen.append((int(optimizer.iterations.numpy()), masked_model.get_masks(model),
                          masked_model.get_kernels(model), momentum))


@pytest.mark.slow
def test_gradual_pruning_reaches_each_density_of_its_schedule_with_nested_masks():
    model = compiled()
    schedule = Gradual(begin=2, end=10, every=3, initial=0.9, final=0.2)
    gmp, probe = mask_updates.GradualPruning(schedule, pruning.get("global_magnitude")), AtEachStep()
    model.fit(data(), epochs=3, verbose=0, callbacks=[gmp, cb.KeepMasks(), probe])
    n = probe.seen[0][1].num_weights
    assert [s for s, _ in gmp.updates] == [2, 5, 8, 10]
    for step, mask, _, _ in probe.seen:
        last = max([s for s, _ in gmp.updates if s <= step], default=None)
        expected = n if last is None else schedule.kept(last, n)
        assert mask.num_kept == expected, step  # exactly the schedule's count
    masks = [m for _, m, _, _ in probe.seen]
    assert all(b.is_subset_of(a) for a, b in zip(masks, masks[1:]))
    final = masked_model.get_masks(model)
    assert final.num_kept == schedule.kept(10, n)
    assert all(not w[~final[k]].any() for k, w in masked_model.get_kernels(model).items())


@pytest.mark.slow
@pytest.mark.parametrize("growth", ["set", "rigl"])
def test_dynamic_sparsity_moves_the_drop_fraction_and_grows_from_zero(growth, monkeypatch):
    model = compiled()
    kernels = masked_model.get_kernels(model)
    start = random_erk.prune(kernels, masked_model.get_masks(model), 0.6,
                             np.random.default_rng(0))
    masked_model.set_masks(model, start)
    used = []
    original = gradients.loss_gradients

    def recording(model, x, y):
        used.append(original(model, x, y))
        return used[-1]

    monkeypatch.setattr(gradients, "loss_gradients", recording)
    updates = mask_updates.DynamicSparsity(growth, begin=0, end=12, every=2, drop_fraction=0.5,
                                           seed=(1,), batches=data().repeat())
    probe = AtEachStep()
    model.fit(data(), epochs=3, verbose=0, callbacks=[updates, cb.KeepMasks(), probe])
    assert [s for s, _, _ in updates.updates] == [2, 4, 6, 8, 10]
    assert len(used) == (5 if growth == "rigl" else 0)
    for (step, before, _, _), (_, after, kernels, momentum) in zip(probe.seen, probe.seen[1:]):
        moved = [u for u in updates.updates if u[0] == step + 1]
        if not moved:
            assert after == before
            continue
        _, fraction, count = moved[0]
        assert fraction == pytest.approx(dynamic.drop_fraction(step + 1, 0, 12, 0.5))
        total = 0
        for k in before:
            kept = int(before[k].sum())
            assert int(after[k].sum()) == kept  # each layer keeps its count
            grown = after[k] & ~before[k]
            assert int(grown.sum()) == int((before[k] & ~after[k]).sum()) == min(
                common.num_to_remove(kept, fraction), before[k].size - kept)
            assert not kernels[k][grown].any() and not momentum[k][grown].any()
            total += int(grown.sum())
            if growth == "rigl":  # grown where |dL/dw| was largest among the pruned
                g = np.abs(used[[u[0] for u in updates.updates].index(step + 1)][k])
                rest = ~before[k] & ~after[k]
                assert not grown.any() or g[grown].min() >= g[rest].max()
        assert total == count
    assert masked_model.get_masks(model).num_kept == start.num_kept


@pytest.mark.slow
def test_a_resumed_round_reads_the_batches_an_unbroken_one_would(monkeypatch):
    model = compiled()
    masked_model.set_masks(model, random_erk.prune(masked_model.get_kernels(model),
                                                   masked_model.get_masks(model), 0.5,
                                                   np.random.default_rng(0)))
    labels = []
    monkeypatch.setattr(gradients, "loss_gradients", lambda m, x, y: (
        labels.append(int(np.asarray(y)[0])), masked_model.get_kernels(m))[1])
    batches = [(np.zeros((2, 8, 1), np.float32), np.full(2, i)) for i in range(10)]
    model.optimizer.iterations.assign(6)  # resumed at step 6 of a round begun at step 0
    updates = mask_updates.DynamicSparsity("rigl", begin=0, end=100, every=2,
                                           drop_fraction=0.3, batches=batches, first_step=0)
    model.fit(data(), epochs=1, verbose=0, callbacks=[updates])
    # updates at steps 2 and 4 read batches 0 and 1 before the stop; 6 and 8 read 2 and 3
    assert [s for s, _, _ in updates.updates] == [6, 8] and labels == [2, 3]
