"""The `Data` bundle and the tf.data helpers shared by every dataset loader."""
import dataclasses
import os
from typing import Callable, NamedTuple, Optional

from tfprune.masking.kerases import tf

# Explicit parallelism instead of tf.data.AUTOTUNE: with autotuning on, Keras
# `fit()` can stall for seconds after an epoch's last step (bench/RESULTS.md).
NUM_PARALLEL_CALLS = os.cpu_count() or 1
PREFETCH_BUFFER = 2


@dataclasses.dataclass(frozen=True)
class Data:
    """A dataset ready for Keras `fit()` / `evaluate()`.

    Attributes:
        train: One epoch of `(x, y)` batches (finite, no repeat), shuffled with
            the seed and reshuffled each epoch, augmented, prefetched.
        test: `(x, y)` batches in a fixed order, no augmentation.
        num_classes: Number of classes; `y` holds sparse class indices.
        input_shape: Per-example shape of `x`, e.g. `(40, 1)` or `(32, 32, 3)`.
        train_size: Number of training examples.
        test_size: Number of test examples.
        epochs: Optional `(first, last) -> dataset`: the batches of epochs first..last-1
            one after another, epoch e shuffled and augmented by (seed, e) alone, so every
            iterator of it, on any path, and any resumed run sees the same batches
            (`make_train` gives it). Without it the engine trains on `train` and the
            order follows Keras's iterators.
    """

    train: tf.data.Dataset
    test: tf.data.Dataset
    num_classes: int
    input_shape: tuple
    train_size: int
    test_size: int
    epochs: Optional[Callable[[int, int], tf.data.Dataset]] = None


class Train(NamedTuple):
    """A training pipeline: `batches` (one epoch, reshuffled by each new iterator) and
    `epochs` (see `Data.epochs`)."""
    batches: tf.data.Dataset
    epochs: Callable[[int, int], tf.data.Dataset]


def pipeline_options() -> tf.data.Options:
    """Returns the tf.data options used by every pipeline: no autotune, deterministic."""
    options = tf.data.Options()
    options.autotune.enabled = False
    options.deterministic = True
    return options


def _finish(ds: tf.data.Dataset) -> tf.data.Dataset:
    return ds.prefetch(PREFETCH_BUFFER).with_options(pipeline_options())


EPOCH_SEEDS = 1 << 20  # seed * EPOCH_SEEDS + epoch: one shuffle seed per (seed, epoch)


def make_train(
    ds: tf.data.Dataset,
    batch_size: int,
    seed: int,
    *,
    map_fn: Optional[Callable] = None,
    augment_fn: Optional[Callable] = None,
    cache: bool = True,
    shuffle_buffer: Optional[int] = None,
) -> Train:
    """Builds the training pipeline: map -> cache -> shuffle -> augment -> batch -> prefetch.

    Args:
        ds: Unbatched dataset of `(x, y)` examples with a known cardinality
            (or give `shuffle_buffer`).
        batch_size: Examples per batch; the last batch may be smaller.
        seed: Seed of the shuffle order and of the augmentation.
        map_fn: Optional deterministic `(x, y) -> (x, y)` run once before the cache.
        augment_fn: Optional `(x, y, seed) -> (x, y)`, where `seed` is a shape-[2]
            int64 tensor for stateless random ops, new for every example and epoch.
        cache: Whether to cache the (mapped) examples in memory.
        shuffle_buffer: Shuffle buffer size; defaults to the whole dataset.

    Returns:
        A `Train`: one epoch of `(x, y)` batches, and the stream of any epochs.
    """
    if map_fn is not None:
        ds = ds.map(map_fn, num_parallel_calls=NUM_PARALLEL_CALLS)
    if cache:
        ds = ds.cache()
    if shuffle_buffer is None:
        shuffle_buffer = int(ds.cardinality())
        if shuffle_buffer < 1:
            raise ValueError("make_train needs a dataset of known size or shuffle_buffer")

    def one_epoch(epoch_seed, reshuffle):
        out = ds.shuffle(shuffle_buffer, seed=epoch_seed, reshuffle_each_iteration=reshuffle)
        if augment_fn is not None:
            seeds = tf.data.Dataset.random(seed=epoch_seed, rerandomize_each_iteration=reshuffle)
            out = tf.data.Dataset.zip((out, seeds.batch(2))).map(
                lambda xy, s: augment_fn(xy[0], xy[1], s), num_parallel_calls=NUM_PARALLEL_CALLS)
        return out.batch(batch_size, drop_remainder=False)

    def epoch(e):
        tf.random.set_seed(EPOCH_SEEDS)  # this function's graph only: (seed, e) alone decide
        return one_epoch(seed * EPOCH_SEEDS + e, False)

    def epochs(first, last):
        return _finish(tf.data.Dataset.range(first, last, output_type=tf.int64).flat_map(epoch))

    return Train(_finish(one_epoch(seed, True)), epochs)


def make_test(
    ds: tf.data.Dataset,
    batch_size: int,
    *,
    map_fn: Optional[Callable] = None,
    cache: bool = True,
) -> tf.data.Dataset:
    """Builds the evaluation pipeline: map -> cache -> batch -> prefetch, in a fixed order.

    Args:
        ds: Unbatched dataset of `(x, y)` examples.
        batch_size: Examples per batch; the last batch may be smaller.
        map_fn: Optional deterministic `(x, y) -> (x, y)` preprocessing.
        cache: Whether to cache the preprocessed examples in memory.

    Returns:
        A finite dataset of `(x, y)` batches.
    """
    if map_fn is not None:
        ds = ds.map(map_fn, num_parallel_calls=NUM_PARALLEL_CALLS)
    if cache:
        ds = ds.cache()
    return _finish(ds.batch(batch_size, drop_remainder=False))


def normalize(image: tf.Tensor, mean, std) -> tf.Tensor:
    """Scales a uint8 image to [0, 1] float32 and standardizes it per channel.

    Args:
        image: Integer image tensor with values in [0, 255].
        mean: Per-channel (or scalar) mean in [0, 1] units.
        std: Per-channel (or scalar) standard deviation in [0, 1] units.

    Returns:
        The float32 normalized image.
    """
    image = tf.cast(image, tf.float32) / 255.0
    return (image - tf.constant(mean, tf.float32)) / tf.constant(std, tf.float32)
