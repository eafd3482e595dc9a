"""MNIST, CIFAR-10 and CIFAR-100 through TensorFlow Datasets."""
import os
import socket
import urllib.error
import urllib.parse

import requests
import tensorflow_datasets as tfds
from absl import logging

from tfprune.datasets.base import Data, make_test, make_train, normalize
from tfprune.masking.kerases import tf

# name -> (mean, std, input_shape, num_classes, augment)
_SPECS = {
    "mnist": ((0.1307,), (0.3081,), (28, 28, 1), 10, False),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616), (32, 32, 3), 10, True),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762), (32, 32, 3), 100, True),
}
_PAD = 4
PROBE_SECONDS = 5  # for a download server to answer before the download is given up
# What a download that cannot reach its server raises (requests' errors are OSErrors too, but
# so is a bad --data_dir, which keeps its own message).
_NETWORK_ERRORS = (requests.RequestException, urllib.error.URLError, socket.gaierror,
                   ConnectionError, TimeoutError, tfds.core.download.util.DownloadError)


def builder(name: str, data_dir=None, download: bool = False):
    """Returns the prepared TFDS builder of `name`, downloading only if allowed.

    Args:
        name: TFDS catalogue name, e.g. `"cifar10"`.
        data_dir: TFDS data directory; None means the TFDS default.
        download: Whether to download and prepare the data when it is missing.

    Returns:
        A `tfds.core.DatasetBuilder` whose data is prepared.

    Raises:
        FileNotFoundError: The data is not prepared in `data_dir` and `download` is False.
        ConnectionError: The download or preparation failed (offline, server down, ...).
    """
    b = tfds.builder(name, data_dir=os.fspath(data_dir) if data_dir is not None else None)
    if not b.is_prepared():
        if not download:
            raise FileNotFoundError(
                f"TFDS dataset {name!r} is not prepared in {b.data_dir}; allow a download "
                "(--download / download=True, needs internet) or point --data_dir at a copy "
                f"prepared with `tfds build {name} --data_dir {b.data_dir_root}`"
            )
        logging.info("downloading and preparing TFDS %s into %s (needs internet)", name,
                     b.data_dir)
        try:
            if "://" not in os.fspath(b.data_dir_root):  # a bad local --data_dir says so first
                os.makedirs(b.data_dir_root, exist_ok=True)
            check_reachable(_download_urls(b))  # seconds, not TFDS's minutes of retries
            b.download_and_prepare()
        except _NETWORK_ERRORS as e:  # one line and a way out
            reason = (str(e).strip().splitlines() or [""])[0]
            reason = reason if len(reason) <= 200 else reason[:197] + "..."
            raise ConnectionError(
                f"could not download TFDS dataset {name!r} into {b.data_dir_root} "
                f"({type(e).__name__}: {reason}); connect to the internet, or prepare it "
                f"elsewhere with `tfds build {name}`, copy it and pass --data_dir=<that folder> "
                "--nodownload") from e
    return b


def _download_urls(b):
    """The URLs the builder downloads from (its registered checksums), or [] if unknown."""
    try:
        return sorted(b.url_infos or ())
    except Exception:  # noqa: BLE001 -- builders without checksums: nothing to probe
        return []


def check_reachable(urls, timeout=PROBE_SECONDS):
    """Raises a requests error within about `timeout` seconds unless every server of `urls`
    answers (any HTTP status; proxies from the environment are used, as TFDS would)."""
    for url in {f"{p.scheme}://{p.netloc}/" for p in map(urllib.parse.urlsplit, urls)}:
        requests.head(url, timeout=timeout, allow_redirects=False)


def crop_flip(image: tf.Tensor, seed: tf.Tensor, pad: int = _PAD) -> tf.Tensor:
    """Random crop back to the input size after zero padding `pad`, then random horizontal flip.

    Args:
        image: `(H, W, C)` image.
        seed: Shape-[2] integer seed for the stateless random ops.
        pad: Zero padding on each side before cropping.

    Returns:
        The augmented image, same shape and dtype as `image`.
    """
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    padded = tf.pad(image, [[pad, pad], [pad, pad], [0, 0]])
    image = tf.image.stateless_random_crop(padded, tf.shape(image), seed=crop_seed)
    return tf.image.stateless_random_flip_left_right(image, seed=flip_seed)


def load(name: str, batch_size: int, seed: int = 0, data_dir=None, download: bool = False) -> Data:
    """Loads `mnist`, `cifar10` or `cifar100` from TFDS, normalized (and augmented for CIFAR).

    Args:
        name: One of `"mnist"`, `"cifar10"`, `"cifar100"`.
        batch_size: Examples per batch.
        seed: Seed of the shuffle order and of the augmentation.
        data_dir: TFDS data directory; None means the TFDS default.
        download: Whether to download and prepare the data when it is missing.

    Returns:
        The `Data` bundle.
    """
    mean, std, input_shape, num_classes, augment = _SPECS[name]
    b = builder(name, data_dir, download)
    train, test = b.as_dataset(split=["train", "test"], as_supervised=True)

    def prep(x, y):
        return normalize(x, mean, std), y

    def aug(x, y, s):
        return normalize(crop_flip(x, s), mean, std), y

    if augment:  # cache the uint8 images; pad in pixel space like torchvision's RandomCrop
        train = make_train(train, batch_size, seed, augment_fn=aug)
    else:
        train = make_train(train, batch_size, seed, map_fn=prep)
    splits = b.info.splits
    return Data(
        train=train.batches,
        epochs=train.epochs,
        test=make_test(test, batch_size, map_fn=prep),
        num_classes=num_classes,
        input_shape=input_shape,
        train_size=splits["train"].num_examples,
        test_size=splits["test"].num_examples,
    )


def load_mnist(batch_size: int, seed: int = 0, data_dir=None, download: bool = False) -> Data:
    """Loads MNIST from TFDS; see `load`."""
    return load("mnist", batch_size, seed, data_dir, download)


def load_cifar10(batch_size: int, seed: int = 0, data_dir=None, download: bool = False) -> Data:
    """Loads CIFAR-10 from TFDS; see `load`."""
    return load("cifar10", batch_size, seed, data_dir, download)


def load_cifar100(batch_size: int, seed: int = 0, data_dir=None, download: bool = False) -> Data:
    """Loads CIFAR-100 from TFDS; see `load`."""
    return load("cifar100", batch_size, seed, data_dir, download)
