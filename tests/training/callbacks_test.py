"""The callbacks in a user's own fit: LRR's restart, IMP's rewind and the rewind point."""
import numpy as np
import pytest

import tfprune
from tfprune.masking import masked_model
from tfprune.masking.kerases import keras as _keras
from tfprune.training import callbacks as cb
from tfprune.training import starts

from tiny import STEPS, Probe, compiled, data, values

keras = _keras("2")


def test_restart_schedule_puts_the_learning_rate_back_at_its_start():
    model = compiled()
    model.fit(data(), epochs=3, verbose=0, callbacks=[cb.KeepMasks()])
    schedule = model.optimizer._learning_rate
    assert float(schedule(model.optimizer.iterations)) == pytest.approx(0.001)
    probe = Probe(lambda m: (int(m.optimizer.iterations),
                             float(schedule(m.optimizer.iterations)),
                             max(float(np.abs(v.numpy()).max()) for v in m.optimizer.variables)))
    model.fit(data(), epochs=1, verbose=0, callbacks=[cb.RestartSchedule(), probe, cb.KeepMasks()])
    step, rate, largest_slot = probe.value
    assert step == 0
    assert rate == pytest.approx(float(schedule(0))) and rate == pytest.approx(0.1 / STEPS)
    assert largest_slot == 0.0  # momentum zeroed as well


def test_rewind_weights_restores_the_rewind_point_under_the_new_mask(tmp_path):
    model = compiled()
    prefix = str(tmp_path / "rewind")
    at_rewind = {}

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                at_rewind["weights"] = values(self.model.trainable_variables)

    model.fit(data(), epochs=3, verbose=0,
              callbacks=[cb.SaveRewindPoint(prefix, epoch=1), Record(), cb.KeepMasks()])
    mask = tfprune.prune(model, fraction=0.5)
    bn_stats = values(starts.bn_statistics(model))
    probe = Probe(lambda m: (values(m.trainable_variables), int(m.optimizer.iterations),
                             values(starts.bn_statistics(m)), masked_model.get_masks(m)))
    model.fit(data(), epochs=3, initial_epoch=1, verbose=0,
              callbacks=[cb.RewindWeights(prefix), probe, cb.KeepMasks()])
    weights, step, stats, masks_then = probe.value
    kernels = {id(w): k for k, (w, _) in masked_model.pruning_vars(model).items()}
    for variable, value, expected in zip(model.trainable_variables, weights, at_rewind["weights"]):
        key = kernels.get(id(variable))
        if key is not None:
            expected = expected * mask[key]
        np.testing.assert_array_equal(value, expected, err_msg=variable.name)
    assert step == STEPS  # the schedule resumes at the rewind point
    assert masks_then == mask
    for kept, now in zip(bn_stats, stats):  # running statistics are not rewound
        np.testing.assert_array_equal(kept, now)


def test_rewind_point_at_initialization(tmp_path):
    model = compiled()
    prefix = str(tmp_path / "rewind")
    init = values(model.trainable_variables)
    model.fit(data(), epochs=1, verbose=0, callbacks=[cb.SaveRewindPoint(prefix, 0), cb.KeepMasks()])
    probe = Probe(lambda m: (values(m.trainable_variables), int(m.optimizer.iterations)))
    model.fit(data(), epochs=1, verbose=0, callbacks=[cb.RewindWeights(prefix), probe])
    for a, b in zip(probe.value[0], init):
        np.testing.assert_array_equal(a, b)
    assert probe.value[1] == 0
