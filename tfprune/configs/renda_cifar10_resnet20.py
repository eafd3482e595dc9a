"""Renda et al. (ICLR 2020)'s table: ResNet-20 on CIFAR-10, LRR vs weight rewinding vs FT.

    tfprune train --config=renda_cifar10_resnet20 --method=lrr --data_dir=~/tfds
    tfprune train --config=renda_cifar10_resnet20 --method=imp --rewind_epoch=12
    tfprune train --config=renda_cifar10_resnet20 --method=imp --rewind_epoch=0
    tfprune train --config=renda_cifar10_resnet20 --method=ft

open_lth's cifar_resnet_20 recipe: batch 128, lr 0.1, drops x0.1 at epochs 80 and 120 of 160,
no warm-up, weight decay 1e-4, every layer pruned, 20% per round.
Expected test accuracy % (Renda et al., median of 3; dense 91.71; see docs/paper.md):

| density | LRR | WR (epoch ~12) | IMP (epoch 0) | FT |
|---|---|---|---|---|
| 0.800 | 92.11 | 91.76 | 91.86 | 91.61 |
| 0.512 | 92.29 | 91.99 | 90.59 | 91.38 |
| 0.262 | 92.14 | 91.64 | 89.60 | 90.64 |
| 0.168 | 91.79 | 91.31 | 88.56 | 89.99 |
| 0.107 | 91.01 | 91.00 | 86.68 | 89.32 |

Expected time: 391 steps an epoch; at 0.36-0.60 s a step on a 2-core CPU (bench/RESULTS.md) a
160-epoch round takes 6-10 h; on one GPU (estimate, ~10 ms a step) about 10 min a round,
under 2 h for the 10 rounds to density 0.107.
"""
from tfprune.configs.smoke import shrink


def get_config(smoke=False):
    """The Config overrides of this protocol; `smoke` shrinks it to seconds."""
    config = dict(model="resnet20", dataset="cifar10", epochs=160, lr_drop_epochs=(80, 120),
                  warmup_epochs=0,
                  rewind_epoch=12, late_rewind=True, lr=0.1, momentum=0.9, batch_size=128,
                  weight_decay=1e-4,
                  schedule="step", rounds=10, prune_fraction=0.2, pruning="global_magnitude")
    return shrink(config, smoke, width=0.25)
