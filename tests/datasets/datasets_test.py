"""Tests of the dataset loaders on small data written in the real on-disk formats (no network)."""
import os
import time

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tfprune.datasets import mnist1d, registry, tfds_image, tiny_imagenet

import fake_data

tfds.disable_progress_bar()

BATCH = 32


def first_batch(ds):
    x, y = next(iter(ds))
    return x.numpy(), y.numpy()


def collect(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


# ---------------------------------------------------------------- registry


def test_registry_names_and_unknown():
    assert registry.names() == ["mnist1d", "mnist", "cifar10", "cifar100", "tiny_imagenet"]
    assert registry.DEFAULT == "mnist1d"
    with pytest.raises(ValueError, match="valid names: mnist1d, mnist, cifar10"):
        registry.get("imagenet", batch_size=8)


# ---------------------------------------------------------------- mnist1d


@pytest.fixture(scope="module")
def m1d():
    return registry.get("mnist1d", batch_size=BATCH, seed=0)


def test_mnist1d_shapes(m1d):
    assert (m1d.input_shape, m1d.num_classes) == ((40, 1), 10)
    assert (m1d.train_size, m1d.test_size) == (4000, 1000)
    x, y = first_batch(m1d.train)
    assert x.shape == (BATCH, 40, 1) and x.dtype == np.float32
    assert y.shape == (BATCH,) and y.dtype in (np.int32, np.int64)
    x, y = collect(m1d.train)
    assert x.shape == (4000, 40, 1) and set(np.unique(y)) == set(range(10))
    assert abs(x.mean()) < 1e-3 and abs(x.std() - 1) < 1e-3
    assert collect(m1d.test)[0].shape == (1000, 40, 1)
    assert m1d.train.options().autotune.enabled is False


def test_mnist1d_seeds(m1d):
    t0 = time.perf_counter()
    one, same, other = (registry.get("mnist1d", batch_size=BATCH, seed=s) for s in (0, 0, 1))
    assert time.perf_counter() - t0 < 2.0  # generation is memoized
    assert mnist1d.generate() is mnist1d.generate()
    # Fresh datasets: the reshuffle state advances with every pass over a dataset.
    np.testing.assert_array_equal(first_batch(one.train)[0], first_batch(same.train)[0])
    assert not np.array_equal(first_batch(one.train)[0], first_batch(other.train)[0])
    # The data itself does not depend on the shuffle seed; the test order is fixed.
    np.testing.assert_array_equal(collect(m1d.test)[0], collect(other.test)[0])
    a, b = collect(m1d.train)[0][:, :, 0], collect(other.train)[0][:, :, 0]
    np.testing.assert_array_equal(np.sort(a.sum(1)), np.sort(b.sum(1)))


def test_mnist1d_reshuffles_each_epoch(m1d):
    assert not np.array_equal(first_batch(m1d.train)[0], first_batch(m1d.train)[0])


def test_the_epoch_stream_depends_on_the_seed_and_epoch_alone(m1d):
    """Data.epochs: any iterator, a clone, a later start or a new process-wide seed sees the
    same batches of each epoch; epochs differ, each is a whole permutation, with the last
    batch of each epoch partial."""
    from tfprune.masking.kerases import tf

    steps = int(m1d.train.cardinality())
    run = [collect(m1d.epochs(0, 3))[0] for _ in range(2)]
    tf.random.set_seed(123)  # the process's seed plays no part
    try:
        resumed = np.concatenate([collect(m1d.epochs(0, 1))[0], collect(m1d.epochs(1, 3))[0]])
    finally:
        tf.random.set_seed(None)
    np.testing.assert_array_equal(run[0], run[1])
    np.testing.assert_array_equal(run[0], resumed)
    n = m1d.train_size
    epochs = run[0].reshape(3, n, -1)
    assert not np.array_equal(epochs[0], epochs[1])
    np.testing.assert_array_equal(np.sort(epochs[0].sum(1)), np.sort(epochs[2].sum(1)))
    sizes = [len(x) for x, _ in m1d.epochs(0, 2)]
    assert len(sizes) == 2 * steps and sizes[steps - 1] == n - (steps - 1) * BATCH
    other = registry.get("mnist1d", batch_size=BATCH, seed=1)
    assert not np.array_equal(collect(other.epochs(0, 1))[0], epochs[0])
    cpu = tf.config.list_logical_devices("CPU")[0].name
    clone = tf.distribute.MirroredStrategy([cpu]).experimental_distribute_dataset(
        m1d.epochs(0, 1))  # tf.distribute rewrites the pipeline: the same batches
    np.testing.assert_array_equal(
        np.concatenate([x.numpy() for x, _ in clone]).reshape(n, -1), epochs[0])


# ---------------------------------------------------------------- TFDS


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    """A TFDS data_dir holding tiny mnist/cifar10/cifar100 under their catalogue name and version.

    Returns the data_dir and the raw test splits (stored unshuffled, so in order).
    """
    data_dir = str(tmp_path_factory.mktemp("tfds"))
    raw = fake_data.write_tfds(data_dir, ("mnist", "cifar10", "cifar100"), n_train=40, n_test=20)
    return data_dir, raw


@pytest.mark.parametrize("name", ["mnist", "cifar10", "cifar100"])
def test_tfds_loader(tfds_dir, name):
    data_dir, raw = tfds_dir
    mean, std, shape, num_classes, _ = tfds_image._SPECS[name]
    data = registry.get(name, batch_size=16, seed=0, data_dir=data_dir)
    assert (data.input_shape, data.num_classes) == (shape, num_classes)
    assert (data.train_size, data.test_size) == (40, 20)
    x, y = collect(data.test)
    expected = (raw[name]["image"] / 255.0 - np.array(mean)) / np.array(std)
    np.testing.assert_allclose(x, expected, atol=1e-5)
    assert abs(x.mean()) < 0.3 and 0.7 < x.std() < 1.3  # roughly standardized (clipped pixels)
    np.testing.assert_array_equal(y, raw[name]["label"])
    x, y = collect(data.train)
    assert x.shape == (40, *shape) and x.dtype == np.float32
    assert y.min() >= 0 and y.max() < num_classes
    assert abs(x.mean()) < 0.5  # CIFAR crops add zero padding
    assert data.train.options().autotune.enabled is False


def test_cifar_augmentation(tfds_dir):
    data_dir, _ = tfds_dir
    mean, std = np.array(tfds_image._SPECS["cifar10"][:2])
    a = registry.get("cifar10", batch_size=40, seed=0, data_dir=data_dir)
    b = registry.get("cifar10", batch_size=40, seed=0, data_dir=data_dir)
    xa, _ = first_batch(a.train)
    np.testing.assert_array_equal(xa, first_batch(b.train)[0])  # seeded augmentation
    assert not np.array_equal(xa, first_batch(a.train)[0])  # new draw each epoch
    # Train pixels are never 0, so -mean/std marks the zero padding of random crops.
    padded = np.isclose(xa, -mean / std, atol=1e-5).all(-1).any((1, 2))
    assert 0.5 < padded.mean() < 1.0
    # the epoch stream: augmented anew each epoch, the same for every iterator
    e0, e1 = (collect(a.epochs(e, e + 1))[0] for e in (0, 1))
    np.testing.assert_array_equal(collect(b.epochs(0, 2))[0], np.concatenate([e0, e1]))
    assert not np.array_equal(np.sort(e0.sum((1, 2, 3))), np.sort(e1.sum((1, 2, 3))))
    assert 0.5 < np.isclose(e0, -mean / std, atol=1e-5).all(-1).any((1, 2)).mean() < 1.0


def test_tfds_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar10") as err:
        registry.get("cifar10", batch_size=8, data_dir=tmp_path)
    assert str(tmp_path) in str(err.value) and "tfds build cifar10" in str(err.value)
    assert "\n" not in str(err.value)


def test_offline_the_download_servers_are_probed_once_with_a_short_timeout_before_any_download(
        tmp_path, monkeypatch):
    import requests
    probed = []

    def unreachable(url, timeout, allow_redirects):
        probed.append((url, timeout))
        raise requests.exceptions.ConnectionError("Failed to resolve 'www.cs.toronto.edu'")

    def download(*args, **kwargs):
        raise AssertionError("TFDS started its download (minutes of retries offline)")
    monkeypatch.setattr(requests, "head", unreachable)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", download)
    with pytest.raises(ConnectionError, match="could not download TFDS dataset 'cifar10'") as err:
        tfds_image.builder("cifar10", data_dir=tmp_path, download=True)
    assert probed == [("https://www.cs.toronto.edu/", tfds_image.PROBE_SECONDS)]
    assert "Failed to resolve" in str(err.value) and "--nodownload" in str(err.value)


def test_a_reachable_server_lets_the_download_start(tmp_path, monkeypatch):
    import requests
    started = []
    monkeypatch.setattr(requests, "head", lambda url, **kwargs: None)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare",
                        lambda self, *a, **k: started.append(self.name))
    tfds_image.builder("cifar10", data_dir=tmp_path, download=True)
    assert started == ["cifar10"]


