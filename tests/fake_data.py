"""Small datasets written in the real on-disk formats (TFDS, the tiny-imagenet-200 folder)."""
import numpy as np
import tensorflow_datasets as tfds
from PIL import Image

from tfprune.datasets import tfds_image
from tfprune.masking.kerases import tf


def fake_split(features, n, rng, mean, std, low=0):
    """Random examples of `features`; pixels roughly follow the dataset's mean/std."""
    ex = {}
    for key, feat in features.items():
        if isinstance(feat, tfds.features.Image):
            pixels = rng.normal(np.array(mean) * 255, np.array(std) * 255, (n, *feat.shape))
            ex[key] = np.clip(np.round(pixels), low, 255).astype(np.uint8)
        elif isinstance(feat, tfds.features.ClassLabel):
            ex[key] = rng.integers(0, feat.num_classes, n)
        else:
            ex[key] = np.array([f"{key}_{i}" for i in range(n)])
    return ex


def write_tfds(data_dir, names, n_train, n_test, seed=0):
    """Stores tiny `names` (mnist, cifar10, cifar100) in `data_dir` under their catalogue
    name and version, so the real loader's `tfds.builder(name, data_dir)` finds them.

    Returns {name: raw test split} (stored unshuffled, so in order).
    """
    rng = np.random.default_rng(seed)
    raw = {}
    for name in names:
        features = tfds.builder(name, data_dir=data_dir).info.features
        mean, std = tfds_image._SPECS[name][:2]
        # Train pixels avoid 0 so zero padding of the augmentation is recognizable.
        train = fake_split(features, n_train, rng, mean, std, low=1)
        raw[name] = test = fake_split(features, n_test, rng, mean, std)
        tfds.dataset_builders.store_as_tfds_dataset(
            name=name,
            version=str(tfds.builder_cls(name).VERSION),
            features=features,
            split_datasets={
                "train": tf.data.Dataset.from_tensor_slices(train),
                "test": tf.data.Dataset.from_tensor_slices(test),
            },
            config=None,
            data_dir=data_dir,
            disable_shuffling=True,
        )
    return raw


def red(label):
    return 40 + 80 * label  # red channel value encoding the class of a solid image


def write_jpeg(path, label, size=(64, 64)):
    Image.new("RGB", size, (red(label), 128, 30)).save(path, "JPEG", quality=95)


def write_tiny_imagenet(data_dir, wnids, train_per_class=4, val=6):
    """Writes `data_dir/tiny-imagenet-200` in the official layout; solid images encode the class."""
    root = data_dir / "tiny-imagenet-200"
    (root / "val" / "images").mkdir(parents=True)
    (root / "wnids.txt").write_text("\n".join(wnids) + "\n")
    for wnid in wnids:
        folder = root / "train" / wnid / "images"
        folder.mkdir(parents=True)
        for i in range(train_per_class):
            write_jpeg(folder / f"{wnid}_{i}.JPEG", sorted(wnids).index(wnid))
    lines = []
    for i in range(val):
        wnid = wnids[i % len(wnids)]
        write_jpeg(root / "val" / "images" / f"val_{i}.JPEG", sorted(wnids).index(wnid))
        lines.append(f"val_{i}.JPEG\t{wnid}\t0\t0\t63\t63")
    (root / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
