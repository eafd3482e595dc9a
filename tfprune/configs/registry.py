"""Registry of the named configurations (`tfprune train --config=NAME [--smoke]`)."""
from tfprune.configs import (
    paper_cifar10_resnet18,
    paper_cifar100_resnet18,
    paper_tiny_imagenet_resnet50,
    renda_cifar10_resnet20,
)

_CONFIGS = {
    "paper_cifar10_resnet18": paper_cifar10_resnet18.get_config,
    "paper_cifar100_resnet18": paper_cifar100_resnet18.get_config,
    "paper_tiny_imagenet_resnet50": paper_tiny_imagenet_resnet50.get_config,
    "renda_cifar10_resnet20": renda_cifar10_resnet20.get_config,
}


def names():
    return sorted(_CONFIGS)


def get(name, smoke=False):
    """The Config overrides (a dict) of the named configuration; `smoke` shrinks it to seconds."""
    if name not in _CONFIGS:
        raise ValueError(f"unknown config {name!r}; valid: {', '.join(names())}")
    return _CONFIGS[name](smoke=smoke)
