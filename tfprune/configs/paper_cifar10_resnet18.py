"""The paper's CIFAR-10 protocol: ResNet18 (CIFAR variant), 150-epoch rounds, LRR vs IMP.

    tfprune train --config=paper_cifar10_resnet18 --method=lrr --data_dir=~/tfds
    tfprune train --config=paper_cifar10_resnet18 --method=imp --data_dir=~/tfds

Protocol (the authors', see docs/paper.md): SGD momentum 0.9, lr 0.1, batch 256, weight decay
1e-4; each round 10 epochs linear warm-up, drops x0.1 at epochs 70 and 130 of 150; IMP rewinds
to the end of the 10 warm-up epochs; global magnitude pruning of 20% per round, first conv,
shortcuts and classifier included; 20 rounds reach density 0.8^20 = 0.0115.
Expected accuracy: LRR above IMP at every density, the gap growing as density falls (the
paper's per-density values are in its figures, not restated here; docs/paper.md). Dense
ResNet18 on CIFAR-10 with this recipe typically reaches about 95% (not a number from the paper).
Expected time (an estimate): one round is 150 epochs of 196 steps; at ~25 ms a step on one
modern GPU that is ~12 min a round, ~4 h for 20 rounds. On CPU it is impractical (seconds a
step; bench/RESULTS.md).
"""
from tfprune.configs.smoke import shrink


def get_config(smoke=False):
    """The Config overrides of this protocol; `smoke` shrinks it to seconds."""
    config = dict(model="resnet18", dataset="cifar10", epochs=150, warmup_epochs=10,
                  rewind_epoch=10, lr=0.1, momentum=0.9, batch_size=256, weight_decay=1e-4,
                  schedule="step", rounds=20, prune_fraction=0.2, pruning="global_magnitude")
    return shrink(config, smoke, width=8)