# ---------------------------------------------------------------- Tiny ImageNet

WNIDS = ["n03", "n01", "n02"]  # deliberately unsorted: labels follow sorted order


@pytest.fixture
def tiny_dir(tmp_path):
    fake_data.write_tiny_imagenet(tmp_path, WNIDS)
    return tmp_path


def _class_from_pixels(x):
    red = x[..., 0].mean((1, 2)) * tiny_imagenet.STD[0] + tiny_imagenet.MEAN[0]
    return np.round((red * 255 - 40) / 80).astype(int)


@pytest.mark.parametrize("inside", [False, True])
def test_tiny_imagenet(tiny_dir, inside):
    data_dir = tiny_dir / "tiny-imagenet-200" if inside else tiny_dir
    data = registry.get("tiny_imagenet", batch_size=5, seed=0, data_dir=data_dir)
    assert (data.input_shape, data.num_classes) == ((64, 64, 3), 3)
    assert (data.train_size, data.test_size) == (12, 6)
    x, y = collect(data.test)
    assert x.shape == (6, 64, 64, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(y, [2, 0, 1, 2, 0, 1])
    np.testing.assert_array_equal(_class_from_pixels(x), y)
    x, y = collect(data.train)
    assert x.shape == (12, 64, 64, 3) and sorted(y) == [0] * 4 + [1] * 4 + [2] * 4
    np.testing.assert_array_equal(_class_from_pixels(x), y)


def test_tiny_imagenet_missing(tmp_path, tiny_dir):
    with pytest.raises(FileNotFoundError, match="tiny-imagenet-200") as err:
        registry.get("tiny_imagenet", batch_size=4, data_dir=tmp_path / "nope")
    assert str(tmp_path / "nope") in str(err.value) and "wnids.txt" in str(err.value)
    os.remove(tiny_dir / "tiny-imagenet-200" / "val" / "val_annotations.txt")
    with pytest.raises(FileNotFoundError, match="val_annotations.txt"):
        registry.get("tiny_imagenet", batch_size=4, data_dir=tiny_dir)


@pytest.mark.slow
def test_mnist1d_is_cached_on_disk_and_a_corrupt_cache_is_regenerated(tmp_path, monkeypatch):
    monkeypatch.setenv("TFPRUNE_CACHE", str(tmp_path))
    expected = mnist1d.generate()
    mnist1d.generate.cache_clear()
    path = mnist1d.cache_path(5000, 42)
    assert path.startswith(str(tmp_path))
    first = mnist1d.generate()  # generated, then written
    assert os.path.exists(path)
    mnist1d.generate.cache_clear()
    with open(path, "wb") as f:
        f.write(b"not a zip")
    again = mnist1d.generate()  # the corrupt file is replaced
    for a, b, c in zip(expected, first, again):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    mnist1d.generate.cache_clear()
    np.testing.assert_array_equal(mnist1d.generate()[0], expected[0])  # read back from disk
    mnist1d.generate.cache_clear()
