"""The models people have, in both Kerases: every prunable weight gets a mask (the share
is pinned), then LRR rounds keep pruned weights exactly zero at density 0.8^r."""
import numpy as np
import pytest

import tfprune
from tfprune.masking import kerases, masked_model

from user_models import CLASSES, SHAPE, build

# Weights that get masks, of all weights; equal in both Kerases (same paths too).
MASKED = {
    "resnet50": (23_461_056, 23_593_859),
    "mobilenetv2": (385_888, 414_051),
    "efficientnetb0": (3_960_032, 4_053_414),
    "transformer": (20_576, 20_963),
    "transfer": (385_888, 414_051),
    "subclassed": (864, 979),
}
# Pruned rounds each model trains: two (masks nest across rounds), one for ResNet-50, whose 23M
# weights take seconds to sort for each pruning.
ROUNDS = {"resnet50": 1}
# The real architectures take seconds each to build and train: slow; the small one is quick.
CASES = [pytest.param(name, flavour, marks=() if name == "subclassed" else pytest.mark.slow)
         for name in MASKED for flavour in kerases.FLAVOURS
         if (name, flavour) != ("subclassed", kerases.KERAS2)]


def lrr_rounds(model, flavour, rounds):
    """The masks and kernels after each of `rounds` LRR rounds from the initialization: prune
    20% of the survivors, restart the schedule, one eager step."""
    k = kerases.keras(flavour)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2,) + SHAPE).astype("float32")
    y = rng.integers(0, CLASSES, size=2)
    schedule = tfprune.RoundSchedule(0.01, steps_per_epoch=1, epochs=1)
    # Eagerly: tracing these graphs takes 20-40 s a model, and the masks act in the layers'
    # calls and the optimizer's updates alike either way (compiled steps: the engine's tests).
    model.compile(k.optimizers.SGD(schedule, momentum=0.9, weight_decay=5e-4),
                  k.losses.SparseCategoricalCrossentropy(from_logits=True), run_eagerly=True)
    out = [(masked_model.get_masks(model), masked_model.get_kernels(model))]
    for _ in range(rounds):
        mask = tfprune.prune(model, 0.2)
        pruned = masked_model.get_kernels(model)
        model.fit(x, y, batch_size=2, epochs=1, verbose=0,
                  callbacks=[tfprune.RestartSchedule(), tfprune.KeepMasks()])
        after = masked_model.get_kernels(model)
        assert any(not np.array_equal(after[k], pruned[k]) for k in after)  # it trained
        assert masked_model.get_masks(model) == mask
        out.append((mask, after))
    return out


@pytest.mark.parametrize("name, flavour", CASES)
def test_every_prunable_weight_is_masked_and_lrr_keeps_zeros(name, flavour):
    model = masked_model.wrap(build(name, flavour))
    rows, summary = tfprune.weight_table(model)
    masked = sum(size for _, _, size, status in rows if status == "masked")
    assert (masked, sum(row[2] for row in rows)) == MASKED[name], summary
    kernels = [row for row in rows if row[0].endswith(("kernel", "embeddings"))]
    assert all(status == "masked" for *_, status in kernels)  # no kernel left dense
    previous = None
    for r, (mask, weights) in enumerate(lrr_rounds(model, flavour, ROUNDS.get(name, 2))):
        assert mask.num_kept == pytest.approx(masked * 0.8 ** r, abs=len(mask))
        assert all(not np.any(weights[key][~mask[key]]) for key in weights)
        assert previous is None or mask.is_subset_of(previous)
        previous = mask


def test_a_subclassed_tf_keras_model_is_refused_with_the_alternative():
    with pytest.raises(ValueError, match=r"tf_keras model 'net' is subclassed .*build it "
                       r"with Keras 3"):
        masked_model.wrap(build("subclassed", kerases.KERAS2))


def test_the_table_says_why_weights_stay_dense(capsys):
    model = masked_model.wrap(build("efficientnetb0", kerases.KERAS3), ignore=["top_conv"])
    rows = {key: status for key, _, _, status in tfprune.weight_table(model)[0]}
    assert rows["top_conv/kernel"] == "dense: ignored (ignore=)"
    assert rows["stem_bn/gamma"] == "dense: normalization (never pruned)"
    assert rows["predictions/bias"] == "dense: not a kernel (biases are never pruned)"
    assert rows["block1a_dwconv/depthwise_kernel"] == "masked"
    tfprune.summary(model)
    printed = capsys.readouterr().out
    assert "block1a_dwconv/depthwise_kernel" in printed and "total" in printed
