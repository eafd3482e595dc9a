"""What a round's `fit` reads: the training batches of the epochs it trains, as one stream.

Each new iterator of a `Data.train` draws the next shuffle (and augmentation), and Keras
makes iterators as it pleases: tf_keras one before training, Keras 3 on TensorFlow a spare
one at each epoch's end, JAX lazily, tf.distribute a clone of the pipeline with its own
random state. Fed `Data.train`, the batches of an epoch would depend on the path, and a round
resumed mid-way would not see what an unbroken one saw. So `fit` reads `Data.epochs`: epoch
e of round r is shuffled and augmented by (seed, r * epochs + e) alone, whoever iterates it,
on one device or several, in one process or after a resume.

Data without `epochs` (a user's own `Data`) is trained from `Data.train` as one stream of
the round's epochs read by one iterator: its order is fixed on one path, but a round resumed
mid-way sees other shuffles (said once in the log).
"""
import math

from absl import logging


def steps_per_epoch(data, batch_size):
    """Batches in one epoch of `data.train`: its cardinality, else train_size / batch_size."""
    known = int(data.train.cardinality())
    return known if known > 0 else math.ceil(data.train_size / batch_size)


def skip(data, epochs):
    """A round resumed after `epochs` of its epochs goes on where an unbroken one would be:
    for data without `epochs`, each epoch done draws its shuffle of `Data.train` (one new
    iterator each); `Data.epochs` needs nothing (`stream` starts at the epoch)."""
    if data.epochs is None:
        for _ in range(epochs):
            iter(data.train)


def stream(data, r, first, epochs):
    """The batches of round `r`'s epochs first..epochs-1, one after another, for one `fit`
    with `steps_per_epoch`; its length is unknown to Keras, so Keras makes no spare
    iterator at the end."""
    if data.epochs is not None:
        return data.epochs(r * epochs + first, (r + 1) * epochs)
    logging.log_first_n(logging.WARNING, "the data has no `epochs` (datasets.base.make_train "
                        "gives it): epochs are read from Data.train in Keras's order; a round "
                        "resumed mid-way trains on other shuffles than an unbroken one", 1)
    return data.train.repeat(epochs - first).filter(lambda *_: True)
