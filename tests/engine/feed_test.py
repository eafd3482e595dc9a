"""What fit reads: round r's epochs from Data.epochs by (r, epoch) alone; a Data without
them is read from Data.train as one stream, said in the log; and Keras 3 on TensorFlow, which
makes a spare iterator at each epoch's end, trains on exactly those batches."""
import dataclasses

import numpy as np
import pytest
from absl import logging

from tfprune.datasets import registry
from tfprune.engine import feed
from tfprune.masking.kerases import keras as _keras
from tfprune.masking.kerases import tf

BATCH = 500


@pytest.fixture(scope="module")
def data():
    return registry.get("mnist1d", batch_size=BATCH, seed=0)


def xs(ds):
    return np.concatenate([x.numpy() for x, _ in ds])


def test_round_r_reads_its_own_epochs_from_data_epochs(data):
    assert feed.steps_per_epoch(data, BATCH) == 8  # 4000 examples
    np.testing.assert_array_equal(xs(feed.stream(data, 2, 1, 3)), xs(data.epochs(7, 9)))
    assert int(feed.stream(data, 0, 0, 3).cardinality()) < 0  # Keras sees no length


def test_data_without_epochs_is_read_from_train_with_a_warning(data, monkeypatch):
    own = dataclasses.replace(data, epochs=None)
    said = []
    monkeypatch.setattr(logging, "log_first_n", lambda level, msg, n, *a: said.append(msg))
    assert len(xs(feed.stream(own, 0, 1, 3))) == 2 * data.train_size
    assert "no `epochs`" in said[0] and "resumed mid-way" in said[0]
    unknown = dataclasses.replace(own, train=own.train.filter(lambda *_: True))
    assert feed.steps_per_epoch(unknown, BATCH) == 8  # from train_size


def test_keras3_on_tensorflow_trains_on_exactly_the_streams_batches(data):
    keras = _keras("3")
    seen = []

    class Probe(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, batch):
            seen.append(batch[0][:, 0, 0])
            return {"loss": tf.constant(0.0)}

    model = Probe()
    model.compile(run_eagerly=True)
    model(np.zeros((1, 40, 1), np.float32))
    model.fit(feed.stream(data, 0, 0, 3), steps_per_epoch=8, epochs=3, verbose=0)
    np.testing.assert_array_equal(np.concatenate(seen), xs(data.epochs(0, 3))[:, 0, 0])



def test_a_resume_draws_the_shuffles_of_the_epochs_done_only_without_data_epochs():
    def fresh():
        return registry.get("mnist1d", batch_size=BATCH, seed=0)

    unbroken = fresh()
    iter(unbroken.train), iter(unbroken.train)  # epochs 0 and 1, done before a kill
    resumed = dataclasses.replace(fresh(), epochs=None)
    feed.skip(resumed, 2)
    np.testing.assert_array_equal(xs(resumed.train), xs(unbroken.train))
    with_epochs = fresh()
    feed.skip(with_epochs, 2)  # Data.epochs: nothing drawn, the stream starts where asked
    np.testing.assert_array_equal(xs(with_epochs.train), xs(fresh().train))
