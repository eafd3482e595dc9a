"""The scales of `tfprune reproduce`: how big the runs behind the paper's claims are.

A scale is the base configuration of every run of the claims' grid, the seeds, what it changes
in a claim's variants (e.g. how narrow "narrow" is for its model), and the single-neuron
simulation's arguments. The claims themselves (which variants, which difference, which rule)
are in tfprune/report/claims.py and are the same at every scale.
"""
import dataclasses

from tfprune.configs import paper_cifar10_resnet18


@dataclasses.dataclass(frozen=True)
class Scale:
    """One scale: `base` Config overrides shared by every run, `seeds`, per-variant overrides
    (`variants`: {variant: {field: value}}), `neuron` (theory.single_neuron.run arguments) and
    `cost`, one line saying what it takes."""
    name: str
    cost: str
    base: dict
    seeds: tuple = (0, 1, 2)
    variants: dict = dataclasses.field(default_factory=dict)
    neuron: dict = dataclasses.field(default_factory=dict)


SCALES = {scale.name: scale for scale in (
    Scale("smoke", "a few minutes on 2 CPU cores: checks that every claim runs, not the claims",
          dict(model="lenet300_100", dataset="mnist1d", download=False, rounds=4, epochs=2,
               warmup_epochs=0, rewind_epoch=0, perturb_every=1),
          neuron=dict(dim=10, seeds=40, lr=0.05, steps=2000)),
    Scale("laptop", "about 32 min on 2 CPU cores (bench/RESULTS.md): the default convnet on "
          "MNIST-1D, 8 rounds of 6 epochs to density 0.168",
          dict(model="convnet", dataset="mnist1d", download=False, rounds=8, epochs=6,
               warmup_epochs=1, rewind_epoch=1, perturb_every=2),
          neuron=dict(dim=10, seeds=300, lr=0.01, steps=60000)),
    Scale("gpu", "the paper's CIFAR-10 ResNet-18 protocol: about 190 GPU-hours (README)",
          paper_cifar10_resnet18.get_config() | dict(perturb_every=30),
          variants={"lrr_narrow": {"width": 32}, "imp_narrow": {"width": 32}},
          neuron=dict(dim=10, seeds=300, lr=0.01, steps=60000)),
)}


def names():
    return list(SCALES)


def get(name):
    """The scale called `name`; a one-line error listing the valid names otherwise."""
    if name not in SCALES:
        raise ValueError(f"unknown scale {name!r}; valid: {', '.join(names())}")
    return SCALES[name]
