"""MNIST-1D, generated offline by the `mnist1d` package: the embedded default dataset."""
import functools
import os
import random

import numpy as np

from tfprune.core import files
from tfprune.datasets.base import Data, make_test, make_train
from tfprune.masking.kerases import tf

NUM_CLASSES = 10


KEYS = ("x_train", "y_train", "x_test", "y_test")


def cache_path(num_samples, seed):
    """Where generated data is kept between processes ($TFPRUNE_CACHE or ~/.cache/tfprune)."""
    folder = os.environ.get("TFPRUNE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tfprune")
    return os.path.join(folder, f"mnist1d_{num_samples}_{seed}.npz")


@functools.lru_cache(maxsize=4)
def generate(num_samples: int = 5000, seed: int = 42):
    """Generates MNIST-1D procedurally (no network), memoized per `(num_samples, seed)`.

    The generation seed is the package's own default (42) so everyone gets the
    same dataset; it is independent of the shuffle seed of `load`. Generating
    takes seconds, so the arrays are also kept in a file (see `cache_path`);
    a file that cannot be read is regenerated.

    Args:
        num_samples: Total examples; 80% go to train, 20% to test.
        seed: Seed of the generator.

    Returns:
        Read-only arrays `(x_train, y_train, x_test, y_test)`: x float32 of shape
        `(n, 40, 1)` standardized with the train mean/std, y int64.
    """
    path = cache_path(num_samples, seed)
    try:
        stored = files.load_arrays(path)
        arrays = tuple(stored[k] for k in KEYS)
    except (OSError, ValueError, KeyError):
        arrays = _make(num_samples, seed)
        try:
            files.save_arrays(path, dict(zip(KEYS, arrays)))
        except OSError:
            pass  # a read-only home only costs the generation next time
    for a in arrays:
        a.setflags(write=False)
    return arrays


def _make(num_samples, seed):
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed = num_samples, seed
    # make_dataset reseeds the global RNGs; keep the caller's streams untouched.
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    x, x_test = data["x"].astype(np.float32), data["x_test"].astype(np.float32)
    mean, std = x.mean(), x.std()
    arrays = (
        ((x - mean) / std)[..., None],
        data["y"].astype(np.int64),
        ((x_test - mean) / std)[..., None],
        data["y_test"].astype(np.int64),
    )
    return arrays


def load(batch_size: int, seed: int = 0, data_dir=None, download: bool = False) -> Data:
    """Loads MNIST-1D (4000 train / 1000 test sequences of shape (40, 1), 10 classes).

    Args:
        batch_size: Examples per batch.
        seed: Shuffle seed of the training set (the data itself never changes).
        data_dir: Ignored; the data is generated in-process.
        download: Ignored; nothing is downloaded.

    Returns:
        The `Data` bundle.
    """
    del data_dir, download
    x, y, x_test, y_test = generate()
    slices = tf.data.Dataset.from_tensor_slices
    train = make_train(slices((x, y)), batch_size, seed, cache=False)
    return Data(
        train=train.batches,
        epochs=train.epochs,
        test=make_test(slices((x_test, y_test)), batch_size, cache=False),
        num_classes=NUM_CLASSES,
        input_shape=tuple(x.shape[1:]),
        train_size=len(y),
        test_size=len(y_test),
    )
