"""The paper's Tiny ImageNet protocol: ImageNet-style ResNet50, 200 classes, LRR vs IMP.

    tfprune train --config=paper_tiny_imagenet_resnet50 --method=lrr \
        --data_dir=/data   # holds tiny-imagenet-200/ (the official zip, unpacked)

Random resized crop to 64 + flip; SGD momentum 0.9, lr 0.1, batch 256, weight decay 1e-4;
150-epoch rounds with 10 warm-up epochs and drops at 70 and 130; IMP rewinds to epoch 10;
global magnitude pruning, 20% per round.
The protocol and the paper's experiments are described in docs/paper.md.
Expected accuracy: LRR above IMP (no per-density values are restated here; see docs/paper.md).
Expected time (estimate): 100,000 images = 391 steps an epoch; ResNet50 at 64x64 is about 1.3x
a CIFAR ResNet18 step, so ~30 min a round on one modern GPU, ~10 h for 20 rounds.
"""
from tfprune.configs.smoke import shrink


def get_config(smoke=False):
    """The Config overrides of this protocol; `smoke` shrinks it to seconds."""
    config = dict(model="resnet50", dataset="tiny_imagenet", epochs=150, warmup_epochs=10,
                  rewind_epoch=10, lr=0.1, momentum=0.9, batch_size=256, weight_decay=1e-4,
                  schedule="step", rounds=20, prune_fraction=0.2, pruning="global_magnitude")
    return shrink(config, smoke, width=0.125)
