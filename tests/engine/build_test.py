"""The engine on Keras 3 and on a user's own model and data: the same run directory,
invariants and resume as the default tf_keras engine."""
import numpy as np
import pytest

import tfprune
from tfprune.core.rundir import RunDir
from tfprune.datasets import registry as datasets
from tfprune.engine import loop
from tfprune.engine.config import Config
from tfprune.masking import kerases, masked_model
from tfprune.models import registry as models

from conftest import TINY_RUNS, tiny_config

TINY = tiny_config(**TINY_RUNS)


@pytest.mark.parametrize("method", ["lrr", "imp"])
@pytest.mark.slow
def test_a_keras3_run_keeps_the_invariants_and_the_run_directory(tmp_path, method, tiny_runs):
    results = loop.run(Config(**TINY, method=method, keras="3", workdir=str(tmp_path)))
    run_dir, default = RunDir(tmp_path), RunDir(tiny_runs / method)
    assert [m["density"] for m in results] == pytest.approx([1, 0.8, 0.64], abs=1e-4)
    for r in (1, 2):
        mask, kernels = run_dir.mask(r), run_dir.kernels(r)
        assert mask.is_subset_of(run_dir.mask(r - 1))
        assert all(not np.any(kernels[k][~mask[k]]) for k in kernels)
        assert set(mask) == set(default.mask(r))  # same paths as a tf_keras run's
    assert results[-1]["test_accuracy"] > 0.3
    again = loop.run(Config(**TINY, method=method, keras="3", workdir=str(tmp_path)))
    assert again == results  # complete: nothing trained again


def own_model(input_shape, num_classes, width=None, *, keras):
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv1D(8, 5, name="conv")(inputs)
    x = keras.layers.DepthwiseConv1D(3, name="dw")(x) if hasattr(keras.layers,
                                                                 "DepthwiseConv1D") else x
    x = keras.layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, name="head")(x))


def own_data(batch_size, seed=0, **_):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 40, 1)).astype("float32")
    y = (x[:, :20, 0].sum(axis=1) > 0).astype("int64")
    tf = kerases.tf
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64, seed=seed).batch(batch_size)
    test = tf.data.Dataset.from_tensor_slices((x[:32], y[:32])).batch(batch_size)
    return tfprune.Data(train, test, num_classes=2, input_shape=(40, 1), train_size=64,
                        test_size=32)


@pytest.mark.parametrize("flavour", kerases.FLAVOURS)
@pytest.mark.slow
def test_run_takes_a_users_model_and_data(tmp_path, flavour, monkeypatch):
    for registry in (models, datasets):  # registered for this test only
        monkeypatch.setattr(registry, "_" + ("MODELS" if registry is models else "LOADERS"),
                            dict(getattr(registry, "_MODELS", None) or registry._LOADERS))
    values = dict(model="own", dataset="own", keras=flavour, method="lrr", rounds=2, epochs=2,
                  warmup_epochs=1, batch_size=16, workdir=str(tmp_path))
    results = tfprune.run(values, model_fn=own_model, data=own_data)
    run_dir = RunDir(tmp_path)
    assert [m["density"] for m in results] == pytest.approx([1, 0.8, 0.64], abs=2e-3)
    assert "head/kernel" in run_dir.mask(2) and run_dir.read_config()["model"] == "own"
    with pytest.raises(ValueError, match="give the config as a dict"):
        tfprune.run(Config(**TINY), model_fn=own_model)


def test_a_saved_tf_keras_model_reloads_with_its_masks(tmp_path):
    k = kerases.keras("2")
    model = masked_model.wrap(own_model((40, 1), 2, keras=k))
    mask = tfprune.prune(model, 0.5)
    model.save(str(tmp_path / "m.keras"))
    loaded = tfprune.load_model(str(tmp_path / "m.keras"))
    assert masked_model.get_masks(loaded) == mask
    for key, kernel in masked_model.get_kernels(model).items():
        np.testing.assert_array_equal(masked_model.get_kernels(loaded)[key], kernel)


def test_nothing_silent_for_callbacks_and_unwrapped_models(tmp_path):
    k = kerases.keras("3")
    model = own_model((40, 1), 2, keras=k)
    with pytest.raises(ValueError, match="call tfprune.wrap\\(model\\) first"):
        tfprune.prune(model)
    model = masked_model.wrap(model)
    model.compile(k.optimizers.SGD(0.01), k.losses.SparseCategoricalCrossentropy(True))
    data = own_data(16)
    with pytest.raises(ValueError, match=r"SaveRewindPoint\(epoch=3\) is past the end of "
                       r"training \(2 epochs\)"):
        model.fit(data.train, epochs=2, verbose=0,
                  callbacks=[tfprune.SaveRewindPoint(str(tmp_path / "r"), epoch=3)])
    model.fit(data.train, epochs=2, verbose=0,  # no KeepMasks: the constraint holds
              callbacks=[tfprune.SaveRewindPoint(str(tmp_path / "r"), epoch=1)])
    masked_model.set_masks(model, masked_model.get_masks(model))
    with _absl_warning("IMP round starts at epoch 0"):
        model.fit(data.train, epochs=1, verbose=0,
                  callbacks=[tfprune.RewindWeights(str(tmp_path / "r"))])


class _absl_warning:
    """Asserts that absl logged a warning containing `text`."""

    def __init__(self, text):
        self.text = text

    def __enter__(self):
        from absl import logging
        self.seen = []
        self.original = logging.warning
        logging.warning = lambda message, *args: self.seen.append(message % args)

    def __exit__(self, *exc):
        from absl import logging
        logging.warning = self.original
        assert exc[0] is None and any(self.text in m for m in self.seen), self.seen
