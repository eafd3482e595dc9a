"""Registry of the dataset loaders by name."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict

from tfprune.core import lazy

if TYPE_CHECKING:
    from tfprune.datasets.base import Data

DEFAULT = "mnist1d"

# name -> loader(batch_size, seed, data_dir, download) -> Data, imported when first loaded
# (listing the names loads no TensorFlow)
_LOADERS: Dict[str, Callable[..., Data] | str] = {
    "mnist1d": "tfprune.datasets.mnist1d:load",
    "mnist": "tfprune.datasets.tfds_image:load_mnist",
    "cifar10": "tfprune.datasets.tfds_image:load_cifar10",
    "cifar100": "tfprune.datasets.tfds_image:load_cifar100",
    "tiny_imagenet": "tfprune.datasets.tiny_imagenet:load",
}


def register(name: str, loader: Callable[..., Data]) -> None:
    """Adds a dataset: `loader(batch_size, seed=, data_dir=, download=)` returns a `Data`
    whose `train` draws a new shuffle each time it is iterated."""
    if not name or not isinstance(name, str):
        raise ValueError(f"a dataset name must be a non-empty string, got {name!r}")
    _LOADERS[name] = loader


def names() -> list:
    """Returns the registered dataset names."""
    return list(_LOADERS)


def get(
    name: str, *, batch_size: int, seed: int = 0, data_dir=None, download: bool = False
) -> Data:
    """Builds the dataset `name`.

    Args:
        name: A registered name, see `names()`.
        batch_size: Examples per batch.
        seed: Seed of the training shuffle order and augmentation.
        data_dir: Where the data lives on disk (TFDS data_dir, or the folder holding
            tiny-imagenet-200); ignored by `mnist1d`.
        download: Whether TFDS datasets may be downloaded when missing.

    Returns:
        The `Data` bundle.

    Raises:
        ValueError: `name` is not registered.
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(_LOADERS)}")
    return lazy.resolve(_LOADERS[name])(batch_size, seed=seed, data_dir=data_dir, download=download)
