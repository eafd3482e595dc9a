"""The paper's CIFAR-100 protocol: ResNet18 (CIFAR variant), 150-epoch rounds, LRR vs IMP.

    tfprune train --config=paper_cifar100_resnet18 --method=lrr --data_dir=~/tfds

As paper_cifar10_resnet18 (see its docstring) with 100 classes and weight decay 5e-4 (the
authors used 1e-3 or 5e-4 for CIFAR-100; pass --weight_decay=1e-3 for the other).
Expected accuracy: LRR above IMP, the gap growing with sparsity (no per-density values are
restated here; see docs/paper.md). Dense ResNet18 on CIFAR-100 with this recipe typically
reaches about 76-78% (not a number from the paper).
Expected time: as CIFAR-10 (same number of steps), an estimate of ~4 h for 20 rounds on one GPU.
"""
from tfprune.configs import paper_cifar10_resnet18
from tfprune.configs.smoke import shrink


def get_config(smoke=False):
    """The Config overrides of this protocol; `smoke` shrinks it to seconds."""
    config = paper_cifar10_resnet18.get_config() | dict(dataset="cifar100", weight_decay=5e-4)
    return shrink(config, smoke, width=8)
